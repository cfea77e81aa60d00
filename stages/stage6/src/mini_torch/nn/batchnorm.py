"""``BatchNorm1d``: normalise every feature over the batch, then scale and shift."""

from __future__ import annotations

import numpy as np

from mini_torch import init
from mini_torch._checks import (
    as_float_array,
    check_grad_output,
    check_in_range,
    check_ndim,
    check_positive_int,
    check_same_dtype,
)
from mini_torch.nn._helpers import accumulate
from mini_torch.nn.module import Module


def batch_norm(x: np.ndarray, gamma: np.ndarray | None, beta: np.ndarray | None,
               eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training-mode batch norm: ``gamma * (x - mean) / sqrt(var + eps) + beta`` per column.

    The mean and the biased variance (divided by ``M``) are taken over the rows, one per
    feature; they are returned too, for the running statistics.

    Args:
        x: ``(M, C)`` rows, ``M >= 2``.
        gamma, beta: ``(C,)`` scale and shift, or ``None`` (no affine part).
        eps: added to the variance.

    Shape:
        - x: ``(M, C)``
        - Output: ``(y (M, C), mean (C,), var (C,))``
    """
    # BEGIN SOLUTION
    mean = x.mean(axis=0)                                        # (C,)
    centered = x - mean                                          # (M, C)
    var = (centered * centered).mean(axis=0)                     # (C,), biased
    y = centered / np.sqrt(var + eps)                            # x_hat, (M, C)
    if gamma is not None:
        y = y * gamma + beta
    return y, mean, var
    # END SOLUTION


def batch_norm_backward(grad_output: np.ndarray, x: np.ndarray, gamma: np.ndarray | None,
                        eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`batch_norm` with respect to ``x``, ``gamma`` and ``beta``.

    With ``x_hat = (x - mean) / sqrt(var + eps)`` and ``g = grad_output * gamma``, per column:
    ``dL/dx = (g - mean(g) - x_hat * mean(g * x_hat)) / sqrt(var + eps)``, the means over the
    rows (LayerNorm's formula with rows and columns exchanged; docs/stage6.md#batchnorm1d).

    Shape:
        - grad_output, x: ``(M, C)``; gamma: ``(C,)`` or ``None``
        - Output: ``(grad_x (M, C), grad_gamma (C,), grad_beta (C,))``
    """
    # BEGIN SOLUTION
    centered = x - x.mean(axis=0)
    inv_std = 1.0 / np.sqrt((centered * centered).mean(axis=0) + eps)   # (C,)
    x_hat = centered * inv_std                                   # (M, C)
    # y = gamma * x_hat + beta: dL/dgamma = sum over rows of G * x_hat, dL/dbeta = sum of G
    grad_gamma = (grad_output * x_hat).sum(axis=0)               # (C,)
    grad_beta = grad_output.sum(axis=0)                          # (C,)
    # dL/dx_hat = G * gamma; the batch mean and variance each subtract a projection of it
    grad_x_hat = grad_output if gamma is None else grad_output * gamma
    grad_x = inv_std * (grad_x_hat - grad_x_hat.mean(axis=0)
                        - x_hat * (grad_x_hat * x_hat).mean(axis=0))
    return grad_x, grad_gamma, grad_beta
    # END SOLUTION


class BatchNorm1d(Module):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs, as ``torch.nn.BatchNorm1d``.

    ``y = gamma * (x - mean) / sqrt(var + eps) + beta`` per feature (channel) ``c``. In training
    mode ``mean`` and ``var`` are the batch's (over ``N``, and ``L``; the biased variance), and
    the running statistics move towards them::

        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)   # unbiased

    (``M`` values per feature; with ``momentum=None`` the cumulative average over the batches
    seen). In evaluation mode ``running_mean`` / ``running_var`` are used, so a sample's output
    no longer depends on its batch. The running statistics and ``num_batches_tracked`` are
    buffers: in ``state_dict()``, not in ``parameters()``. :meth:`backward` *accumulates*
    ``dgamma`` / ``dbeta`` until :meth:`zero_grad`.

    Args:
        num_features: ``C``.
        eps: added to the variance (default 1e-5; ``BatchNorm1d(C, 0.8)`` sets ``eps=0.8``, as
            in PyTorch).
        momentum: weight of the new batch in the running statistics (default 0.1), or ``None``.
        affine: learn ``gamma`` (ones) and ``beta`` (zeros); ``False``: no parameters.

    Attributes:
        gamma, beta: ``(C,)``, or ``None`` with ``affine=False`` (PyTorch's ``weight``, ``bias``).
        running_mean, running_var: ``(C,)`` buffers, zeros and ones at the start.
        num_batches_tracked: 0-d int64 buffer.

    Shape:
        - Input: ``(N, C)`` or ``(N, C, L)``
        - Output: same shape as the input

    Examples:
        >>> bn = BatchNorm1d(3)
        >>> y = bn(np.array([[1.0, 2.0, 3.0], [3.0, 6.0, 9.0]], np.float32))
        >>> [round(float(v), 3) for v in y[0]]
        [-1.0, -1.0, -1.0]
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True) -> None:
        super().__init__()
        self.num_features = check_positive_int(num_features, "num_features", "BatchNorm1d")
        check_in_range(eps, "eps", "BatchNorm1d", low=0.0)
        if momentum is not None:
            check_in_range(momentum, "momentum", "BatchNorm1d", low=0.0, high=1.0)
        self.eps = float(eps)
        self.momentum = None if momentum is None else float(momentum)
        self.affine = bool(affine)
        dtype = init.get_default_dtype()
        self.gamma = np.ones(self.num_features, dtype) if self.affine else None
        self.beta = np.zeros(self.num_features, dtype) if self.affine else None
        self.register_buffer("running_mean", np.zeros(self.num_features, dtype))
        self.register_buffer("running_var", np.ones(self.num_features, dtype))
        self.register_buffer("num_batches_tracked", np.zeros((), np.int64))
        self.x: np.ndarray | None = None
        self.used_batch_stats = True  # whether the last forward normalised with batch stats
        self.dgamma: np.ndarray | None = None
        self.dbeta: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)
        # BEGIN SOLUTION
        rows = _to_rows(x)                                           # (M, C)
        self.used_batch_stats = self.training
        if self.training:
            y, mean, var = batch_norm(rows, self.gamma, self.beta, self.eps)
            self._update_running_stats(mean, var, len(rows))
        else:
            y = (rows - self.running_mean) / np.sqrt(self.running_var + self.eps)
            if self.affine:
                y = y * self.gamma + self.beta
        self.x = x
        return _from_rows(y, x.shape)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x = self._cached_input()
        grad_output = check_grad_output(grad_output, x.shape, x.dtype, "BatchNorm1d.backward")
        # BEGIN SOLUTION
        rows, grad_rows = _to_rows(x), _to_rows(grad_output)
        if self.used_batch_stats:
            grad_x, grad_gamma, grad_beta = batch_norm_backward(grad_rows, rows, self.gamma,
                                                                self.eps)
        else:  # fixed statistics: y = x_hat * gamma + beta with x_hat affine in x
            inv_std = 1.0 / np.sqrt(self.running_var + self.eps)
            x_hat = (rows - self.running_mean) * inv_std
            grad_gamma, grad_beta = (grad_rows * x_hat).sum(axis=0), grad_rows.sum(axis=0)
            # dL/dx = G * gamma / sqrt(running_var + eps)
            grad_x = grad_rows * (inv_std if self.gamma is None else self.gamma * inv_std)
        if self.affine:
            self.dgamma = accumulate(self.dgamma, grad_gamma)
            self.dbeta = accumulate(self.dbeta, grad_beta)
        return _from_rows(grad_x, x.shape)
        # END SOLUTION

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, count: int) -> None:
        """Move the running statistics towards the batch's, in place (the unbiased variance)."""
        self.num_batches_tracked += 1
        momentum = 1.0 / int(self.num_batches_tracked) if self.momentum is None \
            else self.momentum
        self.running_mean *= 1.0 - momentum
        self.running_mean += momentum * mean
        self.running_var *= 1.0 - momentum
        self.running_var += momentum * var * (count / (count - 1))

    def _check_input(self, x) -> np.ndarray:
        """``(N, C)`` or ``(N, C, L)`` floats of the parameters' dtype, two values per feature
        in training mode (one value has no variance)."""
        where = "BatchNorm1d.forward"
        x = as_float_array(x, "x", where, dtype=self.running_mean.dtype)
        check_ndim(x, (2, 3), "x", where, f"(N, {self.num_features}) or "
                                          f"(N, {self.num_features}, L)")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{where}: x has shape {x.shape}, so {x.shape[1]} features on axis 1, but the "
                f"layer was built for {self.num_features}. Build BatchNorm1d({x.shape[1]}) or "
                f"fix the previous layer's output size."
            )
        check_same_dtype(x, self.running_mean, "x", "running_mean", where)
        if self.training and x.size // self.num_features < 2:
            raise ValueError(
                f"{where}: a training batch needs more than one value per feature, got x of "
                f"shape {x.shape}; use a batch of at least 2, or call .eval() to use the running "
                f"statistics."
            )
        return x

    def parameters(self) -> list[np.ndarray]:
        return [self.gamma, self.beta] if self.affine else []

    def grads(self) -> list[np.ndarray | None]:
        return [self.dgamma, self.dbeta] if self.affine else []

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}")


def _to_rows(x: np.ndarray) -> np.ndarray:
    """``(N, C)`` stays; ``(N, C, L)`` -> ``(N * L, C)``: one row per sample and position."""
    return x if x.ndim == 2 else x.transpose(0, 2, 1).reshape(-1, x.shape[1])


def _from_rows(rows: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The inverse of :func:`_to_rows` for an input of ``shape``."""
    if len(shape) == 2:
        return rows
    batch_size, channels, length = shape
    return rows.reshape(batch_size, length, channels).transpose(0, 2, 1)
