"""``Linear``: the fully connected layer ``y = x @ W + b``."""

from __future__ import annotations

import numpy as np

from mini_torch import functional as F
from mini_torch import init
from mini_torch._checks import as_float_array, check_positive_int
from mini_torch.nn.module import Module


class Linear(Module):
    """Fully connected layer: ``y = x @ W + b``.

    ``W`` starts He-normal (``std = sqrt(2 / input_dim)``), ``b`` at zero. The backward
    *accumulates* into ``dW`` / ``db`` (as PyTorch does) until :meth:`zero_grad`.

    Args:
        input_dim: features per input sample.
        output_dim: features per output sample.
        rng: generator for the initial weights (default: the global one, see ``manual_seed``).

    Attributes:
        W: ``(input_dim, output_dim)`` weights.
        b: ``(1, output_dim)`` bias.
        dW, db: their gradients, ``None`` until the first backward.
        x: the cached input of the last forward, ``None`` until then.

    Shape:
        - Input: ``(N, input_dim)``
        - Output: ``(N, output_dim)``

    Examples:
        >>> layer = Linear(3, 4)
        >>> layer(np.ones((2, 3), np.float32)).shape
        (2, 4)
    """

    def __init__(self, input_dim: int, output_dim: int, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.input_dim = check_positive_int(input_dim, "input_dim", "Linear")
        self.output_dim = check_positive_int(output_dim, "output_dim", "Linear")
        self.W = init.he_normal(self.input_dim, self.output_dim, rng=rng)
        self.b = np.zeros((1, self.output_dim), dtype=self.W.dtype)
        self.x: np.ndarray | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "x", "Linear.forward", dtype=self.W.dtype)  # cached for backward
        # BEGIN SOLUTION
        y = F.linear(x, self.W, self.b)  # checks x against W before anything is cached
        self.x = x
        return y
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x = self._cached_input()
        # BEGIN SOLUTION
        grad_x, grad_W, grad_b = F.linear_backward(grad_output, x, self.W)
        if self.dW is None:
            self.dW, self.db = grad_W, grad_b
        else:
            self.dW += grad_W  # gradients add up until zero_grad(), as in PyTorch
            self.db += grad_b
        return grad_x
        # END SOLUTION

    def parameters(self) -> list[np.ndarray]:
        return [self.W, self.b]

    def grads(self) -> list[np.ndarray | None]:
        return [self.dW, self.db]

    def extra_repr(self) -> str:
        return f"input_dim={self.input_dim}, output_dim={self.output_dim}"
