"""``inplace=`` on ``ReLU`` and ``LeakyReLU``: accepted for PyTorch's signature, and a no-op.

The output is always a new array and the input is left as it was, because the backward needs the
input that forward cached. See docs/stage2.md#6-activations.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch.nn import LeakyReLU, ReLU


@pytest.mark.parametrize("make", [lambda: ReLU(inplace=True),
                                  lambda: LeakyReLU(0.2, inplace=True)])
def test_inplace_activation_leaves_its_input_and_backward_unchanged(make, rng):
    layer = make()
    x = rng.standard_normal((4, 5)).astype(np.float32)
    original = x.copy()
    y = layer(x)
    np.testing.assert_array_equal(x, original)
    assert y is not x
    slope = getattr(layer, "negative_slope", 0.0)
    np.testing.assert_allclose(y, np.where(original > 0, original, slope * original), rtol=1e-6)
    grad = layer.backward(np.ones_like(y))
    np.testing.assert_allclose(grad, np.where(original > 0, 1.0, slope), rtol=1e-6)


def test_leaky_relu_keeps_its_positional_slope_with_inplace():
    layer = LeakyReLU(0.2, inplace=True)
    assert layer.negative_slope == 0.2 and layer.inplace is True
