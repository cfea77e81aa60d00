"""``optimizer.zero_grad(set_to_none=True)``, as in PyTorch: gradients become ``None``.

A parameter whose gradient is ``None`` is skipped by ``step()`` (it does not move, and its
momentum or moments are not advanced); the next backward starts the gradients anew. See
docs/stage2.md#the-module-tree.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch.nn import Linear, ReLU, Sequential
from mini_torch.optim import SGD, Adam, AdamW


def _model_after_backward(rng) -> Sequential:
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    model(rng.standard_normal((5, 3)).astype(np.float32))
    model.backward(rng.standard_normal((5, 2)).astype(np.float32))
    return model


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
def test_zero_grad_set_to_none_then_step_leaves_every_parameter(optimizer_class, rng):
    model = _model_after_backward(rng)
    optimizer = optimizer_class(model, lr=0.1)
    optimizer.zero_grad(set_to_none=True)
    assert model.grads() == [None] * 4
    before = [p.copy() for p in model.parameters()]
    optimizer.step()
    for param, old in zip(model.parameters(), before):
        np.testing.assert_array_equal(param, old)


def test_after_set_to_none_the_next_backward_gives_fresh_gradients(rng):
    model = _model_after_backward(rng)
    optimizer = SGD(model, lr=0.1)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    grad = rng.standard_normal((5, 2)).astype(np.float32)
    optimizer.zero_grad(set_to_none=True)
    model(x)
    model.backward(grad)
    expected = [g.copy() for g in model.grads()]   # must not include the first backward's
    optimizer.zero_grad()
    model(x)
    model.backward(grad)
    for got, want in zip(model.grads(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_zero_grad_without_arguments_still_zeros_in_place(rng):
    model = _model_after_backward(rng)
    arrays = model.grads()
    SGD(model, lr=0.1).zero_grad()
    assert all(a is b and not a.any() for a, b in zip(arrays, model.grads()))
