"""Stage 2's ``examples/train_sine.py``: its two solution functions, checked directly.

``build_model`` is ``Linear(1, 32) -> Tanh -> Linear(32, 32) -> Tanh -> Linear(32, 1)``;
``train_step(model, X, y, lr)`` is one full-batch gradient-descent step on the MSE that updates
the parameters in place, clears the gradients and returns the loss before the update. The
expected step is computed here with ``mini_torch.functional`` layer by layer.

The script is stage 2's own in stage 2 and the reference one later (``stage_examples``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from mini_torch import functional as F
from mini_torch.nn import Linear, Sequential, Tanh


@pytest.fixture(scope="module")
def example(stage_examples) -> ModuleType:
    script: Path = stage_examples(2) / "train_sine.py"
    assert script.is_file(), f"missing {script}"
    spec = importlib.util.spec_from_file_location("stage2_train_sine", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _data(rng) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-np.pi, np.pi, size=(16, 1)).astype(np.float32)
    return X, np.sin(X).astype(np.float32)


def test_sine_build_model_is_the_stated_tanh_mlp(example):
    model = example.build_model()
    assert isinstance(model, Sequential)
    assert [type(m) for m in model] == [Linear, Tanh, Linear, Tanh, Linear]
    dims = [(m.input_dim, m.output_dim) for m in model if isinstance(m, Linear)]
    assert dims == [(1, 32), (32, 32), (32, 1)]


def test_sine_train_step_is_one_gradient_descent_step_on_the_mse(example, rng):
    model = example.build_model()
    X, y = _data(rng)
    lr = 0.05
    first, second, third = model[0], model[2], model[4]
    a1 = F.linear(X, first.W, first.b)
    h1 = F.tanh(a1)
    a2 = F.linear(h1, second.W, second.b)
    h2 = F.tanh(a2)
    out = F.linear(h2, third.W, third.b)
    grad_out = F.mse_loss_backward(out, y)
    grad_h2, grad_W3, grad_b3 = F.linear_backward(grad_out, h2, third.W)
    grad_h1, grad_W2, grad_b2 = F.linear_backward(F.tanh_backward(grad_h2, a2), h1, second.W)
    _, grad_W1, grad_b1 = F.linear_backward(F.tanh_backward(grad_h1, a1), X, first.W)
    expected = [first.W - lr * grad_W1, first.b - lr * grad_b1, second.W - lr * grad_W2,
                second.b - lr * grad_b2, third.W - lr * grad_W3, third.b - lr * grad_b3]
    expected_loss = float(F.mse_loss(out, y))

    loss = example.train_step(model, X, y, lr)

    assert float(loss) == pytest.approx(expected_loss, rel=1e-5)
    for param, want in zip(model.parameters(), expected):
        np.testing.assert_allclose(param, want, rtol=1e-5, atol=1e-6)


def test_sine_train_step_updates_in_place_and_clears_the_gradients(example, rng):
    model = example.build_model()
    X, y = _data(rng)
    arrays = model.parameters()
    example.train_step(model, X, y, 0.05)
    assert all(a is b for a, b in zip(model.parameters(), arrays))
    for grad in model.grads():
        np.testing.assert_array_equal(grad, np.zeros_like(grad))


def test_sine_train_steps_lower_the_loss(example, rng):
    model = example.build_model()
    X, y = _data(rng)
    losses = [float(example.train_step(model, X, y, 0.05)) for _ in range(50)]
    assert losses[-1] < losses[0]
