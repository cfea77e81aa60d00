"""Seeding, weight initialisation and the default dtype (``mini_torch.init``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mini_torch
from mini_torch import init

INITIALISERS = pytest.mark.parametrize("initialiser", [init.he_normal, init.xavier_uniform],
                                       ids=["he_normal", "xavier_uniform"])


# ------------------------------------------------------------------------------------- seeding

@INITIALISERS
def test_same_seed_gives_identical_draws(initialiser):
    mini_torch.manual_seed(7)
    first = initialiser(4, 5)
    mini_torch.manual_seed(7)
    second = initialiser(4, 5)
    np.testing.assert_array_equal(first, second)


@INITIALISERS
def test_different_seeds_give_different_draws(initialiser):
    mini_torch.manual_seed(1)
    first = initialiser(4, 5)
    mini_torch.manual_seed(2)
    second = initialiser(4, 5)
    assert not np.array_equal(first, second)


@INITIALISERS
def test_consecutive_draws_after_one_seed_differ(initialiser):
    mini_torch.manual_seed(3)
    assert not np.array_equal(initialiser(3, 3), initialiser(3, 3))


def test_manual_seed_returns_the_generator_that_get_generator_then_returns():
    generator = mini_torch.manual_seed(11)
    assert isinstance(generator, np.random.Generator)
    assert init.get_generator() is generator


def test_manual_seed_replaces_the_generator_rather_than_reusing_it():
    first = mini_torch.manual_seed(11)
    first.standard_normal(10)  # advance the old one: the reseed must not depend on it
    second = mini_torch.manual_seed(11)
    np.testing.assert_array_equal(second.standard_normal(5),
                                  np.random.default_rng(11).standard_normal(5))


@INITIALISERS
def test_explicit_rng_does_not_consume_the_global_generator(initialiser):
    mini_torch.manual_seed(5)
    expected = initialiser(3, 4)

    mini_torch.manual_seed(5)
    initialiser(6, 6, rng=np.random.default_rng(99))
    np.testing.assert_array_equal(initialiser(3, 4), expected)


@INITIALISERS
def test_explicit_rng_draws_do_not_depend_on_the_global_seed(initialiser):
    mini_torch.manual_seed(1)
    first = initialiser(3, 4, rng=np.random.default_rng(42))
    mini_torch.manual_seed(2)
    second = initialiser(3, 4, rng=np.random.default_rng(42))
    np.testing.assert_array_equal(first, second)


# ------------------------------------------------------------------------------ distributions

def test_he_normal_std_is_sqrt_two_over_fan_in():
    fan_in, fan_out = 1000, 500
    W = init.he_normal(fan_in, fan_out)
    expected_std = math.sqrt(2.0 / fan_in)
    assert W.shape == (fan_in, fan_out)
    assert abs(W.std() / expected_std - 1.0) < 0.05
    # the standard error of the mean of 5e5 draws is std / 707: 0.01 std is a generous bound
    assert abs(W.mean()) < 0.01 * expected_std


def test_he_normal_is_not_scaled_by_fan_out():
    small, large = init.he_normal(200, 10), init.he_normal(200, 1000)
    assert abs(small.std() / large.std() - 1.0) < 0.2


def test_xavier_uniform_respects_its_bound():
    fan_in, fan_out = 1000, 500
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    W = init.xavier_uniform(fan_in, fan_out)
    assert W.shape == (fan_in, fan_out)
    assert np.all(np.abs(W) <= bound)
    # a uniform draw fills its interval: the extremes come close to the bound
    assert W.max() > 0.99 * bound and W.min() < -0.99 * bound


def test_xavier_uniform_variance_is_two_over_fan_sum():
    fan_in, fan_out = 1000, 500
    W = init.xavier_uniform(fan_in, fan_out)
    # U(-a, a) has variance a^2 / 3 = (6 / (fan_in + fan_out)) / 3
    expected = 2.0 / (fan_in + fan_out)
    assert abs(W.var() / expected - 1.0) < 0.05
    assert abs(W.mean()) < 0.01 * math.sqrt(expected)


def test_xavier_uniform_gain_scales_the_bound():
    bound = 2.5 * math.sqrt(6.0 / (30 + 20))
    W = init.xavier_uniform(30, 20, gain=2.5)
    assert np.all(np.abs(W) <= bound)
    assert np.abs(W).max() > 0.9 * bound


# ------------------------------------------------------------------------------------- dtypes

@INITIALISERS
def test_default_dtype_of_initialised_weights_is_float32(initialiser):
    assert mini_torch.get_default_dtype() == np.float32
    assert initialiser(3, 2).dtype == np.float32


@INITIALISERS
@pytest.mark.parametrize("dtype", [np.float64, np.dtype("float64"), "float64"],
                         ids=["type", "dtype-object", "string"])
def test_explicit_dtype_argument_wins_over_the_default(initialiser, dtype):
    assert initialiser(3, 2, dtype=dtype).dtype == np.float64


@INITIALISERS
def test_set_default_dtype_switches_initialised_weights(initialiser):
    mini_torch.set_default_dtype(np.float64)
    assert mini_torch.get_default_dtype() == np.float64
    assert initialiser(3, 2).dtype == np.float64
    mini_torch.set_default_dtype(np.float32)
    assert initialiser(3, 2).dtype == np.float32


def test_default_dtype_context_switches_and_restores():
    with mini_torch.default_dtype(np.float64):
        assert mini_torch.get_default_dtype() == np.float64
        assert init.he_normal(2, 2).dtype == np.float64
    assert mini_torch.get_default_dtype() == np.float32
    assert init.he_normal(2, 2).dtype == np.float32


def test_default_dtype_context_restores_after_an_exception():
    with pytest.raises(RuntimeError, match="inside the block"):
        with mini_torch.default_dtype(np.float64):
            raise RuntimeError("inside the block")
    assert mini_torch.get_default_dtype() == np.float32


def test_nested_default_dtype_contexts_restore_the_outer_dtype():
    with mini_torch.default_dtype(np.float64):
        with mini_torch.default_dtype(np.float32):
            assert mini_torch.get_default_dtype() == np.float32
        assert mini_torch.get_default_dtype() == np.float64
    assert mini_torch.get_default_dtype() == np.float32


def test_float64_fixture_switches_default_dtype(float64):
    assert mini_torch.get_default_dtype() == np.float64


@pytest.mark.parametrize("bad_dtype", [np.int32, np.int64, np.float16, np.complex128],
                         ids=["int32", "int64", "float16", "complex128"])
def test_set_default_dtype_rejects_non_float32_float64(bad_dtype):
    with pytest.raises(TypeError, match=r"float32.*float64"):
        mini_torch.set_default_dtype(bad_dtype)
    assert mini_torch.get_default_dtype() == np.float32


def test_default_dtype_context_rejects_a_bad_dtype_and_keeps_the_old_one():
    with pytest.raises(TypeError, match="int64"):
        with mini_torch.default_dtype(np.int64):
            pass  # pragma: no cover - never reached
    assert mini_torch.get_default_dtype() == np.float32


# --------------------------------------------------------------------------------- bad fans

@INITIALISERS
@pytest.mark.parametrize(("fan_in", "fan_out", "name"),
                         [(0, 3, "fan_in"), (3, 0, "fan_out"), (-2, 3, "fan_in")],
                         ids=["zero-fan_in", "zero-fan_out", "negative-fan_in"])
def test_non_positive_fans_are_rejected(initialiser, fan_in, fan_out, name):
    with pytest.raises(ValueError, match=name):
        initialiser(fan_in, fan_out)


@INITIALISERS
def test_non_integer_fans_are_rejected(initialiser):
    with pytest.raises(TypeError, match=r"fan_in.*2\.5"):
        initialiser(2.5, 3)


def test_manual_seed_rejects_a_negative_seed():
    with pytest.raises(ValueError, match="-1"):
        mini_torch.manual_seed(-1)
