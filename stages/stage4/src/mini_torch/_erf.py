"""The error function in float32, for GELU: given code, not a lesson of the course.

``mini_torch.functional.gelu`` needs ``erf``. ``scipy.special.erf`` is exact but, on float32,
computes each value one at a time in double precision; in a transformer's MLP that made GELU
40 % of a training step (docs/performance.md). :func:`erf` keeps scipy for every other dtype.
"""

from __future__ import annotations

import numpy as np
from scipy import special

# erf(z) ~ tanh(z * P(z^2)) on [-3.9, 3.9] for float32: P of degree 6 is a weighted least-squares
# fit of atanh(erf(z)) / z, iterated towards the smallest largest error (Lawson's algorithm);
# absolute error below 1.4e-7 in float32 (the spacing of float32 numbers near 1 is 6e-8). Beyond
# +-3.9, erf is +-1 to float32 precision, and so is the tanh. Highest power first, for Horner.
_ERF32_P = (1.5895365237383364e-07, -5.9856084481037675e-06, 8.971222717814198e-05,
            -6.257188930673575e-04, -1.8438424630434622e-04, 1.0276548162598856e-01,
            1.1283797054566052)
_ERF32_CLIP = 3.9
_ERF32_BLOCK = 65536  # float32 values per block: its three arrays (768 KiB) fit in a core's L2


def _polynomial_into(out: np.ndarray, coefficients: tuple[float, ...], z2: np.ndarray) -> None:
    """``out = P(z2)`` in place, coefficients highest power first (Horner: ``p = p * z2 + c``)."""
    np.multiply(z2, coefficients[0], out=out)
    for coefficient in coefficients[1:-1]:
        out += coefficient
        out *= z2
    out += coefficients[-1]


def erf(z: np.ndarray) -> np.ndarray:
    """The error function, element-wise, in the dtype of ``z``.

    float64 (and any dtype but float32): ``scipy.special.erf``. float32: ``tanh(z * P(z^2))``
    with the polynomial above, accurate to float32 precision. Why: scipy evaluates a float32
    ``erf`` one element at a time in double precision, and in a transformer's MLP that made
    GELU 40 % of the training step; numpy's float32 ``tanh`` is vectorised. The polynomial is
    evaluated in place, block by block, so that its passes stay in the CPU's cache instead of
    reading and writing whole arrays of megabytes (docs/performance.md).
    """
    if z.dtype != np.float32:
        return special.erf(z)
    flat = z.reshape(-1)
    out = np.empty_like(flat)
    size = min(flat.size, _ERF32_BLOCK)
    clipped, z2 = (np.empty(size, dtype=np.float32) for _ in range(2))
    for start in range(0, flat.size, _ERF32_BLOCK):
        block = out[start:start + _ERF32_BLOCK]    # the block of the result, filled in place
        c, c2 = clipped[:block.size], z2[:block.size]
        np.clip(flat[start:start + _ERF32_BLOCK], -_ERF32_CLIP, _ERF32_CLIP, out=c)
        np.multiply(c, c, out=c2)
        _polynomial_into(block, _ERF32_P, c2)   # P(z^2)
        block *= c                              # z P(z^2)
        np.tanh(block, out=block)
    return out.reshape(z.shape)
