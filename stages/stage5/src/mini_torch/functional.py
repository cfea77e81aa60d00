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

import numexpr
import numpy as np
from scipy import special

from mini_torch._checks import (
    as_float_array,
    check_choice,
    check_class_indices,
    check_in_range,
    check_ndim,
    check_not_empty,
    check_same_dtype,
    check_same_shape,
)

__all__ = [
    "accuracy",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_backward",
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

_REDUCTIONS = ("mean", "sum")
_GELU_APPROXIMATIONS = ("none", "tanh")
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_CUBIC = 0.044715

# numexpr evaluates an element-wise expression in one multi-threaded pass, with no temporary
# arrays, but it only beats numpy's own vectorised loops on large arrays and only for some ops.
# Measured by instructor/benchmarks (see docs/performance.md): for the sigmoid pair it is even
# with numpy at 1 M elements and 1.4-1.5x faster at 4 M; for tanh and both GELU forms it is
# slower at every size. So only the sigmoid pair uses it, from 4 M elements on. Its expressions
# hold integer constants only: a Python float constant would make numexpr compute a float32
# input in float64.
_NUMEXPR_MIN_SIZE = 1 << 22


# --------------------------------------------------------------------------- validation helpers

def _check_grad_output(grad_output, x: np.ndarray, where: str) -> np.ndarray:
    """``grad_output`` must have the shape of the forward's output (here: of ``x``)."""
    grad_output = as_float_array(grad_output, "grad_output", where)
    if grad_output.shape != x.shape:
        raise ValueError(
            f"{where}: grad_output has shape {grad_output.shape} but the forward input x has shape "
            f"{x.shape}; an element-wise op's gradient has the shape of its input."
        )
    return grad_output


def _elementwise_inputs(grad_output, x, where: str) -> tuple[np.ndarray, np.ndarray]:
    x = as_float_array(x, "x", where)
    return _check_grad_output(grad_output, x, where), x


# --------------------------------------------------------------------------------------- linear

def _check_linear(x, W, where: str) -> tuple[np.ndarray, np.ndarray]:
    W = as_float_array(W, "W", where)
    x = as_float_array(x, "x", where, dtype=W.dtype)  # integer inputs take the weights' dtype
    check_ndim(x, 2, "x", where, "(N, in_features)")
    check_ndim(W, 2, "W", where, "(in_features, out_features)")
    check_not_empty(x, "x", where)
    if x.shape[1] != W.shape[0]:
        raise ValueError(
            f"{where}: x has {x.shape[1]} features per sample (shape {x.shape}) but W expects "
            f"{W.shape[0]} inputs (shape {W.shape}). In row-vector notation y = x @ W needs "
            f"x.shape[1] == W.shape[0]; check the layer's input size or transpose W."
        )
    check_same_dtype(x, W, "x", "W", where)
    return x, W


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
    x, W = _check_linear(x, W, "linear")
    b = as_float_array(b, "b", "linear", dtype=W.dtype)
    out_features = W.shape[1]
    if b.shape not in ((out_features,), (1, out_features)):
        raise ValueError(
            f"linear: b must have shape ({out_features},) or (1, {out_features}) to match W of "
            f"shape {W.shape}, got {b.shape}."
        )
    check_same_dtype(x, b, "x", "b", "linear")
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
    """
    x, W = _check_linear(x, W, "linear_backward")
    grad_output = as_float_array(grad_output, "grad_output", "linear_backward", dtype=W.dtype)
    expected = (x.shape[0], W.shape[1])
    if grad_output.shape != expected:
        raise ValueError(
            f"linear_backward: grad_output must have the forward output's shape {expected} "
            f"(N from x, out from W), got {grad_output.shape}."
        )
    check_same_dtype(grad_output, W, "grad_output", "W", "linear_backward")
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
    grad_output, x = _elementwise_inputs(grad_output, x, "relu_backward")
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
    grad_output, x = _elementwise_inputs(grad_output, x, "leaky_relu_backward")
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
    if x.size >= _NUMEXPR_MIN_SIZE:
        return numexpr.evaluate("1 / (1 + exp(-x))", local_dict={"x": x})
    # BEGIN SOLUTION
    return special.expit(x)
    # END SOLUTION


def sigmoid_backward(grad_output: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gradient of :func:`sigmoid`: ``s * (1 - s)`` with ``s = sigmoid(x)``."""
    grad_output, x = _elementwise_inputs(grad_output, x, "sigmoid_backward")
    if x.size >= _NUMEXPR_MIN_SIZE:
        s = sigmoid(x)
        return numexpr.evaluate("g * s * (1 - s)", local_dict={"g": grad_output, "s": s})
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
    grad_output, x = _elementwise_inputs(grad_output, x, "tanh_backward")
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
    return 0.5 * x * (1.0 + special.erf(x * _INV_SQRT_2))
    # END SOLUTION


def gelu_backward(grad_output: np.ndarray, x: np.ndarray, approximate: str = "none") -> np.ndarray:
    """Gradient of :func:`gelu` for either form of ``approximate``."""
    grad_output, x = _elementwise_inputs(grad_output, x, "gelu_backward")
    check_choice(approximate, _GELU_APPROXIMATIONS, "approximate", "gelu_backward")
    # BEGIN SOLUTION
    if approximate == "tanh":
        inner = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)
        t = np.tanh(inner)
        d_inner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x * x)
        # d/dx [0.5 x (1 + t)] = 0.5 (1 + t) + 0.5 x (1 - t^2) d_inner
        return grad_output * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * d_inner)
    cdf = 0.5 * (1.0 + special.erf(x * _INV_SQRT_2))
    pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)
    return grad_output * (cdf + x * pdf)  # d/dx [x Phi(x)] = Phi(x) + x phi(x)
    # END SOLUTION


# -------------------------------------------------------------------------------------- softmax

def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(x_i) / sum_j exp(x_j)`` along ``axis``, stable for any finite input.

    Subtracting the maximum first changes nothing mathematically (it cancels in the ratio) but
    keeps every ``exp`` at most 1, so logits of 1e4 do not overflow.

    Shape:
        Input: ``(N, C)`` (or any shape). Output: same shape; entries along ``axis`` sum to 1.
    """
    x = as_float_array(x, "x", "softmax")
    # BEGIN SOLUTION
    shifted = x - x.max(axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=axis, keepdims=True)
    # END SOLUTION


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(softmax(x))`` computed as ``(x - m) - log(sum exp(x - m))`` with ``m = max(x)``.

    Never takes the log of an underflowed zero, so it stays finite where ``log(softmax(x))``
    would give ``-inf``.

    Shape:
        Input: ``(N, C)`` (or any shape). Output: same shape.
    """
    x = as_float_array(x, "x", "log_softmax")
    # BEGIN SOLUTION
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    # END SOLUTION


# --------------------------------------------------------------------------------------- losses

def _reduce(losses: np.ndarray, reduction: str) -> np.ndarray:
    """Mean or sum of per-element losses, as a 0-d value of the losses' dtype."""
    return losses.mean() if reduction == "mean" else losses.sum()


def _check_pair(pred, target, where: str, pred_name: str = "pred") -> tuple[np.ndarray, np.ndarray]:
    """Predictions and targets of exactly the same shape; targets cast to the predictions' dtype."""
    pred = as_float_array(pred, pred_name, where)
    target = as_float_array(target, "target", where)
    check_not_empty(pred, pred_name, where)
    check_same_shape(pred, target, pred_name, "target", where)
    return pred, target.astype(pred.dtype, copy=False)


def mse_loss(pred: np.ndarray, target: np.ndarray, reduction: str = "mean") -> np.ndarray:
    """Mean squared error ``mean((pred - target)^2)`` over all elements (or the sum).

    Shapes must match exactly: a ``(N,)`` target against ``(N, 1)`` predictions is refused
    instead of being broadcast to ``(N, N)``.

    Shape:
        - pred, target: the same shape, e.g. ``(N, D)``
        - Output: a 0-d value of pred's dtype
    """
    check_choice(reduction, _REDUCTIONS, "reduction", "mse_loss")
    pred, target = _check_pair(pred, target, "mse_loss")
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
    check_choice(reduction, _REDUCTIONS, "reduction", "mse_loss_backward")
    pred, target = _check_pair(pred, target, "mse_loss_backward")
    # BEGIN SOLUTION
    scale = 2.0 / pred.size if reduction == "mean" else 2.0
    return scale * (pred - target)  # dL/dpred = 2 (pred - target) / size
    # END SOLUTION


def _target_distribution(logits: np.ndarray, target, label_smoothing: float,
                         where: str) -> np.ndarray:
    """Turn any accepted target form into the ``(N, C)`` distribution ``q`` the loss compares to.

    Class indices ``(N,)`` / ``(N, 1)`` become one-hot rows; ``(N, C)`` float targets are used as
    probabilities. Label smoothing mixes in the uniform distribution, as PyTorch defines it:
    ``q = (1 - label_smoothing) * q + label_smoothing / C``.
    """
    n_samples, n_classes = logits.shape
    target = np.asarray(target)
    is_distribution = target.ndim == 2 and target.shape[1] == n_classes and (
        n_classes > 1 or np.issubdtype(target.dtype, np.floating))
    if is_distribution:
        if target.shape[0] != n_samples:
            raise ValueError(
                f"{where}: logits have {n_samples} rows but target has {target.shape[0]}; "
                f"there must be one target row per sample."
            )
        q = target.astype(logits.dtype, copy=False)
        row_sums = q.sum(axis=1)
        if (q < 0).any() or not np.allclose(row_sums, 1.0, atol=1e-3):
            raise ValueError(
                f"{where}: a float target of shape (N, C) = {target.shape} is read as class "
                f"probabilities, so each row must be >= 0 and sum to 1 (row sums range "
                f"{row_sums.min():.4g}..{row_sums.max():.4g}). For labels pass integer class "
                f"indices of shape (N,)."
            )
    else:
        if target.ndim == 2 and target.shape[1] == 1:
            target = target[:, 0]
        if target.ndim != 1:
            raise ValueError(
                f"{where}: target must be class indices of shape ({n_samples},) or "
                f"({n_samples}, 1), or probabilities of shape ({n_samples}, {n_classes}); "
                f"got shape {target.shape}."
            )
        if target.shape[0] != n_samples:
            raise ValueError(
                f"{where}: logits have {n_samples} rows but target has {target.shape[0]} "
                f"labels; there must be one label per sample."
            )
        indices = check_class_indices(target, n_classes, "target", where)
        q = np.zeros_like(logits)
        q[np.arange(n_samples), indices] = 1.0
    if label_smoothing:
        q = (1.0 - label_smoothing) * q + label_smoothing / n_classes
    return q


def _check_logits(logits, label_smoothing: float, reduction: str, where: str) -> np.ndarray:
    check_choice(reduction, _REDUCTIONS, "reduction", where)
    check_in_range(label_smoothing, "label_smoothing", where, 0.0, 1.0)
    logits = as_float_array(logits, "logits", where)
    check_ndim(logits, 2, "logits", where, "(N, C)")
    check_not_empty(logits, "logits", where)
    return logits


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
    logits = _check_logits(logits, label_smoothing, reduction, "cross_entropy")
    q = _target_distribution(logits, target, float(label_smoothing), "cross_entropy")
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
    logits = _check_logits(logits, label_smoothing, reduction, "cross_entropy_backward")
    q = _target_distribution(logits, target, float(label_smoothing), "cross_entropy_backward")
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
    check_choice(reduction, _REDUCTIONS, "reduction", "binary_cross_entropy_with_logits")
    z, t = _check_pair(logits, target, "binary_cross_entropy_with_logits", "logits")
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
    where = "binary_cross_entropy_with_logits_backward"
    check_choice(reduction, _REDUCTIONS, "reduction", where)
    z, t = _check_pair(logits, target, where, "logits")
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
    scores = as_float_array(scores, "scores", "accuracy")
    target = np.asarray(target)
    check_ndim(scores, (1, 2), "scores", "accuracy", "(N, C)")
    check_not_empty(scores, "scores", "accuracy")
    if scores.ndim == 1 or scores.shape[1] == 1:
        predicted = (scores.reshape(-1) > 0).astype(np.int64)
    else:
        predicted = scores.argmax(axis=1)
    if target.ndim == 2 and target.shape[1] > 1:
        true = target.argmax(axis=1)
    else:
        true = target.reshape(-1)
        if np.issubdtype(true.dtype, np.floating):
            if not np.all(true == np.round(true)):
                raise ValueError(
                    "accuracy: target of shape (N,) or (N, 1) must hold class labels "
                    "(whole numbers); got fractional values."
                )
            true = true.astype(np.int64)
    if true.shape[0] != predicted.shape[0]:
        raise ValueError(
            f"accuracy: scores have {predicted.shape[0]} rows but target has {true.shape[0]}."
        )
    return float(np.mean(predicted == true))
