"""Plots for the course: training curves, decision boundaries, image grids, confusion matrices.

Every plot function builds a :class:`matplotlib.figure.Figure` directly and writes it to a PNG
file, returning the file's :class:`pathlib.Path`. It never goes through ``matplotlib.pyplot``, so
it works on a machine without a display, opens no window, and leaves matplotlib's global backend
and figure list alone. Open the PNG in any image viewer or notebook
(``IPython.display.Image(path)``).

A path without a suffix gets ``.png`` appended; missing parent folders are created.

Class labels may be given as class indices ``(N,)`` / ``(N, 1)`` or as one-hot rows / scores
``(N, C)`` (the argmax of each row is taken), the forms ``mini_torch.functional`` accepts; they are
read by the same helper. :func:`confusion_matrix` is ``mini_torch.functional.confusion_matrix``,
re-exported here beside the plot that draws it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike

from mini_torch import init
from mini_torch._checks import as_class_indices, check_positive_int
from mini_torch.functional import confusion_matrix

__all__ = [
    "confusion_matrix",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_history",
    "plot_images",
]

_DPI = 100
_CORRECT_COLOR = "tab:green"
_WRONG_COLOR = "tab:red"


# --------------------------------------------------------------------------- shared helpers

def _png_path(path, where: str) -> Path:
    """Check ``path`` names a PNG file (``.png`` is appended when there is no suffix)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{where}: path must be a str or pathlib.Path, got {type(path).__name__} {path!r}."
        )
    out = Path(path)
    if out.suffix == "":
        return out.with_suffix(".png")
    if out.suffix.lower() != ".png":
        raise ValueError(
            f"{where}: plots are saved as PNG, but path {str(out)!r} ends with {out.suffix!r}. "
            f"Use a name ending in '.png', e.g. {str(out.with_suffix('.png'))!r}."
        )
    return out


def _save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` to ``path`` as a PNG, creating the parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=_DPI)
    return path


def _class_colors(num_classes: int) -> list:
    """One distinct colour per class (tab10, tab20, then an evenly sampled rainbow)."""
    if num_classes <= 10:
        return [colormaps["tab10"](k) for k in range(num_classes)]
    if num_classes <= 20:
        return [colormaps["tab20"](k) for k in range(num_classes)]
    return list(colormaps["turbo"](np.linspace(0.0, 1.0, num_classes)))


# --------------------------------------------------------------------------- training curves

def _history_series(history, ylabel: str | None, where: str) -> dict[str, np.ndarray]:
    """Normalise ``history`` to ``{name: 1-D float64 array}``."""
    if isinstance(history, (str, bytes)):
        raise TypeError(f"{where}: history must be numbers or a dict of them, got a string.")
    if isinstance(history, Mapping):
        items = [(str(name), values) for name, values in history.items()]
    else:
        items = [(ylabel or "loss", history)]
    if not items:
        raise ValueError(f"{where}: history is an empty dict; give at least one series.")
    series = {}
    for name, values in items:
        try:
            curve = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"{where}: series {name!r} must be a sequence of numbers (e.g. a list of float "
                f"losses), but it could not be read as numbers: {error}"
            ) from None
        if curve.ndim != 1 or curve.size == 0:
            raise ValueError(
                f"{where}: series {name!r} must be a non-empty 1-D sequence of numbers (one per "
                f"epoch), got shape {curve.shape}."
            )
        series[name] = curve
    return series


def plot_history(history: Sequence[float] | Mapping[str, Sequence[float]], path: str | Path, *,
                 title: str | None = None, xlabel: str = "epoch",
                 ylabel: str | None = None) -> Path:
    """Plot training curves (loss, accuracy, ...) against the epoch and save them as a PNG.

    Series whose name contains ``"acc"`` (any case: ``"acc"``, ``"val_accuracy"``) are drawn on
    an accuracy panel, all others on a loss panel; the figure has one panel when only one kind is
    present. Point ``i`` of a series is drawn at x = ``i + 1`` (epochs count from 1).

    Args:
        history: one curve as a sequence of numbers, or a dict ``name -> sequence`` such as
            ``{"train loss": [...], "val loss": [...], "val acc": [...]}``.
        path: PNG file to write (parent folders are created).
        title: figure title.
        xlabel: label of the x axis.
        ylabel: label of the y axis of the first panel (default ``"loss"``, or ``"accuracy"`` when
            only accuracy series are given); a bare sequence is also named after it in the legend.

    Shape:
        - history: ``(epochs,)`` per series; series may have different lengths.

    Returns:
        The path of the written PNG.

    Examples:
        >>> losses = [1.0 / (epoch + 1) for epoch in range(20)]
        >>> plot_history(losses, "out/loss.png")
        PosixPath('out/loss.png')
    """
    where = "plot_history"
    out = _png_path(path, where)
    series = _history_series(history, ylabel, where)
    loss_series = {name: v for name, v in series.items() if "acc" not in name.lower()}
    acc_series = {name: v for name, v in series.items() if "acc" in name.lower()}
    panels = [(group, label) for group, label in ((loss_series, "loss"), (acc_series, "accuracy"))
              if group]
    if ylabel is not None:
        panels[0] = (panels[0][0], ylabel)

    fig = Figure(figsize=(5.5 * len(panels), 4.0), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (group, label) in zip(axes, panels):
        for name, curve in group.items():
            epochs = np.arange(1, curve.size + 1)
            marker = "o" if curve.size <= 30 else None  # dots help read short runs only
            ax.plot(epochs, curve, marker=marker, markersize=3, label=name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(label)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, out)


# --------------------------------------------------------------------------- decision boundary

def _predicted_classes(scores, num_points: int, where: str) -> np.ndarray:
    """Read ``predict``'s output as class indices: scores, logits or labels."""
    scores = np.asarray(scores)
    if scores.ndim == 0 or scores.shape[0] != num_points or scores.ndim > 2:
        raise ValueError(
            f"{where}: predict was given {num_points} points of shape ({num_points}, 2) and must "
            f"return one row per point: scores ({num_points}, C), logits ({num_points},) or "
            f"({num_points}, 1), or labels ({num_points},); it returned shape {scores.shape}."
        )
    if scores.ndim == 2 and scores.shape[1] > 1:
        return np.argmax(scores, axis=1)
    scores = scores.reshape(num_points)
    if scores.dtype == np.bool_ or np.issubdtype(scores.dtype, np.integer):
        if scores.size and scores.min() < 0:
            raise ValueError(f"{where}: predict returned the negative class label {scores.min()}.")
        return scores.astype(np.int64)
    if np.issubdtype(scores.dtype, np.floating):
        return (scores > 0).astype(np.int64)  # one logit per point: > 0 means class 1
    raise TypeError(f"{where}: predict must return numbers, got dtype {scores.dtype}.")


def plot_decision_boundary(predict: Callable[[np.ndarray], ArrayLike], X: ArrayLike,
                           y: ArrayLike, path: str | Path, *, resolution: int = 200,
                           title: str | None = None) -> Path:
    """Colour the plane by the class a model predicts and draw the data on top; save as a PNG.

    ``predict`` is evaluated on a ``resolution x resolution`` grid covering the data plus a 10 %
    margin on each side. Its output is read as

    * scores ``(M, C)``: the predicted class is the argmax of each row;
    * logits ``(M,)`` or ``(M, 1)`` of a floating dtype: class 1 where the logit is > 0;
    * integer (or bool) labels ``(M,)``.

    Args:
        predict: function mapping points ``(M, 2)`` (dtype of ``X``) to scores, logits or labels,
            e.g. ``lambda x: F.linear(F.relu(F.linear(x, W1, b1)), W2, b2)``.
        X: data points.
        y: their classes: indices ``(N,)`` / ``(N, 1)`` or one-hot ``(N, C)``.
        path: PNG file to write (parent folders are created).
        resolution: number of grid points along each axis (>= 2).
        title: axes title (default ``"decision boundary"``).

    Shape:
        - X: ``(N, 2)``, row-vector notation: one point per row.
        - y: ``(N,)``, ``(N, 1)`` or ``(N, C)``.
        - predict input: ``(M, 2)`` with ``M = resolution ** 2``.

    Returns:
        The path of the written PNG.

    Examples:
        >>> X, y = mini_torch.datasets.make_xor(200)
        >>> plot_decision_boundary(lambda x: x[:, 0] * x[:, 1] < 0, X, y, "out/xor.png")
        PosixPath('out/xor.png')
    """
    where = "plot_decision_boundary"
    out = _png_path(path, where)
    if not callable(predict):
        raise TypeError(
            f"{where}: predict must be a function from points (M, 2) to scores, got "
            f"{type(predict).__name__}. Wrap your model, e.g. predict=lambda x: model(x)."
        )
    points = np.asarray(X)
    if not (np.issubdtype(points.dtype, np.number) and points.ndim == 2
            and points.shape[1] == 2 and points.shape[0] > 0):
        raise ValueError(
            f"{where}: X must be a non-empty numeric array of 2-D points, shape (N, 2), got "
            f"shape {points.shape} and dtype {points.dtype}. Decision boundaries are drawn for "
            f"two input features only."
        )
    if not np.all(np.isfinite(points)):
        raise ValueError(f"{where}: X contains NaN or infinite values.")
    labels = as_class_indices(y, "y", where, length=len(points), length_of="X")
    label_columns = np.shape(y)[1] if np.ndim(y) == 2 else 0
    resolution = check_positive_int(resolution, "resolution", where, minimum=2)

    # The grid has X's dtype so that predict sees the dtype it was trained on.
    dtype = points.dtype if np.issubdtype(points.dtype, np.floating) else init.get_default_dtype()
    low, high = points.min(axis=0), points.max(axis=0)
    span = high - low
    margin = np.where(span > 0, 0.1 * span, 0.5)  # 0.5 when all points share a coordinate
    axis_0 = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    axis_1 = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    grid_0, grid_1 = np.meshgrid(axis_0, axis_1)
    grid = np.stack([grid_0.ravel(), grid_1.ravel()], axis=1).astype(dtype)
    predicted = _predicted_classes(predict(grid), grid.shape[0], where)

    num_classes = max(int(labels.max()), int(predicted.max()), label_columns - 1) + 1
    colors = _class_colors(num_classes)
    cmap = ListedColormap(colors)
    # Band k of the filled contour is [k - 0.5, k + 0.5]: exactly the cells predicted as class k.
    levels = np.arange(num_classes + 1) - 0.5
    norm = BoundaryNorm(levels, num_classes)

    fig = Figure(figsize=(7.0, 5.0), layout="constrained")
    ax = fig.subplots()
    ax.contourf(grid_0, grid_1, predicted.reshape(grid_0.shape), levels=levels, cmap=cmap,
                norm=norm, alpha=0.35)
    size = 25 if points.shape[0] <= 500 else 8
    for k in np.unique(labels):
        members = labels == k
        ax.scatter(points[members, 0], points[members, 1], color=colors[k], s=size,
                   edgecolors="black", linewidths=0.5, label=f"class {k}")
    ax.set_xlim(axis_0[0], axis_0[-1])
    ax.set_ylim(axis_1[0], axis_1[-1])
    ax.set_xlabel("x[:, 0]")
    ax.set_ylabel("x[:, 1]")
    ax.set_title(title or "decision boundary")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: never hides a point
    return _save(fig, out)


# --------------------------------------------------------------------------- image grid

def _as_image_stack(images, where: str) -> np.ndarray:
    """Return images as ``(N, H, W)``: flat rows of a square length are made square."""
    stack = np.asarray(images)
    if not (np.issubdtype(stack.dtype, np.number) or stack.dtype == np.bool_):
        raise TypeError(f"{where}: images must be numeric, got dtype {stack.dtype}.")
    if stack.ndim == 3:
        result = stack
    elif stack.ndim == 2:
        side = math.isqrt(stack.shape[1])
        if side * side != stack.shape[1]:
            raise ValueError(
                f"{where}: flat images of shape (N, D) need D = H * H (784 = 28 x 28 for MNIST), "
                f"got D = {stack.shape[1]}. Reshape non-square images to (N, H, W) first."
            )
        result = stack.reshape(stack.shape[0], side, side)
    else:
        raise ValueError(
            f"{where}: images must have shape (N, H, W) or flat (N, H * H), got {stack.shape}."
        )
    if result.shape[0] == 0:
        raise ValueError(f"{where}: images is empty; there is nothing to plot.")
    return result


def plot_images(images: ArrayLike, labels: ArrayLike | None, path: str | Path, *,
                predictions: ArrayLike | None = None, ncols: int = 8,
                title: str | None = None, captions: Sequence[str] | None = None) -> Path:
    """Draw images in a grid with their labels (and predictions) and save it as a PNG.

    Each cell is titled ``"true 3"``, or with predictions ``"pred 3 / true 5"`` in red when the
    prediction is wrong and green when it is right; or, for images without classes (a
    generator's samples), with the given ``captions`` (``labels=None``). Pass a slice
    (``images[:32]``) rather than a whole data set: every image gets its own cell.

    Args:
        images: grey-scale images, flat rows of a square length (MNIST: 784 = 28 x 28) or
            ``(N, H, W)``.
        labels: true classes: indices ``(N,)`` / ``(N, 1)`` or one-hot ``(N, C)``; ``None``
            with ``captions``.
        path: PNG file to write (parent folders are created).
        predictions: predicted classes as indices, or scores / one-hot ``(N, C)`` (argmax).
        ncols: number of images per row of the grid.
        title: figure title.
        captions: one text per image, used as the cell titles instead of the classes.

    Shape:
        - images: ``(N, H * H)`` or ``(N, H, W)``.
        - labels, predictions: ``(N,)``, ``(N, 1)`` or ``(N, C)``.

    Returns:
        The path of the written PNG.

    Examples:
        >>> images = np.random.default_rng(0).random((16, 784))
        >>> plot_images(images, np.arange(16) % 10, "out/digits.png", ncols=4)
        PosixPath('out/digits.png')
    """
    where = "plot_images"
    out = _png_path(path, where)
    stack = _as_image_stack(images, where)
    if captions is not None:
        captions = [str(caption) for caption in captions]
        if len(captions) != len(stack):
            raise ValueError(
                f"{where}: {len(captions)} captions for {len(stack)} images; give one caption "
                f"per image."
            )
    elif labels is None:
        raise ValueError(f"{where}: labels is None; give the images' labels or captions=[...].")
    true = None if labels is None else as_class_indices(labels, "labels", where,
                                                        length=len(stack), length_of="images")
    predicted = None
    if predictions is not None:
        predicted = as_class_indices(predictions, "predictions", where, length=len(stack),
                                     length_of="images")
    ncols = min(check_positive_int(ncols, "ncols", where), stack.shape[0])
    nrows = math.ceil(stack.shape[0] / ncols)

    fig = Figure(figsize=(1.4 * ncols, 1.6 * nrows + (0.4 if title else 0.0)),
                 layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index >= stack.shape[0]:
            ax.set_axis_off()  # empty cells after the last image
            continue
        ax.imshow(stack[index], cmap="gray_r", interpolation="nearest")
        ax.set_xticks([])  # keep the frame, which shows where a white image ends
        ax.set_yticks([])
        if captions is not None:
            ax.set_title(captions[index], fontsize=9)
        elif predicted is None:
            ax.set_title(f"true {true[index]}", fontsize=9)
        else:
            color = _CORRECT_COLOR if predicted[index] == true[index] else _WRONG_COLOR
            ax.set_title(f"pred {predicted[index]} / true {true[index]}", fontsize=9,
                         color=color)
    if title:
        fig.suptitle(title)
    return _save(fig, out)


# --------------------------------------------------------------------------- confusion matrix

def plot_confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, path: str | Path, *,
                          num_classes: int | None = None,
                          class_names: Sequence[str] | None = None, title: str | None = None,
                          normalize: bool = False) -> Path:
    """Draw the confusion matrix as an annotated heat map and save it as a PNG.

    Rows are true classes and columns predicted classes (see :func:`confusion_matrix`). Each cell
    shows its count, or with ``normalize=True`` the fraction of its row (the share of class ``t``
    predicted as ``p``; the diagonal is then the recall of each class).

    Args:
        y_true: true classes: indices ``(N,)`` / ``(N, 1)`` or one-hot ``(N, C)``.
        y_pred: predicted classes: indices, or scores / one-hot ``(N, C)`` (argmax per row).
        path: PNG file to write (parent folders are created).
        num_classes: ``C`` (default: inferred as in :func:`confusion_matrix`).
        class_names: ``C`` tick labels (default: the class indices).
        title: axes title (default: ``"confusion matrix"`` with the accuracy).
        normalize: show row fractions instead of counts.

    Shape:
        - y_true, y_pred: ``(N,)``, ``(N, 1)`` or ``(N, C)``.

    Returns:
        The path of the written PNG.

    Examples:
        >>> plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], "out/confusion.png")
        PosixPath('out/confusion.png')
    """
    where = "plot_confusion_matrix"
    out = _png_path(path, where)
    counts = confusion_matrix(y_true, y_pred, num_classes)
    size = counts.shape[0]
    if class_names is None:
        names = [str(k) for k in range(size)]
    else:
        names = [str(name) for name in class_names]
        if len(names) != size:
            raise ValueError(
                f"{where}: class_names has {len(names)} names but there are {size} classes."
            )
    if normalize:
        row_totals = counts.sum(axis=1, keepdims=True)
        # Rows of classes that never occur stay 0 instead of 0 / 0.
        shown = np.divide(counts, row_totals, out=np.zeros(counts.shape), where=row_totals > 0)
        cell_text = [[f"{value:.2f}" for value in row] for row in shown]
    else:
        shown = counts
        cell_text = [[str(value) for value in row] for row in counts]

    fig = Figure(figsize=(max(4.5, 0.6 * size + 2.5), max(4.0, 0.6 * size + 1.5)),
                 layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(shown, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, label="fraction of true class" if normalize else "count")
    threshold = shown.max() / 2.0
    for t in range(size):
        for p in range(size):
            ax.text(p, t, cell_text[t][p], ha="center", va="center", fontsize=9,
                    color="white" if shown[t, p] > threshold else "black")
    ax.set_xticks(np.arange(size), labels=names,
                  rotation=45 if max(len(name) for name in names) > 3 else 0)
    ax.set_yticks(np.arange(size), labels=names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(counts) / counts.sum()
    ax.set_title(title or f"confusion matrix (accuracy {accuracy:.1%})")
    return _save(fig, out)
