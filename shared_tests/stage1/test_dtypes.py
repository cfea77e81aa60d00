"""Every op keeps the floating dtype it is given, forward and backward (float32 stays float32).

numpy 2 promotes ``float32_array * np.float64(c)`` to float64, so a single numpy constant in a
formula silently doubles memory and changes results; these tests catch that for every output of
every op, the losses' values and gradients included.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch import functional as F


def _array(dtype, shape=(4, 3), seed=0, scale=1.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(dtype)


def _linear(dtype, bias_shape):
    x, W, b = _array(dtype, (4, 3)), _array(dtype, (3, 2), 1), _array(dtype, bias_shape, 2)
    y = F.linear(x, W, b)
    return [y, *F.linear_backward(np.ones_like(y), x, W)]


def _elementwise(forward, backward, **kwargs):
    def run(dtype):
        x, grad_output = _array(dtype), _array(dtype, seed=1)
        return [forward(x, **kwargs), backward(grad_output, x, **kwargs)]
    return run


def _mse(reduction):
    def run(dtype):
        pred, target = _array(dtype), _array(dtype, seed=1)
        return [F.mse_loss(pred, target, reduction=reduction),
                F.mse_loss_backward(pred, target, reduction=reduction)]
    return run


def _cross_entropy(form, reduction="mean", smoothing=0.0):
    def run(dtype):
        logits = _array(dtype, (4, 3), scale=3.0)
        labels = np.array([0, 2, 1, 2])
        target = {"index": labels,
                  "index(N,1)": labels.reshape(-1, 1),
                  "onehot": np.eye(3, dtype=dtype)[labels]}[form]
        kwargs = {"reduction": reduction, "label_smoothing": smoothing}
        return [F.cross_entropy(logits, target, **kwargs),
                F.cross_entropy_backward(logits, target, **kwargs)]
    return run


def _bce(reduction):
    def run(dtype):
        logits = _array(dtype, (5, 1), scale=3.0)
        target = (np.arange(5).reshape(-1, 1) % 2).astype(dtype)
        return [F.binary_cross_entropy_with_logits(logits, target, reduction=reduction),
                F.binary_cross_entropy_with_logits_backward(logits, target, reduction=reduction)]
    return run


OPS = {
    "linear-b(out,)": lambda dtype: _linear(dtype, (2,)),
    "linear-b(1,out)": lambda dtype: _linear(dtype, (1, 2)),
    "relu": _elementwise(F.relu, F.relu_backward),
    "leaky_relu": _elementwise(F.leaky_relu, F.leaky_relu_backward),
    "leaky_relu-slope0.2": _elementwise(F.leaky_relu, F.leaky_relu_backward,
                                        negative_slope=0.2),
    "sigmoid": _elementwise(F.sigmoid, F.sigmoid_backward),
    "tanh": _elementwise(F.tanh, F.tanh_backward),
    "gelu-none": _elementwise(F.gelu, F.gelu_backward, approximate="none"),
    "gelu-tanh": _elementwise(F.gelu, F.gelu_backward, approximate="tanh"),
    "softmax": lambda dtype: [F.softmax(_array(dtype)), F.softmax(_array(dtype), axis=0)],
    "log_softmax": lambda dtype: [F.log_softmax(_array(dtype)),
                                  F.log_softmax(_array(dtype), axis=0)],
    "mse_loss-mean": _mse("mean"),
    "mse_loss-sum": _mse("sum"),
    "cross_entropy-index": _cross_entropy("index"),
    "cross_entropy-index(N,1)": _cross_entropy("index(N,1)"),
    "cross_entropy-onehot": _cross_entropy("onehot"),
    "cross_entropy-sum": _cross_entropy("index", reduction="sum"),
    "cross_entropy-smoothing": _cross_entropy("index", smoothing=0.1),
    "bce_with_logits-mean": _bce("mean"),
    "bce_with_logits-sum": _bce("sum"),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("op", OPS.values(), ids=OPS.keys())
def test_every_output_keeps_the_input_dtype(op, dtype):
    for position, value in enumerate(op(dtype)):
        assert isinstance(value, (np.ndarray, np.floating)), (
            f"output {position} is a {type(value).__name__}, not a numpy value")
        assert value.dtype == dtype, f"output {position} is {value.dtype}, expected {dtype}"


@pytest.mark.parametrize("op", [_mse("mean"), _cross_entropy("index"), _bce("mean")],
                         ids=["mse_loss", "cross_entropy", "bce_with_logits"])
def test_loss_value_is_zero_dimensional(op):
    assert np.ndim(op(np.float32)[0]) == 0


def test_mse_loss_takes_the_dtype_of_pred_not_of_target():
    pred = _array(np.float32)
    target = _array(np.float64, seed=1)
    assert F.mse_loss(pred, target).dtype == np.float32
    assert F.mse_loss_backward(pred, target).dtype == np.float32


def test_bce_with_logits_takes_the_dtype_of_logits_not_of_target():
    logits = _array(np.float32, (3, 1))
    target = np.array([[1.0], [0.0], [1.0]])  # float64
    assert F.binary_cross_entropy_with_logits(logits, target).dtype == np.float32
    assert F.binary_cross_entropy_with_logits_backward(logits, target).dtype == np.float32


def test_cross_entropy_takes_the_dtype_of_logits_not_of_a_float64_one_hot_target():
    logits = _array(np.float32, (3, 4))
    target = np.eye(4)[[0, 3, 1]]  # float64
    assert F.cross_entropy(logits, target).dtype == np.float32
    assert F.cross_entropy_backward(logits, target).dtype == np.float32


def test_float32_results_agree_with_float64_results():
    x64 = _array(np.float64, (5, 4), scale=2.0)
    x32 = x64.astype(np.float32)
    for forward in (F.sigmoid, F.tanh, F.gelu, F.softmax, F.log_softmax):
        np.testing.assert_allclose(forward(x32), forward(x64), rtol=1e-5, atol=1e-6)


ACTIVATIONS = {
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "gelu": F.gelu,
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
}


@pytest.mark.parametrize("activation", ACTIVATIONS.values(), ids=ACTIVATIONS.keys())
def test_integer_input_to_an_activation_comes_back_float(activation):
    x_int = np.array([[-2, 0, 3], [1, 5, -1]], dtype=np.int64)
    result = activation(x_int)
    assert np.issubdtype(result.dtype, np.floating)
    np.testing.assert_allclose(result, activation(x_int.astype(np.float64)), rtol=1e-6)
