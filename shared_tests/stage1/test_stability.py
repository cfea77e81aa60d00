"""Extreme but finite inputs give finite, correct limits and no numpy warnings.

``no_numpy_warnings()`` turns every Python warning into an error and makes numpy raise on
overflow, division by zero and invalid operations (NaN). Underflow is left at numpy's default
(ignored) on purpose: ``exp(-2e4)`` rounding to 0 is the correct float answer and happens inside
every stable softmax, so raising on it would forbid the right implementation.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from mini_torch import functional as F

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


@contextmanager
def no_numpy_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


def assert_finite(*arrays):
    for array in arrays:
        assert np.all(np.isfinite(array)), f"non-finite values in {array!r}"


# ------------------------------------------------------------------------------------- sigmoid

@DTYPES
def test_sigmoid_of_plus_minus_1000_is_exactly_one_and_zero(dtype):
    x = np.array([[-1000.0, 1000.0]], dtype=dtype)
    with no_numpy_warnings():
        s = F.sigmoid(x)
    assert s[0, 0] == 0.0
    assert s[0, 1] == 1.0


@DTYPES
def test_sigmoid_backward_of_plus_minus_1000_is_zero(dtype):
    x = np.array([[-1000.0, 1000.0]], dtype=dtype)
    with no_numpy_warnings():
        grad = F.sigmoid_backward(np.ones_like(x), x)
    assert_finite(grad)
    np.testing.assert_array_equal(grad, np.zeros_like(x))


@DTYPES
def test_tanh_and_its_backward_saturate_at_plus_minus_1000(dtype):
    x = np.array([[-1000.0, 1000.0]], dtype=dtype)
    with no_numpy_warnings():
        t = F.tanh(x)
        grad = F.tanh_backward(np.ones_like(x), x)
    np.testing.assert_array_equal(t, [[-1.0, 1.0]])
    np.testing.assert_array_equal(grad, [[0.0, 0.0]])


# ----------------------------------------------------------------------------- softmax family

@DTYPES
def test_softmax_of_logits_of_1e4_is_one_hot_on_the_largest(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=dtype)
    with no_numpy_warnings():
        p = F.softmax(x)
    np.testing.assert_array_equal(p, [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


@DTYPES
def test_softmax_of_equal_huge_logits_is_uniform(dtype):
    x = np.full((1, 4), 1e4, dtype=dtype)
    with no_numpy_warnings():
        p = F.softmax(x)
    np.testing.assert_allclose(p, np.full((1, 4), 0.25), rtol=1e-6)


@DTYPES
def test_log_softmax_of_logits_of_1e4_is_finite_and_exact(dtype):
    x = np.array([[1e4, -1e4, 0.0]], dtype=dtype)
    with no_numpy_warnings():
        log_p = F.log_softmax(x)
    assert_finite(log_p)
    # the largest logit dominates the normaliser: log p = x - 1e4 (exp(-1e4) is far below 1 ulp)
    np.testing.assert_allclose(log_p, [[0.0, -2e4, -1e4]], rtol=1e-6)


@DTYPES
def test_cross_entropy_of_confident_correct_prediction_is_zero(dtype):
    logits = np.array([[1e4, -1e4], [-1e4, 1e4]], dtype=dtype)
    with no_numpy_warnings():
        loss = F.cross_entropy(logits, np.array([0, 1]))
    assert np.isfinite(loss)
    assert loss == pytest.approx(0.0, abs=1e-6)


@DTYPES
def test_cross_entropy_of_confident_wrong_prediction_is_the_logit_gap(dtype):
    # -log softmax of the true class = (1e4 - (-1e4)) + log(1 + exp(-2e4)) = 2e4
    logits = np.array([[1e4, -1e4], [-1e4, 1e4]], dtype=dtype)
    with no_numpy_warnings():
        loss = F.cross_entropy(logits, np.array([1, 0]))
    assert np.isfinite(loss)
    assert loss == pytest.approx(2e4, rel=1e-6)


@DTYPES
def test_cross_entropy_backward_with_logits_of_1e4_is_softmax_minus_onehot(dtype):
    logits = np.array([[1e4, -1e4], [-1e4, 1e4]], dtype=dtype)
    with no_numpy_warnings():
        right = F.cross_entropy_backward(logits, np.array([0, 1]))
        wrong = F.cross_entropy_backward(logits, np.array([1, 0]))
    assert_finite(right, wrong)
    np.testing.assert_allclose(right, np.zeros((2, 2)), atol=1e-7)
    # softmax is one-hot on the other class: (onehot_pred - onehot_true) / N, N = 2
    np.testing.assert_allclose(wrong, [[0.5, -0.5], [-0.5, 0.5]], rtol=1e-6)


@DTYPES
def test_cross_entropy_with_label_smoothing_and_logits_of_1e4_is_finite(dtype):
    # q = [0.95, 0.05]; log p = [0, -2e4]; loss = 0.05 * 2e4 = 1000
    logits = np.array([[1e4, -1e4]], dtype=dtype)
    with no_numpy_warnings():
        loss = F.cross_entropy(logits, np.array([0]), label_smoothing=0.1)
        grad = F.cross_entropy_backward(logits, np.array([0]), label_smoothing=0.1)
    assert loss == pytest.approx(1000.0, rel=1e-5)
    np.testing.assert_allclose(grad, [[0.05, -0.05]], rtol=1e-5)


# -------------------------------------------------------------------------------------- BCE

@DTYPES
@pytest.mark.parametrize(("logit", "target", "expected"),
                         [(1e4, 1.0, 0.0), (-1e4, 0.0, 0.0), (1e4, 0.0, 1e4), (-1e4, 1.0, 1e4)],
                         ids=["confident-right-1", "confident-right-0", "confident-wrong-0",
                              "confident-wrong-1"])
def test_bce_with_logits_of_magnitude_1e4(dtype, logit, target, expected):
    z = np.array([[logit]], dtype=dtype)
    t = np.array([[target]], dtype=dtype)
    with no_numpy_warnings():
        loss = F.binary_cross_entropy_with_logits(z, t)
        grad = F.binary_cross_entropy_with_logits_backward(z, t)
    assert loss == pytest.approx(expected, rel=1e-6, abs=1e-6)
    # dL/dz = sigmoid(z) - t, with sigmoid(+-1e4) exactly 1 or 0
    sigmoid_limit = 1.0 if logit > 0 else 0.0
    np.testing.assert_allclose(grad, [[sigmoid_limit - target]], atol=1e-7)


def test_gelu_of_large_inputs_is_identity_or_zero():
    x = np.array([-1000.0, 1000.0])
    with no_numpy_warnings():
        exact = F.gelu(x)
        approx = F.gelu(x, approximate="tanh")
        grads = [F.gelu_backward(np.ones(2), x, approximate=a) for a in ("none", "tanh")]
    np.testing.assert_allclose(exact, [0.0, 1000.0], atol=1e-12)
    np.testing.assert_allclose(approx, [0.0, 1000.0], atol=1e-12)
    for grad in grads:
        np.testing.assert_allclose(grad, [0.0, 1.0], atol=1e-12)
