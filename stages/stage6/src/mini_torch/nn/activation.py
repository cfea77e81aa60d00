"""Element-wise activation layers. Each keeps its input and delegates the math to ``functional``."""

from __future__ import annotations

from abc import ABC

import numpy as np

from mini_torch import functional as F
from mini_torch._checks import check_choice
from mini_torch.nn.module import Module


class Activation(Module, ABC):
    """Base class of parameter-free, element-wise layers.

    ``forward`` caches its input in ``self.x`` because every activation's derivative is a
    function of the input; ``backward`` multiplies ``grad_output`` by that derivative.

    Shape:
        - Input: ``(N, *)``, any shape
        - Output: same shape as the input
    """

    def __init__(self) -> None:
        super().__init__()
        self.x: np.ndarray | None = None


class ReLU(Activation):
    """``max(x, 0)``.

    Args:
        inplace: accepted for PyTorch's signature and a no-op here: the output is always a new
            array, because the backward needs the unchanged input ``x`` that forward cached.

    Examples:
        >>> ReLU()(np.array([[-1.0, 2.0]]))
        array([[0., 2.]])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        self.x = x
        return F.relu(x)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x = self._cached_input()
        # BEGIN SOLUTION
        return F.relu_backward(grad_output, x)
        # END SOLUTION


class LeakyReLU(Activation):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise.

    Args:
        negative_slope: slope for negative inputs (PyTorch's default, 0.01).
        inplace: accepted for PyTorch's signature and a no-op here: the output is always a new
            array, because the backward needs the unchanged input ``x`` that forward cached.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)
        self.inplace = bool(inplace)

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        self.x = x
        return F.leaky_relu(x, self.negative_slope)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x = self._cached_input()
        # BEGIN SOLUTION
        return F.leaky_relu_backward(grad_output, x, self.negative_slope)
        # END SOLUTION

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Activation):
    """``1 / (1 + exp(-x))``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        self.x = x
        return F.sigmoid(x)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x = self._cached_input()
        # BEGIN SOLUTION
        return F.sigmoid_backward(grad_output, x)
        # END SOLUTION


class Tanh(Activation):
    """``tanh(x)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        self.x = x
        return F.tanh(x)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x = self._cached_input()
        # BEGIN SOLUTION
        return F.tanh_backward(grad_output, x)
        # END SOLUTION


class GELU(Activation):
    """Gaussian error linear unit, ``x * Phi(x)``.

    Args:
        approximate: ``"none"`` for the exact erf form, ``"tanh"`` for the tanh approximation
            (PyTorch's two options).
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        check_choice(approximate, ("none", "tanh"), "approximate", "GELU")
        self.approximate = approximate

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        self.x = x
        return F.gelu(x, self.approximate)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x = self._cached_input()
        # BEGIN SOLUTION
        return F.gelu_backward(grad_output, x, self.approximate)
        # END SOLUTION

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Identity(Activation):
    """Returns its input unchanged; its backward passes the gradient through."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return x

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        self._cached_input()
        return grad_output
