"""``Linear.weight`` / ``Linear.bias``, PyTorch's views of ``W`` / ``b``, in PyTorch code.

PyTorch code initialises and rescales ``layer.weight`` (shape ``(out_features, in_features)``);
here it is the view ``W.T`` of the stored ``W (in_features, out_features)``. The expected
standard deviations are the ``torch.nn.init`` formulas with PyTorch's fans, ``fan_in =
in_features``, ``fan_out = out_features``; a sample standard deviation of ``n`` draws is within
``6 / sqrt(2 n)`` (relative) of the true one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mini_torch
from mini_torch import init
from mini_torch.nn import Linear

SHAPES = [(80, 200), (300, 50), (64, 512)]


def _assert_std(array, expected):
    assert abs(array.std() / expected - 1.0) < 6.0 / math.sqrt(2.0 * array.size), \
        (array.std(), expected)


@pytest.mark.parametrize("in_features, out_features", SHAPES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("attribute", ["weight", "W"])
def test_kaiming_on_weight_and_on_W_follows_pytorchs_fans(attribute, mode, in_features,
                                                          out_features):
    """Default leaky_relu with a = 0: gain sqrt(2); the fan is in_features or out_features."""
    mini_torch.manual_seed(0)
    layer = Linear(in_features, out_features)
    fan = in_features if mode == "fan_in" else out_features
    for name, bound_factor in (("kaiming_normal_", None), ("kaiming_uniform_", math.sqrt(3.0))):
        getattr(init, name)(getattr(layer, attribute), mode=mode)
        _assert_std(layer.W, math.sqrt(2.0) / math.sqrt(fan))
        if bound_factor:  # U(-gain * sqrt(3 / fan), +...)
            assert np.abs(layer.W).max() <= math.sqrt(2.0) * bound_factor / math.sqrt(fan)


@pytest.mark.parametrize("in_features, out_features", SHAPES)
@pytest.mark.parametrize("attribute", ["weight", "W"])
def test_xavier_on_weight_and_on_W_uses_both_fans(attribute, in_features, out_features):
    mini_torch.manual_seed(1)
    layer = Linear(in_features, out_features)
    for name in ("xavier_uniform_", "xavier_normal_"):
        getattr(init, name)(getattr(layer, attribute))
        _assert_std(layer.W, math.sqrt(2.0 / (in_features + out_features)))


def test_kaiming_normal_on_weight_of_linear_80_200_has_std_0_158():
    """PyTorch: gain sqrt(2) / sqrt(fan_in = 80) = 0.158 (reading 200 would give 0.100)."""
    mini_torch.manual_seed(2)
    layer = Linear(80, 200)
    init.kaiming_normal_(layer.weight)
    assert abs(layer.W.std() - 0.158) < 0.005


def test_weight_scaled_in_place_scales_W():
    layer = Linear(3, 4)
    before = layer.W.copy()
    W = layer.W
    layer.weight *= 0.1
    np.testing.assert_allclose(layer.W, 0.1 * before, rtol=1e-6)
    assert layer.W is W and layer.W.dtype == np.float32
    layer.weight += 1.0
    np.testing.assert_allclose(layer.W, 0.1 * before + 1.0, rtol=1e-6)


def test_bias_updated_in_place_updates_b():
    layer = Linear(3, 4)
    layer.bias += 2.0
    layer.bias *= 0.5
    np.testing.assert_array_equal(layer.b, np.ones((1, 4), np.float32))


def test_assigning_a_new_array_to_weight_is_refused_before_touching_W():
    layer = Linear(3, 4)
    before = layer.W.copy()
    with pytest.raises(TypeError, match=r"layer\.weight\[\.\.\.\] = value"):
        layer.weight = np.zeros((4, 3), np.float32)
    with pytest.raises(TypeError, match=r"layer\.bias\[\.\.\.\] = value"):
        layer.bias = np.zeros(4, np.float32)
    np.testing.assert_array_equal(layer.W, before)
    np.testing.assert_array_equal(layer.b, np.zeros((1, 4)))


def test_assigning_a_bias_to_a_layer_without_one_names_bias_true():
    layer = Linear(3, 4, bias=False)
    layer.bias = None  # nothing to change
    with pytest.raises(TypeError, match="bias=True"):
        layer.bias = np.zeros(4, np.float32)
