"""``mini_torch.init``'s in-place initialisers, with PyTorch's names and arguments.

Each fills the array it is given, from the global generator, and returns that same array. The
fans follow this framework's weight layout ``W (in_features, out_features)``: ``fan_in`` is
``W.shape[0]``, ``fan_out`` is ``W.shape[1]`` (PyTorch's ``weight`` is the transpose). The
expected standard deviations and bounds are the formulas of the PyTorch documentation; with
500,000 draws a sample standard deviation lies well within 3 % of the true one.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mini_torch
from mini_torch import init

FILLERS = [
    ("normal_", {}),
    ("uniform_", {}),
    ("zeros_", {}),
    ("ones_", {}),
    ("xavier_uniform_", {}),
    ("kaiming_normal_", {}),
]


@pytest.mark.parametrize("name, kwargs", FILLERS)
def test_initialiser_fills_in_place_and_returns_the_same_array(name, kwargs):
    W = np.full((6, 4), 7.0, np.float32)
    result = getattr(init, name)(W, **kwargs)
    assert result is W
    assert W.dtype == np.float32
    assert not np.any(W == 7.0)


@pytest.mark.parametrize("name", ["normal_", "uniform_", "xavier_uniform_", "kaiming_normal_"])
def test_random_initialiser_follows_the_global_seed(name):
    first, second = np.empty((5, 3)), np.empty((5, 3))
    mini_torch.manual_seed(4)
    getattr(init, name)(first)
    mini_torch.manual_seed(4)
    getattr(init, name)(second)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(getattr(init, name)(np.empty((5, 3))), first)


def test_normal_has_the_given_mean_and_std():
    W = init.normal_(np.empty((1000, 500)), mean=0.5, std=0.02)
    assert abs(W.mean() - 0.5) < 0.001
    assert abs(W.std() / 0.02 - 1.0) < 0.03


def test_uniform_stays_inside_a_and_b():
    W = init.uniform_(np.empty((100, 50)), a=-0.3, b=0.2)
    assert W.min() >= -0.3 and W.max() < 0.2
    assert W.min() < -0.29 and W.max() > 0.19


def test_zeros_and_ones():
    np.testing.assert_array_equal(init.zeros_(np.ones((2, 3))), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.ones_(np.zeros(4)), np.ones(4))


def test_xavier_uniform_bound_uses_fan_in_plus_fan_out():
    W = init.xavier_uniform_(np.empty((300, 100)), gain=2.0)
    bound = 2.0 * math.sqrt(6.0 / (300 + 100))
    assert W.max() <= bound and W.min() >= -bound
    assert W.max() > 0.99 * bound


def test_kaiming_normal_defaults_are_pytorchs():
    """a=0, mode='fan_in', nonlinearity='leaky_relu': gain sqrt(2 / (1 + 0^2)), fan_in = rows."""
    W = init.kaiming_normal_(np.empty((1000, 500)))
    assert abs(W.std() / math.sqrt(2.0 / 1000) - 1.0) < 0.03


def test_kaiming_normal_fan_out_reads_the_second_axis():
    W = init.kaiming_normal_(np.empty((1000, 250)), mode="fan_out", nonlinearity="relu")
    assert abs(W.std() / math.sqrt(2.0 / 250) - 1.0) < 0.03


def test_kaiming_normal_leaky_slope_changes_the_gain():
    W = init.kaiming_normal_(np.empty((1000, 500)), a=1.0)  # gain sqrt(2 / 2) = 1
    assert abs(W.std() / math.sqrt(1.0 / 1000) - 1.0) < 0.03


def test_calculate_gain_matches_the_documented_values():
    assert init.calculate_gain("tanh") == pytest.approx(5.0 / 3.0)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2.0))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2.0 / 1.04))
    assert init.calculate_gain("sigmoid") == 1.0


def test_fan_based_initialiser_refuses_a_vector_and_says_why():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(np.empty(5))


def test_initialiser_refuses_an_integer_array():
    with pytest.raises(TypeError, match="floating numpy array"):
        init.normal_(np.zeros((2, 2), np.int64))


def test_kaiming_normal_refuses_an_unknown_mode():
    with pytest.raises(ValueError, match="fan_in"):
        init.kaiming_normal_(np.empty((3, 3)), mode="fan_avg")
