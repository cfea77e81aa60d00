"""``Linear``: ``y = x @ W + b`` with ``W (in, out)``, ``b (1, out)``, He-normal init.

Expected values are computed in each test with plain numpy from the layer's own ``W`` and ``b``:
``y = x @ W + b``, ``dL/dx = g @ W^T``, ``dL/dW = x^T @ g``, ``dL/db = sum over rows of g`` for
``g = dL/dy``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mini_torch
from mini_torch.nn import Linear
from mini_torch.testing import gradcheck

# ------------------------------------------------------------------------------ shapes and init


def test_linear_weight_has_shape_in_by_out():
    assert Linear(3, 5).W.shape == (3, 5)


def test_linear_bias_is_a_zero_row_of_shape_1_by_out():
    layer = Linear(3, 5)
    assert layer.b.shape == (1, 5)
    np.testing.assert_array_equal(layer.b, np.zeros((1, 5)))


def test_linear_stores_its_sizes():
    layer = Linear(3, 5)
    assert (layer.input_dim, layer.output_dim) == (3, 5)


def test_linear_parameters_are_float32_by_default():
    layer = Linear(3, 5)
    assert layer.W.dtype == np.float32
    assert layer.b.dtype == np.float32


def test_linear_parameters_follow_the_default_dtype(float64):
    layer = Linear(3, 5)
    assert layer.W.dtype == np.float64
    assert layer.b.dtype == np.float64


def test_linear_weight_std_is_he_normal():
    """He-normal: W ~ N(0, 2 / in); 500,000 draws put the sample std well within 5 %."""
    layer = Linear(1000, 500)
    expected_std = math.sqrt(2.0 / 1000)
    assert abs(float(layer.W.std()) / expected_std - 1.0) < 0.05


def test_linear_weight_mean_is_zero():
    """The standard error of the mean of 500,000 draws is std / 707, far below 1 % of std."""
    layer = Linear(1000, 500)
    assert abs(float(layer.W.mean())) < 0.01 * math.sqrt(2.0 / 1000)


def test_linear_init_is_reproducible_with_manual_seed():
    mini_torch.manual_seed(7)
    first = Linear(4, 3).W.copy()
    mini_torch.manual_seed(7)
    second = Linear(4, 3).W
    np.testing.assert_array_equal(first, second)


def test_linear_init_draws_from_the_global_generator():
    """Two layers built one after another get different weights (the generator advances)."""
    assert not np.array_equal(Linear(4, 3).W, Linear(4, 3).W)


def test_linear_init_uses_a_given_rng():
    first = Linear(4, 3, rng=np.random.default_rng(5)).W
    second = Linear(4, 3, rng=np.random.default_rng(5)).W
    np.testing.assert_array_equal(first, second)


def test_linear_cache_and_gradients_are_none_before_use():
    layer = Linear(3, 2)
    assert layer.x is None
    assert layer.dW is None
    assert layer.db is None


def test_linear_parameters_are_w_and_b_themselves():
    layer = Linear(3, 2)
    params = layer.parameters()
    assert len(params) == 2
    assert params[0] is layer.W
    assert params[1] is layer.b


def test_linear_grads_are_none_before_the_first_backward():
    assert Linear(3, 2).grads() == [None, None]


# ---------------------------------------------------------------------------------------- forward

def test_linear_forward_is_x_at_w_plus_b(rng):
    layer = Linear(3, 4)
    layer.b[...] = rng.standard_normal((1, 4))  # a non-zero bias, so that adding it is tested
    x = rng.standard_normal((5, 3)).astype(np.float32)
    expected = x @ layer.W + layer.b
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-6, atol=1e-6)


def test_linear_forward_output_shape_is_n_by_out(rng):
    assert Linear(3, 4)(rng.standard_normal((6, 3)).astype(np.float32)).shape == (6, 4)


def test_linear_forward_keeps_float32(rng):
    out = Linear(3, 4)(rng.standard_normal((2, 3)).astype(np.float32))
    assert out.dtype == np.float32


def test_linear_forward_caches_its_input(rng):
    layer = Linear(3, 4)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    layer.forward(x)
    np.testing.assert_array_equal(layer.x, x)


def test_linear_forward_caches_the_latest_input(rng):
    layer = Linear(3, 4)
    layer.forward(rng.standard_normal((5, 3)).astype(np.float32))
    latest = rng.standard_normal((2, 3)).astype(np.float32)
    layer.forward(latest)
    np.testing.assert_array_equal(layer.x, latest)


# --------------------------------------------------------------------------------------- backward

def _forward_backward(rng, n=5, n_in=3, n_out=4):
    layer = Linear(n_in, n_out)
    x = rng.standard_normal((n, n_in)).astype(np.float32)
    grad_output = rng.standard_normal((n, n_out)).astype(np.float32)
    layer.forward(x)
    grad_x = layer.backward(grad_output)
    return layer, x, grad_output, grad_x


def test_linear_backward_returns_grad_output_at_w_transposed(rng):
    layer, _, grad_output, grad_x = _forward_backward(rng)
    np.testing.assert_allclose(grad_x, grad_output @ layer.W.T, rtol=1e-5, atol=1e-6)
    assert grad_x.shape == (5, 3)


def test_linear_backward_sets_dw_to_x_transposed_at_grad_output(rng):
    layer, x, grad_output, _ = _forward_backward(rng)
    np.testing.assert_allclose(layer.dW, x.T @ grad_output, rtol=1e-5, atol=1e-6)
    assert layer.dW.shape == layer.W.shape


def test_linear_backward_sets_db_to_the_row_sum_of_grad_output(rng):
    layer, _, grad_output, _ = _forward_backward(rng)
    np.testing.assert_allclose(layer.db, grad_output.sum(axis=0, keepdims=True),
                               rtol=1e-5, atol=1e-6)
    assert layer.db.shape == (1, 4)


def test_linear_backward_keeps_float32(rng):
    layer, _, _, grad_x = _forward_backward(rng)
    assert grad_x.dtype == np.float32
    assert layer.dW.dtype == np.float32
    assert layer.db.dtype == np.float32


def test_linear_grads_are_dw_and_db_after_backward(rng):
    layer, _, _, _ = _forward_backward(rng)
    grads = layer.grads()
    assert grads[0] is layer.dW
    assert grads[1] is layer.db


def test_linear_backward_accumulates_until_zero_grad(rng):
    """Two backwards add up: dW = x1^T g1 + x2^T g2, db = sum g1 + sum g2."""
    layer = Linear(3, 2)
    x1, x2 = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2))
    g1, g2 = (rng.standard_normal((4, 2)).astype(np.float32) for _ in range(2))
    layer.forward(x1)
    layer.backward(g1)
    layer.forward(x2)
    layer.backward(g2)
    np.testing.assert_allclose(layer.dW, x1.T @ g1 + x2.T @ g2, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.db, g1.sum(0, keepdims=True) + g2.sum(0, keepdims=True),
                               rtol=1e-5, atol=1e-5)


def test_linear_backward_twice_on_one_forward_doubles_the_gradient(rng):
    layer = Linear(3, 2)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    g = rng.standard_normal((4, 2)).astype(np.float32)
    layer.forward(x)
    layer.backward(g)
    layer.backward(g)
    np.testing.assert_allclose(layer.dW, 2.0 * (x.T @ g), rtol=1e-5, atol=1e-5)


def test_linear_backward_after_zero_grad_starts_from_zero(rng):
    layer = Linear(3, 2)
    x1, x2 = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2))
    g1, g2 = (rng.standard_normal((4, 2)).astype(np.float32) for _ in range(2))
    layer.forward(x1)
    layer.backward(g1)
    layer.zero_grad()
    layer.forward(x2)
    layer.backward(g2)
    np.testing.assert_allclose(layer.dW, x2.T @ g2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.db, g2.sum(0, keepdims=True), rtol=1e-5, atol=1e-6)


def test_linear_backward_accumulates_into_the_same_arrays(rng):
    layer, _, grad_output, _ = _forward_backward(rng)
    dW, db = layer.dW, layer.db
    layer.backward(grad_output)
    assert layer.dW is dW
    assert layer.db is db


def test_linear_backward_does_not_change_the_parameters(rng):
    layer = Linear(3, 4)
    W, b = layer.W.copy(), layer.b.copy()
    layer.forward(rng.standard_normal((5, 3)).astype(np.float32))
    layer.backward(rng.standard_normal((5, 4)).astype(np.float32))
    np.testing.assert_array_equal(layer.W, W)
    np.testing.assert_array_equal(layer.b, b)


def test_linear_gradcheck_passes_for_input_w_and_b(rng, float64):
    layer = Linear(4, 3)
    layer.b[...] = rng.standard_normal((1, 3))
    assert gradcheck(layer, rng.standard_normal((5, 4)))


def test_linear_gradcheck_with_a_single_sample(rng, float64):
    assert gradcheck(Linear(3, 2), rng.standard_normal((1, 3)))


def test_linear_gradient_step_through_parameters_updates_the_layer(rng):
    """``p -= lr * g`` on the list from parameters() changes the layer's own W and b."""
    layer, _, _, _ = _forward_backward(rng)
    expected_W = layer.W - 0.5 * layer.dW
    expected_b = layer.b - 0.5 * layer.db
    for p, g in zip(layer.parameters(), layer.grads()):
        p -= 0.5 * g
    np.testing.assert_allclose(layer.W, expected_W, rtol=1e-6)
    np.testing.assert_allclose(layer.b, expected_b, rtol=1e-6)


def test_linear_a_gradient_step_lowers_a_squared_loss(rng):
    """L = 0.5 ||x W + b - t||^2 has dL/dy = y - t; a small step along -grad lowers L."""
    layer = Linear(3, 2)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    target = rng.standard_normal((8, 2)).astype(np.float32)

    def loss() -> float:
        return 0.5 * float(np.sum((layer(x) - target) ** 2))

    before = loss()
    layer.backward(layer(x) - target)
    for p, g in zip(layer.parameters(), layer.grads()):
        p -= 0.01 * g
    assert loss() < before


# ------------------------------------------------------------------------------------------ repr

def test_linear_repr_names_the_class_and_both_sizes():
    text = repr(Linear(3, 7))
    assert text.startswith("Linear(")
    assert "3" in text and "7" in text


@pytest.mark.parametrize("sizes", [(2, 8), (64, 3)])
def test_linear_repr_lists_input_size_before_output_size(sizes):
    text = repr(Linear(*sizes))
    assert text.index(str(sizes[0])) < text.index(str(sizes[1]))
