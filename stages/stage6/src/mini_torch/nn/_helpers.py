"""Helpers shared by the layers of stage 6: sequence input checks, and gradient accumulation.

The checks run once, at the entry of a public ``forward``, so that a wrong shape is reported
where it was made, naming the layer, what it expected and what it got. (A ``backward`` checks
``grad_output`` with ``mini_torch._checks.check_grad_output``.)
"""

from __future__ import annotations

import numpy as np

from mini_torch._checks import as_float_array, check_ndim


def check_sequence(x, embed_dim: int, where: str, dtype=None) -> np.ndarray:
    """``x`` as a float array of shape ``(N, T, embed_dim)``; a clear error otherwise."""
    x = as_float_array(x, "x", where, dtype=dtype)
    check_ndim(x, 3, "x", where, f"(N, T, {embed_dim}) (batch, positions, features)")
    check_last_dim(x, embed_dim, where)
    return x


def check_last_dim(x: np.ndarray, size: int, where: str) -> None:
    """Raise ``ValueError`` unless the last axis of ``x`` has ``size`` entries."""
    if x.ndim == 0 or x.shape[-1] != size:
        raise ValueError(
            f"{where}: x has shape {x.shape}, but its last axis must have {size} features "
            f"(the layer was built for {size}). Build the layer for {x.shape[-1] if x.ndim else 1} "
            f"features or fix the previous layer's output size."
        )


def accumulate(grad: np.ndarray | None, new: np.ndarray) -> np.ndarray:
    """``grad + new``, in place when ``grad`` exists: gradients add up until ``zero_grad()``.

    Returns ``new`` itself when there is no gradient yet (``None``, before the first backward).
    """
    if grad is None:
        return new
    grad += new
    return grad
