"""``mini_torch.nn.functional``, PyTorch's ``torch.nn.functional`` spelling of the functional API.

Expected values are the closed forms of the PyTorch documentation, written out here in float64:
``cross_entropy`` is ``-mean over the rows not ignored of log_softmax(z)[n, y_n]``;
``binary_cross_entropy`` is ``-mean(t log p + (1 - t) log(1 - p))``.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
import mini_torch.nn as nn
import mini_torch.nn.functional as F


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def test_the_functional_api_is_there_under_pytorchs_path():
    assert nn.functional is F
    for name in mini_torch.functional.__all__:
        if name != "cross_entropy":  # F's own, with PyTorch's ignore_index
            assert getattr(F, name) is getattr(mini_torch.functional, name)


def test_softmax_takes_dim(rng):
    x = rng.standard_normal((4, 6))
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(F.softmax(x, dim=-1), e / e.sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("ignore_index", [-100, -1, 2])
def test_cross_entropy_skips_the_rows_whose_target_is_ignore_index(ignore_index, rng):
    logits = rng.standard_normal((8, 4))
    target = np.array([0, 3, ignore_index, 1, 2, ignore_index, 3, 0])
    keep = target != ignore_index
    expected = -_log_softmax(logits)[np.flatnonzero(keep), target[keep]].mean()
    value = F.cross_entropy(logits, target, ignore_index=ignore_index)
    assert float(value) == pytest.approx(expected, rel=1e-12)
    summed = F.cross_entropy(logits, target, ignore_index=ignore_index, reduction="sum")
    assert float(summed) == pytest.approx(expected * keep.sum(), rel=1e-12)


def test_cross_entropy_without_ignored_rows_is_the_plain_mean(rng):
    logits, target = rng.standard_normal((5, 3)), np.array([0, 1, 2, 1, 0])
    expected = -_log_softmax(logits)[np.arange(5), target].mean()
    assert float(F.cross_entropy(logits, target)) == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_on_probabilities(rng):
    p = rng.uniform(0.05, 0.95, size=(6, 1))
    t = rng.integers(0, 2, size=(6, 1)).astype(np.float64)
    expected = -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean()
    assert float(F.binary_cross_entropy(p, t)) == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_refuses_logits_and_names_the_logits_function():
    with pytest.raises(ValueError, match="BCEWithLogitsLoss"):
        F.binary_cross_entropy(np.array([[2.0]]), np.array([[1.0]]))
