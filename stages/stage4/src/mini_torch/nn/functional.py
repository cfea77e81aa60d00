"""``import mini_torch.nn.functional as F``: PyTorch's spelling of the functional API.

Everything of :mod:`mini_torch.functional` under the same names (``F.relu``, ``F.softmax(x,
dim=-1)``, ``F.gelu``, ``F.mse_loss``, ...), plus the losses that PyTorch's ``F`` has with
arguments of the loss modules: ``cross_entropy`` with ``ignore_index`` and
``binary_cross_entropy`` on probabilities. These two are thin wrappers over
:class:`~mini_torch.nn.CrossEntropyLoss` and :class:`~mini_torch.nn.BCELoss`: the same value,
computed by the same code. Their backward is the loss module's (``loss.backward()``): keep the
module when you need the gradient.
"""

from __future__ import annotations

import numpy as np

from mini_torch.functional import (
    accuracy,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_backward,
    confusion_matrix,
    cross_entropy_backward,
    gelu,
    gelu_backward,
    leaky_relu,
    leaky_relu_backward,
    linear,
    linear_backward,
    log_softmax,
    mse_loss,
    mse_loss_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    softmax,
    tanh,
    tanh_backward,
)
from mini_torch.nn.loss import BCELoss, CrossEntropyLoss

__all__ = [
    "accuracy",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_backward",
    "confusion_matrix",
    "cross_entropy",
    "cross_entropy_backward",
    "gelu",
    "gelu_backward",
    "leaky_relu",
    "leaky_relu_backward",
    "linear",
    "linear_backward",
    "log_softmax",
    "mse_loss",
    "mse_loss_backward",
    "relu",
    "relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "tanh",
    "tanh_backward",
]


def cross_entropy(input: np.ndarray, target: np.ndarray, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> np.floating:
    """``torch.nn.functional.cross_entropy``: :class:`CrossEntropyLoss` as one call.

    Rows whose class-index target is ``ignore_index`` are skipped (the mean is over the others),
    as in PyTorch: ``F.cross_entropy(logits.reshape(-1, C), targets.reshape(-1),
    ignore_index=-1)``.

    Shape:
        - input: logits ``(N, C)``; target: class indices ``(N,)`` or probabilities ``(N, C)``
        - Output: a 0-d value of the logits' dtype
    """
    return CrossEntropyLoss(reduction, label_smoothing, ignore_index)(input, target)


def binary_cross_entropy(input: np.ndarray, target: np.ndarray, *,
                         reduction: str = "mean") -> np.floating:
    """``torch.nn.functional.binary_cross_entropy``: :class:`BCELoss` on probabilities, one call.

    Shape:
        - input: probabilities in ``[0, 1]``, e.g. ``(N, 1)``; target: the same shape
        - Output: a 0-d value of the input's dtype
    """
    return BCELoss(reduction)(input, target)
