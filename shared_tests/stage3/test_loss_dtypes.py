"""float32 predictions keep every loss in float32: its value and its gradient.

The value is returned as a Python float, so its dtype cannot be read off directly. But a number
computed in float32 is a float32 number: converting the returned float back to float32 is exact.
A value computed in float64 from random data has 53 significant bits, and the chance that it
lands exactly on a float32 number by accident is about 2^-29. So
``float(np.float32(value)) == value`` holds if and only if (practically) the loss was computed in
float32.

float64 predictions, in turn, must stay float64 (gradient checks depend on it).
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch.nn import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss


def _mse(reduction):
    def make(rng, dtype, target_dtype):
        return (MSELoss(reduction=reduction), rng.standard_normal((8, 3)).astype(dtype),
                rng.standard_normal((8, 3)).astype(target_dtype))
    return make


def _cross_entropy(form, label_smoothing=0.0, reduction="mean"):
    def make(rng, dtype, target_dtype):
        logits = (3.0 * rng.standard_normal((8, 4))).astype(dtype)
        labels = rng.integers(0, 4, size=8)
        if form == "indices":
            targets = labels
        else:
            targets = rng.dirichlet(np.ones(4), size=8).astype(target_dtype)
        return (CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing),
                logits, targets)
    return make


def _bce(reduction):
    def make(rng, dtype, target_dtype):
        return (BCEWithLogitsLoss(reduction=reduction),
                (3.0 * rng.standard_normal((8, 1))).astype(dtype),
                rng.uniform(0.0, 1.0, (8, 1)).astype(target_dtype))
    return make


CASES = pytest.mark.parametrize("make_case", [
    pytest.param(_mse("mean"), id="MSELoss-mean"),
    pytest.param(_mse("sum"), id="MSELoss-sum"),
    pytest.param(_cross_entropy("indices"), id="CrossEntropyLoss-indices"),
    pytest.param(_cross_entropy("indices", reduction="sum"), id="CrossEntropyLoss-indices-sum"),
    pytest.param(_cross_entropy("indices", label_smoothing=0.1),
                 id="CrossEntropyLoss-indices-smoothing"),
    pytest.param(_cross_entropy("probabilities"), id="CrossEntropyLoss-probabilities"),
    pytest.param(_cross_entropy("probabilities", label_smoothing=0.1),
                 id="CrossEntropyLoss-probabilities-smoothing"),
    pytest.param(_bce("mean"), id="BCEWithLogitsLoss-mean"),
    pytest.param(_bce("sum"), id="BCEWithLogitsLoss-sum"),
])
TARGET_DTYPES = pytest.mark.parametrize("target_dtype", [np.float32, np.float64],
                                        ids=["float32 targets", "float64 targets"])


@CASES
@TARGET_DTYPES
def test_value_of_float32_predictions_is_computed_in_float32(rng, make_case, target_dtype):
    criterion, predictions, targets = make_case(rng, np.float32, target_dtype)
    value = criterion(predictions, targets)
    assert float(np.float32(value)) == value, (
        f"{criterion!r} returned {value!r}, which is not a float32 number: the loss of float32 "
        f"predictions was computed in float64 somewhere (a numpy float64 scalar or a float64 "
        f"target mixed into the formula?)."
    )


@CASES
@TARGET_DTYPES
def test_gradient_of_float32_predictions_is_float32(rng, make_case, target_dtype):
    criterion, predictions, targets = make_case(rng, np.float32, target_dtype)
    criterion(predictions, targets)
    assert criterion.backward().dtype == np.float32


@CASES
def test_gradient_of_float64_predictions_is_float64(rng, make_case):
    criterion, predictions, targets = make_case(rng, np.float64, np.float64)
    criterion(predictions, targets)
    assert criterion.backward().dtype == np.float64


@CASES
def test_value_of_float64_predictions_keeps_float64_precision(rng, make_case):
    # The float64 value is not rounded to float32 on the way out (the converse of the first test).
    criterion, predictions, targets = make_case(rng, np.float64, np.float64)
    value = criterion(predictions, targets)
    assert float(np.float32(value)) != value
