"""Parameter initialisation, seeding and the default dtype.

One module-level ``numpy.random.Generator`` drives every random draw in Mini-Torch (weight init,
synthetic data, shuffling) unless a function is handed its own ``rng`` / ``generator``.
``manual_seed(seed)`` replaces it, so the same seed gives the same run, bit for bit.

Always fetch the generator with :func:`get_generator` at the moment you need it: ``manual_seed``
swaps in a new one, and a reference kept from before would miss the reseed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from mini_torch._checks import check_positive_int

__all__ = [
    "default_dtype",
    "get_default_dtype",
    "get_generator",
    "he_normal",
    "manual_seed",
    "set_default_dtype",
    "xavier_uniform",
]

_DEFAULT_SEED = 0
_generator = np.random.default_rng(_DEFAULT_SEED)
_default_dtype = np.dtype(np.float32)


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the global generator, like ``torch.manual_seed``; returns the new generator.

    Examples:
        >>> import mini_torch
        >>> _ = mini_torch.manual_seed(0)
    """
    global _generator
    _generator = np.random.default_rng(check_positive_int(seed, "seed", "manual_seed", minimum=0))
    return _generator


def get_generator() -> np.random.Generator:
    """Return the global generator that init, data and shuffling use when no ``rng`` is given."""
    return _generator


def _resolve_rng(rng: np.random.Generator | None) -> np.random.Generator:
    return _generator if rng is None else rng


def get_default_dtype() -> np.dtype:
    """Return the dtype new parameters and synthetic data get (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the dtype for new parameters: ``np.float32`` (default) or ``np.float64`` (gradcheck)."""
    global _default_dtype
    resolved = np.dtype(dtype)
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(
            f"set_default_dtype: dtype must be np.float32 or np.float64, got {resolved}."
        )
    _default_dtype = resolved


@contextmanager
def default_dtype(dtype) -> Iterator[np.dtype]:
    """Switch the default dtype inside a ``with`` block, restoring the old one afterwards.

    Examples:
        >>> import numpy as np, mini_torch
        >>> with mini_torch.default_dtype(np.float64):
        ...     W = mini_torch.init.he_normal(3, 2)
        >>> W.dtype
        dtype('float64')
    """
    previous = _default_dtype
    set_default_dtype(dtype)
    try:
        yield _default_dtype
    finally:
        set_default_dtype(previous)


def he_normal(fan_in: int, fan_out: int, *, rng: np.random.Generator | None = None,
              dtype=None) -> np.ndarray:
    """He (Kaiming) normal init for ReLU layers: ``W ~ N(0, 2 / fan_in)``.

    The variance ``2 / fan_in`` keeps the variance of the activations constant from layer to
    layer when half of the units are zeroed by a ReLU.

    Args:
        fan_in: number of inputs of the layer.
        fan_out: number of outputs of the layer.
        rng: generator to draw from (default: the global one).
        dtype: dtype of the result (default: :func:`get_default_dtype`).

    Shape:
        Output: ``(fan_in, fan_out)``, ready for ``x @ W``.
    """
    check_positive_int(fan_in, "fan_in", "he_normal")
    check_positive_int(fan_out, "fan_out", "he_normal")
    std = math.sqrt(2.0 / fan_in)
    weights = _resolve_rng(rng).standard_normal((fan_in, fan_out)) * std
    return weights.astype(dtype or _default_dtype, copy=False)


def xavier_uniform(fan_in: int, fan_out: int, *, gain: float = 1.0,
                   rng: np.random.Generator | None = None, dtype=None) -> np.ndarray:
    """Xavier (Glorot) uniform init: ``W ~ U(-a, a)``, ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Suited to tanh and sigmoid layers; it balances the variance of the forward activations and of
    the backward gradients.

    Shape:
        Output: ``(fan_in, fan_out)``.
    """
    check_positive_int(fan_in, "fan_in", "xavier_uniform")
    check_positive_int(fan_out, "fan_out", "xavier_uniform")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    weights = _resolve_rng(rng).uniform(-bound, bound, size=(fan_in, fan_out))
    return weights.astype(dtype or _default_dtype, copy=False)
