"""Synthetic data sets small enough to train on in a second and to draw on one page.

Three 2-D classification problems that a linear model cannot solve (xor, spirals, moons) and one
1-D regression problem (a noisy sine). Each generator returns ``(X, y)`` with one sample per row:

* classification: ``X`` of shape ``(N, 2)`` in the default dtype, ``y`` int64 classes ``(N,)``;
* regression: ``X`` and ``y`` both ``(N, 1)`` in the default dtype.

The rows come in random order, so the first rows are not all of one class. Randomness comes from
``rng`` when given, otherwise from Mini-Torch's global generator (``mini_torch.manual_seed``):
the same seed gives the same data, bit for bit.

The clean points are drawn first and the noise after them, so for one generator state changing
``noise`` only moves the points: the labels and the underlying clean points stay the same, which
makes it easy to compare a model on clean and on noisy versions of one data set.

The points are computed in float64 and converted to the default dtype at the end, so a float32
data set is the float64 one rounded.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from mini_torch import init
from mini_torch._checks import check_positive_int

__all__ = ["make_moons", "make_sine", "make_spirals", "make_xor"]

# How far (in radians) each spiral arm turns between the centre and radius 1.
_SPIRAL_SWEEP = 4.0


# --------------------------------------------------------------------------- validation helpers

def _check_noise(noise, where: str) -> float:
    """``noise`` is a standard deviation: a finite real number >= 0."""
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(
            f"{where}: noise must be a real number (the standard deviation of the Gaussian noise), "
            f"got {type(noise).__name__} {noise!r}."
        )
    noise = float(noise)
    if not math.isfinite(noise) or noise < 0.0:
        raise ValueError(
            f"{where}: noise is a standard deviation and must be finite and >= 0, got {noise}. "
            f"Use noise=0 for clean data."
        )
    return noise


def _check_rng(rng, where: str) -> np.random.Generator:
    """Return ``rng``, or the global generator fetched now (``manual_seed`` replaces it)."""
    if rng is None:
        return init.get_generator()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{where}: rng must be a numpy.random.Generator or None (the global generator), got "
            f"{type(rng).__name__} {rng!r}. To fix a seed, pass rng=np.random.default_rng(seed) "
            f"or call mini_torch.manual_seed(seed) first."
        )
    return rng


def _check_classification_args(n_samples, noise, rng, where: str, n_classes: int = 2):
    """Validate the arguments every classification generator shares."""
    n_samples = check_positive_int(n_samples, "n_samples", where)
    if n_samples < n_classes:
        raise ValueError(
            f"{where}: n_samples must be at least the number of classes ({n_classes}) so that "
            f"every class gets a point, got n_samples={n_samples}."
        )
    return n_samples, _check_noise(noise, where), _check_rng(rng, where)


def _shuffled(X: np.ndarray, y: np.ndarray,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle the rows of ``(X, y)`` together; ``X`` goes to the default dtype, ``y`` to int64."""
    order = rng.permutation(X.shape[0])
    return X[order].astype(init.get_default_dtype()), y[order].astype(np.int64)


# --------------------------------------------------------------------------- generators

def make_xor(n_samples: int = 200, noise: float = 0.1, *,
             rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Points in the square ``[-1, 1]^2`` labelled by the XOR of their coordinate signs.

    A point is class 1 when its two coordinates have different signs (2nd and 4th quadrants) and
    class 0 when they share a sign (1st and 3rd quadrants):

    .. math::
        y = [x_0 > 0] \oplus [x_1 > 0]

    No straight line separates the classes, so a model needs a hidden layer. The classes get
    ``n_samples // 2`` and ``n_samples - n_samples // 2`` points, each spread uniformly over its
    two quadrants. Gaussian noise of standard deviation ``noise`` is then added to the
    coordinates; the labels stay those of the clean points, so noisy points near an axis may sit
    on the other side of it.

    Args:
        n_samples: total number of points (at least 2).
        noise: standard deviation of the Gaussian noise added to each coordinate (>= 0).
        rng: generator to draw from (default: the global one, see ``mini_torch.manual_seed``).

    Shape:
        - X: ``(N, 2)`` in the default dtype (float32 unless changed), ``N = n_samples``.
        - y: ``(N,)`` int64 class indices in ``{0, 1}``.

    Examples:
        >>> X, y = make_xor(100, noise=0.0)
        >>> X.shape, y.shape, X.dtype, y.dtype
        ((100, 2), (100,), dtype('float32'), dtype('int64'))
    """
    n_samples, noise, rng = _check_classification_args(n_samples, noise, rng, "make_xor")
    labels = np.arange(n_samples) % 2  # alternating classes: the counts differ by at most one
    magnitude = 1.0 - rng.random((n_samples, 2))  # in (0, 1]: never exactly on an axis
    sign_0 = np.where(rng.random(n_samples) < 0.5, -1.0, 1.0)
    sign_1 = np.where(labels == 1, -sign_0, sign_0)  # class 1: the signs differ
    X = magnitude * np.stack([sign_0, sign_1], axis=1)
    X = X + noise * rng.standard_normal((n_samples, 2))
    return _shuffled(X, labels, rng)


def make_spirals(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, *,
                 rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Interleaved spiral arms, one arm per class, all starting at the origin.

    Class ``k`` has its points at evenly spaced radii ``r`` from 0 to 1 along the arm

    .. math::
        \theta = \frac{2 \pi k}{C} + 4 r + \varepsilon, \qquad
        x = (r \cos\theta,\; r \sin\theta), \qquad \varepsilon \sim \mathcal{N}(0, \text{noise}^2)

    so the ``C`` arms are copies of one another rotated by ``2 pi / C``, each winding 4 radians
    from the centre out. The noise perturbs the angle, not the radius. The classes are as equal
    as possible: the first ``n_samples % n_classes`` classes get one point more than the others.

    Args:
        n_samples: total number of points over all classes (at least ``n_classes``).
        n_classes: number of arms (classes), at least 2.
        noise: standard deviation of the Gaussian noise on each point's angle, in radians (>= 0).
        rng: generator to draw from (default: the global one, see ``mini_torch.manual_seed``).

    Shape:
        - X: ``(N, 2)`` in the default dtype, ``N = n_samples``.
        - y: ``(N,)`` int64 class indices in ``{0, ..., n_classes - 1}``.

    Examples:
        >>> X, y = make_spirals(300, n_classes=3)
        >>> X.shape, np.bincount(y).tolist()
        ((300, 2), [100, 100, 100])
    """
    where = "make_spirals"
    n_classes = check_positive_int(n_classes, "n_classes", where, minimum=2)
    n_samples, noise, rng = _check_classification_args(n_samples, noise, rng, where, n_classes)
    points, labels = [], []
    for k in range(n_classes):
        count = n_samples // n_classes + (1 if k < n_samples % n_classes else 0)
        radius = np.linspace(0.0, 1.0, count)
        angle = 2.0 * math.pi * k / n_classes + _SPIRAL_SWEEP * radius
        angle = angle + noise * rng.standard_normal(count)
        points.append(np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1))
        labels.append(np.full(count, k))
    return _shuffled(np.concatenate(points), np.concatenate(labels), rng)


def make_moons(n_samples: int = 200, noise: float = 0.1, *,
               rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Two interleaving half circles of radius 1.

    Class 0 lies on the upper half of the circle centred at ``(0, 0)``, class 1 on the lower half
    of the circle centred at ``(1, 0.5)``, at angles ``t`` evenly spaced over ``[0, pi]``:

    .. math::
        x^{(0)} = (\cos t,\; \sin t), \qquad x^{(1)} = (1 - \cos t,\; 0.5 - \sin t)

    Class 0 gets ``n_samples // 2`` points and class 1 the rest. Gaussian noise of standard
    deviation ``noise`` is then added to the coordinates.

    Args:
        n_samples: total number of points (at least 2).
        noise: standard deviation of the Gaussian noise added to each coordinate (>= 0).
        rng: generator to draw from (default: the global one, see ``mini_torch.manual_seed``).

    Shape:
        - X: ``(N, 2)`` in the default dtype, ``N = n_samples``.
        - y: ``(N,)`` int64 class indices in ``{0, 1}``.

    Examples:
        >>> X, y = make_moons(200, noise=0.1)
        >>> X.shape, np.bincount(y).tolist()
        ((200, 2), [100, 100])
    """
    n_samples, noise, rng = _check_classification_args(n_samples, noise, rng, "make_moons")
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, math.pi, n_upper)
    t_lower = np.linspace(0.0, math.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    X = np.concatenate([upper, lower])
    X = X + noise * rng.standard_normal((n_samples, 2))
    labels = np.concatenate([np.zeros(n_upper), np.ones(n_lower)])
    return _shuffled(X, labels, rng)


def make_sine(n_samples: int = 200, noise: float = 0.05, *,
              rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""A noisy sine wave over one period, for regression.

    .. math::
        x \sim \mathcal{U}[-\pi, \pi], \qquad y = \sin(x) + \varepsilon, \qquad
        \varepsilon \sim \mathcal{N}(0, \text{noise}^2)

    ``sin`` is evaluated on ``x`` already converted to the default dtype, so with ``noise=0`` the
    targets are exactly ``np.sin(X)``.

    Args:
        n_samples: number of points (at least 1).
        noise: standard deviation of the Gaussian noise added to the targets (>= 0).
        rng: generator to draw from (default: the global one, see ``mini_torch.manual_seed``).

    Shape:
        - X: ``(N, 1)`` in the default dtype, ``N = n_samples`` (one feature per row).
        - y: ``(N, 1)`` in the default dtype, ready for ``mse_loss(pred, y)`` with ``pred (N, 1)``.

    Examples:
        >>> X, y = make_sine(50, noise=0.0)
        >>> X.shape, y.shape, bool(np.all(y == np.sin(X)))
        ((50, 1), (50, 1), True)
    """
    where = "make_sine"
    n_samples = check_positive_int(n_samples, "n_samples", where)
    noise = _check_noise(noise, where)
    rng = _check_rng(rng, where)
    dtype = init.get_default_dtype()
    X = rng.uniform(-math.pi, math.pi, size=(n_samples, 1)).astype(dtype)
    # The noise is drawn in float64 and converted first, so the sum stays in the default dtype.
    epsilon = (noise * rng.standard_normal((n_samples, 1))).astype(dtype)
    return X, np.sin(X) + epsilon
