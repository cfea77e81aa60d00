"""Specification of mini_torch.datasets: the synthetic xor, spirals, moons and sine data sets."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import mini_torch
from mini_torch import datasets, init

CLASSIFICATION = {
    "xor": datasets.make_xor,
    "spirals": datasets.make_spirals,
    "moons": datasets.make_moons,
}
ALL_GENERATORS = {**CLASSIFICATION, "sine": datasets.make_sine}


def _rotate(points: np.ndarray, angle: float) -> np.ndarray:
    """Rotate row vectors counter-clockwise by ``angle`` radians."""
    cos, sin = math.cos(angle), math.sin(angle)
    return points @ np.array([[cos, sin], [-sin, cos]])


# --------------------------------------------------------------------------- shapes and dtypes

@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets_return_float32_points_and_int64_labels(name):
    X, y = CLASSIFICATION[name](60)
    assert X.shape == (60, 2) and X.dtype == np.float32
    assert y.shape == (60,) and y.dtype == np.int64


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets_follow_a_float64_default_dtype(name):
    with mini_torch.default_dtype(np.float64):
        X, y = CLASSIFICATION[name](60)
    assert X.dtype == np.float64
    assert y.dtype == np.int64


def test_sine_returns_column_vectors_in_the_default_dtype():
    X, y = datasets.make_sine(40)
    assert X.shape == (40, 1) and y.shape == (40, 1)
    assert X.dtype == np.float32 and y.dtype == np.float32


def test_sine_follows_a_float64_default_dtype():
    with mini_torch.default_dtype(np.float64):
        X, y = datasets.make_sine(40)
    assert X.dtype == np.float64 and y.dtype == np.float64


@pytest.mark.parametrize(
    ("name", "expected_rows"), [("xor", 200), ("spirals", 300), ("moons", 200), ("sine", 200)]
)
def test_default_sizes_match_the_documented_signatures(name, expected_rows):
    X, y = ALL_GENERATORS[name]()
    assert X.shape[0] == expected_rows and y.shape[0] == expected_rows


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_float32_data_is_the_float64_data_rounded(name):
    with mini_torch.default_dtype(np.float64):
        X64, y64 = CLASSIFICATION[name](50, rng=np.random.default_rng(4))
    X32, y32 = CLASSIFICATION[name](50, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(X32, X64.astype(np.float32))
    np.testing.assert_array_equal(y32, y64)


# --------------------------------------------------------------------------- class counts

@pytest.mark.parametrize(("n_samples", "n_classes"), [(300, 3), (301, 3), (302, 3), (10, 4)])
def test_spirals_split_the_samples_between_classes_as_evenly_as_possible(n_samples, n_classes):
    _, y = datasets.make_spirals(n_samples, n_classes=n_classes)
    base, extra = divmod(n_samples, n_classes)
    expected = sorted([base + 1] * extra + [base] * (n_classes - extra))
    assert sorted(np.bincount(y, minlength=n_classes).tolist()) == expected
    assert set(np.unique(y).tolist()) == set(range(n_classes))


@pytest.mark.parametrize("name", ["xor", "moons"])
@pytest.mark.parametrize("n_samples", [200, 201])
def test_binary_sets_give_each_class_half_of_the_samples(name, n_samples):
    _, y = CLASSIFICATION[name](n_samples)
    half = n_samples // 2
    assert sorted(np.bincount(y, minlength=2).tolist()) == [half, n_samples - half]


def test_moons_upper_moon_is_class_0_with_half_the_samples_rounded_down():
    _, y = datasets.make_moons(101)
    assert np.bincount(y).tolist() == [50, 51]


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_rows_are_shuffled_not_grouped_by_class(name):
    _, y = CLASSIFICATION[name](200)
    # Grouped (or strictly alternating) labels would change class only once (or every row).
    changes = int(np.count_nonzero(np.diff(y)))
    assert 5 < changes < 199


# --------------------------------------------------------------------------- seeding

@pytest.mark.parametrize("name", ALL_GENERATORS)
def test_same_manual_seed_gives_identical_data(name):
    mini_torch.manual_seed(123)
    X1, y1 = ALL_GENERATORS[name]()
    mini_torch.manual_seed(123)
    X2, y2 = ALL_GENERATORS[name]()
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("name", ALL_GENERATORS)
def test_different_seeds_give_different_data(name):
    mini_torch.manual_seed(1)
    X1, _ = ALL_GENERATORS[name]()
    mini_torch.manual_seed(2)
    X2, _ = ALL_GENERATORS[name]()
    assert not np.array_equal(X1, X2)


@pytest.mark.parametrize("name", ALL_GENERATORS)
def test_default_rng_is_the_global_generator_fetched_at_call_time(name):
    # manual_seed replaces the global generator; a generator cached at import would miss it.
    generator = mini_torch.manual_seed(99)
    expected_X, expected_y = ALL_GENERATORS[name](rng=copy.deepcopy(generator))
    X, y = ALL_GENERATORS[name]()
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(y, expected_y)


@pytest.mark.parametrize("name", ALL_GENERATORS)
def test_explicit_rng_is_reproducible_whatever_the_global_seed(name):
    mini_torch.manual_seed(1)
    X1, y1 = ALL_GENERATORS[name](rng=np.random.default_rng(7))
    mini_torch.manual_seed(2)
    X2, y2 = ALL_GENERATORS[name](rng=np.random.default_rng(7))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


@pytest.mark.parametrize("name", ALL_GENERATORS)
def test_explicit_rng_leaves_the_global_generator_untouched(name):
    mini_torch.manual_seed(5)
    ALL_GENERATORS[name](rng=np.random.default_rng(7))
    after_call = init.get_generator().random(3)
    mini_torch.manual_seed(5)
    untouched = init.get_generator().random(3)
    np.testing.assert_array_equal(after_call, untouched)


# --------------------------------------------------------------------------- geometry

def test_sine_targets_equal_sin_of_inputs_without_noise():
    X, y = datasets.make_sine(500, noise=0.0)
    np.testing.assert_allclose(y, np.sin(X), rtol=0, atol=1e-6)


def test_sine_inputs_cover_one_period():
    X, _ = datasets.make_sine(2000, noise=0.0)
    assert X.min() >= -math.pi and X.max() <= math.pi
    # Uniform over [-pi, pi]: with 2000 points each tenth of the period gets some.
    counts, _ = np.histogram(X, bins=10, range=(-math.pi, math.pi))
    assert counts.min() > 100


def test_sine_noise_has_the_requested_standard_deviation():
    X, y = datasets.make_sine(20000, noise=0.3, rng=np.random.default_rng(0))
    residual = y.astype(np.float64) - np.sin(X.astype(np.float64))
    assert abs(residual.mean()) < 0.01
    assert residual.std() == pytest.approx(0.3, rel=0.03)


def test_xor_label_is_the_xor_of_the_coordinate_signs_without_noise():
    X, y = datasets.make_xor(300, noise=0.0)
    expected = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    np.testing.assert_array_equal(y, expected)


def test_xor_points_lie_in_the_unit_square_without_noise():
    X, _ = datasets.make_xor(300, noise=0.0)
    assert np.all(np.abs(X) <= 1.0) and np.all(X != 0.0)


def test_moons_points_lie_on_their_half_circles_without_noise():
    X, y = datasets.make_moons(200, noise=0.0)
    X = X.astype(np.float64)
    upper, lower = X[y == 0], X[y == 1]
    # Class 0: upper half of the unit circle around (0, 0).
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-6)
    assert np.all(upper[:, 1] >= -1e-6)
    # Class 1: lower half of the unit circle around (1, 0.5).
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-6)
    assert np.all(lower[:, 1] <= 0.5 + 1e-6)


@pytest.mark.parametrize("n_classes", [2, 3, 5])
def test_spiral_arms_are_rotated_copies_of_each_other(n_classes):
    X, y = datasets.make_spirals(40 * n_classes, n_classes=n_classes, noise=0.0)
    X = X.astype(np.float64)

    def by_radius(points):
        return points[np.argsort(np.hypot(points[:, 0], points[:, 1]))]

    arm_0 = by_radius(X[y == 0])
    for k in range(1, n_classes):
        arm_k = by_radius(X[y == k])
        np.testing.assert_allclose(_rotate(arm_k, -2.0 * math.pi * k / n_classes), arm_0,
                                   atol=1e-6)


def test_spiral_arm_winds_outward_from_the_origin():
    X, y = datasets.make_spirals(300, n_classes=3, noise=0.0)
    arm = X[y == 0].astype(np.float64)
    radius = np.hypot(arm[:, 0], arm[:, 1])
    order = np.argsort(radius)
    np.testing.assert_allclose(radius[order], np.linspace(0.0, 1.0, 100), atol=1e-6)
    # Along the arm the angle keeps growing (a spiral, not a straight ray).
    angle = np.unwrap(np.arctan2(arm[order, 1], arm[order, 0])[1:])
    assert np.all(np.diff(angle) > 0)
    assert angle[-1] - angle[0] > math.pi / 2


@pytest.mark.parametrize("name", ["xor", "moons"])
def test_noise_moves_the_points_of_the_same_data_set(name):
    X_clean, y_clean = CLASSIFICATION[name](4000, noise=0.0, rng=np.random.default_rng(3))
    X_noisy, y_noisy = CLASSIFICATION[name](4000, noise=0.2, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(y_noisy, y_clean)
    displacement = X_noisy.astype(np.float64) - X_clean.astype(np.float64)
    assert displacement.std() == pytest.approx(0.2, rel=0.05)


def test_spiral_noise_moves_points_along_the_circle_of_their_radius():
    X_clean, y_clean = datasets.make_spirals(300, noise=0.0, rng=np.random.default_rng(3))
    X_noisy, y_noisy = datasets.make_spirals(300, noise=0.3, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(y_noisy, y_clean)
    np.testing.assert_allclose(np.hypot(X_noisy[:, 0], X_noisy[:, 1]),
                               np.hypot(X_clean[:, 0], X_clean[:, 1]), atol=1e-6)
    assert not np.allclose(X_noisy, X_clean, atol=1e-3)


# --------------------------------------------------------------------------- bad arguments

@pytest.mark.parametrize("name", ALL_GENERATORS)
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_samples": 0}, ValueError, "n_samples"),
        ({"n_samples": -5}, ValueError, "n_samples"),
        ({"n_samples": 2.5}, TypeError, "n_samples"),
        ({"n_samples": "100"}, TypeError, "n_samples"),
        ({"n_samples": True}, TypeError, "n_samples"),
        ({"noise": -0.1}, ValueError, "noise"),
        ({"noise": float("nan")}, ValueError, "noise"),
        ({"noise": "0.1"}, TypeError, "noise"),
        ({"rng": 42}, TypeError, "rng"),
    ],
)
def test_bad_arguments_raise_naming_the_argument(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        ALL_GENERATORS[name](**kwargs)


@pytest.mark.parametrize(("n_classes", "error"), [(1, ValueError), (0, ValueError),
                                                  (3.0, TypeError)])
def test_spirals_reject_bad_class_counts(n_classes, error):
    with pytest.raises(error, match="n_classes"):
        datasets.make_spirals(300, n_classes=n_classes)


def test_spirals_reject_fewer_samples_than_classes():
    with pytest.raises(ValueError, match="n_samples"):
        datasets.make_spirals(2, n_classes=3)


@pytest.mark.parametrize("name", ["xor", "moons"])
def test_binary_sets_need_a_sample_per_class(name):
    with pytest.raises(ValueError, match="n_samples"):
        CLASSIFICATION[name](1)


def test_numpy_integer_sample_count_is_accepted():
    X, y = datasets.make_moons(np.int64(30))
    assert X.shape == (30, 2) and y.shape == (30,)
