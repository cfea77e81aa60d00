"""Large inputs take the numexpr path of the sigmoid pair; large GELUs stay exact too.

``functional`` hands the sigmoid pair to numexpr from ``_NUMEXPR_MIN_SIZE`` elements on (where the
benchmarks showed it faster). Most test arrays never reach that size, so these tests feed one
array just above it and compare against the formulas computed here with scipy and numpy.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import special

from mini_torch import functional as F


@pytest.fixture(scope="module", params=[np.float32, np.float64], ids=["float32", "float64"])
def big(request) -> np.ndarray:
    size = getattr(F, "_NUMEXPR_MIN_SIZE", 1 << 22) + 3
    x = np.linspace(-1000.0, 1000.0, size).astype(request.param)
    x[1 : size // 2] = np.random.default_rng(0).normal(scale=5.0, size=size // 2 - 1)
    return x  # x[0] = -1000, x[-1] = 1000, normal values in the first half


def test_sigmoid_of_a_large_array_matches_expit_and_keeps_its_dtype(big):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.sigmoid(big)
    assert out.dtype == big.dtype
    np.testing.assert_allclose(out, special.expit(big), rtol=1e-5, atol=1e-7)
    assert out[0] == 0.0 and out[-1] == 1.0


def test_sigmoid_backward_of_a_large_array_is_s_times_one_minus_s(big):
    grad_output = np.full_like(big, 2.0)
    s = special.expit(big)  # in the input's dtype, as the small-array path computes it
    out = F.sigmoid_backward(grad_output, big)
    assert out.dtype == big.dtype
    np.testing.assert_allclose(out, 2.0 * s * (1.0 - s), rtol=1e-5, atol=1e-7)


def test_exact_gelu_of_a_large_array_is_x_times_phi_and_keeps_its_dtype(big):
    x64 = big.astype(np.float64)
    expected = 0.5 * x64 * (1.0 + special.erf(x64 / np.sqrt(2.0)))
    out = F.gelu(big)
    assert out.dtype == big.dtype
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_exact_gelu_backward_of_a_large_array_is_phi_plus_x_times_density(big):
    x64 = big.astype(np.float64)
    cdf = 0.5 * (1.0 + special.erf(x64 / np.sqrt(2.0)))
    pdf = np.exp(-0.5 * x64 * x64) / np.sqrt(2.0 * np.pi)
    grad_output = np.full_like(big, 3.0)
    out = F.gelu_backward(grad_output, big)
    assert out.dtype == big.dtype
    np.testing.assert_allclose(out, 3.0 * (cdf + x64 * pdf), rtol=1e-5, atol=1e-5)
