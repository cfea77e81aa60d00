"""The functional core: every formula of Mini-Torch as a forward/backward pair of pure functions.

Notation is batch-first and row-vector, as in PyTorch: ``x`` has shape ``(N, in)`` (one sample per
row) and a linear layer computes ``y = x @ W + b`` with ``W`` of shape ``(in, out)``.

Each ``<op>_backward`` sits right below its ``<op>`` and carries its derivation in one comment line.
A backward takes ``grad_output = dL/dy`` (shaped like the forward's output) plus the forward's
inputs, and returns ``dL/d(input)`` for each input. The losses return their gradient with respect to
the predictions directly (their ``grad_output`` is ``dL/dL = 1``).

Every function keeps the floating dtype it is given: float32 in, float32 out, forward and backward.
Constants are Python floats, which numpy never lets upcast a float32 array.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from mini_torch._checks import (
    as_class_indices,
    as_float_array,
    axis_or_dim,
    check_choice,
    check_confusion_inputs,
    check_cross_entropy_target,
    check_elementwise_backward,
    check_grad_output,
    check_linear,
    check_logits,
    check_loss_inputs,
    check_scores,
)
from mini_torch._erf import erf as _erf

__all__ = [
    "accuracy",
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

_GELU_APPROXIMATIONS = ("none", "tanh")
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715


# --------------------------------------------------------------------------------------- linear

def linear(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Affine map ``y = x @ W + b``.

    Args:
        x: input batch, one sample per row.
        W: weights.
        b: bias, added to every row.

    Shape:
        - x: ``(N, in)``
        - W: ``(in, out)``
        - b: ``(out,)`` or ``(1, out)``
        - Output: ``(N, out)``

    Examples:
        >>> x = np.ones((2, 3), np.float32); W = np.ones((3, 4), np.float32)
        >>> linear(x, W, np.zeros((1, 4), np.float32)).shape
        (2, 4)
    """
    x, W, b = check_linear(x, W, b, "linear")
    # BEGIN SOLUTION
    y = x @ W
    y += b  # in place: adding the bias needs no second (N, out) array
    return y
    # END SOLUTION


def linear_backward(grad_output: np.ndarray, x: np.ndarray,
                    W: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of ``y = x @ W + b`` with respect to ``x``, ``W`` and ``b``.

    Args:
        grad_output: ``dL/dy``.
        x: the input the forward saw.
        W: the weights the forward used.

    Shape:
        - grad_output: ``(N, out)``
        - x: ``(N, in)``; W: ``(in, out)``
        - Output: ``grad_x (N, in)``, ``grad_W (in, out)``, ``grad_b (1, out)``

    ``x`` and ``W`` are the arrays :func:`linear` checked; only ``grad_output`` is new here.
    """
    grad_output = check_grad_output(grad_output, (len(x), W.shape[1]), W.dtype, "linear_backward")
    # BEGIN SOLUTION
    grad_x = grad_output @ W.T  # dL/dx = dL/dy @ W^T            (N, out) @ (out, in)
    grad_W = x.T @ grad_output  # dL/dW = x^T @ dL/dy            (in, N) @ (N, out)
    grad_b = grad_output.sum(axis=0, keepdims=True)  # dL/db = sum over the batch of dL/dy
    return grad_x, grad_W, grad_b
    # END SOLUTION


# ---------------------------------------------------------------------------------- activations

def relu(x: np.ndarray) -> np.ndarray:
    """Rectified linear unit ``max(x, 0)``, element-wise.

    Shape:
        Input: any shape. Output: same shape as the input.
    """
    x = as_float_array(x, "x", "relu")
    # BEGIN SOLUTION
    return np.maximum(x, 0)
    # END SOLUTION


def relu_backward(grad_output: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of :func:`relu`: passes ``grad_output`` where ``x > 0``, zero elsewhere."""
    grad_output, x = check_elementwise_backward(grad_output, x, "relu_backward")
    # BEGIN SOLUTION
    return grad_output * (x > 0)  # dL/dx = dL/dy * 1[x > 0]
    # END SOLUTION


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: ``x`` for ``x > 0``, ``negative_slope * x`` otherwise (PyTorch's default 0.01).

    Shape:
        Input: any shape. Output: same shape as the input.
    """
    x = as_float_array(x, "x", "leaky_relu")
    slope = float(negative_slope)  # a Python float never upcasts a float32 array
    # BEGIN SOLUTION
    return np.where(x > 0, x, slope * x)
    # END SOLUTION


def leaky_relu_backward(grad_output: np.ndarray, x: np.ndarray,
                        negative_slope: float = 0.01) -> np.ndarray:
    """Gradient of :func:`leaky_relu`: slope 1 for ``x > 0``, ``negative_slope`` otherwise."""
    grad_output, x = check_elementwise_backward(grad_output, x, "leaky_relu_backward")
    slope = float(negative_slope)
    # BEGIN SOLUTION
    return np.where(x > 0, grad_output, slope * grad_output)  # dL/dx = dL/dy * (1 or slope)
    # END SOLUTION


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, via ``scipy.special.expit`` (no overflow at -1000).

    Shape:
        Input: any shape. Output: same shape, values in ``[0, 1]``.
    """
    x = as_float_array(x, "x", "sigmoid")
    # BEGIN SOLUTION
    return special.expit(x)
    # END SOLUTION


def sigmoid_backward(grad_output: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of :func:`sigmoid`: ``s * (1 - s)`` with ``s = sigmoid(x)``."""
    grad_output, x = check_elementwise_backward(grad_output, x, "sigmoid_backward")
    # BEGIN SOLUTION
    s = special.expit(x)
    return grad_output * s * (1.0 - s)  # dL/dx = dL/dy * s (1 - s)
    # END SOLUTION


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, element-wise.

    Shape:
        Input: any shape. Output: same shape, values in ``[-1, 1]``.
    """
    x = as_float_array(x, "x", "tanh")
    # BEGIN SOLUTION
    return np.tanh(x)
    # END SOLUTION


def tanh_backward(grad_output: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of :func:`tanh`: ``1 - tanh(x)^2``."""
    grad_output, x = check_elementwise_backward(grad_output, x, "tanh_backward")
    # BEGIN SOLUTION
    t = np.tanh(x)
    return grad_output * (1.0 - t * t)  # dL/dx = dL/dy * (1 - t^2)
    # END SOLUTION


def gelu(x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Gaussian error linear unit, as in PyTorch.

    ``approximate="none"``: ``x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2))`` (exact).
    ``approximate="tanh"``: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    Shape:
        Input: any shape. Output: same shape as the input.
    """
    x = as_float_array(x, "x", "gelu")
    check_choice(approximate, _GELU_APPROXIMATIONS, "approximate", "gelu")
    # BEGIN SOLUTION
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)
        return 0.5 * x * (1.0 + np.tanh(inner))
    return 0.5 * x * (1.0 + _erf(x * _INV_SQRT_2))
    # END SOLUTION


def gelu_backward(grad_output: np.ndarray, x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Gradient of :func:`gelu` for either form of ``approximate``."""
    grad_output, x = check_elementwise_backward(grad_output, x, "gelu_backward")
    check_choice(approximate, _GELU_APPROXIMATIONS, "approximate", "gelu_backward")
    # BEGIN SOLUTION
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)
        t = np.tanh(inner)
        d_inner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x * x)
        # d/dx [0.5 x (1 + t)] = 0.5 (1 + t) + 0.5 x (1 - t^2) d_inner
        return grad_output * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * d_inner)
    cdf = 0.5 * (1.0 + _erf(x * _INV_SQRT_2))
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    return grad_output * (cdf + x * pdf)  # d/dx [x Phi(x)] = Phi(x) + x phi(x)
    # END SOLUTION


# -------------------------------------------------------------------------------------- softmax

def softmax(x: np.ndarray, axis: int = -1, *, dim: int | None = None) -> np.ndarray:
    """``exp(x_i) / sum_j exp(x_j)`` along ``axis``, stable for any finite input.

    Subtracting the maximum first changes nothing mathematically (it cancels in the ratio) but
    keeps every ``exp`` at most 1, so logits of 1e4 do not overflow. ``dim=`` is PyTorch's name
    for ``axis`` (``softmax(x, dim=-1)``).

    Shape:
        Input: ``(N, C)`` (or any shape). Output: same shape; entries along ``axis`` sum to 1.
    """
    x = as_float_array(x, "x", "softmax")
    axis = axis_or_dim(axis, dim, "softmax")
    # BEGIN SOLUTION
    shifted = x - x.max(axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=axis, keepdims=True)
    # END SOLUTION


def log_softmax(x: np.ndarray, axis: int = -1, *, dim: int | None = None) -> np.ndarray:
    """``log(softmax(x))`` computed as ``(x - m) - log(sum exp(x - m))`` with ``m = max(x)``.

    Never takes the log of an underflowed zero, so it stays finite where ``log(softmax(x))``
    would give ``-inf``. ``dim=`` is PyTorch's name for ``axis``.

    Shape:
        Input: ``(N, C)`` (or any shape). Output: same shape.
    """
    x = as_float_array(x, "x", "log_softmax")
    axis = axis_or_dim(axis, dim, "log_softmax")
    # BEGIN SOLUTION
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    # END SOLUTION


# --------------------------------------------------------------------------------------- losses

def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    """Mean or sum of per-element losses, as a 0-d value of the losses' dtype."""
    return losses.mean() if reduction == "mean" else losses.sum()


def mse_loss(pred: np.ndarray, target: np.ndarray, reduction: str = "mean") -> np.ndarray:
    """Mean squared error ``mean((pred - target)^2)`` over all elements (or the sum).

    Shapes must match exactly: a ``(N,)`` target against ``(N, 1)`` predictions is refused
    instead of being broadcast to ``(N, N)``.

    Shape:
        - pred, target: the same shape, e.g. ``(N, D)``
        - Output: a 0-d value of pred's dtype
    """
    pred, target = check_loss_inputs(pred, target, reduction, "mse_loss")
    # BEGIN SOLUTION
    diff = pred - target
    return _reduce(diff * diff, reduction)
    # END SOLUTION


def mse_loss_backward(pred: np.ndarray, target: np.ndarray, reduction: str = "mean") -> np.ndarray:
    """Gradient of :func:`mse_loss` with respect to ``pred``: ``2 (pred - target) / pred.size``.

    The divisor is the number of elements (what the mean divides by), not the batch size.

    Shape:
        Output: same shape as ``pred``.
    """
    pred, target = check_loss_inputs(pred, target, reduction, "mse_loss_backward")
    # BEGIN SOLUTION
    scale = 2.0 / pred.size if reduction == "mean" else 2.0
    return scale * (pred - target)  # dL/dpred = 2 (pred - target) / size
    # END SOLUTION


def _target_distribution(target, logits: np.ndarray, label_smoothing: float,
                         where: str) -> np.ndarray:
    """The ``(N, C)`` distribution ``q`` that cross-entropy compares ``softmax(logits)`` to.

    The target is checked here, once: class indices ``(N,)`` / ``(N, 1)`` become one-hot rows,
    probability rows ``(N, C)`` are used as they are. Label smoothing mixes in the uniform
    distribution, as PyTorch defines it: ``q = (1 - label_smoothing) * q + label_smoothing / C``.
    """
    q = check_cross_entropy_target(target, logits, where)  # class indices or probability rows
    if q.ndim == 1:  # one-hot: row n is 1 in column target[n], 0 elsewhere
        indices, q = q, np.zeros_like(logits)
        q[np.arange(len(indices)), indices] = 1
    if label_smoothing:
        q = (1.0 - label_smoothing) * q + label_smoothing / logits.shape[1]
    return q


def cross_entropy(logits: np.ndarray, target: np.ndarray, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> np.ndarray:
    """Cross-entropy of softmax(logits) against the target: ``-mean_n sum_c q_nc log p_nc``.

    Takes raw scores (logits), not probabilities: the log-softmax inside is stable for logits of
    any finite size, which a separate softmax followed by a log is not.

    Args:
        logits: unnormalised class scores.
        target: class indices ``(N,)`` or ``(N, 1)`` (integers), or class probabilities /
            one-hot rows ``(N, C)`` (floats).
        reduction: ``"mean"`` (divide by N, PyTorch's default) or ``"sum"``.
        label_smoothing: amount of the uniform distribution mixed into the target, in ``[0, 1]``.

    Shape:
        - logits: ``(N, C)``
        - Output: a 0-d value of the logits' dtype
    """
    logits = check_logits(logits, reduction, label_smoothing, "cross_entropy")
    q = _target_distribution(target, logits, float(label_smoothing), "cross_entropy")
    # BEGIN SOLUTION
    per_sample = -(q * log_softmax(logits, axis=1)).sum(axis=1)
    return _reduce(per_sample, reduction)
    # END SOLUTION


def cross_entropy_backward(logits: np.ndarray, target: np.ndarray, reduction: str = "mean",
                           label_smoothing: float = 0.0) -> np.ndarray:
    """Gradient of :func:`cross_entropy` with respect to the logits: ``(softmax(logits) - q) / N``.

    Shape:
        Output: ``(N, C)``, like ``logits``.
    """
    logits = check_logits(logits, reduction, label_smoothing, "cross_entropy_backward")
    q = _target_distribution(target, logits, float(label_smoothing), "cross_entropy_backward")
    # BEGIN SOLUTION
    grad = softmax(logits, axis=1) - q  # dL/dz = softmax(z) - q   (rows of q sum to 1)
    return grad / logits.shape[0] if reduction == "mean" else grad
    # END SOLUTION


def binary_cross_entropy_with_logits(logits: np.ndarray, target: np.ndarray,
                                     reduction: str = "mean") -> np.ndarray:
    """Binary cross-entropy on logits: ``-[t log s(z) + (1 - t) log(1 - s(z))]``, ``s = sigmoid``.

    Computed in the stable form ``max(z, 0) - z t + log(1 + exp(-|z|))``, finite for any logit.

    Shape:
        - logits, target: the same shape, e.g. ``(N, 1)``; targets in ``[0, 1]``
        - Output: a 0-d value of the logits' dtype
    """
    z, t = check_loss_inputs(logits, target, reduction, "binary_cross_entropy_with_logits",
                             "logits")
    # BEGIN SOLUTION
    losses = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))
    return _reduce(losses, reduction)
    # END SOLUTION


def binary_cross_entropy_with_logits_backward(logits: np.ndarray, target: np.ndarray,
                                              reduction: str = "mean") -> np.ndarray:
    """Gradient of :func:`binary_cross_entropy_with_logits`: ``(sigmoid(z) - t) / z.size``.

    Shape:
        Output: same shape as ``logits``.
    """
    z, t = check_loss_inputs(logits, target, reduction,
                             "binary_cross_entropy_with_logits_backward", "logits")
    # BEGIN SOLUTION
    grad = special.expit(z) - t  # dL/dz = sigmoid(z) - t
    return grad / z.size if reduction == "mean" else grad
    # END SOLUTION


# -------------------------------------------------------------------------------------- metrics

def accuracy(scores: np.ndarray, target: np.ndarray) -> float:
    """Fraction of samples whose predicted class equals the target class.

    Args:
        scores: class scores ``(N, C)`` (argmax is the prediction), or logits ``(N,)`` /
            ``(N, 1)`` for a binary task (a logit > 0 predicts class 1).
        target: class indices ``(N,)`` / ``(N, 1)``, or one-hot / probability rows ``(N, C)``.

    Returns:
        A Python float in ``[0, 1]``.
    """
    scores = check_scores(scores, "accuracy")  # (N, C), or (N, 1) for binary logits
    true = as_class_indices(target, "target", "accuracy", length=len(scores), length_of="scores")
    predicted = scores.argmax(axis=1) if scores.shape[1] > 1 else scores[:, 0] > 0
    return float(np.mean(predicted == true))


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray,
                     num_classes: int | None = None) -> np.ndarray:
    """Count how often each true class was predicted as each class.

    ``M[t, p]`` is the number of samples of true class ``t`` predicted as class ``p``: the
    diagonal holds the correct predictions, row ``t`` sums to the number of samples of class
    ``t``, and the accuracy is ``trace(M) / sum(M)``.

    Args:
        y_true: true classes: indices ``(N,)`` / ``(N, 1)`` or one-hot ``(N, C)``.
        y_pred: predicted classes: indices, or scores / one-hot ``(N, C)`` (argmax per row).
        num_classes: ``C``; by default the largest class seen plus one (or the number of
            columns of a one-hot / score input, if larger).

    Shape:
        - y_true, y_pred: ``(N,)``, ``(N, 1)`` or ``(N, C)``.
        - Output: ``(C, C)`` int64, rows are true classes, columns predicted classes.

    Examples:
        >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
        array([[1, 0, 0],
               [0, 1, 1],
               [0, 0, 1]])
    """
    true, pred, size = check_confusion_inputs(y_true, y_pred, num_classes, "confusion_matrix")
    # Cell (t, p) of the C x C matrix, flattened, is t * C + p: one bincount counts every pair.
    counts = np.bincount(true * size + pred, minlength=size * size)
    return counts.reshape(size, size).astype(np.int64, copy=False)
