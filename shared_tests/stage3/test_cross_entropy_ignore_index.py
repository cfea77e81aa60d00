"""``CrossEntropyLoss(ignore_index=-100)``: ignored rows cost nothing and get no gradient.

Expected values are PyTorch's rule written out: the loss is the mean of ``-log softmax(z)[y]``
over the rows whose target is not ``ignore_index`` (not over all rows), computed here with a
plain numpy log-softmax. See docs/stage3.md#ignore_index.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch.nn import CrossEntropyLoss
from mini_torch.testing import gradcheck


def log_softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def test_ignored_rows_are_left_out_of_the_mean(rng):
    logits = rng.standard_normal((5, 4))
    targets = np.array([1, -100, 3, -100, 0])
    kept = np.array([0, 2, 4])
    expected = -log_softmax(logits)[kept, targets[kept]].mean()
    assert CrossEntropyLoss()(logits, targets) == pytest.approx(expected, rel=1e-12)


def test_a_custom_ignore_index_and_sum_reduction(rng):
    logits = rng.standard_normal((4, 3))
    targets = np.array([2, 0, 0, 1])
    expected = -(log_softmax(logits)[[0, 3], [2, 1]]).sum()
    assert CrossEntropyLoss(reduction="sum", ignore_index=0)(logits, targets) \
        == pytest.approx(expected, rel=1e-12)


def test_ignored_rows_get_a_zero_gradient(rng):
    logits = rng.standard_normal((4, 3)).astype(np.float32)
    criterion = CrossEntropyLoss()
    criterion(logits, np.array([[2], [-100], [1], [0]]))
    grad = criterion.backward()
    assert grad.shape == (4, 3) and grad.dtype == np.float32
    np.testing.assert_array_equal(grad[1], 0.0)
    assert np.abs(grad[[0, 2, 3]]).sum() > 0


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_ignore_index_gradcheck(rng, label_smoothing):
    criterion = CrossEntropyLoss(label_smoothing=label_smoothing)
    targets = np.array([0, -100, 2, 1, -100, 2])
    assert gradcheck(lambda z, y: criterion(z, y), lambda z, y: (criterion.backward(), None),
                     (rng.standard_normal((6, 3)), targets), name=repr(criterion))


def test_without_ignored_rows_nothing_changes(rng):
    logits, targets = rng.standard_normal((5, 4)), np.array([0, 1, 2, 3, 0])
    assert CrossEntropyLoss()(logits, targets) == pytest.approx(
        -log_softmax(logits)[np.arange(5), targets].mean(), rel=1e-12)


def test_every_row_ignored_is_a_clear_error():
    with pytest.raises(ValueError, match="every one of the 3 targets is ignore_index"):
        CrossEntropyLoss()(np.zeros((3, 2)), np.full(3, -100))


def test_ignore_index_must_be_an_integer():
    with pytest.raises(TypeError, match="ignore_index"):
        CrossEntropyLoss(ignore_index=0.5)
