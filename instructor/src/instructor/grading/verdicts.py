"""Verdicts: the trusted comparison of a submission's results with the reference's.

Everything here runs in the grader's own process on decoded plain data (numpy arrays, strings);
nothing of the submission is imported or called. :func:`decode` reads the worker's encoding
strictly (:func:`instructor.grading.worker.decode_array`), so a malformed answer is a failed check.
"""

from __future__ import annotations

import re

from instructor.checks import Check
from instructor.grading.worker import decode_array


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
        return f"{text} (shape {value.shape}, {value.dtype})"
    return repr(value)


def _same(name: str, got, want, rtol: float, atol: float) -> str | None:
    """None when ``got`` matches ``want``; else what differs."""
    import numpy as np

    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            size = len(got) if isinstance(got, list) else type(got).__name__
            return f"{name}: expected a list of {len(want)} results, got {size}"
        for index, (g, w) in enumerate(zip(got, want)):
            problem = _same(f"{name}[{index}]", g, w, rtol, atol)
            if problem:
                return problem
        return None
    if isinstance(want, str) or want is None:
        return None if got == want else f"{name}: expected {want!r}, got {_short(got)}"
    if not isinstance(got, np.ndarray):
        return f"{name}: expected an array, got {_short(got)}"
    if got.shape != want.shape and not (want.ndim == 0 and got.size == 1):
        return f"{name}: expected shape {want.shape}, got shape {got.shape}"
    if want.ndim > 0 and want.dtype == np.float32 and got.dtype != np.float32:
        return f"{name}: expected float32 (keep float32 end to end), got {got.dtype}"
    got64 = got.astype(np.float64).reshape(want.shape)
    want64 = want.astype(np.float64)
    if not np.all(np.isfinite(got64) == np.isfinite(want64)):
        return f"{name}: non-finite values where the reference has finite ones: {_short(got)}"
    if not np.allclose(got64, want64, rtol=rtol, atol=atol, equal_nan=True):
        worst = np.unravel_index(np.argmax(np.abs(got64 - want64)), want64.shape) \
            if want64.ndim else ()
        return (f"{name}: wrong values (rtol {rtol:g}, atol {atol:g}); the largest difference "
                f"is at index {tuple(int(i) for i in worst)}: got {got64[worst]:.7g}, expected "
                f"{want64[worst]:.7g}")
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
