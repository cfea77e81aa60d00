"""Hidden tests of stage 3: the loss objects on inputs the public tests do not use.

The grader runs these with the public suite; they never go into a student release. Each checks
the specification of DESIGN.md §3 against an expected value computed here with numpy alone:

    log_softmax(z) = z - max(z) - log(sum(exp(z - max(z))))
    smoothed targets  q' = (1 - eps) q + eps / C          (PyTorch's label smoothing)
    cross-entropy     L = -sum_n sum_c q'_nc log_softmax(z)_nc   (reduction="sum")
    dL/dz             = softmax(z) - q'
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch.nn import BCEWithLogitsLoss, CrossEntropyLoss


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def random_probabilities(rng: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    weights = rng.random((rows, classes)) + 0.05
    return weights / weights.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("label_smoothing", [0.2, 0.7])
def test_sum_reduced_label_smoothing_on_probability_targets(label_smoothing):
    rng = np.random.default_rng(2024)
    logits = 2.5 * rng.standard_normal((5, 7))
    targets = random_probabilities(rng, 5, 7)
    smoothed = (1.0 - label_smoothing) * targets + label_smoothing / 7
    expected_value = -(smoothed * log_softmax(logits)).sum()
    expected_grad = np.exp(log_softmax(logits)) - smoothed

    criterion = CrossEntropyLoss(reduction="sum", label_smoothing=label_smoothing)
    value = criterion(logits, targets)
    grad = criterion.backward()

    assert value == pytest.approx(expected_value, rel=1e-10)
    assert grad.shape == logits.shape
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-9, atol=1e-12)


def test_smoothed_loss_is_minimal_where_softmax_equals_the_smoothed_targets():
    """At ``z = log q'`` the gradient vanishes and the mean loss is the entropy of ``q'``."""
    rng = np.random.default_rng(7)
    label_smoothing = 0.3
    targets = random_probabilities(rng, 4, 5)
    smoothed = (1.0 - label_smoothing) * targets + label_smoothing / 5
    logits = np.log(smoothed) + rng.standard_normal((4, 1))  # a shift per row changes nothing
    entropy = -(smoothed * np.log(smoothed)).sum(axis=1).mean()

    criterion = CrossEntropyLoss(label_smoothing=label_smoothing)
    value = criterion(logits, targets)

    assert value == pytest.approx(entropy, rel=1e-10)
    np.testing.assert_allclose(criterion.backward(), np.zeros_like(logits), atol=1e-12)


def test_bce_with_logits_equals_two_class_cross_entropy_on_soft_targets():
    """``BCE(z, t)`` is the cross-entropy of logits ``[0, z]`` against ``[1 - t, t]``."""
    rng = np.random.default_rng(11)
    logits = 4.0 * rng.standard_normal((6, 1))
    targets = rng.random((6, 1))
    two_class_logits = np.hstack([np.zeros_like(logits), logits])
    two_class_targets = np.hstack([1.0 - targets, targets])
    expected_value = -(two_class_targets * log_softmax(two_class_logits)).sum(axis=1).mean()
    # dL/dz is the second column of (softmax - q) / N.
    expected_grad = (np.exp(log_softmax(two_class_logits)) - two_class_targets)[:, 1:] / 6

    criterion = BCEWithLogitsLoss()
    value = criterion(logits, targets)

    assert value == pytest.approx(expected_value, rel=1e-10)
    np.testing.assert_allclose(criterion.backward(), expected_grad, rtol=1e-9, atol=1e-12)
