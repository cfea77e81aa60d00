"""Input validation shared by every part of Mini-Torch, and the one reader of label arrays.

Each helper raises a ``TypeError`` or ``ValueError`` whose message names the function that was
called, the argument, what was expected, what was given, and the most likely fix. They are called
once, at the top of a public function (a backward checks only ``grad_output``, the one input its
forward could not know), so that a mistake surfaces where it was made, not three layers deeper as
a numpy broadcasting error. :func:`as_class_indices` turns labels in every accepted form into
class indices, for every loss and metric.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from mini_torch._config import get_default_dtype

#: The reductions every loss offers, as PyTorch's ``reduction`` argument.
REDUCTIONS = ("mean", "sum")


def as_float_array(value, name: str, where: str, dtype=None) -> np.ndarray:
    """Return ``value`` as a floating-point ndarray, keeping its floating dtype.

    Arrays that are already float16/32/64 are returned unchanged (no copy, no upcast). Lists and
    integer arrays are converted to ``dtype``, by default the framework's default dtype
    (float32 unless ``mini_torch.set_default_dtype`` changed it).
    """
    if type(value) is np.ndarray and value.dtype.kind == "f":
        return value  # the common case, checked first because it runs on every op
    array = np.asarray(value)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ):
        raise TypeError(
            f"{where}: {name} must be a numeric array, got dtype {array.dtype}. "
            f"Pass a numpy array of floats, e.g. np.asarray({name}, dtype=np.float32)."
        )
    if np.issubdtype(array.dtype, np.complexfloating):
        raise TypeError(f"{where}: {name} must be real, got dtype {array.dtype}.")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(get_default_dtype() if dtype is None else dtype)
    return array


def axis_or_dim(axis: int, dim: int | None, where: str) -> int:
    """``dim`` (PyTorch's name) when given, else ``axis`` (numpy's); both at once is refused."""
    if dim is None:
        return axis
    if axis != -1 and axis != dim:
        raise TypeError(f"{where}: got axis={axis} and dim={dim}; pass one of them (the same "
                        f"argument under numpy's and PyTorch's name).")
    return dim


def check_ndim(array: np.ndarray, ndim: int | Iterable[int], name: str, where: str,
               layout: str = "") -> None:
    """Raise ``ValueError`` unless ``array.ndim`` is ``ndim`` (or one of several)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if array.ndim not in allowed:
        wanted = " or ".join(f"{d}-D" for d in allowed)
        hint = f" of shape {layout}" if layout else ""
        fix = ""
        if array.ndim == 1 and 2 in allowed:
            fix = (f" A single sample of shape {array.shape} needs a batch axis: "
                   f"use {name}.reshape(1, -1) (one sample) or {name}.reshape(-1, 1) "
                   f"(one feature).")
        raise ValueError(
            f"{where}: {name} must be {wanted}{hint}, got {array.ndim}-D with shape "
            f"{array.shape}.{fix}"
        )


def check_not_empty(array: np.ndarray, name: str, where: str) -> None:
    """Raise ``ValueError`` for a batch with no rows (means over it would be NaN)."""
    if array.ndim >= 1 and array.shape[0] == 0:
        raise ValueError(
            f"{where}: {name} is an empty batch (shape {array.shape}); "
            f"every batch needs at least one sample."
        )


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str, where: str) -> None:
    """Raise ``ValueError`` unless two arrays have exactly the same shape (no broadcasting)."""
    if a.shape == b.shape:
        return
    fix = ""
    if a.ndim == 2 and a.shape[1] == 1 and b.shape == (a.shape[0],):
        fix = f" Reshape {name_b} with {name_b}.reshape(-1, 1) so both are {a.shape}."
    elif b.ndim == 2 and b.shape[1] == 1 and a.shape == (b.shape[0],):
        fix = f" Reshape {name_a} with {name_a}.reshape(-1, 1) so both are {b.shape}."
    raise ValueError(
        f"{where}: {name_a} has shape {a.shape} but {name_b} has shape {b.shape}; they must match "
        f"exactly (numpy would silently broadcast them to a wrong result).{fix}"
    )


def check_same_dtype(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str, where: str) -> None:
    """Raise ``TypeError`` when two floating arrays of different precision meet."""
    if a.dtype != b.dtype:
        raise TypeError(
            f"{where}: {name_a} is {a.dtype} but {name_b} is {b.dtype}; mixing them would silently "
            f"change precision. Convert one of them, e.g. {name_a}.astype({name_b}.dtype)."
        )


def check_choice(value, choices: tuple, name: str, where: str) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{where}: {name} must be one of {options}, got {value!r}.")


def check_in_range(value, name: str, where: str, low: float = 0.0, high: float | None = None,
                   high_inclusive: bool = True) -> None:
    """Raise ``ValueError`` unless ``low <= value`` (and ``value <= high``, or ``< high``).

    Written so that NaN, which compares False with everything, is refused too.
    """
    number = float(value)
    above = high is not None and (number > high if high_inclusive else number >= high)
    if not number >= low or above:
        bound = "" if high is None else f" and {'<=' if high_inclusive else '<'} {high}"
        raise ValueError(f"{where}: invalid {name} {value!r}; it must be >= {low}{bound}.")


def check_positive_int(value, name: str, where: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer ``>= minimum``; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{where}: {name} must be an integer, got {type(value).__name__} {value!r}."
        )
    if value < minimum:
        raise ValueError(f"{where}: {name} must be >= {minimum}, got {value}.")
    return int(value)


def check_same_view(value, view: np.ndarray, name: str, fix: str) -> None:
    """Accept only ``view``'s own memory back, which is what an in-place operator assigns.

    Python runs ``layer.weight *= 0.1`` as ``layer.weight = layer.weight.__imul__(0.1)``: the
    view (and with it the stored parameter) is already scaled in place, and the assignment hands
    the same view back, which is accepted. Any other value would rebind a parameter that the
    optimizer shares; it is refused, as PyTorch refuses a plain tensor, with the in-place fix.
    """
    if not (isinstance(value, np.ndarray) and value.shape == view.shape
            and value.strides == view.strides and value.dtype == view.dtype
            and value.__array_interface__["data"] == view.__array_interface__["data"]):
        got = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else \
            type(value).__name__
        raise TypeError(
            f"cannot assign {got} to {name}: it is a view of a stored parameter of shape "
            f"{view.shape}, shared with the optimizer, and is never rebound. Copy into it in "
            f"place instead: {fix}."
        )




# ------------------------------------------------------------------------ the entries of functional

class GradShapeError(ValueError, RuntimeError):
    """``grad_output`` does not have the shape of the forward's output.

    A ``ValueError`` (a wrong argument) and a ``RuntimeError``: in a module it usually means the
    cached forward is not the one this gradient belongs to (a second forward overwrote it).
    """


def check_grad_output(grad_output, shape: tuple[int, ...], dtype: np.dtype,
                      where: str) -> np.ndarray:
    """The one thing a backward checks: ``grad_output`` has the forward output's shape and dtype.

    Everything else a backward receives (the forward's inputs, the weights) was checked by the
    forward that produced them.
    """
    floating = dtype.kind == "f"
    grad_output = as_float_array(grad_output, "grad_output", where, dtype if floating else None)
    if grad_output.shape != shape:
        raise GradShapeError(
            f"{where}: grad_output has shape {grad_output.shape} but the forward's output has "
            f"shape {shape}; dL/dy always has the shape of y. In a module this also means its "
            f"cache is from another forward: a module keeps only its LAST forward's input, so "
            f"if you called it twice before backward (a GAN discriminator on the real batch, "
            f"then on the fake one), call backward right after each forward (or run both "
            f"batches through one forward, concatenated)."
        )
    if floating and grad_output.dtype != dtype:
        raise TypeError(
            f"{where}: grad_output is {grad_output.dtype} but the forward computed in {dtype}; "
            f"mixing them would silently change precision. Pass "
            f"grad_output.astype(np.{dtype.name})."
        )
    return grad_output


def check_elementwise_backward(grad_output, x, where: str) -> tuple[np.ndarray, np.ndarray]:
    """An element-wise op's backward: ``grad_output`` shaped like ``x`` and of its dtype.

    ``x`` is the input the forward checked; it is only turned into the array the forward computed
    with (a no-op for a float array), so that a module that cached a list or an integer array
    gets the same gradient, in the same dtype, as the forward's output.
    """
    x = as_float_array(x, "x", where)
    return check_grad_output(grad_output, x.shape, x.dtype, where), x


def check_linear(x, W, b, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``x (N, in)``, ``W (in, out)`` and ``b (out,)`` / ``(1, out)``, all of one float dtype."""
    W = as_float_array(W, "W", where)
    x = as_float_array(x, "x", where, dtype=W.dtype)  # integer inputs take the weights' dtype
    b = as_float_array(b, "b", where, dtype=W.dtype)
    check_ndim(x, 2, "x", where, "(N, in_features)")
    check_ndim(W, 2, "W", where, "(in_features, out_features)")
    check_not_empty(x, "x", where)
    if x.shape[1] != W.shape[0]:
        raise ValueError(
            f"{where}: x has {x.shape[1]} features per sample (shape {x.shape}) but W expects "
            f"{W.shape[0]} inputs (shape {W.shape}). In row-vector notation y = x @ W needs "
            f"x.shape[1] == W.shape[0]: check the layer's input size (a Linear layer's "
            f"input_dim, or the previous layer's output size) or transpose W."
        )
    out_features = W.shape[1]
    if b.shape not in ((out_features,), (1, out_features)):
        raise ValueError(
            f"{where}: b must have shape ({out_features},) or (1, {out_features}) to match W of "
            f"shape {W.shape}, got {b.shape}."
        )
    check_same_dtype(x, W, "x", "W", where)
    check_same_dtype(b, W, "b", "W", where)
    return x, W, b


def check_loss_inputs(pred, target, reduction: str, where: str,
                      pred_name: str = "pred") -> tuple[np.ndarray, np.ndarray]:
    """Predictions and targets of exactly the same shape; targets cast to the predictions' dtype."""
    check_choice(reduction, REDUCTIONS, "reduction", where)
    pred = as_float_array(pred, pred_name, where)
    target = as_float_array(target, "target", where)
    check_not_empty(pred, pred_name, where)
    check_same_shape(pred, target, pred_name, "target", where)
    return pred, target.astype(pred.dtype, copy=False)


def check_logits(logits, reduction: str, label_smoothing: float, where: str) -> np.ndarray:
    """Cross-entropy's logits ``(N, C)``, its ``reduction`` and its ``label_smoothing``."""
    check_choice(reduction, REDUCTIONS, "reduction", where)
    check_in_range(label_smoothing, "label_smoothing", where, 0.0, 1.0)
    logits = as_float_array(logits, "logits", where)
    check_ndim(logits, 2, "logits", where, "(N, C)")
    check_not_empty(logits, "logits", where)
    return logits


def check_scores(scores, where: str) -> np.ndarray:
    """Class scores ``(N, C)``, or binary logits ``(N,)`` / ``(N, 1)``, returned as ``(N, C)``."""
    scores = as_float_array(scores, "scores", where)
    check_ndim(scores, (1, 2), "scores", where, "(N, C)")
    check_not_empty(scores, "scores", where)
    return scores.reshape(len(scores), -1)


# ------------------------------------------------------------------------------------ labels

def as_class_indices(labels, name: str, where: str, *, num_classes: int | None = None,
                     length: int | None = None, length_of: str = "the predictions",
                     integers_only: bool = False,
                     fix: str = "Check the number of output units or the labels.") -> np.ndarray:
    """Labels in any form the course uses, as int64 class indices of shape ``(N,)``.

    The one place that reads a label array, for every loss and metric. Accepted forms: class
    indices ``(N,)`` or ``(N, 1)`` (integers, or floats holding whole numbers unless
    ``integers_only``), and one-hot / probability / score rows ``(N, C)``, whose argmax per row
    is the class. With ``num_classes`` the indices must lie in ``0..num_classes - 1`` (and
    ``(N, C)`` rows must have ``num_classes`` columns); with ``length`` there must be that many
    labels (``length_of`` names what has ``length`` rows).
    """
    array = np.asarray(labels)
    if array.dtype.kind not in "biuf":  # bool, int, unsigned, float (kind is a fast test)
        raise TypeError(f"{where}: {name} must be a numeric array, got dtype {array.dtype}.")
    if array.ndim == 2 and array.shape[1] > 1:
        if num_classes is not None and array.shape[1] != num_classes:
            raise ValueError(
                f"{where}: {name} has {array.shape[1]} columns (one per class) but there are "
                f"{num_classes} classes."
            )
        indices = array.argmax(axis=1)
    elif array.ndim in (1, 2):
        indices = array.reshape(-1)
    else:
        raise ValueError(
            f"{where}: {name} must be class indices of shape (N,) or (N, 1), or one-hot rows / "
            f"scores of shape (N, C), got shape {array.shape}."
        )
    if length is not None and indices.shape[0] != length:
        raise ValueError(
            f"{where}: {length_of} has {length} samples but {name} has {indices.shape[0]}; "
            f"there must be one label per sample."
        )
    if integers_only and indices.dtype.kind not in "iu":
        raise TypeError(
            f"{where}: {name} holds class indices but has dtype {indices.dtype}. Class indices "
            f"must be integers: use {name}.astype(np.int64). (Float targets are read as "
            f"probabilities only when shaped (N, C).)"
        )
    if indices.dtype.kind == "f":
        if not np.all(indices == np.round(indices)):
            raise ValueError(
                f"{where}: {name} holds class indices but has non-integer values (dtype "
                f"{indices.dtype}). If these are binary logits, pass "
                f"(logits > 0).astype(np.int64); if they are probabilities, pass them as (N, C) "
                f"scores."
            )
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < 0:
            raise ValueError(
                f"{where}: {name} contains the negative class index {low}; class indices run "
                f"from 0 to C - 1."
            )
        if num_classes is not None and high >= num_classes:
            raise ValueError(
                f"{where}: {name} contains class index {high}, but there are {num_classes} "
                f"classes (valid indices 0..{num_classes - 1}). {fix}"
            )
    return indices.astype(np.int64, copy=False)


def check_cross_entropy_target(target, logits: np.ndarray, where: str) -> np.ndarray:
    """Cross-entropy's target: class indices ``(N,)`` int64, or probability rows ``(N, C)``.

    A target of shape ``(N, C)`` is a distribution when it has more than one column or is
    floating point (PyTorch's rule); its rows must be >= 0 and sum to 1. It comes back in the
    logits' dtype. Every other form goes through :func:`as_class_indices`.
    """
    n_samples, n_classes = logits.shape
    target = np.asarray(target)
    if target.ndim == 2 and target.shape[1] == n_classes and (
            n_classes > 1 or target.dtype.kind == "f"):
        if target.shape[0] != n_samples:
            raise ValueError(
                f"{where}: logits has {n_samples} samples but target has {target.shape[0]} "
                f"rows; there must be one target row per sample."
            )
        q = as_float_array(target, "target", where).astype(logits.dtype, copy=False)
        row_sums = q.sum(axis=1)
        if (q < 0).any() or not np.allclose(row_sums, 1.0, atol=1e-3):
            raise ValueError(
                f"{where}: a float target of shape (N, C) = {target.shape} is read as class "
                f"probabilities, so each row must be >= 0 and sum to 1 (row sums range "
                f"{row_sums.min():.4g}..{row_sums.max():.4g}). For labels pass integer class "
                f"indices of shape (N,)."
            )
        return q
    if (target.ndim == 2 and target.shape[1] != 1) or target.ndim not in (1, 2):
        raise ValueError(
            f"{where}: target must be class indices of shape ({n_samples},) or "
            f"({n_samples}, 1), or probabilities of shape ({n_samples}, {n_classes}); got shape "
            f"{target.shape}."
        )
    return as_class_indices(target, "target", where, num_classes=n_classes, length=n_samples,
                            length_of="logits", integers_only=True)


def check_confusion_inputs(y_true, y_pred, num_classes: int | None,
                           where: str) -> tuple[np.ndarray, np.ndarray, int]:
    """True and predicted classes as int64 ``(N,)`` each, and the number of classes ``C``.

    Without ``num_classes``, ``C`` is the largest class seen plus one, or the number of columns
    of a one-hot / score input if that is larger.
    """
    if num_classes is None:
        true = as_class_indices(y_true, "y_true", where)
        pred = as_class_indices(y_pred, "y_pred", where, length=true.shape[0], length_of="y_true")
        columns = [np.shape(y)[1] for y in (y_true, y_pred) if np.ndim(y) == 2]
        num_classes = max([int(true.max(initial=-1)) + 1, int(pred.max(initial=-1)) + 1,
                           *columns])
    else:
        num_classes = check_positive_int(num_classes, "num_classes", where)
        fix = "Raise num_classes or check the labels."
        true = as_class_indices(y_true, "y_true", where, num_classes=num_classes, fix=fix)
        pred = as_class_indices(y_pred, "y_pred", where, num_classes=num_classes,
                                length=true.shape[0], length_of="y_true", fix=fix)
    if true.shape[0] == 0:
        raise ValueError(f"{where}: y_true is empty; there is nothing to count.")
    return true, pred, num_classes
