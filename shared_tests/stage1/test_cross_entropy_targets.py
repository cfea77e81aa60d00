"""``cross_entropy`` accepts every target form PyTorch does, and forms that describe the same
distribution give the same loss and the same gradient.

The forms: class indices ``(N,)`` or ``(N, 1)`` (any integer dtype), one-hot float rows
``(N, C)``, and probability rows ``(N, C)`` that happen to be one-hot.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch import functional as F

N, C = 6, 4
LABELS = np.array([0, 3, 1, 1, 2, 3])


def _target_forms(labels: np.ndarray, classes: int) -> dict[str, np.ndarray]:
    one_hot = np.eye(classes)[labels]
    # a probability table built by normalising weights; it happens to put all mass on one class
    weights = 3.0 * one_hot
    return {
        "index-int64": labels.astype(np.int64),
        "index-int32": labels.astype(np.int32),
        "index(N,1)": labels.reshape(-1, 1),
        "onehot-float32": one_hot.astype(np.float32),
        "onehot-float64": one_hot,
        "probabilities": weights / weights.sum(axis=1, keepdims=True),
    }


FORMS = _target_forms(LABELS, C)
SETTINGS = pytest.mark.parametrize(
    ("reduction", "smoothing"),
    [("mean", 0.0), ("sum", 0.0), ("mean", 0.1), ("sum", 0.25)],
    ids=["mean", "sum", "mean-ls0.1", "sum-ls0.25"])


@pytest.fixture
def logits(rng) -> np.ndarray:
    return 2.0 * rng.standard_normal((N, C))


@SETTINGS
@pytest.mark.parametrize("form", [k for k in FORMS if k != "index-int64"])
def test_loss_equals_that_of_int64_class_indices(logits, form, reduction, smoothing):
    kwargs = {"reduction": reduction, "label_smoothing": smoothing}
    expected = F.cross_entropy(logits, FORMS["index-int64"], **kwargs)
    assert F.cross_entropy(logits, FORMS[form], **kwargs) == pytest.approx(expected, rel=1e-12)


@SETTINGS
@pytest.mark.parametrize("form", [k for k in FORMS if k != "index-int64"])
def test_gradient_equals_that_of_int64_class_indices(logits, form, reduction, smoothing):
    kwargs = {"reduction": reduction, "label_smoothing": smoothing}
    expected = F.cross_entropy_backward(logits, FORMS["index-int64"], **kwargs)
    actual = F.cross_entropy_backward(logits, FORMS[form], **kwargs)
    assert actual.shape == (N, C)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-15)


def test_a_soft_probability_target_gives_a_different_loss_than_its_argmax(logits):
    soft = np.full((N, C), 0.1)
    soft[np.arange(N), LABELS] = 0.7
    assert F.cross_entropy(logits, soft) != pytest.approx(F.cross_entropy(logits, LABELS))


def test_single_sample_target_forms_agree(rng):
    logits = rng.standard_normal((1, 3))
    forms = _target_forms(np.array([2]), 3)
    expected = F.cross_entropy(logits, forms["index-int64"])
    for form, target in forms.items():
        assert F.cross_entropy(logits, target) == pytest.approx(expected, rel=1e-12), form


def test_batch_size_equal_to_class_count_reads_integer_vector_as_indices(rng):
    # with N == C an (N,) integer vector could be misread as one row of scores; it is labels
    logits = rng.standard_normal((3, 3))
    labels = np.array([2, 0, 1])
    np.testing.assert_allclose(F.cross_entropy_backward(logits, labels),
                               F.cross_entropy_backward(logits, np.eye(3)[labels]),
                               rtol=1e-12)
