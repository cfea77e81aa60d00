"""``Flatten``: reshape each sample to a vector, e.g. ``(N, 28, 28)`` images to ``(N, 784)``."""

from __future__ import annotations

import numpy as np

from mini_torch.nn.module import Module


class Flatten(Module):
    """Flattens the axes ``start_dim .. end_dim`` into one, as ``torch.nn.Flatten``.

    It moves no number, so its backward only gives the gradient back the input's shape.

    Args:
        start_dim: first axis to flatten (default 1: keep the batch axis).
        end_dim: last axis to flatten (default -1: the last axis).

    Shape:
        - Input: ``(N, *dims)``, e.g. ``(N, 28, 28)``
        - Output: ``(N, prod(dims))``, e.g. ``(N, 784)``

    Examples:
        >>> Flatten()(np.zeros((2, 28, 28))).shape
        (2, 784)
    """

    _cached_names = ("input_shape",)

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = int(start_dim)
        self.end_dim = int(end_dim)
        self.input_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if not (-x.ndim <= self.start_dim < x.ndim and -x.ndim <= self.end_dim < x.ndim):
            raise ValueError(
                f"{self!r}: the input has shape {x.shape} ({x.ndim} axes), so start_dim and "
                f"end_dim must lie in [-{x.ndim}, {x.ndim - 1}]; pass a batch of samples "
                f"(N, ...) or change the dims."
            )
        start, end = self.start_dim % x.ndim, self.end_dim % x.ndim
        self.input_shape = x.shape
        return x.reshape((*x.shape[:start], -1, *x.shape[end + 1:]))

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        # the forward only renamed the axes: dL/dx is dL/dy in the input's shape
        return np.reshape(grad_output, self._cached("input_shape"))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
