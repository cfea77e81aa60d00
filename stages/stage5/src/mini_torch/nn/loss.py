"""Loss functions as objects: ``forward`` caches its inputs, ``backward`` starts backprop.

A ``Loss`` is not a ``Module``: it has no parameters and its ``backward`` takes no argument, because
it is where the chain rule starts (``dL/dL = 1``). The math lives in ``mini_torch.functional``;
the classes only hold the options (``reduction``, ``label_smoothing``) and the cached arrays.
Swapping one loss for another changes what is optimised without touching the training loop
(the Strategy pattern).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from mini_torch import functional as F
from mini_torch._checks import REDUCTIONS, check_choice, check_in_range


class Loss(ABC):
    """Base class of losses: ``forward(predictions, targets) -> scalar``, ``backward() -> array``.

    ``forward`` caches ``predictions`` and ``targets`` and returns the loss as a 0-d numpy
    floating scalar of the predictions' dtype (``loss.item()``, ``float(loss)`` and
    ``f"{loss:.4f}"`` work as on a PyTorch loss);
    ``backward`` returns ``dL/d(predictions)``, shaped like ``predictions``, ready to be passed to
    ``model.backward``.
    """

    def __init__(self) -> None:
        self.predictions: np.ndarray | None = None
        self.targets: np.ndarray | None = None

    @abstractmethod
    def forward(self, predictions: np.ndarray, targets: np.ndarray) -> np.floating:
        """Cache both arrays and return the loss value."""

    @abstractmethod
    def backward(self) -> np.ndarray:
        """The gradient of the last forward's loss with respect to its predictions."""

    def __call__(self, predictions: np.ndarray, targets: np.ndarray) -> np.floating:
        return self.forward(predictions, targets)

    def _cached(self) -> tuple[np.ndarray, np.ndarray]:
        """The arrays of the last forward; a clear error if there was none."""
        if self.predictions is None or self.targets is None:
            raise RuntimeError(
                f"{self!r}: backward called before forward; compute the loss first "
                f"(loss = criterion(predictions, targets)), then call criterion.backward()."
            )
        return self.predictions, self.targets

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"


class _ReducedLoss(Loss, ABC):
    """A loss with PyTorch's ``reduction`` option (``"mean"`` or ``"sum"``)."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_choice(reduction, REDUCTIONS, "reduction", type(self).__name__)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_ReducedLoss):
    """Mean squared error: ``mean((predictions - targets)^2)`` over all elements.

    The gradient is ``2 (predictions - targets) / predictions.size``: the mean divides by the
    number of elements, so the gradient does too. Shapes must match exactly.

    Args:
        reduction: ``"mean"`` (default) or ``"sum"``.

    Shape:
        - predictions: ``(N, D)``
        - targets: ``(N, D)``, the same shape (a ``(N,)`` target against ``(N, 1)`` is an error)

    Examples:
        >>> criterion = MSELoss()
        >>> criterion(np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])).item()
        2.5
    """

    def forward(self, predictions: np.ndarray, targets: np.ndarray) -> np.floating:
        # BEGIN SOLUTION
        value = F.mse_loss(predictions, targets, self.reduction)
        self.predictions, self.targets = predictions, targets
        return value
        # END SOLUTION

    def backward(self) -> np.ndarray:
        predictions, targets = self._cached()
        # BEGIN SOLUTION
        return F.mse_loss_backward(predictions, targets, self.reduction)
        # END SOLUTION


class CrossEntropyLoss(_ReducedLoss):
    """Softmax cross-entropy on logits, as ``torch.nn.CrossEntropyLoss``.

    ``loss = -mean_n sum_c q_nc log softmax(z)_nc`` where ``q`` is the target distribution: one-hot
    rows for class indices, or the given probabilities; with label smoothing
    ``q = (1 - label_smoothing) q + label_smoothing / C``. The gradient is ``(softmax(z) - q) / N``.

    Args:
        reduction: ``"mean"`` (default, divides by N) or ``"sum"``.
        label_smoothing: in ``[0, 1]``; 0 (default) disables it.

    Shape:
        - predictions: logits ``(N, C)`` (raw scores, no softmax applied)
        - targets: class indices ``(N,)`` or ``(N, 1)`` (integers), or probabilities ``(N, C)``

    Examples:
        >>> criterion = CrossEntropyLoss()
        >>> round(criterion(np.zeros((2, 4)), np.array([0, 3])).item(), 4)  # log 4
        1.3863
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        check_in_range(label_smoothing, "label_smoothing", "CrossEntropyLoss", 0.0, 1.0)
        self.label_smoothing = float(label_smoothing)

    def forward(self, predictions: np.ndarray, targets: np.ndarray) -> np.floating:
        # BEGIN SOLUTION
        value = F.cross_entropy(predictions, targets, self.reduction, self.label_smoothing)
        self.predictions, self.targets = predictions, targets
        return value
        # END SOLUTION

    def backward(self) -> np.ndarray:
        predictions, targets = self._cached()
        # BEGIN SOLUTION
        return F.cross_entropy_backward(predictions, targets, self.reduction,
                                        self.label_smoothing)
        # END SOLUTION

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, label_smoothing={self.label_smoothing}"


class BCEWithLogitsLoss(_ReducedLoss):
    """Binary cross-entropy on logits, as ``torch.nn.BCEWithLogitsLoss``.

    ``loss = mean(max(z, 0) - z t + log(1 + exp(-|z|)))``, the stable form of
    ``-[t log sigmoid(z) + (1 - t) log(1 - sigmoid(z))]``; gradient ``(sigmoid(z) - t) / z.size``.

    Shape:
        - predictions: logits, e.g. ``(N, 1)``
        - targets: the same shape, values in ``[0, 1]``

    Examples:
        >>> round(BCEWithLogitsLoss()(np.zeros((2, 1)), np.ones((2, 1))).item(), 4)  # log 2
        0.6931
    """

    def forward(self, predictions: np.ndarray, targets: np.ndarray) -> np.floating:
        # BEGIN SOLUTION
        value = F.binary_cross_entropy_with_logits(predictions, targets, self.reduction)
        self.predictions, self.targets = predictions, targets
        return value
        # END SOLUTION

    def backward(self) -> np.ndarray:
        predictions, targets = self._cached()
        # BEGIN SOLUTION
        return F.binary_cross_entropy_with_logits_backward(predictions, targets, self.reduction)
        # END SOLUTION
