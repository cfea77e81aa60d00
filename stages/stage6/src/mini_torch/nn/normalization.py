"""``LayerNorm``: normalise each row over its features, then scale and shift."""

from __future__ import annotations

import numpy as np

from mini_torch import init
from mini_torch._checks import (
    as_float_array,
    check_grad_output,
    check_in_range,
    check_positive_int,
)
from mini_torch.nn._helpers import accumulate, check_last_dim
from mini_torch.nn.module import Module


def layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
               eps: float = 1e-5) -> np.ndarray:
    """``gamma * (x - mean) / sqrt(var + eps) + beta``, mean and variance over each row.

    The variance is the biased one (divided by ``D``, not ``D - 1``), as in PyTorch.

    Args:
        x: ``(M, D)`` rows (for a sequence, one row per position).
        gamma: ``(D,)`` scale.
        beta: ``(D,)`` shift.
        eps: added to the variance so a constant row does not divide by zero.

    Shape:
        - x: ``(M, D)``
        - Output: ``(M, D)``; before the scale and shift every row has mean 0 and variance 1
    """
    # BEGIN SOLUTION
    mean = x.mean(axis=1, keepdims=True)                         # (M, 1)
    centered = x - mean                                          # (M, D)
    inv_std = 1.0 / np.sqrt((centered * centered).mean(axis=1, keepdims=True) + eps)  # (M, 1)
    return centered * inv_std * gamma + beta                     # (M, D)
    # END SOLUTION


def layer_norm_backward(grad_output: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                        eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`layer_norm` with respect to ``x``, ``gamma`` and ``beta``.

    With ``x_hat = (x - mean) / sqrt(var + eps)`` and ``g = grad_output * gamma``, per row:
    ``dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)``
    (derived in docs/stage6.md#layernorm).

    Shape:
        - grad_output, x: ``(M, D)``
        - gamma: ``(D,)``
        - Output: ``(grad_x (M, D), grad_gamma (D,), grad_beta (D,))``
    """
    # BEGIN SOLUTION
    mean = x.mean(axis=1, keepdims=True)                         # (M, 1)
    centered = x - mean
    inv_std = 1.0 / np.sqrt((centered * centered).mean(axis=1, keepdims=True) + eps)  # (M, 1)
    x_hat = centered * inv_std                                   # (M, D)
    # y = gamma * x_hat + beta: dL/dgamma = sum over rows of G * x_hat, dL/dbeta = sum of G
    grad_gamma = (grad_output * x_hat).sum(axis=0)               # (D,)
    grad_beta = grad_output.sum(axis=0)                          # (D,)
    # dL/dx_hat = G * gamma; the mean and variance terms each subtract a projection of it
    grad_x_hat = grad_output * gamma                             # (M, D)
    grad_x = inv_std * (grad_x_hat - grad_x_hat.mean(axis=1, keepdims=True)
                        - x_hat * (grad_x_hat * x_hat).mean(axis=1, keepdims=True))
    return grad_x, grad_gamma, grad_beta
    # END SOLUTION


class LayerNorm(Module):
    """Layer normalisation over the last axis: every row (position) gets mean 0 and variance 1,
    then a learned scale ``gamma`` and shift ``beta``.

    ``y = gamma * (x - mean) / sqrt(var + eps) + beta``, with the mean and the (biased) variance
    taken over the last axis of each row, independently of the other rows: unlike batch norm,
    the output of a sample does not depend on the rest of the batch. :meth:`backward`
    *accumulates* ``dgamma`` / ``dbeta`` until :meth:`zero_grad`.

    Args:
        normalized_shape: ``D``, the size of the last axis (an int).
        eps: added to the variance for numerical stability (PyTorch's default, 1e-5).

    Attributes:
        gamma: ``(D,)`` scale, ones at the start.
        beta: ``(D,)`` shift, zeros at the start.
        dgamma, dbeta: their gradients, ``None`` until the first backward.
        x: the cached input of the last forward, ``None`` until then.

    Shape:
        - Input: ``(*, D)``, e.g. ``(N, D)`` or ``(N, T, D)``
        - Output: same shape as the input

    Examples:
        >>> ln = LayerNorm(4)
        >>> y = ln(np.array([[1.0, 2.0, 3.0, 4.0]], np.float32))
        >>> bool(abs(y.mean()) < 1e-6)
        True
    """

    def __init__(self, normalized_shape: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.normalized_shape = check_positive_int(normalized_shape, "normalized_shape",
                                                   "LayerNorm")
        check_in_range(eps, "eps", "LayerNorm", low=0.0)
        self.eps = float(eps)
        dtype = init.get_default_dtype()
        self.gamma = np.ones(self.normalized_shape, dtype=dtype)
        self.beta = np.zeros(self.normalized_shape, dtype=dtype)
        self.x: np.ndarray | None = None
        self.dgamma: np.ndarray | None = None
        self.dbeta: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "x", "LayerNorm.forward", dtype=self.gamma.dtype)
        check_last_dim(x, self.normalized_shape, "LayerNorm.forward")
        # BEGIN SOLUTION
        self.x = x
        rows = x.reshape(-1, self.normalized_shape)                 # (M, D), M = N * T
        return layer_norm(rows, self.gamma, self.beta, self.eps).reshape(x.shape)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x = self._cached("x")
        grad_output = check_grad_output(grad_output, x.shape, x.dtype, "LayerNorm.backward")
        # BEGIN SOLUTION
        grad_x, grad_gamma, grad_beta = layer_norm_backward(
            grad_output.reshape(-1, self.normalized_shape), x.reshape(-1, self.normalized_shape),
            self.gamma, self.eps)
        self.dgamma = accumulate(self.dgamma, grad_gamma)
        self.dbeta = accumulate(self.dbeta, grad_beta)
        return grad_x.reshape(x.shape)
        # END SOLUTION

    def parameters(self) -> list[np.ndarray]:
        return [self.gamma, self.beta]

    def grads(self) -> list[np.ndarray | None]:
        return [self.dgamma, self.dbeta]

    def extra_repr(self) -> str:
        return f"({self.normalized_shape},), eps={self.eps}"
