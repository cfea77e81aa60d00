"""Forward values of ``mini_torch.functional`` against closed forms and hand computations.

Every expected number is worked out in the test (or its comment) from the definition, with the
standard library's ``math`` or plain numpy, never from the function under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mini_torch import functional as F


def reference_log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise ``z - log(sum(exp(z)))``, shifted by the row max (independent of F)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# -------------------------------------------------------------------------------------- linear

def test_linear_on_hand_made_matrices():
    x = np.array([[1.0, 2.0], [0.0, -1.0]])
    W = np.array([[1.0, 0.0, 2.0],
                  [0.0, 1.0, 3.0]])
    b = np.array([10.0, 20.0, 30.0])
    # row 1: [1*1 + 2*0, 1*0 + 2*1, 1*2 + 2*3] + b = [1, 2, 8] + b
    # row 2: [0, -1, -3] + b
    expected = np.array([[11.0, 22.0, 38.0], [10.0, 19.0, 27.0]])
    np.testing.assert_array_equal(F.linear(x, W, b), expected)


def test_linear_bias_as_row_gives_same_result_as_flat_bias(rng):
    x, W, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    np.testing.assert_array_equal(F.linear(x, W, b), F.linear(x, W, b.reshape(1, 2)))


def test_linear_backward_on_hand_made_matrices():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    W = np.array([[1.0, -1.0], [0.5, 2.0]])
    grad_output = np.array([[1.0, 0.0], [0.0, 1.0]])
    grad_x, grad_W, grad_b = F.linear_backward(grad_output, x, W)
    # grad_x = G @ W^T: with G = I it is W^T row by row
    np.testing.assert_array_equal(grad_x, np.array([[1.0, 0.5], [-1.0, 2.0]]))
    # grad_W = x^T @ G = x^T
    np.testing.assert_array_equal(grad_W, np.array([[1.0, 3.0], [2.0, 4.0]]))
    # grad_b = column sums of G
    np.testing.assert_array_equal(grad_b, np.array([[1.0, 1.0]]))


# --------------------------------------------------------------------------------- activations

def test_relu_zeroes_negatives_and_keeps_positives():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    np.testing.assert_array_equal(F.relu(x), np.array([[0.0, 0.0, 0.0, 0.5, 3.0]]))


def test_relu_backward_passes_gradient_only_where_input_is_positive():
    x = np.array([[-1.0, 2.0, -3.0, 4.0]])
    grad_output = np.array([[10.0, 20.0, 30.0, 40.0]])
    np.testing.assert_array_equal(F.relu_backward(grad_output, x),
                                  np.array([[0.0, 20.0, 0.0, 40.0]]))


def test_leaky_relu_of_minus_two_with_default_slope_is_minus_0_02():
    np.testing.assert_allclose(F.leaky_relu(np.array([-2.0])), [-0.02], rtol=1e-12)


def test_leaky_relu_keeps_positives_and_scales_negatives_by_negative_slope():
    x = np.array([[-2.0, 3.0]])
    np.testing.assert_allclose(F.leaky_relu(x, negative_slope=0.2), [[-0.4, 3.0]], rtol=1e-12)


def test_leaky_relu_backward_uses_slope_one_or_negative_slope():
    x = np.array([[-2.0, 3.0]])
    grad_output = np.array([[5.0, 7.0]])
    np.testing.assert_allclose(F.leaky_relu_backward(grad_output, x, negative_slope=0.2),
                               [[1.0, 7.0]], rtol=1e-12)
    np.testing.assert_allclose(F.leaky_relu_backward(grad_output, x), [[0.05, 7.0]],
                               rtol=1e-12)


def test_sigmoid_matches_its_definition():
    values = [-5.0, -1.0, 0.0, 0.5, 4.0]
    expected = [1.0 / (1.0 + math.exp(-v)) for v in values]
    np.testing.assert_allclose(F.sigmoid(np.array(values)), expected, rtol=1e-12)


def test_sigmoid_backward_at_zero_is_a_quarter():
    # s(0) = 1/2, so s (1 - s) = 1/4
    np.testing.assert_allclose(F.sigmoid_backward(np.array([[2.0]]), np.array([[0.0]])),
                               [[0.5]], rtol=1e-12)


def test_tanh_matches_math_tanh():
    values = [-3.0, -0.5, 0.0, 0.25, 2.0]
    np.testing.assert_allclose(F.tanh(np.array(values)), [math.tanh(v) for v in values],
                               rtol=1e-12)


def test_tanh_backward_is_one_minus_tanh_squared():
    values = [-1.5, 0.0, 0.7]
    expected = [3.0 * (1.0 - math.tanh(v) ** 2) for v in values]
    np.testing.assert_allclose(F.tanh_backward(np.full(3, 3.0), np.array(values)), expected,
                               rtol=1e-12)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_of_zero_is_zero(approximate):
    assert F.gelu(np.array([0.0]), approximate=approximate)[0] == 0.0


def test_gelu_exact_is_x_times_normal_cdf():
    values = np.linspace(-4.0, 4.0, 17)
    expected = [v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in values]
    np.testing.assert_allclose(F.gelu(values), expected, rtol=1e-12, atol=1e-15)


def test_gelu_exact_in_float32_is_the_erf_form_to_float32_precision():
    # float32 has a unit roundoff of 2**-24 (6e-8); allow eight units of |gelu(x)|, and compare
    # against the standard library's erf in double precision. The absolute allowance is the
    # float32 erf's documented error, 1.4e-7, times 0.5 |x| where it matters most: below x = -4,
    # gelu = 0.5 x (1 + erf(x / sqrt 2)) is a tiny difference of two numbers near 1, and
    # erf's error is multiplied by up to 0.5 * 3.9 * sqrt 2 = 2.76 (beyond, erf is -1 in
    # float32, and the exact 0.5 x (1 + erf) is smaller than 1e-7).
    # 150,001 values: more than two of the blocks the float32 path computes in, not a multiple.
    values = np.linspace(-8.0, 8.0, 150_001)
    expected = np.array([v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0)))
                         for v in values.astype(np.float32).astype(float)])
    got = F.gelu(values.astype(np.float32))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=8 * 2.0**-24, atol=2.76 * 1.4e-7)


def test_gelu_backward_in_float32_is_the_exact_slope_to_float32_precision():
    # d/dx [x Phi(x)] = Phi(x) + x phi(x), in double precision with the standard library
    values = np.linspace(-8.0, 8.0, 150_001).astype(np.float32)
    expected = [0.5 * (1.0 + math.erf(v / math.sqrt(2.0)))
                + v * math.exp(-0.5 * v * v) / math.sqrt(2.0 * math.pi)
                for v in values.astype(float)]
    got = F.gelu_backward(np.ones_like(values), values)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=8 * 2.0**-24, atol=1e-6)


def test_gelu_in_float32_keeps_the_shape_of_its_input():
    x = np.linspace(-3.0, 3.0, 2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_allclose(F.gelu(x).ravel(), F.gelu(x.ravel()), rtol=0, atol=0)
    assert F.gelu(x).shape == (2, 3, 4)


def test_gelu_tanh_form_matches_pytorch_formula():
    values = np.linspace(-4.0, 4.0, 17)
    expected = [0.5 * v * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v**3)))
                for v in values]
    np.testing.assert_allclose(F.gelu(values, approximate="tanh"), expected, rtol=1e-12,
                               atol=1e-15)


def test_gelu_tanh_form_is_within_1e_3_of_exact_on_minus_3_to_3():
    x = np.linspace(-3.0, 3.0, 601)
    assert np.max(np.abs(F.gelu(x, approximate="tanh") - F.gelu(x))) < 1e-3


def test_gelu_backward_at_zero_is_one_half():
    # d/dx [x Phi(x)] = Phi(x) + x phi(x) = 1/2 at x = 0; the tanh form has the same slope there
    for approximate in ("none", "tanh"):
        grad = F.gelu_backward(np.array([1.0]), np.array([0.0]), approximate=approximate)
        np.testing.assert_allclose(grad, [0.5], rtol=1e-12)


# ------------------------------------------------------------------------------------- softmax

def test_softmax_rows_sum_to_one(rng):
    probabilities = F.softmax(rng.standard_normal((5, 4)) * 3.0)
    np.testing.assert_allclose(probabilities.sum(axis=1), np.ones(5), rtol=1e-12)
    assert np.all(probabilities > 0)


def test_softmax_equals_exp_over_sum_on_small_inputs():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [-1.0, 0.5, 0.0]])
    expected = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(F.softmax(x), expected, rtol=1e-12)


def test_softmax_along_axis_0_normalises_columns():
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5]])
    expected = np.exp(x) / np.exp(x).sum(axis=0, keepdims=True)
    np.testing.assert_allclose(F.softmax(x, axis=0), expected, rtol=1e-12)


def test_softmax_is_unchanged_by_adding_a_constant_to_a_row():
    x = np.array([[0.1, -0.4, 2.0]])
    np.testing.assert_allclose(F.softmax(x + 50.0), F.softmax(x), rtol=1e-12)


def test_log_softmax_equals_log_of_softmax(rng):
    x = rng.standard_normal((4, 6)) * 5.0
    np.testing.assert_allclose(F.log_softmax(x), np.log(F.softmax(x)), rtol=1e-10, atol=1e-12)


def test_log_softmax_matches_independent_reference(rng):
    x = rng.standard_normal((3, 5))
    np.testing.assert_allclose(F.log_softmax(x), reference_log_softmax(x), rtol=1e-12)


# -------------------------------------------------------------------------------------- losses

def test_mse_of_known_arrays_mean_is_7_5():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    # (1 + 4 + 9 + 16) / 4 = 30 / 4
    assert F.mse_loss(pred, np.zeros((2, 2))) == pytest.approx(7.5)


def test_mse_of_known_arrays_sum_is_30():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert F.mse_loss(pred, np.zeros((2, 2)), reduction="sum") == pytest.approx(30.0)


def test_mse_averages_over_all_elements_not_rows():
    pred, target = np.array([[3.0, 0.0, 0.0]]), np.zeros((1, 3))
    # one row, three elements: 9 / 3, not 9 / 1
    assert F.mse_loss(pred, target) == pytest.approx(3.0)


def test_mse_backward_is_two_times_difference_over_element_count():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    target = np.array([[0.0, 1.0], [1.0, 0.0]])
    diff = pred - target
    np.testing.assert_allclose(F.mse_loss_backward(pred, target), 2.0 * diff / 4.0, rtol=1e-12)
    np.testing.assert_allclose(F.mse_loss_backward(pred, target, reduction="sum"), 2.0 * diff,
                               rtol=1e-12)


def test_mse_loss_returns_zero_d_value():
    loss = F.mse_loss(np.ones((3, 2)), np.zeros((3, 2)))
    assert np.ndim(loss) == 0


@pytest.mark.parametrize("classes", [2, 3, 10])
def test_cross_entropy_of_equal_logits_is_log_of_class_count(classes):
    logits = np.zeros((4, classes))
    target = np.arange(4) % classes
    assert F.cross_entropy(logits, target) == pytest.approx(math.log(classes), rel=1e-12)


def test_cross_entropy_equals_mean_negative_log_softmax_of_true_class(rng):
    logits = rng.standard_normal((6, 4)) * 2.0
    target = rng.integers(0, 4, size=6)
    expected = -np.mean(reference_log_softmax(logits)[np.arange(6), target])
    assert F.cross_entropy(logits, target) == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_sum_is_batch_size_times_mean(rng):
    logits = rng.standard_normal((5, 3))
    target = rng.integers(0, 3, size=5)
    expected = -np.sum(reference_log_softmax(logits)[np.arange(5), target])
    assert F.cross_entropy(logits, target, reduction="sum") == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_with_probability_target_is_expected_negative_log_likelihood(rng):
    logits = rng.standard_normal((3, 4))
    q = np.array([[0.5, 0.5, 0.0, 0.0], [0.1, 0.2, 0.3, 0.4], [0.0, 0.0, 0.0, 1.0]])
    expected = -np.mean(np.sum(q * reference_log_softmax(logits), axis=1))
    assert F.cross_entropy(logits, q) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("smoothing", [0.1, 0.3])
def test_cross_entropy_label_smoothing_uses_pytorch_definition(rng, smoothing):
    # PyTorch: the target becomes q = (1 - eps) * onehot + eps / C
    n, classes = 5, 4
    logits = rng.standard_normal((n, classes))
    target = rng.integers(0, classes, size=n)
    q = (1.0 - smoothing) * np.eye(classes)[target] + smoothing / classes
    expected = -np.mean(np.sum(q * reference_log_softmax(logits), axis=1))
    loss = F.cross_entropy(logits, target, label_smoothing=smoothing)
    assert loss == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_label_smoothing_also_applies_to_probability_targets(rng):
    smoothing, classes = 0.2, 3
    logits = rng.standard_normal((2, classes))
    probabilities = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    q = (1.0 - smoothing) * probabilities + smoothing / classes
    expected = -np.mean(np.sum(q * reference_log_softmax(logits), axis=1))
    loss = F.cross_entropy(logits, probabilities, label_smoothing=smoothing)
    assert loss == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_backward_of_equal_logits_is_uniform_minus_onehot_over_n():
    n, classes = 2, 4
    target = np.array([2, 0])
    expected = (np.full((n, classes), 1.0 / classes) - np.eye(classes)[target]) / n
    np.testing.assert_allclose(F.cross_entropy_backward(np.zeros((n, classes)), target),
                               expected, rtol=1e-12)


@pytest.mark.parametrize("target", [0.0, 1.0, 0.5])
def test_bce_with_logits_of_zero_is_log_two(target):
    # sigmoid(0) = 1/2, and -[t log 1/2 + (1 - t) log 1/2] = log 2 for every t
    loss = F.binary_cross_entropy_with_logits(np.zeros((3, 1)), np.full((3, 1), target))
    assert loss == pytest.approx(math.log(2.0), rel=1e-12)


def test_bce_with_logits_matches_definition_on_moderate_logits(rng):
    z = rng.standard_normal((4, 2)) * 2.0
    t = rng.uniform(size=(4, 2))
    s = 1.0 / (1.0 + np.exp(-z))
    expected = -np.mean(t * np.log(s) + (1.0 - t) * np.log(1.0 - s))
    assert F.binary_cross_entropy_with_logits(z, t) == pytest.approx(expected, rel=1e-10)


def test_bce_with_logits_sum_adds_per_element_losses():
    z, t = np.zeros((2, 3)), np.ones((2, 3))
    loss = F.binary_cross_entropy_with_logits(z, t, reduction="sum")
    assert loss == pytest.approx(6.0 * math.log(2.0), rel=1e-12)


def test_bce_with_logits_backward_is_sigmoid_minus_target_over_size():
    z = np.array([[0.0], [0.0]])
    t = np.array([[1.0], [0.0]])
    # sigmoid(0) - t = [-1/2, +1/2], divided by the 2 elements
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits_backward(z, t),
                               [[-0.25], [0.25]], rtol=1e-12)


# ------------------------------------------------------------------------------------ accuracy

SCORES = np.array([[0.1, 0.9, 0.0],
                   [0.8, 0.1, 0.1],
                   [0.3, 0.3, 0.4],
                   [0.2, 0.5, 0.3]])
# predicted classes: 1, 0, 2, 1
LABELS = np.array([1, 0, 0, 2])  # two right out of four


def test_accuracy_with_class_index_targets():
    assert F.accuracy(SCORES, LABELS) == pytest.approx(0.5)


def test_accuracy_with_column_of_class_indices():
    assert F.accuracy(SCORES, LABELS.reshape(-1, 1)) == pytest.approx(0.5)


def test_accuracy_with_one_hot_targets():
    assert F.accuracy(SCORES, np.eye(3)[LABELS]) == pytest.approx(0.5)


def test_accuracy_returns_a_python_float():
    assert type(F.accuracy(SCORES, LABELS)) is float


def test_accuracy_of_binary_logits_column_thresholds_at_zero():
    logits = np.array([[2.0], [-1.0], [0.5], [-3.0], [0.1]])
    # predicted: 1, 0, 1, 0, 1
    target = np.array([1, 1, 1, 0, 0])
    assert F.accuracy(logits, target) == pytest.approx(3 / 5)


def test_accuracy_of_flat_binary_logits():
    logits = np.array([2.0, -1.0, 0.5, -3.0])
    target = np.array([[1], [0], [0], [0]])
    assert F.accuracy(logits, target) == pytest.approx(3 / 4)


def test_accuracy_is_one_when_every_prediction_is_right():
    assert F.accuracy(SCORES, SCORES.argmax(axis=1)) == 1.0
