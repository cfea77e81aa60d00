"""``Dropout``: zero random entries while training, scaling the rest so the mean is unchanged."""

from __future__ import annotations

import numpy as np

from mini_torch import init
from mini_torch._checks import as_float_array, check_grad_output, check_in_range
from mini_torch.nn.module import Module


def dropout_mask(shape: tuple[int, ...], p: float, rng: np.random.Generator,
                 dtype=np.float32) -> np.ndarray:
    """A random inverted-dropout mask: ``0`` with probability ``p``, else ``1 / (1 - p)``.

    Each entry is kept independently with probability ``1 - p``; the kept ones are scaled by
    ``1 / (1 - p)`` so that ``E[mask] = 1`` and ``E[x * mask] = x``. With ``p = 1`` every entry
    is dropped and the mask is all zeros.

    Shape:
        Output: ``shape``, of dtype ``dtype``
    """
    # BEGIN SOLUTION
    keep = rng.random(shape) >= p                         # True with probability 1 - p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)           # a Python float keeps dtype as it is
    return keep.astype(dtype) * scale
    # END SOLUTION


def dropout(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Apply a mask from :func:`dropout_mask`: ``x * mask``.

    Shape:
        - x, mask: ``(*)``, the same shape
        - Output: same shape
    """
    # BEGIN SOLUTION
    return x * mask
    # END SOLUTION


def dropout_backward(grad_output: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``dL/dx`` of :func:`dropout`: the same mask, applied to the gradient.

    Shape:
        - grad_output, mask: ``(*)``, the same shape
        - Output: same shape
    """
    # BEGIN SOLUTION
    return grad_output * mask  # y = x * mask, so dL/dx = G * mask: dropped entries get no gradient
    # END SOLUTION


class Dropout(Module):
    """Inverted dropout: in training mode each entry is zeroed with probability ``p`` and the kept
    entries are scaled by ``1 / (1 - p)``; in evaluation mode the layer is the identity.

    The mask comes from the global generator (``mini_torch.manual_seed`` makes it repeat) and is
    drawn anew at every forward; :meth:`backward` reuses the mask of the last forward. Because of
    the scaling, the expected output equals the input, so nothing changes at evaluation time.

    Args:
        p: probability of zeroing an entry, in ``[0, 1]`` (``p = 1`` gives zeros).

    Attributes:
        mask: the mask of the last forward (all ones in evaluation mode), ``None`` until then.

    Shape:
        - Input: ``(*)``, any shape
        - Output: same shape as the input

    Examples:
        >>> drop = Dropout(0.5)
        >>> y = drop(np.ones((2, 4), np.float32))   # entries are 0.0 or 2.0
        >>> float(drop.eval()(np.ones((2, 4), np.float32)).sum())   # eval: the identity
        8.0
    """

    _cached_names = ("mask",)

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        check_in_range(p, "dropout probability p", "Dropout", low=0.0, high=1.0)
        self.p = float(p)
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_array(x, "x", "Dropout.forward")
        # BEGIN SOLUTION
        if not self.training or self.p == 0.0:
            # the identity: a mask of ones, broadcast to x's shape without using memory
            self.mask = np.broadcast_to(np.ones((), dtype=x.dtype), x.shape)
            return x
        mask = dropout_mask(x.shape, self.p, init.get_generator(), x.dtype)
        self.mask = mask
        return dropout(x, mask)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        mask = self._cached("mask")
        grad_output = check_grad_output(grad_output, mask.shape, mask.dtype, "Dropout.backward")
        # BEGIN SOLUTION
        return dropout_backward(grad_output, mask)
        # END SOLUTION

    def extra_repr(self) -> str:
        return f"p={self.p}"
