"""``BCELoss``: binary cross-entropy on probabilities, as ``torch.nn.BCELoss``.

Expected values: ``-[t log p + (1 - t) log(1 - p)]`` per element, written out here; the mean
divides by the number of elements. PyTorch clamps each log at -100, so ``p = 0`` with ``t = 1``
costs exactly 100. See docs/stage3.md#bceloss.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from mini_torch.nn import BCELoss, Sigmoid
from mini_torch.testing import gradcheck


def probabilities(rng, shape, dtype=np.float32):
    return rng.uniform(0.05, 0.95, shape).astype(dtype)


def test_bce_loss_of_one_half_is_log_2():
    assert BCELoss()(np.full((4, 1), 0.5, np.float32), np.ones((4, 1), np.float32)) \
        == pytest.approx(math.log(2.0))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_loss_equals_the_textbook_formula(rng, reduction):
    p, t = probabilities(rng, (6, 2), np.float64), rng.uniform(0, 1, (6, 2))
    per_element = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    expected = per_element.mean() if reduction == "mean" else per_element.sum()
    assert BCELoss(reduction)(p, t) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_loss_gradcheck(rng, reduction):
    criterion = BCELoss(reduction)
    p, t = probabilities(rng, (5, 3), np.float64), rng.uniform(0, 1, (5, 3))
    assert gradcheck(lambda p, t: criterion(p, t), lambda p, t: (criterion.backward(), None),
                     (p, t), name=repr(criterion))


def test_bce_loss_on_a_sigmoid_matches_the_logits_gradient(rng):
    """dL/dz through the sigmoid is (sigmoid(z) - t) / size: BCEWithLogitsLoss's gradient."""
    z = rng.standard_normal((4, 1))
    t = (rng.random((4, 1)) > 0.5).astype(np.float64)
    sigmoid, criterion = Sigmoid(), BCELoss()
    criterion(sigmoid(z), t)
    grad_z = sigmoid.backward(criterion.backward())
    np.testing.assert_allclose(grad_z, (1 / (1 + np.exp(-z)) - t) / 4, rtol=1e-10)


def test_bce_loss_keeps_float32(rng):
    p, t = probabilities(rng, (3, 1)), np.ones((3, 1), np.float32)
    criterion = BCELoss()
    assert criterion(p, t).dtype == np.float32
    assert criterion.backward().dtype == np.float32


def test_bce_loss_clamps_the_log_at_minus_100_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = BCELoss()(np.array([[0.0], [1.0]], np.float32), np.array([[1.0], [1.0]]))
        criterion = BCELoss()
        criterion(np.array([[0.0]]), np.array([[1.0]]))
        grad = criterion.backward()
    assert float(value) == pytest.approx(50.0)   # (100 + 0) / 2
    assert np.isfinite(grad).all()


def test_bce_loss_refuses_logits_and_names_the_fix():
    with pytest.raises(ValueError, match="BCEWithLogitsLoss"):
        BCELoss()(np.array([[2.5], [-1.0]]), np.ones((2, 1)))


def test_bce_loss_refuses_targets_outside_0_1():
    with pytest.raises(ValueError, match="targets must be in"):
        BCELoss()(np.full((2, 1), 0.5), np.array([[2.0], [0.0]]))


def test_bce_loss_refuses_a_flat_target_against_a_column():
    with pytest.raises(ValueError, match="reshape"):
        BCELoss()(np.full((3, 1), 0.5), np.ones(3))
