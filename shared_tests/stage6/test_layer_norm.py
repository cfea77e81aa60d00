"""``LayerNorm(D)``: ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` over the last axis.

The mean and the biased variance (divided by ``D``) are taken over each row separately;
``gamma`` starts at ones and ``beta`` at zeros, both of shape ``(D,)``. Expected values are
computed in each test with plain numpy from those formulas.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
from mini_torch.nn import LayerNorm
from mini_torch.nn.normalization import layer_norm, layer_norm_backward
from mini_torch.testing import gradcheck

SEE = "see docs/stage6.md#layernorm"


def _randomise(ln: LayerNorm, rng: np.random.Generator) -> LayerNorm:
    """gamma and beta away from 1 and 0, so a gradcheck sees every term of the backward."""
    ln.gamma[...] = rng.normal(size=ln.gamma.shape)
    ln.beta[...] = rng.normal(size=ln.beta.shape)
    return ln


# ------------------------------------------------------------------------------ shapes and init

def test_layer_norm_scale_starts_at_ones_and_shift_at_zeros():
    ln = LayerNorm(5)
    np.testing.assert_array_equal(ln.gamma, np.ones(5))
    np.testing.assert_array_equal(ln.beta, np.zeros(5))
    assert ln.gamma.shape == ln.beta.shape == (5,)
    assert ln.gamma.dtype == ln.beta.dtype == np.float32


def test_layer_norm_parameters_follow_the_default_dtype(float64):
    assert LayerNorm(3).gamma.dtype == np.float64


def test_layer_norm_parameters_are_gamma_then_beta():
    ln = LayerNorm(3)
    assert [name for name, _ in ln.named_parameters()] == ["gamma", "beta"]
    assert ln.grads() == [None, None]


def test_layer_norm_repr_shows_shape_and_eps():
    assert repr(LayerNorm(8)) == "LayerNorm((8,), eps=1e-05)"


# ------------------------------------------------------------------------------------ forward

def test_layer_norm_output_rows_have_mean_zero_and_variance_one(rng):
    x = (rng.normal(size=(4, 6, 32)) * 5 + 3).astype(np.float32)
    y = LayerNorm(32)(x)
    assert y.shape == x.shape
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-5,
                               err_msg=f"LayerNorm.forward: each row's mean; {SEE}")
    # var / (var + eps) with eps = 1e-5 and var about 25: 1 within 1e-6, plus float32 rounding
    np.testing.assert_allclose(y.var(axis=-1), 1.0, atol=1e-4,
                               err_msg=f"LayerNorm.forward: each row's (biased) variance; {SEE}")


def test_layer_norm_output_matches_the_formula(rng):
    ln = _randomise(LayerNorm(6, eps=1e-3), rng)
    x = rng.normal(size=(2, 3, 6)).astype(np.float32)
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # biased: divided by D
    expected = ln.gamma * (x - mean) / np.sqrt(var + 1e-3) + ln.beta
    np.testing.assert_allclose(ln(x), expected, rtol=1e-5, atol=1e-5,
                               err_msg=f"LayerNorm.forward (biased variance, eps inside); {SEE}")


def test_layer_norm_rows_are_normalised_independently(rng):
    x = rng.normal(size=(3, 8)).astype(np.float32)
    ln = LayerNorm(8)
    before = ln(x)
    x[0] *= 100.0
    after = ln(x)
    np.testing.assert_array_equal(after[1:], before[1:], err_msg=(
        f"LayerNorm.forward: a row's output depends on that row only; {SEE}"))


def test_layer_norm_of_a_constant_row_is_beta_without_nan():
    ln = LayerNorm(4)
    ln.beta[...] = [1.0, 2.0, 3.0, 4.0]
    y = ln(np.full((1, 4), 7.0, np.float32))
    np.testing.assert_allclose(y, [[1.0, 2.0, 3.0, 4.0]],
                               err_msg=f"LayerNorm: eps keeps a constant row finite; {SEE}")


def test_layer_norm_keeps_float32(rng):
    ln = LayerNorm(4)
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    y = ln(x)
    grad_x = ln.backward(np.ones_like(y))
    assert y.dtype == grad_x.dtype == ln.dgamma.dtype == ln.dbeta.dtype == np.float32, SEE


# ----------------------------------------------------------------------------------- backward

@pytest.mark.parametrize("shape", [(5, 6), (2, 3, 6)])
def test_layer_norm_gradients_match_central_differences(shape, float64, rng):
    ln = _randomise(LayerNorm(6), rng)
    assert gradcheck(ln, rng.normal(size=shape), name="LayerNorm")


def test_layer_norm_function_pair_matches_central_differences(rng):
    x, gamma, beta = rng.normal(size=(4, 5)), rng.normal(size=5), rng.normal(size=5)

    def backward(grad_output, x, gamma, beta):
        return layer_norm_backward(grad_output, x, gamma)

    assert gradcheck(layer_norm, backward, (x, gamma, beta), name="layer_norm_backward")


def test_layer_norm_parameter_gradients_are_sums_over_rows(rng):
    """dL/dbeta = sum of G over rows; dL/dgamma = sum of G * x_hat over rows."""
    ln = LayerNorm(3)
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    grad_output = rng.normal(size=(2, 4, 3)).astype(np.float32)
    y = ln(x)  # gamma = 1, beta = 0: y is x_hat
    ln.backward(grad_output)
    np.testing.assert_allclose(ln.dbeta, grad_output.sum(axis=(0, 1)), rtol=1e-5,
                               err_msg=f"LayerNorm.backward: dbeta; {SEE}")
    np.testing.assert_allclose(ln.dgamma, (grad_output * y).sum(axis=(0, 1)), rtol=1e-4,
                               atol=1e-5, err_msg=f"LayerNorm.backward: dgamma; {SEE}")


def test_layer_norm_input_gradient_is_orthogonal_to_shifts_and_scalings(float64, rng):
    """With eps = 0 the output does not change when a row is shifted or scaled, so with
    gamma = 1 every row of dL/dx sums to 0 (the mean term) and is orthogonal to x_hat (the
    variance term)."""
    ln = LayerNorm(16, eps=0.0)
    y = ln(rng.normal(size=(5, 16)))
    grad_x = ln.backward(rng.normal(size=(5, 16)))
    np.testing.assert_allclose(grad_x.sum(axis=1), 0.0, atol=1e-10,
                               err_msg=f"LayerNorm.backward: the mean term; {SEE}")
    np.testing.assert_allclose((grad_x * y).sum(axis=1), 0.0, atol=1e-10,
                               err_msg=f"LayerNorm.backward: the variance term; {SEE}")


def test_layer_norm_backward_accumulates_until_zero_grad(rng):
    ln = LayerNorm(4)
    x = rng.normal(size=(3, 4)).astype(np.float32)
    grad_output = rng.normal(size=(3, 4)).astype(np.float32)
    ln(x)
    ln.backward(grad_output)
    once = [g.copy() for g in ln.grads()]
    ln(x)
    ln.backward(grad_output)
    for grad, first in zip(ln.grads(), once):
        np.testing.assert_allclose(grad, 2 * first, rtol=1e-5, err_msg=(
            f"LayerNorm.backward must add to dgamma / dbeta until zero_grad; {SEE}"))
    ln.zero_grad()
    assert all(not g.any() for g in ln.grads())


# ------------------------------------------------------------------------------------- errors

def test_layer_norm_refuses_a_wrong_feature_size():
    with pytest.raises(ValueError, match=r"LayerNorm.*\(2, 5\).*4"):
        LayerNorm(4)(np.ones((2, 5), np.float32))


def test_layer_norm_takes_an_int():
    with pytest.raises(TypeError, match="normalized_shape"):
        LayerNorm((4,))


def test_layer_norm_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="forward"):
        LayerNorm(4).backward(np.ones((1, 4), np.float32))


def test_layer_norm_backward_refuses_a_gradient_of_the_wrong_shape():
    ln = LayerNorm(4)
    ln(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="grad_output"):
        ln.backward(np.ones((4, 2), np.float32))


def test_layer_norm_backward_after_no_grad_forward_raises():
    ln = LayerNorm(4)
    with mini_torch.no_grad():
        ln(np.ones((2, 4), np.float32))
    with pytest.raises(RuntimeError, match="no_grad"):
        ln.backward(np.ones((2, 4), np.float32))
