"""Input validation shared by every part of Mini-Torch.

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the function that was
called, the argument, what was expected, what was given, and the most likely fix. They are called
at the top of public functions so that a mistake surfaces where it was made, not three layers
deeper as a numpy broadcasting error.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def as_float_array(value, name: str, where: str, dtype=None) -> np.ndarray:
    """Return ``value`` as a floating-point ndarray, keeping its floating dtype.

    Arrays that are already float16/32/64 are returned unchanged (no copy, no upcast). Lists and
    integer arrays are converted to ``dtype``, by default the framework's default dtype
    (float32 unless ``mini_torch.set_default_dtype`` changed it).
    """
    if type(value) is np.ndarray and value.dtype.kind == "f":
        return value  # the common case, checked first because it runs on every op
    array = np.asarray(value)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise TypeError(
            f"{where}: {name} must be a numeric array, got dtype {array.dtype}. "
            f"Pass a numpy array of floats, e.g. np.asarray({name}, dtype=np.float32)."
        )
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{where}: {name} must be real, got dtype {array.dtype}.")
    if not np.issubdtype(array.dtype, np.floating):
        if dtype is None:
            from mini_torch import init  # here, not at the top: init itself uses these checks

            dtype = init.get_default_dtype()
        array = array.astype(dtype)
    return array


def check_ndim(array: np.ndarray, ndim: int | Iterable[int], name: str, where: str,
               layout: str = "") -> None:
    """Raise ``ValueError`` unless ``array.ndim`` is ``ndim`` (or one of several)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if array.ndim not in allowed:
        wanted = " or ".join(f"{d}-D" for d in allowed)
        hint = f" of shape {layout}" if layout else ""
        fix = ""
        if array.ndim == 1 and 2 in allowed:
            fix = (f" A single sample of shape {array.shape} needs a batch axis: "
                   f"use {name}.reshape(1, -1) (one sample) or {name}.reshape(-1, 1) "
                   f"(one feature).")
        raise ValueError(
            f"{where}: {name} must be {wanted}{hint}, got {array.ndim}-D with shape "
            f"{array.shape}.{fix}"
        )


def check_not_empty(array: np.ndarray, name: str, where: str) -> None:
    """Raise ``ValueError`` for a batch with no rows (means over it would be NaN)."""
    if array.ndim >= 1 and array.shape[0] == 0:
        raise ValueError(
            f"{where}: {name} is an empty batch (shape {array.shape}); "
            f"every batch needs at least one sample."
        )


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str, where: str) -> None:
    """Raise ``ValueError`` unless two arrays have exactly the same shape (no broadcasting)."""
    if a.shape == b.shape:
        return
    fix = ""
    if a.ndim == 2 and a.shape[1] == 1 and b.shape == (a.shape[0],):
        fix = f" Reshape {name_b} with {name_b}.reshape(-1, 1) so both are {a.shape}."
    elif b.ndim == 2 and b.shape[1] == 1 and a.shape == (b.shape[0],):
        fix = f" Reshape {name_a} with {name_a}.reshape(-1, 1) so both are {b.shape}."
    raise ValueError(
        f"{where}: {name_a} has shape {a.shape} but {name_b} has shape {b.shape}; they must match "
        f"exactly (numpy would silently broadcast them to a wrong result).{fix}"
    )


def check_same_dtype(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str, where: str) -> None:
    """Raise ``TypeError`` when two floating arrays of different precision meet."""
    if a.dtype != b.dtype:
        raise TypeError(
            f"{where}: {name_a} is {a.dtype} but {name_b} is {b.dtype}; mixing them would silently "
            f"change precision. Convert one of them, e.g. {name_a}.astype({name_b}.dtype)."
        )


def check_choice(value, choices: tuple, name: str, where: str) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{where}: {name} must be one of {options}, got {value!r}.")


def check_in_range(value, name: str, where: str, low: float = 0.0, high: float | None = None,
                   high_inclusive: bool = True) -> None:
    """Raise ``ValueError`` unless ``low <= value`` (and ``value <= high``, or ``< high``).

    Written so that NaN, which compares False with everything, is refused too.
    """
    number = float(value)
    above = high is not None and (number > high if high_inclusive else number >= high)
    if not number >= low or above:
        bound = "" if high is None else f" and {'<=' if high_inclusive else '<'} {high}"
        raise ValueError(f"{where}: invalid {name} {value!r}; it must be >= {low}{bound}.")


def check_positive_int(value, name: str, where: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer ``>= minimum``; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{where}: {name} must be an integer, got {type(value).__name__} {value!r}."
        )
    if value < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {value}.")
    return int(value)


def check_class_indices(target: np.ndarray, num_classes: int, name: str, where: str) -> np.ndarray:
    """Validate integer class indices and return them as a flat ``(N,)`` int array."""
    if np.issubdtype(target.dtype, np.floating):
        raise TypeError(
            f"{where}: {name} holds class indices but has float dtype {target.dtype}. "
            f"Class indices must be integers: use {name}.astype(np.int64). "
            f"(Float targets are read as probabilities only when shaped (N, C).)"
        )
    if not np.issubdtype(target.dtype, np.integer):
        raise TypeError(
            f"{where}: {name} must hold integer class indices, got dtype {target.dtype}."
        )
    indices = target.reshape(-1)
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= num_classes:
            bad = low if low < 0 else high
            raise ValueError(
                f"{where}: {name} contains class index {bad}, but there are {num_classes} classes "
                f"(valid indices 0..{num_classes - 1}). Check the number of output units or "
                f"the labels."
            )
    return indices
