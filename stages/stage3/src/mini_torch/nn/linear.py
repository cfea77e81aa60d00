"""``Linear``: the fully connected layer ``y = x @ W + b``."""

from __future__ import annotations

import numpy as np

from mini_torch import functional as F
from mini_torch import init
from mini_torch._checks import (
    as_float_array,
    check_grad_output,
    check_ndim,
    check_positive_int,
    check_same_dtype,
    check_same_view,
)
from mini_torch.nn.module import Module


class Linear(Module):
    """Fully connected layer: ``y = x @ W + b``, applied to the last axis of ``x``.

    As ``torch.nn.Linear``, the input may have any number of leading axes: ``(N, in)`` rows, or a
    sequence ``(N, T, in)`` whose every position is one row. The layer flattens the leading axes
    into rows ``(M, in)`` (``M = N * T``), computes ``rows @ W + b`` and gives the result back in
    the input's leading shape; its backward does the same with the gradient.

    ``W`` starts He-normal (``std = sqrt(2 / in_features)``), ``b`` at zero. The backward
    *accumulates* into ``dW`` / ``db`` (as PyTorch does) until :meth:`zero_grad`.

    Args:
        in_features: features per input sample (the last axis of ``x``).
        out_features: features per output sample.
        bias: with ``False`` the layer is ``y = x @ W``: ``b`` and ``db`` are ``None`` and
            ``parameters()`` is ``[W]``.
        rng: generator for the initial weights (default: the global one, see ``manual_seed``).

    Attributes:
        W: ``(in_features, out_features)`` weights (the transpose of PyTorch's ``weight``).
        b: ``(1, out_features)`` bias, or ``None`` with ``bias=False``.
        dW, db: their gradients, ``None`` until the first backward.
        x: the cached input of the last forward, ``None`` until then.
        in_features, out_features: the sizes (also readable as ``input_dim``, ``output_dim``).
        weight, bias: views of ``W`` and ``b`` in PyTorch's layout, ``weight``
            ``(out_features, in_features)`` (``W.T``) and ``bias`` ``(out_features,)`` (or
            ``None``): ``init.normal_(layer.weight, std=0.02)`` fills ``W`` in place, and
            ``init.kaiming_normal_(layer.weight)`` reads ``fan_in = in_features``, as PyTorch
            code expects; ``layer.weight *= 0.1`` scales ``W`` in place. Assigning another
            array is refused (``layer.weight[...] = value`` copies). ``state_dict()`` names the
            arrays ``W`` and ``b``.

    Shape:
        - Input: ``(N, *, in_features)``, e.g. ``(N, in_features)`` or ``(N, T, in_features)``
          (a lone sample ``(in_features,)`` is refused, unlike PyTorch: it is almost always a
          missing batch axis; pass ``x.reshape(1, -1)``)
        - Output: ``(N, *, out_features)``, the same leading axes

    Examples:
        >>> layer = Linear(3, 4)
        >>> layer(np.ones((2, 3), np.float32)).shape
        (2, 4)
        >>> Linear(3, 4, bias=False)(np.ones((2, 5, 3), np.float32)).shape
        (2, 5, 4)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.in_features = check_positive_int(in_features, "in_features", "Linear")
        self.out_features = check_positive_int(out_features, "out_features", "Linear")
        self.input_dim, self.output_dim = self.in_features, self.out_features  # the spec's names
        self.W = init.he_normal(self.in_features, self.out_features, rng=rng)
        self.b = np.zeros((1, self.out_features), dtype=self.W.dtype) if bias else None
        self.x: np.ndarray | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._check_input(x)  # (*, in), of W's dtype; cached for backward
        # BEGIN SOLUTION
        rows = x.reshape(-1, self.in_features)       # (M, in): every leading index is one row
        y = rows @ self.W if self.b is None else F.linear(rows, self.W, self.b)   # (M, out)
        self.x = x
        return y.reshape(*x.shape[:-1], self.out_features)   # (*, out)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x = self._cached_input()
        grad_output = check_grad_output(grad_output, (*x.shape[:-1], self.out_features),
                                        self.W.dtype, "Linear.backward")
        # BEGIN SOLUTION
        rows = x.reshape(-1, self.in_features)                        # (M, in)
        # dL/dx = dL/dy @ W^T, dL/dW = x^T @ dL/dy, dL/db = sum over the rows of dL/dy
        grad_x, grad_W, grad_b = F.linear_backward(
            grad_output.reshape(-1, self.out_features), rows, self.W)
        if self.dW is None:
            self.dW, self.db = grad_W, (None if self.b is None else grad_b)
        else:
            self.dW += grad_W  # gradients add up until zero_grad(), as in PyTorch
            if self.b is not None:
                self.db += grad_b
        return grad_x.reshape(x.shape)                                # (*, in)
        # END SOLUTION

    def _check_input(self, x) -> np.ndarray:
        """``x`` as a float array of ``W``'s dtype whose last axis has ``in_features`` entries."""
        x = as_float_array(x, "x", "Linear.forward", dtype=self.W.dtype)
        if x.ndim < 2:  # a lone sample (in,): the missing batch axis is the usual mistake
            check_ndim(x, 2, "x", "Linear.forward", "(N, in_features) or (N, *, in_features)")
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r}.forward: x has shape {x.shape}, but its last axis must have "
                f"{self.in_features} features (in_features). Fix the previous layer's output "
                f"size, or build Linear({x.shape[-1]}, {self.out_features})."
            )
        check_same_dtype(x, self.W, "x", "W", "Linear.forward")
        return x

    @property
    def weight(self) -> np.ndarray:
        """``W.T``: the same memory in PyTorch's ``(out_features, in_features)`` layout."""
        return self.W.T

    @weight.setter
    def weight(self, value: np.ndarray) -> None:
        # ``layer.weight *= 0.1`` has scaled W in place through the view and assigns it back
        check_same_view(value, self.W.T, f"{self!r}.weight",
                        "layer.weight[...] = value, value of shape (out_features, in_features)")

    @property
    def bias(self) -> np.ndarray | None:
        """``b[0]``: the same memory in PyTorch's ``(out_features,)`` layout, or ``None``."""
        return None if self.b is None else self.b[0]

    @bias.setter
    def bias(self, value: np.ndarray | None) -> None:
        if self.b is None:
            if value is not None:
                raise TypeError(f"{self!r} has no bias to assign to; build it with bias=True.")
            return
        check_same_view(value, self.b[0], f"{self!r}.bias",
                        "layer.bias[...] = value, value of shape (out_features,)")

    def parameters(self) -> list[np.ndarray]:
        return [self.W] if self.b is None else [self.W, self.b]

    def grads(self) -> list[np.ndarray | None]:
        return [self.dW] if self.b is None else [self.dW, self.db]

    def extra_repr(self) -> str:
        bias = "" if self.b is not None else ", bias=False"
        return f"input_dim={self.in_features}, output_dim={self.out_features}{bias}"
