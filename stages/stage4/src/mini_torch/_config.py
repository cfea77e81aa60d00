"""The framework's shared settings: the default dtype and the global random generator.

Everything that reads a setting (input checks, initialisation, synthetic data, shuffling) imports
it from here, and this module imports nothing from Mini-Torch, so no two modules import each
other. The public functions are re-exported by :mod:`mini_torch.init` and the top-level package
(``mini_torch.manual_seed``, ``mini_torch.set_default_dtype``, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

_generator = np.random.default_rng(0)
_default_dtype = np.dtype(np.float32)


def get_generator() -> np.random.Generator:
    """Return the global generator that init, data and shuffling use when no ``rng`` is given.

    Fetch it at the moment you need it: ``manual_seed`` swaps in a new one, and a reference
    kept from before would miss the reseed.
    """
    return _generator


def set_generator(generator: np.random.Generator) -> None:
    """Replace the global generator; ``mini_torch.manual_seed`` checks the seed and calls this."""
    global _generator
    _generator = generator


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
