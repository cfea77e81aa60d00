"""``dim=``, PyTorch's name of the axis argument, in ``softmax`` and ``log_softmax``.

The expected values are the softmax formula ``exp(x_i) / sum_j exp(x_j)`` written out in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch import functional as F


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_take_dim_as_pytorch(dim, rng):
    x = rng.standard_normal((3, 4, 5))
    np.testing.assert_allclose(F.softmax(x, dim=dim), _softmax(x, dim), rtol=1e-12)
    np.testing.assert_allclose(F.log_softmax(x, dim=dim), np.log(_softmax(x, dim)), rtol=1e-12)


def test_dim_and_a_different_axis_together_are_refused(rng):
    with pytest.raises(TypeError, match="axis=0 and dim=1"):
        F.softmax(rng.standard_normal((2, 3)), axis=0, dim=1)
