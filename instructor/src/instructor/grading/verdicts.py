"""Verdicts: the trusted comparison of a submission's results with the reference's.

Everything here runs in the grader's own process on decoded plain data (numpy arrays, strings);
nothing of the submission is imported or called. :func:`decode` reads the worker's encoding
strictly (:func:`instructor.grading.worker.decode_array`), so a malformed answer is a failed check.
"""

from __future__ import annotations

import re

from instructor.grading.checks import Check
from instructor.grading.worker import decode_array

#: Characters of a value, and names of a list, that a comparison message quotes (the answer is
#: the submission's: its size must not become the feedback's).
SHOWN_CHARACTERS = 300
SHOWN_NAMES = 8


class BadAnswer(ValueError):
    """The worker's answer is not a well-formed encoded value."""


def decode(value, depth: int = 0):
    """An encoded value as an ndarray, a list of decoded values, a string or None."""
    if depth > 8 or not isinstance(value, dict):
        raise BadAnswer("malformed value")
    kind = value.get("kind")
    if kind == "none":
        return None
    if kind == "str" and isinstance(value.get("value"), str):
        return value["value"]
    if kind == "list" and isinstance(value.get("items"), list) and len(value["items"]) < 10000:
        return [decode(item, depth + 1) for item in value["items"]]
    if kind == "array":
        try:
            return decode_array({k: value.get(k) for k in ("dtype", "shape", "data")})
        except (ValueError, TypeError) as error:
            raise BadAnswer(str(error)) from error
    raise BadAnswer(f"unknown kind {kind!r}")


def _short(value) -> str:
    import numpy as np

    if isinstance(value, np.ndarray):
        text = np.array2string(value, precision=5, threshold=12, edgeitems=2)
        return f"{_cut(text)} (shape {value.shape}, {value.dtype})"
    if isinstance(value, list):
        return f"a list of {len(value)} results"
    return _cut(repr(value))


def _cut(text: str, most: int = SHOWN_CHARACTERS) -> str:
    return text if len(text) <= most else text[:most] + " ..."


def _names(pairs: list) -> str:
    """The names of ``(name, array)`` pairs, the first :data:`SHOWN_NAMES` of them."""
    shown = [_cut(str(pair[0]), 60) for pair in pairs[:SHOWN_NAMES]]
    more = f" and {len(pairs) - SHOWN_NAMES} more" if len(pairs) > SHOWN_NAMES else ""
    return f"{shown}{more}"


def _named(value) -> bool:
    """Whether ``value`` is a list of ``(name, array)`` pairs (``named_parameters()``)."""
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) for v in value)


def _where(bad) -> str:
    """The smallest box around the ``True`` entries of ``bad``: ``[0, 8:10]``."""
    import numpy as np

    if bad.ndim == 0:
        return ""
    found = np.argwhere(bad)
    parts = []
    for low, high in zip(found.min(axis=0), found.max(axis=0)):
        parts.append(f"{low}" if low == high else f"{low}:{high + 1}")
    return "[" + ", ".join(parts) + "]"


def _same(name: str, got, want, rtol: float, atol: float) -> str | None:
    """None when ``got`` matches ``want``; else what differs.

    Arrays are compared at the scale of the whole array: every entry within
    ``atol + rtol * max|want|``. Rounding error in float32 grows with the size of the terms a
    value is made of, not with the value itself, so an entry whose true value is 0 (a gradient
    that cancels exactly) is checked as about 0 at the array's scale, and every mathematically
    equivalent order of the operations passes.
    """
    import numpy as np

    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            size = len(got) if isinstance(got, list) else type(got).__name__
            return f"{name}: expected a list of {len(want)} results, got {size}"
        if _named(want):
            if not _named(got) or [g[0] for g in got] != [w[0] for w in want]:
                return (f"{name}: expected the parameters {_names(want)}, got "
                        f"{_names(got) if _named(got) else _short(got)}")
            for (label, g), (_, w) in zip(got, want):
                problem = _same(_cut(label, 60), g, w, rtol, atol)
                if problem:
                    return problem
            return None
        for index, (g, w) in enumerate(zip(got, want)):
            problem = _same(f"{name}[{index}]", g, w, rtol, atol)
            if problem:
                return problem
        return None
    if isinstance(want, str) or want is None:
        if got == want:
            return None
        return f"{name}: expected {_cut(repr(want))}, got {_short(got)}"
    if not isinstance(got, np.ndarray):
        return f"{name}: expected an array, got {_short(got)}"
    if got.shape != want.shape and not (want.ndim == 0 and got.size == 1):
        return f"{name}: expected shape {want.shape}, got shape {got.shape}"
    if want.ndim > 0 and want.dtype == np.float32 and got.dtype != np.float32:
        return f"{name}: expected float32 (keep float32 end to end), got {got.dtype}"
    if got.dtype.kind not in "biuf":
        return f"{name}: expected numbers, got {got.dtype}"
    got64 = got.astype(np.float64).reshape(want.shape)
    want64 = want.astype(np.float64)
    finite = np.isfinite(want64)
    if not np.array_equal(np.isfinite(got64), finite) or not np.array_equal(
            got64[~finite], want64[~finite], equal_nan=True):
        bad = np.isfinite(got64) != finite
        return (f"{name}{_where(bad) if bad.any() else ''}: non-finite values where the "
                f"reference has others: {_short(got)}")
    if not finite.any():
        return None
    scale = float(np.max(np.abs(want64[finite])))
    tolerance = atol + rtol * scale
    error = np.where(finite, np.abs(got64 - want64), 0.0)
    if float(error.max()) > tolerance:
        worst = np.unravel_index(np.argmax(error), error.shape) if error.ndim else ()
        index = tuple(int(i) for i in worst)
        return (f"{name}{_where(error > tolerance)}: wrong values; the largest error is "
                f"{float(error.max()):.3g} at {list(index) if index else 'the value'} (got "
                f"{got64[worst]:.7g}, expected {want64[worst]:.7g}); the tolerance is "
                f"{tolerance:.3g} = atol {atol:g} + rtol {rtol:g} x {scale:.3g}, the largest "
                "expected magnitude")
    return None


def _label(name: str) -> str:
    """An output's name as the student reads it: a step's automatic name (``v3``) says nothing."""
    return "the result" if re.fullmatch(r"v\d+", name) else name


def judge(check: Check, got: dict, want: dict) -> str | None:
    """None when every output of ``check`` matches the reference's, else the reason."""
    for name in check.outputs:
        if name not in got:
            return f"{_label(name)}: missing from the answer"
        problem = _same(_label(name), got[name], want[name], check.rtol, check.atol)
        if problem:
            return problem
    return None
