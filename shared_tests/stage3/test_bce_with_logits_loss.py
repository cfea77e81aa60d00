"""``BCEWithLogitsLoss``: binary cross-entropy on logits, as ``torch.nn.BCEWithLogitsLoss``.

Per element, with ``s = sigmoid(z)`` and a target ``t`` in ``[0, 1]``:

    l = -[t log s + (1 - t) log(1 - s)] = max(z, 0) - z t + log(1 + exp(-|z|))
    dl/dz = s - t

``reduction="mean"`` averages over all ``M = z.size`` elements (gradient ``(s - t) / M``);
``"sum"`` adds them. The tests compute the textbook form on moderate logits, where it is exact
enough, and use closed-form limits for logits of magnitude 1e4.
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from mini_torch.nn import BCEWithLogitsLoss
from mini_torch.testing import gradcheck

REDUCTIONS = pytest.mark.parametrize("reduction", ["mean", "sum"])
DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])


def textbook_bce(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-element ``-[t log s + (1 - t) log(1 - s)]``; fine for ``|z|`` up to a few tens."""
    s = 1.0 / (1.0 + np.exp(-logits))
    return -(targets * np.log(s) + (1.0 - targets) * np.log(1.0 - s))


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits))


def logits_and_targets(rng: np.random.Generator, shape=(6, 1), soft: bool = False):
    logits = 3.0 * rng.standard_normal(shape)
    targets = rng.uniform(0.0, 1.0, shape) if soft else rng.integers(0, 2, shape).astype(float)
    return logits, targets


def bce_gradcheck(criterion: BCEWithLogitsLoss, logits: np.ndarray, targets: np.ndarray) -> bool:
    return gradcheck(lambda logits, targets: criterion(logits, targets),
                     lambda logits, targets: (criterion.backward(), None),
                     (logits, targets), name=repr(criterion))


@contextmanager
def no_numpy_warnings():
    """Warnings become errors; numpy raises on overflow, division by zero and NaN (not underflow,
    since ``exp(-1e4)`` rounding to 0 is the right answer)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


# -------------------------------------------------------------------------------------- values

@pytest.mark.parametrize("target", [0.0, 1.0, 0.5])
def test_zero_logits_give_log_two_for_any_target(target):
    # sigmoid(0) = 1/2, so l = -[t log 1/2 + (1 - t) log 1/2] = log 2.
    value = BCEWithLogitsLoss()(np.zeros((3, 1)), np.full((3, 1), target))
    assert value == pytest.approx(math.log(2.0), rel=1e-12)


@pytest.mark.parametrize("soft", [False, True], ids=["0/1 targets", "soft targets"])
def test_mean_matches_the_textbook_formula_on_moderate_logits(rng, soft):
    logits, targets = logits_and_targets(rng, (6, 2), soft)
    expected = textbook_bce(logits, targets).mean()
    assert BCEWithLogitsLoss()(logits, targets) == pytest.approx(expected, rel=1e-10)


def test_sum_adds_the_per_element_losses(rng):
    logits, targets = logits_and_targets(rng, (6, 2))
    expected = textbook_bce(logits, targets).sum()
    value = BCEWithLogitsLoss(reduction="sum")(logits, targets)
    assert value == pytest.approx(expected, rel=1e-10)


# ----------------------------------------------------------------------------------- gradients

def test_mean_gradient_is_sigmoid_minus_target_over_element_count(rng):
    # (4, 2) logits: M = 8 elements, so the divisor is 8, not the batch size 4.
    logits, targets = logits_and_targets(rng, (4, 2), soft=True)
    criterion = BCEWithLogitsLoss()
    criterion(logits, targets)
    np.testing.assert_allclose(criterion.backward(), (sigmoid(logits) - targets) / 8,
                               rtol=1e-10, atol=1e-15)


def test_sum_gradient_is_sigmoid_minus_target(rng):
    logits, targets = logits_and_targets(rng, (4, 2), soft=True)
    criterion = BCEWithLogitsLoss(reduction="sum")
    criterion(logits, targets)
    np.testing.assert_allclose(criterion.backward(), sigmoid(logits) - targets,
                               rtol=1e-10, atol=1e-15)


@REDUCTIONS
@pytest.mark.parametrize("soft", [False, True], ids=["0/1 targets", "soft targets"])
@pytest.mark.parametrize("shape", [(5, 1), (3, 2)], ids=["5x1", "3x2"])
def test_gradcheck_passes(rng, shape, soft, reduction):
    logits, targets = logits_and_targets(rng, shape, soft)
    assert bce_gradcheck(BCEWithLogitsLoss(reduction=reduction), logits, targets)


# ----------------------------------------------------------------------------------- stability

@DTYPES
def test_logits_of_plus_minus_1e4_give_the_exact_limits_without_warnings(dtype):
    # Confidently right (z = 1e4, t = 1 and z = -1e4, t = 0): loss 0, gradient 0.
    # Confidently wrong (z = 1e4, t = 0 and z = -1e4, t = 1): loss |z| = 1e4, gradient +-1.
    # Mean over M = 4 elements: (1e4 + 0 + 0 + 1e4) / 4 = 5000; gradient (s - t) / 4.
    logits = np.array([[1e4], [1e4], [-1e4], [-1e4]], dtype=dtype)
    targets = np.array([[0.0], [1.0], [0.0], [1.0]], dtype=dtype)
    criterion = BCEWithLogitsLoss()
    with no_numpy_warnings():
        value = criterion(logits, targets)
        grad = criterion.backward()
    assert value == pytest.approx(5000.0, rel=1e-6)
    np.testing.assert_allclose(grad, [[0.25], [0.0], [0.0], [-0.25]], atol=1e-7)


@DTYPES
def test_huge_logits_with_soft_targets_stay_finite(rng, dtype):
    logits = (1e4 * rng.choice([-1.0, 1.0], size=(8, 1))).astype(dtype)
    targets = rng.uniform(0.0, 1.0, (8, 1)).astype(dtype)
    criterion = BCEWithLogitsLoss()
    with no_numpy_warnings():
        value = criterion(logits, targets)
        grad = criterion.backward()
    assert math.isfinite(value)
    assert np.all(np.isfinite(grad))


# -------------------------------------------------------------------------------------- errors

def test_flat_targets_against_column_logits_are_rejected_with_both_shapes():
    with pytest.raises(ValueError) as error:
        BCEWithLogitsLoss()(np.zeros((4, 1)), np.array([0.0, 1.0, 1.0, 0.0]))
    assert "(4, 1)" in str(error.value)
    assert "(4,)" in str(error.value)
