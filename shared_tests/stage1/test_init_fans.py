"""Which axes ``init``'s fan-based initialisers read, for a stored ``W`` and for its transpose.

A ``Linear``'s stored weight is ``W (in_features, out_features)``; PyTorch's ``weight`` is its
transpose ``(out_features, in_features)``, which Mini-Torch hands out as the view ``W.T``. The
expected standard deviations are the formulas of the ``torch.nn.init`` documentation with
PyTorch's fans (``fan_in = in_features``): whichever of the two arrays is passed, the draws must
follow them. A sample standard deviation of ``n`` draws is within ``6 / sqrt(2 n)`` of the true
one (relative) far beyond any seed's luck, and the wrong fan is off by much more.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mini_torch
from mini_torch import init

SHAPES = [(80, 200), (300, 50), (64, 512)]  # (in_features, out_features)


def _gain(nonlinearity, a):
    """PyTorch's ``calculate_gain``, written out: relu sqrt(2), leaky_relu sqrt(2 / (1 + a^2))."""
    return {"relu": math.sqrt(2.0), "leaky_relu": math.sqrt(2.0 / (1.0 + a * a)),
            "tanh": 5.0 / 3.0}[nonlinearity]


def _expected_std(name, fan_in, fan_out, mode="fan_in", nonlinearity="leaky_relu", a=0.0,
                  gain=1.0):
    """The standard deviation ``torch.nn.init`` documents for each initialiser."""
    fan = fan_in if mode == "fan_in" else fan_out
    if name in ("kaiming_normal_", "kaiming_uniform_"):
        return _gain(nonlinearity, a) / math.sqrt(fan)   # uniform: bound / sqrt(3), the same
    return gain * math.sqrt(2.0 / (fan_in + fan_out))    # xavier normal and uniform


def _assert_std(array, expected):
    tolerance = 6.0 / math.sqrt(2.0 * array.size)
    assert abs(array.std() / expected - 1.0) < tolerance, (array.std(), expected)


KAIMING = [("kaiming_normal_", mode, nonlinearity, a)
           for mode in ("fan_in", "fan_out")
           for nonlinearity, a in (("leaky_relu", 0.0), ("relu", 0.0), ("leaky_relu", 1.0))]
KAIMING += [("kaiming_uniform_", mode, nonlinearity, a) for _, mode, nonlinearity, a in KAIMING]


@pytest.mark.parametrize("in_features, out_features", SHAPES)
@pytest.mark.parametrize("name, mode, nonlinearity, a", KAIMING)
def test_kaiming_reads_pytorchs_fans_from_W_and_from_its_transpose(
        name, mode, nonlinearity, a, in_features, out_features):
    mini_torch.manual_seed(0)
    expected = _expected_std(name, in_features, out_features, mode, nonlinearity, a)
    W = np.empty((in_features, out_features), np.float32)       # Mini-Torch's layout
    weight = np.empty((in_features, out_features), np.float32).T  # PyTorch's, as layer.weight
    for array in (W, weight):
        getattr(init, name)(array, a=a, mode=mode, nonlinearity=nonlinearity)
        _assert_std(array, expected)


@pytest.mark.parametrize("in_features, out_features", SHAPES)
@pytest.mark.parametrize("name", ["xavier_uniform_", "xavier_normal_"])
def test_xavier_uses_fan_in_plus_fan_out_in_both_layouts(name, in_features, out_features):
    mini_torch.manual_seed(1)
    expected = _expected_std(name, in_features, out_features, gain=5.0 / 3.0)
    for array in (np.empty((in_features, out_features)),
                  np.empty((in_features, out_features)).T):
        getattr(init, name)(array, gain=5.0 / 3.0)
        _assert_std(array, expected)


def test_transpose_of_a_weight_gets_the_fan_in_of_the_stored_array():
    """``W (80, 200)``, ``W.T (200, 80)``: fan_in is 80 for both, std sqrt(2 / 80) = 0.158."""
    weight = np.empty((80, 200), np.float32).T
    init.kaiming_normal_(weight)
    assert weight.shape == (200, 80)
    assert abs(weight.std() - math.sqrt(2.0 / 80)) < 0.005   # sqrt(2 / 200) = 0.100 is wrong


def test_kaiming_uniform_stays_inside_its_bound():
    """``bound = gain * sqrt(3 / fan_in)``, gain sqrt(2) for relu."""
    W = init.kaiming_uniform_(np.empty((400, 100)), nonlinearity="relu")
    bound = math.sqrt(2.0) * math.sqrt(3.0 / 400)
    assert W.max() <= bound and W.min() >= -bound
    assert W.max() > 0.99 * bound and W.min() < -0.99 * bound


def test_constant_fills_the_value():
    np.testing.assert_array_equal(init.constant_(np.zeros((2, 3), np.float32), 0.5),
                                  np.full((2, 3), 0.5))


def test_fan_initialiser_refuses_a_list_before_drawing():
    generator_state = init.get_generator().bit_generator.state
    with pytest.raises(TypeError, match="floating numpy array"):
        init.kaiming_uniform_([[0.0, 0.0], [0.0, 0.0]])
    assert init.get_generator().bit_generator.state == generator_state
