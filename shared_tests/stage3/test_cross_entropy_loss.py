"""``CrossEntropyLoss``: softmax cross-entropy on logits, as ``torch.nn.CrossEntropyLoss``.

For logits ``z`` of shape ``(N, C)`` and a target distribution ``q`` per row (one-hot for a class
index, the given probabilities otherwise):

    L = -(1/N) sum_n sum_c q_nc log softmax(z)_nc            dL/dz = (softmax(z) - q) / N

``reduction="sum"`` drops the ``1/N``. Label smoothing ``eps`` replaces ``q`` by
``(1 - eps) q + eps / C`` for index and probability targets alike (PyTorch's definition).

Expected values come from the reference below: a log-softmax written in this file with the
max-shift and log-sum-exp, independent of ``mini_torch.functional``.
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from mini_torch.nn import CrossEntropyLoss
from mini_torch.testing import gradcheck

REDUCTIONS = pytest.mark.parametrize("reduction", ["mean", "sum"])
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


# --------------------------------------------------------------------------- the reference

def reference_log_softmax(logits: np.ndarray) -> np.ndarray:
    """``z - logsumexp(z)`` per row, shifted by the row max so no ``exp`` overflows."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def reference_softmax(logits: np.ndarray) -> np.ndarray:
    return np.exp(reference_log_softmax(logits))


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    return np.eye(num_classes)[labels]


def smoothed(q: np.ndarray, label_smoothing: float) -> np.ndarray:
    return (1.0 - label_smoothing) * q + label_smoothing / q.shape[1]


def logits_and_labels(rng: np.random.Generator, batch: int = 6, num_classes: int = 4):
    logits = 3.0 * rng.standard_normal((batch, num_classes))
    labels = rng.integers(0, num_classes, size=batch)
    return logits, labels


def random_distributions(rng: np.random.Generator, batch: int, num_classes: int) -> np.ndarray:
    return rng.dirichlet(np.ones(num_classes), size=batch)


def value_and_grad(criterion: CrossEntropyLoss, logits, targets) -> tuple[float, np.ndarray]:
    value = criterion(logits, targets)
    return value, criterion.backward()


def ce_gradcheck(criterion: CrossEntropyLoss, logits: np.ndarray, targets: np.ndarray) -> bool:
    return gradcheck(lambda logits, targets: criterion(logits, targets),
                     lambda logits, targets: (criterion.backward(), None),
                     (logits, targets), name=repr(criterion))


# ------------------------------------------------------------------------------------- values

@pytest.mark.parametrize("num_classes", [2, 3, 10])
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_equal_logits_give_log_of_the_class_count(num_classes, label_smoothing):
    # softmax is uniform, so every log-probability is -log C whatever the target distribution.
    criterion = CrossEntropyLoss(label_smoothing=label_smoothing)
    value = criterion(np.zeros((3, num_classes)), np.array([0, 1, num_classes - 1]))
    assert value == pytest.approx(math.log(num_classes), rel=1e-12)


def test_equals_mean_negative_log_softmax_of_the_true_class(rng):
    logits, labels = logits_and_labels(rng)
    expected = -reference_log_softmax(logits)[np.arange(6), labels].mean()
    assert CrossEntropyLoss()(logits, labels) == pytest.approx(expected, rel=1e-12)


def test_sum_reduction_adds_the_per_sample_losses(rng):
    logits, labels = logits_and_labels(rng)
    expected = -reference_log_softmax(logits)[np.arange(6), labels].sum()
    assert CrossEntropyLoss(reduction="sum")(logits, labels) == pytest.approx(expected, rel=1e-12)


def test_probability_targets_give_the_expected_negative_log_likelihood(rng):
    logits, _ = logits_and_labels(rng)
    q = random_distributions(rng, 6, 4)
    expected = -(q * reference_log_softmax(logits)).sum(axis=1).mean()
    assert CrossEntropyLoss()(logits, q) == pytest.approx(expected, rel=1e-12)


def test_confident_correct_logits_give_a_loss_near_zero():
    logits = np.array([[20.0, 0.0, 0.0], [0.0, 0.0, 20.0]])
    assert CrossEntropyLoss()(logits, np.array([0, 2])) < 1e-8


# ---------------------------------------------------------------------------------- gradients

def test_gradient_of_equal_logits_is_uniform_minus_one_hot_over_batch_size():
    # softmax = 1/4 everywhere: (1/4 - q) / N with N = 2.
    criterion = CrossEntropyLoss()
    _, grad = value_and_grad(criterion, np.zeros((2, 4)), np.array([1, 3]))
    expected = (np.full((2, 4), 0.25) - one_hot(np.array([1, 3]), 4)) / 2
    np.testing.assert_allclose(grad, expected, rtol=1e-12)


def test_gradient_is_softmax_minus_one_hot_over_batch_size(rng):
    logits, labels = logits_and_labels(rng)
    _, grad = value_and_grad(CrossEntropyLoss(), logits, labels)
    expected = (reference_softmax(logits) - one_hot(labels, 4)) / 6
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-15)


def test_sum_reduction_gradient_is_softmax_minus_one_hot(rng):
    logits, labels = logits_and_labels(rng)
    _, grad = value_and_grad(CrossEntropyLoss(reduction="sum"), logits, labels)
    expected = reference_softmax(logits) - one_hot(labels, 4)
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-15)


def test_gradient_for_probability_targets_is_softmax_minus_q_over_batch_size(rng):
    logits, _ = logits_and_labels(rng)
    q = random_distributions(rng, 6, 4)
    _, grad = value_and_grad(CrossEntropyLoss(), logits, q)
    np.testing.assert_allclose(grad, (reference_softmax(logits) - q) / 6, rtol=1e-10, atol=1e-15)


def test_gradient_rows_sum_to_zero(rng):
    # softmax rows and target rows both sum to 1, so each row of softmax - q sums to 0.
    logits, labels = logits_and_labels(rng)
    _, grad = value_and_grad(CrossEntropyLoss(label_smoothing=0.1), logits, labels)
    np.testing.assert_allclose(grad.sum(axis=1), np.zeros(6), atol=1e-15)


TARGET_FORMS = {
    "indices (N,) int64": lambda labels: labels.astype(np.int64),
    "indices (N,) int32": lambda labels: labels.astype(np.int32),
    "indices (N, 1)": lambda labels: labels.reshape(-1, 1),
    "one-hot float64": lambda labels: one_hot(labels, 4),
    "one-hot float32": lambda labels: one_hot(labels, 4).astype(np.float32),
}


@REDUCTIONS
@pytest.mark.parametrize("form", list(TARGET_FORMS))
def test_every_form_of_the_same_target_gives_the_same_value_and_gradient(rng, form, reduction):
    logits, labels = logits_and_labels(rng)
    expected_value, expected_grad = value_and_grad(CrossEntropyLoss(reduction=reduction),
                                                   logits, labels)
    value, grad = value_and_grad(CrossEntropyLoss(reduction=reduction), logits,
                                 TARGET_FORMS[form](labels))
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)


# ------------------------------------------------------------------------------ label smoothing

@pytest.mark.parametrize("label_smoothing", [0.1, 0.3, 1.0])
def test_label_smoothing_on_indices_follows_pytorch_formula(rng, label_smoothing):
    # PyTorch documents it as (1 - eps) * NLL(true class) + eps * mean over classes of -log p.
    logits, labels = logits_and_labels(rng)
    log_p = reference_log_softmax(logits)
    nll = -log_p[np.arange(6), labels]
    uniform_part = -log_p.mean(axis=1)
    expected = ((1.0 - label_smoothing) * nll + label_smoothing * uniform_part).mean()
    value = CrossEntropyLoss(label_smoothing=label_smoothing)(logits, labels)
    assert value == pytest.approx(expected, rel=1e-12)


def test_label_smoothing_on_probability_targets_mixes_in_the_uniform_distribution(rng):
    logits, _ = logits_and_labels(rng)
    q = random_distributions(rng, 6, 4)
    expected = -(smoothed(q, 0.25) * reference_log_softmax(logits)).sum(axis=1).mean()
    value = CrossEntropyLoss(label_smoothing=0.25)(logits, q)
    assert value == pytest.approx(expected, rel=1e-12)


def test_smoothed_indices_equal_the_smoothed_distribution_given_as_probabilities(rng):
    logits, labels = logits_and_labels(rng)
    value, grad = value_and_grad(CrossEntropyLoss(label_smoothing=0.2), logits, labels)
    expected_value, expected_grad = value_and_grad(CrossEntropyLoss(), logits,
                                                   smoothed(one_hot(labels, 4), 0.2))
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("label_smoothing", [0.1, 0.5])
def test_label_smoothing_gradient_is_softmax_minus_smoothed_target_over_batch_size(
        rng, label_smoothing):
    logits, labels = logits_and_labels(rng)
    _, grad = value_and_grad(CrossEntropyLoss(label_smoothing=label_smoothing), logits, labels)
    expected = (reference_softmax(logits) - smoothed(one_hot(labels, 4), label_smoothing)) / 6
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-15)


def test_label_smoothing_defaults_to_zero_and_is_stored(rng):
    assert CrossEntropyLoss().label_smoothing == 0.0
    assert CrossEntropyLoss(label_smoothing=0.1).label_smoothing == 0.1


@pytest.mark.parametrize("label_smoothing", [-0.1, 1.5])
def test_label_smoothing_outside_zero_to_one_is_rejected(label_smoothing):
    with pytest.raises(ValueError, match="label_smoothing"):
        CrossEntropyLoss(label_smoothing=label_smoothing)


# ----------------------------------------------------------------------------- gradient checks

GRADCHECK_TARGETS = {
    "indices": lambda rng, labels: labels,
    "indices (N, 1)": lambda rng, labels: labels.reshape(-1, 1),
    "probabilities": lambda rng, labels: random_distributions(rng, labels.shape[0], 4),
}


@REDUCTIONS
@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
@pytest.mark.parametrize("form", list(GRADCHECK_TARGETS))
def test_gradcheck_passes(rng, form, label_smoothing, reduction):
    logits, labels = logits_and_labels(rng, batch=5)
    targets = GRADCHECK_TARGETS[form](rng, labels)
    criterion = CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing)
    assert ce_gradcheck(criterion, logits, targets)


# ----------------------------------------------------------------------------------- stability

@contextmanager
def no_numpy_warnings():
    """Warnings become errors; numpy raises on overflow, division by zero and NaN.

    Underflow stays ignored: ``exp(-2e4)`` rounding to 0 is the right answer inside every stable
    softmax.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


@DTYPES
def test_logits_of_plus_minus_1e4_give_the_exact_limits_without_warnings(dtype):
    # Row 0 puts all mass on class 0 and the target is 0: loss 0, gradient 0.
    # Row 1 puts all mass on class 1 but the target is 0: loss 1e4 - (-1e4) = 2e4, gradient
    # (one-hot(1) - one-hot(0)) / N. The mean over N = 2 rows is 1e4.
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=dtype)
    criterion = CrossEntropyLoss()
    with no_numpy_warnings():
        value, grad = value_and_grad(criterion, logits, np.array([0, 0]))
    assert value == pytest.approx(1e4, rel=1e-6)
    np.testing.assert_allclose(grad, [[0.0, 0.0, 0.0], [-0.5, 0.5, 0.0]], atol=1e-6)


@DTYPES
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_huge_random_logits_give_finite_values_and_gradients(rng, dtype, label_smoothing):
    logits = (1e4 * rng.choice([-1.0, 1.0], size=(8, 5))).astype(dtype)
    labels = rng.integers(0, 5, size=8)
    criterion = CrossEntropyLoss(label_smoothing=label_smoothing)
    with no_numpy_warnings():
        value, grad = value_and_grad(criterion, logits, labels)
    assert math.isfinite(value)
    assert np.all(np.isfinite(grad))


@DTYPES
def test_huge_logits_with_probability_targets_stay_finite(rng, dtype):
    logits = (1e4 * rng.choice([-1.0, 1.0], size=(8, 5))).astype(dtype)
    q = random_distributions(rng, 8, 5).astype(dtype)
    with no_numpy_warnings():
        value, grad = value_and_grad(CrossEntropyLoss(), logits, q)
    assert math.isfinite(value)
    assert np.all(np.isfinite(grad))


# -------------------------------------------------------------------------------------- errors

def error_message(criterion: CrossEntropyLoss, logits, targets,
                  errors: type | tuple = ValueError) -> str:
    with pytest.raises(errors) as error:
        criterion(logits, targets)
    return str(error.value)


def test_class_index_too_large_names_the_index_and_the_class_count():
    message = error_message(CrossEntropyLoss(), np.zeros((4, 3)), np.array([0, 1, 7, 2]))
    assert "class index 7" in message
    assert "3 classes" in message and "0..2" in message


def test_negative_class_index_is_rejected_and_named():
    message = error_message(CrossEntropyLoss(), np.zeros((4, 3)), np.array([0, -1, 2, 2]))
    assert "-1" in message


def test_class_index_equal_to_the_class_count_is_rejected():
    # Indices run 0..C-1: C itself is one too many (the classic off-by-one).
    message = error_message(CrossEntropyLoss(), np.zeros((2, 3)), np.array([3, 0]))
    assert "class index 3" in message
    assert "3 classes" in message and "0..2" in message


def test_float_class_indices_are_rejected_with_a_message_about_the_dtype():
    # A (N,) float array is not a distribution over C classes; silently truncating 1.7 to 1
    # would hide a bug, so the loss asks for integers.
    message = error_message(CrossEntropyLoss(), np.zeros((3, 4)), np.array([0.0, 1.0, 3.0]),
                            errors=(TypeError, ValueError))
    assert "float" in message
    assert "int" in message


def test_float_class_index_column_is_rejected():
    error_message(CrossEntropyLoss(), np.zeros((3, 4)), np.array([[0.0], [1.0], [3.0]]),
                  errors=(TypeError, ValueError))


def test_more_labels_than_logit_rows_names_both_counts():
    message = error_message(CrossEntropyLoss(), np.zeros((4, 3)), np.array([0, 1, 2, 0, 1, 2]))
    assert "4" in message
    assert "6" in message


def test_fewer_probability_rows_than_logit_rows_names_both_counts(rng):
    message = error_message(CrossEntropyLoss(), np.zeros((5, 3)), random_distributions(rng, 2, 3))
    assert "5" in message
    assert "2" in message


def test_flat_logits_are_rejected():
    # One sample must still be a batch: (1, C), not (C,).
    error_message(CrossEntropyLoss(), np.zeros(3), np.array([0]))
