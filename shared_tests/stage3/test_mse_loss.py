"""``MSELoss``: values and gradients against the closed forms, gradient checks, the shape trap.

With ``M = predictions.size`` elements (``M = N * D`` for ``(N, D)`` predictions):

    mean:  L = (1/M) sum_i (p_i - t_i)^2        dL/dp = 2 (p - t) / M
    sum:   L = sum_i (p_i - t_i)^2              dL/dp = 2 (p - t)

The mean runs over every element, as in PyTorch, so the gradient divides by ``M``, not by the
batch size ``N``.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch.nn import MSELoss
from mini_torch.testing import gradcheck

REDUCTIONS = pytest.mark.parametrize("reduction", ["mean", "sum"])


def mse_gradcheck(criterion: MSELoss, predictions: np.ndarray, targets: np.ndarray) -> bool:
    return gradcheck(lambda predictions, targets: criterion(predictions, targets),
                     lambda predictions, targets: (criterion.backward(), None),
                     (predictions, targets), name=repr(criterion))


# -------------------------------------------------------------------------------------- values

def test_mean_of_a_hand_made_column_is_2_5():
    # (1 - 0)^2 = 1 and (3 - 1)^2 = 4: their mean is 2.5.
    criterion = MSELoss()
    assert criterion(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])) == pytest.approx(2.5)


def test_sum_of_a_hand_made_column_is_5():
    criterion = MSELoss(reduction="sum")
    assert criterion(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])) == pytest.approx(5.0)


def test_mean_averages_squared_differences_over_all_elements(rng):
    predictions, targets = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    expected = ((predictions - targets) ** 2).sum() / 18
    assert MSELoss()(predictions, targets) == pytest.approx(expected, rel=1e-12)


def test_sum_adds_squared_differences_over_all_elements(rng):
    predictions, targets = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    expected = ((predictions - targets) ** 2).sum()
    assert MSELoss(reduction="sum")(predictions, targets) == pytest.approx(expected, rel=1e-12)


def test_loss_of_predictions_equal_to_targets_is_zero(rng):
    predictions = rng.standard_normal((4, 2))
    assert MSELoss()(predictions, predictions.copy()) == 0.0


# ----------------------------------------------------------------------------------- gradients

def test_mean_gradient_of_a_hand_made_column():
    # 2 (p - t) / M with M = 2: 2 * 1 / 2 = 1 and 2 * 2 / 2 = 2.
    criterion = MSELoss()
    criterion(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]]))
    np.testing.assert_allclose(criterion.backward(), [[1.0], [2.0]])


def test_mean_gradient_divides_by_the_element_count_not_the_batch_size():
    # N = 2 rows of D = 2: M = 4 elements, so each entry is 2 * (0 - 1) / 4 = -0.5
    # (dividing by the batch size N = 2 would give -1).
    criterion = MSELoss()
    criterion(np.zeros((2, 2)), np.ones((2, 2)))
    np.testing.assert_allclose(criterion.backward(), np.full((2, 2), -0.5))


def test_mean_gradient_is_two_times_difference_over_element_count(rng):
    predictions, targets = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    criterion = MSELoss()
    criterion(predictions, targets)
    np.testing.assert_allclose(criterion.backward(), 2.0 * (predictions - targets) / 15,
                               rtol=1e-12)


def test_sum_gradient_is_two_times_difference(rng):
    predictions, targets = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    criterion = MSELoss(reduction="sum")
    criterion(predictions, targets)
    np.testing.assert_allclose(criterion.backward(), 2.0 * (predictions - targets), rtol=1e-12)


@REDUCTIONS
@pytest.mark.parametrize("shape", [(4, 1), (3, 2), (1, 5)], ids=["4x1", "3x2", "1x5"])
def test_gradcheck_passes(rng, reduction, shape):
    predictions, targets = rng.standard_normal(shape), rng.standard_normal(shape)
    assert mse_gradcheck(MSELoss(reduction=reduction), predictions, targets)


# ------------------------------------------------------------------- the broadcasting trap

def test_flat_targets_against_column_predictions_are_rejected():
    # Without the check, (4, 1) - (4,) broadcasts to (4, 4) and the "loss" mixes every
    # prediction with every target.
    predictions, targets = np.zeros((4, 1)), np.arange(4.0)
    with pytest.raises(ValueError):
        MSELoss()(predictions, targets)


def test_shape_error_shows_both_shapes_and_the_reshape_fix():
    with pytest.raises(ValueError) as error:
        MSELoss()(np.zeros((4, 1)), np.arange(4.0))
    message = str(error.value)
    assert "(4, 1)" in message
    assert "(4,)" in message
    assert "reshape(-1, 1)" in message


def test_column_targets_against_flat_predictions_are_rejected():
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        MSELoss()(np.zeros(4), np.zeros((4, 1)))


def test_targets_with_a_different_number_of_rows_are_rejected():
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(4, 2\)|\(4, 2\).*\(3, 2\)"):
        MSELoss()(np.zeros((3, 2)), np.zeros((4, 2)))

