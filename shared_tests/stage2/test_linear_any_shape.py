"""``Linear`` on ``(N, *, in_features)`` and with ``bias=False``, as ``torch.nn.Linear``.

A sequence ``(N, T, in)`` is ``N * T`` rows: the expected values are the 2-D layer's on the rows
``x.reshape(-1, in)``, reshaped back, which the stage-2 tests already pin to ``x @ W + b``.
Gradients are checked numerically (float64 central differences). See docs/stage2.md#linear.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch.nn import Linear
from mini_torch.testing import gradcheck


def test_linear_on_a_sequence_equals_the_layer_on_its_rows(rng):
    layer = Linear(3, 4)
    layer.b[...] = rng.standard_normal((1, 4))
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    y = layer(x)
    assert y.shape == (2, 5, 4) and y.dtype == np.float32
    np.testing.assert_allclose(y.reshape(-1, 4), x.reshape(-1, 3) @ layer.W + layer.b,
                               rtol=1e-5, atol=1e-6)


def test_linear_backward_on_a_sequence_gives_the_row_gradients_reshaped(rng):
    layer = Linear(3, 4)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    grad_output = rng.standard_normal((2, 5, 4)).astype(np.float32)
    layer(x)
    grad_x = layer.backward(grad_output)
    rows, grad_rows = x.reshape(-1, 3), grad_output.reshape(-1, 4)
    assert grad_x.shape == x.shape and grad_x.dtype == np.float32
    np.testing.assert_allclose(grad_x.reshape(-1, 3), grad_rows @ layer.W.T, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(layer.dW, rows.T @ grad_rows, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.db, grad_rows.sum(0, keepdims=True), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (2, 2, 3, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck_on_any_leading_shape(shape, bias, rng, float64):
    assert gradcheck(Linear(3, 2, bias=bias), rng.standard_normal(shape),
                     name=f"Linear{shape}-bias={bias}")


def test_linear_without_bias_has_no_b_and_only_w_as_parameter(rng):
    layer = Linear(3, 4, bias=False)
    assert layer.b is None
    assert len(layer.parameters()) == 1 and layer.parameters()[0] is layer.W
    x = rng.standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_allclose(layer(x), x @ layer.W, rtol=1e-6, atol=1e-6)
    layer.backward(np.ones((6, 4), np.float32))
    assert layer.db is None
    assert len(layer.grads()) == 1 and layer.grads()[0] is layer.dW
    assert [name for name, _ in layer.named_parameters()] == ["W"]
    assert "bias=False" in repr(layer)


def test_linear_without_bias_accumulates_until_zero_grad(rng):
    layer = Linear(3, 2, bias=False)
    x1, x2 = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2))
    g1, g2 = (rng.standard_normal((4, 2)).astype(np.float32) for _ in range(2))
    layer(x1)
    layer.backward(g1)
    layer(x2)
    layer.backward(g2)
    np.testing.assert_allclose(layer.dW, x1.T @ g1 + x2.T @ g2, rtol=1e-5, atol=1e-5)
    layer.zero_grad()
    np.testing.assert_array_equal(layer.dW, 0.0)


def test_linear_takes_pytorchs_argument_names():
    layer = Linear(in_features=3, out_features=4, bias=True)
    assert (layer.in_features, layer.out_features) == (3, 4)
    assert (layer.input_dim, layer.output_dim) == (3, 4)


def test_linear_on_a_sequence_with_the_wrong_feature_count_names_both(rng):
    with pytest.raises(ValueError) as excinfo:
        Linear(3, 4)(rng.standard_normal((2, 5, 7)).astype(np.float32))
    message = str(excinfo.value)
    assert "(2, 5, 7)" in message and "3 features" in message and "Linear(7, 4)" in message


def test_linear_refuses_an_input_of_another_float_dtype(rng):
    with pytest.raises(TypeError, match="float64"):
        Linear(3, 4)(rng.standard_normal((2, 3)))  # float64 into a float32 layer


def test_linear_backward_with_a_gradient_of_another_forward_is_a_runtime_error(rng):
    """The double forward: the cache holds the second batch, the gradient is the first's."""
    layer = Linear(3, 1)
    layer(rng.standard_normal((8, 3)).astype(np.float32))   # real batch
    layer(rng.standard_normal((5, 3)).astype(np.float32))   # fake batch overwrites the cache
    with pytest.raises(RuntimeError, match="right after each forward"):
        layer.backward(np.ones((8, 1), np.float32))


def test_linear_weight_and_bias_are_views_in_pytorchs_layout():
    layer = Linear(3, 4)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (4,)
    layer.weight[...] = 1.0
    layer.bias[...] = 2.0
    np.testing.assert_array_equal(layer.W, np.ones((3, 4)))
    np.testing.assert_array_equal(layer.b, np.full((1, 4), 2.0))
    assert Linear(3, 4, bias=False).bias is None


def test_a_second_backward_after_two_forwards_is_refused_and_names_the_fix(rng):
    """Forward real, forward fake, backward, backward: the first backward used the fake batch."""
    layer = Linear(3, 1)
    real, fake = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2))
    layer(real)
    layer(fake)
    layer.backward(np.ones((4, 1), np.float32))      # allowed: it differentiates the last forward
    dW = layer.dW.copy()
    with pytest.raises(RuntimeError, match="right after its own forward"):
        layer.backward(np.ones((4, 1), np.float32))
    np.testing.assert_array_equal(layer.dW, dW)       # refused before adding anything


def test_one_backward_per_forward_and_repeated_backwards_stay_allowed(rng):
    layer = Linear(3, 1)
    x, grad = rng.standard_normal((4, 3)).astype(np.float32), np.ones((4, 1), np.float32)
    for _ in range(2):
        layer(x)
        layer.backward(grad)
    layer.backward(grad)                              # forward, backward, backward: accumulates
    np.testing.assert_allclose(layer.dW, 3 * x.T @ grad, rtol=1e-5)
