"""``nn.utils.clip_grad_norm_(modules, max_norm, norm_type=2)``, as in PyTorch.

The total norm is the norm of all gradients together, as one vector; when it exceeds
``max_norm`` every gradient is scaled in place by ``max_norm / (total + 1e-6)``. Expected values
are that formula written out here. See docs/stage6.md#clip_grad_norm_.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mini_torch.nn as nn
from mini_torch.nn.utils import clip_grad_norm_


def _model_with_grads(rng) -> nn.Sequential:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model(rng.normal(size=(5, 3)).astype(np.float32))
    model.backward(10.0 * rng.normal(size=(5, 2)).astype(np.float32))
    return model


def _total(grads) -> float:
    return math.sqrt(sum(float((g.astype(np.float64) ** 2).sum()) for g in grads))


def test_clip_grad_norm_returns_the_norm_before_clipping_and_scales_in_place(rng):
    model = _model_with_grads(rng)
    before = [g.copy() for g in model.grads()]
    arrays = model.grads()
    total = _total(before)
    assert total > 1.0
    returned = clip_grad_norm_(model, 1.0)
    assert float(returned) == pytest.approx(total, rel=1e-5)
    assert all(a is b for a, b in zip(arrays, model.grads()))
    scale = 1.0 / (total + 1e-6)
    for grad, old in zip(model.grads(), before):
        np.testing.assert_allclose(grad, old * scale, rtol=1e-5, atol=1e-7)
    assert _total(model.grads()) == pytest.approx(1.0, rel=1e-4)


def test_clip_grad_norm_leaves_small_gradients_alone(rng):
    model = _model_with_grads(rng)
    before = [g.copy() for g in model.grads()]
    clip_grad_norm_(model, 1e6)
    for grad, old in zip(model.grads(), before):
        np.testing.assert_array_equal(grad, old)


def test_clip_grad_norm_over_a_list_of_modules_takes_one_total_norm(rng):
    first, second = _model_with_grads(rng), _model_with_grads(rng)
    total = _total(first.grads() + second.grads())
    assert float(clip_grad_norm_([first, second], 0.5)) == pytest.approx(total, rel=1e-5)
    assert _total(first.grads() + second.grads()) == pytest.approx(0.5, rel=1e-4)


def test_clip_grad_norm_inf_norm_is_the_largest_entry(rng):
    model = _model_with_grads(rng)
    largest = max(float(np.abs(g).max()) for g in model.grads())
    assert float(clip_grad_norm_(model, 1.0, norm_type=float("inf"))) == pytest.approx(largest)
    assert max(float(np.abs(g).max()) for g in model.grads()) == pytest.approx(1.0, rel=1e-4)


def test_clip_grad_norm_skips_missing_gradients():
    model = nn.Sequential(nn.Linear(2, 2))
    assert float(clip_grad_norm_(model, 1.0)) == 0.0


def test_clip_grad_norm_is_reachable_as_in_pytorch():
    assert nn.utils.clip_grad_norm_ is clip_grad_norm_


@pytest.mark.parametrize("max_norm", [0.0, -1.0])
def test_clip_grad_norm_refuses_max_norm_not_positive(max_norm, rng):
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        clip_grad_norm_(_model_with_grads(rng), max_norm)


def test_clip_grad_norm_given_parameters_names_the_fix(rng):
    model = _model_with_grads(rng)
    with pytest.raises(TypeError, match="pass the model itself"):
        clip_grad_norm_(model.parameters(), 1.0)
