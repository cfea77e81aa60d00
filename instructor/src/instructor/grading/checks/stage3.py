"""Checks of stage 3: the loss objects' forward and backward, and the training step scripts."""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, Program, check, floats, size
from instructor.grading.checks.examples import step_checks as step_checks_of

LOSS_FILE = "src/mini_torch/nn/loss.py"
LOSS = "mini_torch.nn.loss"


def loss_pair(name: str, cls: str, predictions: np.ndarray, targets: np.ndarray,
              **kwargs) -> list[Check]:
    """A forward check (the value) and a backward check (the gradient after that forward)."""
    forward = Program()
    criterion = forward.call(f"mini_torch.nn.{cls}", **kwargs)
    value = forward.call(criterion.attr("forward"), predictions, targets)
    backward = Program()
    criterion = backward.call(f"mini_torch.nn.{cls}", **kwargs)
    backward.call(criterion.attr("forward"), predictions, targets)
    grad = backward.call(criterion.attr("backward"))
    return [
        check(f"stage3/{cls}.forward[{name}]", f"{LOSS}.{cls}.forward", LOSS_FILE, forward,
              [value]),
        check(f"stage3/{cls}.backward[{name}]", f"{LOSS}.{cls}.backward", LOSS_FILE, backward,
              [grad]),
    ]


def labels_of(g: np.random.Generator, rows: int, classes: int) -> np.ndarray:
    """Class indices ``(rows,)`` drawn in ``0 .. classes - 1``."""
    return g.integers(0, classes, rows).astype(np.int64)


def shuffled(g: np.random.Generator, predictions: np.ndarray, targets: np.ndarray):
    """The rows of (predictions, targets) in a drawn order, pairs kept together."""
    order = g.permutation(len(predictions))
    return predictions[order], targets[order]


def loss_checks(g: np.random.Generator) -> list[Check]:
    """Every loss on shapes drawn from ``g`` (N in 3 .. 9, classes in 2 .. 6); the extreme cases
    (logits far from 0, probabilities 0 and 1, ignored rows) keep their values at drawn rows."""
    found: list[Check] = []
    shape = (size(g, 3, 8), size(g, 2, 4))  # D > 1: the mean is over N * D entries
    for reduction in ("mean", "sum"):
        found += loss_pair(f"{reduction}", "MSELoss", floats(g, *shape), floats(g, *shape),
                           reduction=reduction)
    rows = size(g, 5, 10)
    found += loss_pair("column", "MSELoss", floats(g, rows, 1), floats(g, rows, 1))
    rows, classes = size(g, 3, 8), size(g, 2, 6)
    labels = labels_of(g, rows, classes)
    for reduction in ("mean", "sum"):
        found += loss_pair(f"indices-{reduction}", "CrossEntropyLoss",
                           floats(g, rows, classes, scale=2), labels, reduction=reduction)
    shape = (size(g, 3, 6), size(g, 3, 6))
    probabilities = g.random(shape).astype(np.float32) + 0.1
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    found += loss_pair("probabilities", "CrossEntropyLoss", floats(g, *shape), probabilities)
    found += loss_pair("smoothing", "CrossEntropyLoss", floats(g, rows, classes), labels,
                       label_smoothing=0.1)
    rows, classes = size(g, 2, 5), size(g, 3, 6)
    found += loss_pair("large-logits", "CrossEntropyLoss", floats(g, rows, classes, scale=300),
                       labels_of(g, rows, classes))
    rows = size(g, 5, 10)
    binary = (g.random((rows, 1)) > 0.5).astype(np.float32)
    for reduction in ("mean", "sum"):
        found += loss_pair(f"{reduction}", "BCEWithLogitsLoss", floats(g, rows, 1, scale=2),
                           binary, reduction=reduction)
    # Logits far from 0 of both signs, each with the target that makes its loss large and the
    # one that makes it small, and one near 0; magnitudes drawn in 70 .. 120.
    far = g.uniform(70.0, 120.0, 4) * np.array([1.0, -1.0, 1.0, -1.0])
    logits = np.array([*far, g.uniform(-1.0, 1.0)], np.float32).reshape(5, 1)
    targets = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]], np.float32)
    found += loss_pair("large-logits", "BCEWithLogitsLoss", *shuffled(g, logits, targets))
    # BCELoss on probabilities, including 0 and 1 (the logs clamped at -100, as PyTorch).
    shape = (size(g, 3, 8), size(g, 1, 3))
    soft = g.random(shape).astype(np.float32)
    for reduction in ("mean", "sum"):
        found += loss_pair(f"{reduction}", "BCELoss",
                           g.uniform(0.02, 0.98, shape).astype(np.float32), soft,
                           reduction=reduction)
    extremes = np.array([[0.0], [1.0], [0.5], [1e-8]], np.float32)
    rows = size(g, 0, 3)  # and a few rows inside (0, 1)
    found += loss_pair("saturated", "BCELoss", *shuffled(
        g, np.concatenate([extremes, g.uniform(0.05, 0.95, (rows, 1)).astype(np.float32)]),
        np.concatenate([np.array([[1.0], [1.0], [0.0], [0.0]], np.float32),
                        (g.random((rows, 1)) > 0.5).astype(np.float32)])))
    # CrossEntropyLoss(ignore_index): the ignored rows leave the mean and get no gradient.
    rows, classes = size(g, 5, 9), size(g, 2, 5)
    padded = labels_of(g, rows, classes)
    padded[g.permutation(rows)[:size(g, 1, rows - 2)]] = -100  # some rows ignored, not all
    found += loss_pair("ignore-index", "CrossEntropyLoss", floats(g, rows, classes), padded)
    rows, classes = size(g, 5, 9), size(g, 3, 5)
    targets = labels_of(g, rows, classes)
    targets[g.permutation(rows)[:2]] = 0, 1 + g.integers(0, classes - 1)  # a 0 and another
    found += loss_pair("ignore-index-0-sum-smoothing", "CrossEntropyLoss",
                       floats(g, rows, classes), targets, ignore_index=0, reduction="sum",
                       label_smoothing=0.1)
    # A target of the wrong shape is refused: the student's forward reaches the shape check of
    # mini_torch.functional (stage 1, handed out solved) or makes its own. A stage-3 task.
    wrong = Program()
    criterion = wrong.call("mini_torch.nn.MSELoss")
    rows = size(g, 3, 8)
    raised = wrong.call(criterion.attr("forward"), floats(g, rows, 1), floats(g, rows),
                        catch=True)
    found.append(check("stage3/MSELoss.forward[refuses-(N,)-target]", f"{LOSS}.MSELoss.forward",
                       LOSS_FILE, wrong, [raised]))
    return found


# --- the training step of each example ---------------------------------------------------------


def step_checks(g: np.random.Generator) -> list[Check]:
    return (step_checks_of(3, "train_sine.py", [1, 16, 1], "Tanh", "regression", 0.05,
                           "MSELoss", g=g)
            + step_checks_of(3, "train_spirals.py", [2, 16, 3], "ReLU", "classes", 0.5,
                             "CrossEntropyLoss", g=g)
            + step_checks_of(3, "train_moons.py", [2, 16, 1], "ReLU", "binary", 0.5,
                             "BCEWithLogitsLoss", g=g))


def checks(g: np.random.Generator) -> list[Check]:
    return loss_checks(g) + step_checks(g)
