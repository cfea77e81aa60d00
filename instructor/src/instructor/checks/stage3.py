"""Checks of stage 3: the loss objects' forward and backward, and the training step scripts."""

from __future__ import annotations

import numpy as np

from instructor.checks import Check, Program, check, floats, rng
from instructor.checks.examples import step_checks as step_checks_of

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


def loss_checks() -> list[Check]:
    g = rng(3)
    found: list[Check] = []
    for reduction in ("mean", "sum"):
        found += loss_pair(f"{reduction}", "MSELoss", floats(g, 6, 2), floats(g, 6, 2),
                           reduction=reduction)
    found += loss_pair("column", "MSELoss", floats(g, 9, 1), floats(g, 9, 1))
    labels = np.array([0, 2, 1, 2, 0], dtype=np.int64)
    for reduction in ("mean", "sum"):
        found += loss_pair(f"indices-{reduction}", "CrossEntropyLoss", floats(g, 5, 3, scale=2),
                           labels, reduction=reduction)
    probabilities = g.random((4, 5)).astype(np.float32) + 0.1
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    found += loss_pair("probabilities", "CrossEntropyLoss", floats(g, 4, 5), probabilities)
    found += loss_pair("smoothing", "CrossEntropyLoss", floats(g, 5, 3), labels,
                       label_smoothing=0.1)
    found += loss_pair("large-logits", "CrossEntropyLoss", floats(g, 3, 4, scale=300),
                       np.array([1, 0, 3], dtype=np.int64))
    binary = (g.random((8, 1)) > 0.5).astype(np.float32)
    for reduction in ("mean", "sum"):
        found += loss_pair(f"{reduction}", "BCEWithLogitsLoss", floats(g, 8, 1, scale=2), binary,
                           reduction=reduction)
    found += loss_pair("large-logits", "BCEWithLogitsLoss",
                       np.array([[80.0], [-90.0], [0.5], [-120.0]], dtype=np.float32),
                       np.array([[0.0], [1.0], [1.0], [0.0]], dtype=np.float32))
    # BCELoss on probabilities, including 0 and 1 (the logs clamped at -100, as PyTorch).
    soft = g.random((6, 2)).astype(np.float32)
    for reduction in ("mean", "sum"):
        found += loss_pair(f"{reduction}", "BCELoss",
                           g.uniform(0.02, 0.98, (6, 2)).astype(np.float32), soft,
                           reduction=reduction)
    found += loss_pair("saturated", "BCELoss",
                       np.array([[0.0], [1.0], [0.5], [1e-8]], np.float32),
                       np.array([[1.0], [1.0], [0.0], [0.0]], np.float32))
    # CrossEntropyLoss(ignore_index): the ignored rows leave the mean and get no gradient.
    padded = np.array([0, -100, 2, 1, -100, 2], dtype=np.int64)
    found += loss_pair("ignore-index", "CrossEntropyLoss", floats(g, 6, 3), padded)
    found += loss_pair("ignore-index-0-sum-smoothing", "CrossEntropyLoss", floats(g, 6, 3),
                       np.array([0, 1, 2, 0, 2, 1], dtype=np.int64), ignore_index=0,
                       reduction="sum", label_smoothing=0.1)
    # A target of the wrong shape is refused: the student's forward reaches the shape check of
    # mini_torch.functional (stage 1, handed out solved) or makes its own. A stage-3 task.
    wrong = Program()
    criterion = wrong.call("mini_torch.nn.MSELoss")
    raised = wrong.call(criterion.attr("forward"), floats(g, 4, 1), floats(g, 4), catch=True)
    found.append(check("stage3/MSELoss.forward[refuses-(N,)-target]", f"{LOSS}.MSELoss.forward",
                       LOSS_FILE, wrong, [raised]))
    return found


# --- the training step of each example ---------------------------------------------------------


def step_checks() -> list[Check]:
    return (step_checks_of(3, "train_sine.py", [1, 16, 1], "Tanh", "regression", 0.1, "MSELoss")
            + step_checks_of(3, "train_spirals.py", [2, 16, 3], "ReLU", "classes", 1.0,
                             "CrossEntropyLoss")
            + step_checks_of(3, "train_moons.py", [2, 16, 1], "ReLU", "binary", 0.5,
                             "BCEWithLogitsLoss"))


def checks() -> list[Check]:
    return loss_checks() + step_checks()
