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
from mini_torch._checks import (
    REDUCTIONS,
    check_choice,
    check_in_range,
    check_loss_inputs,
)


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

    Rows whose class-index target equals ``ignore_index`` contribute nothing: the loss is the
    mean over the other rows (PyTorch's rule), and their gradient rows are zero. A language
    model pads with it; flatten its ``(B, T, V)`` logits to ``(B * T, V)`` and its targets to
    ``(B * T,)`` first, as in PyTorch.

    Args:
        reduction: ``"mean"`` (default, divides by the rows not ignored) or ``"sum"``.
        label_smoothing: in ``[0, 1]``; 0 (default) disables it.
        ignore_index: a class-index target with this value is skipped (default -100, as
            PyTorch). Applies to class indices only, not to probability targets.

    Shape:
        - predictions: logits ``(N, C)`` (raw scores, no softmax applied)
        - targets: class indices ``(N,)`` or ``(N, 1)`` (integers), or probabilities ``(N, C)``

    Examples:
        >>> criterion = CrossEntropyLoss()
        >>> round(criterion(np.zeros((2, 4)), np.array([0, 3])).item(), 4)  # log 4
        1.3863
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0,
                 ignore_index: int = -100) -> None:
        super().__init__(reduction)
        check_in_range(label_smoothing, "label_smoothing", "CrossEntropyLoss", 0.0, 1.0)
        self.label_smoothing = float(label_smoothing)
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
            raise TypeError(
                f"CrossEntropyLoss: ignore_index must be an integer class index, got "
                f"{type(ignore_index).__name__} {ignore_index!r}."
            )
        self.ignore_index = int(ignore_index)

    def forward(self, predictions: np.ndarray, targets: np.ndarray) -> np.floating:
        keep = self._kept_rows(targets)  # the rows whose target is not ignore_index
        # BEGIN SOLUTION
        value = F.cross_entropy(np.asarray(predictions)[keep], np.asarray(targets)[keep],
                                self.reduction, self.label_smoothing)
        self.predictions, self.targets = predictions, targets
        return value
        # END SOLUTION

    def backward(self) -> np.ndarray:
        predictions, targets = self._cached()
        keep = self._kept_rows(targets)
        # BEGIN SOLUTION
        predictions = np.asarray(predictions)
        # dL/dz = (softmax(z) - q) / (rows kept) on the kept rows, 0 on the ignored ones
        grad_kept = F.cross_entropy_backward(predictions[keep], np.asarray(targets)[keep],
                                             self.reduction, self.label_smoothing)
        grad = np.zeros(predictions.shape, dtype=grad_kept.dtype)
        grad[keep] = grad_kept
        return grad
        # END SOLUTION

    def _kept_rows(self, targets) -> np.ndarray | slice:
        """A boolean row mask of the targets that are not ``ignore_index`` (``slice(None)``, all
        rows, when none is, or when the targets are probabilities)."""
        targets = np.asarray(targets)
        if targets.dtype.kind not in "iu" or targets.ndim not in (1, 2) \
                or (targets.ndim == 2 and targets.shape[1] != 1):
            return slice(None)
        keep = targets.reshape(len(targets)) != self.ignore_index
        if keep.all():
            return slice(None)
        if not keep.any():
            raise ValueError(
                f"CrossEntropyLoss: every one of the {len(targets)} targets is ignore_index "
                f"({self.ignore_index}), so there is nothing to average (PyTorch returns nan). "
                f"Check the padding of the batch, or the ignore_index you passed."
            )
        return keep

    def extra_repr(self) -> str:
        ignore = "" if self.ignore_index == -100 else f", ignore_index={self.ignore_index}"
        return f"{super().extra_repr()}, label_smoothing={self.label_smoothing}{ignore}"


class BCELoss(_ReducedLoss):
    """Binary cross-entropy on probabilities, as ``torch.nn.BCELoss``.

    ``loss = -mean(t log p + (1 - t) log(1 - p))`` for predictions ``p`` in ``[0, 1]`` (the
    output of a ``Sigmoid``) and targets ``t`` in ``[0, 1]``. As in PyTorch each log is clamped
    at ``-100``, so ``p = 0`` or ``1`` gives a finite loss. The gradient is
    ``(p - t) / max(p (1 - p), 1e-12) / p.size``. Prefer :class:`BCEWithLogitsLoss` on the
    logits where you can: it is stable where ``p`` saturates.

    Args:
        reduction: ``"mean"`` (default) or ``"sum"``.

    Shape:
        - predictions: probabilities, e.g. ``(N, 1)``
        - targets: the same shape, values in ``[0, 1]``

    Examples:
        >>> round(BCELoss()(np.full((2, 1), 0.5), np.ones((2, 1))).item(), 4)  # log 2
        0.6931
    """

    def forward(self, predictions: np.ndarray, targets: np.ndarray) -> np.floating:
        predictions, targets = self._check(predictions, targets)
        # BEGIN SOLUTION
        with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped as PyTorch does
            log_p = np.maximum(np.log(predictions), -100.0)
            log_1mp = np.maximum(np.log1p(-predictions), -100.0)
        losses = -(targets * log_p + (1 - targets) * log_1mp)
        self.predictions, self.targets = predictions, targets
        return losses.mean() if self.reduction == "mean" else losses.sum()
        # END SOLUTION

    def backward(self) -> np.ndarray:
        predictions, targets = self._cached()
        # BEGIN SOLUTION
        # dL/dp = -(t / p - (1 - t) / (1 - p)) = (p - t) / (p (1 - p)), for each element
        grad = (predictions - targets) / np.maximum(predictions * (1 - predictions), 1e-12)
        return grad / predictions.size if self.reduction == "mean" else grad
        # END SOLUTION

    def _check(self, predictions, targets) -> tuple[np.ndarray, np.ndarray]:
        """Float arrays of one shape, both inside ``[0, 1]``; a clear error otherwise."""
        predictions, targets = check_loss_inputs(predictions, targets, self.reduction,
                                                 "BCELoss", "predictions")
        for name, array in (("predictions", predictions), ("targets", targets)):
            if not ((array >= 0) & (array <= 1)).all():
                fix = " Apply a Sigmoid first, or use BCEWithLogitsLoss on the logits." \
                    if name == "predictions" else ""
                raise ValueError(
                    f"BCELoss: every element of {name} must be in [0, 1], got values from "
                    f"{float(np.nanmin(array)):.4g} to {float(np.nanmax(array)):.4g}.{fix}"
                )
        return predictions, targets


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
