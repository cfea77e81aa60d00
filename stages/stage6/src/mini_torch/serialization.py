"""``save`` / ``load``: write a ``state_dict`` to an ``.npz`` file and read it back."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np


def save(state_dict: dict[str, np.ndarray], path: str | os.PathLike) -> Path:
    """Save a ``state_dict`` (name -> array) as an uncompressed ``.npz`` file; returns its path.

    ``.npz`` is appended when ``path`` has another suffix, as ``numpy.savez`` does.

    Examples:
        >>> save(model.state_dict(), "model.npz")      # doctest: +SKIP
        >>> model.load_state_dict(load("model.npz"))   # doctest: +SKIP
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: state_dict keys must be strings, got {name!r}.")
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"save: '{name}' is not a numeric array (got {type(value).__name__}).")
        arrays[name] = array
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def load(path: str | os.PathLike) -> OrderedDict[str, np.ndarray]:
    """Read a file written by :func:`save` back into an ordered ``state_dict``."""
    path = Path(path)
    if not path.exists() and path.with_name(path.name + ".npz").exists():
        path = path.with_name(path.name + ".npz")
    if not path.is_file():
        raise FileNotFoundError(f"load: no file at {path}; save one with mini_torch.save first.")
    with np.load(path, allow_pickle=False) as archive:
        return OrderedDict((name, archive[name]) for name in archive.files)
