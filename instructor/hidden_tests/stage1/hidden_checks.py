"""Hidden checks of stage 1: the functional core on inputs the public checks and tests do not use.

Only the grader holds this file (it ships in the autograder's kit, never in a release). The
trusted grader compares each result with the reference stage's on the same inputs, drawn (and
their shapes, within small bounds) from the grading run's generator:

- the activations and their backward on sequences ``(N, T, D)``, LeakyReLU at its default slope,
  the tanh GELU on wide inputs, the sigmoid's backward at +-800;
- softmax and log_softmax of rows shifted by +-1e4 (an exp without the row's maximum taken off
  overflows), and over the columns (``axis=0``);
- linear with a ``(1, out)`` bias on wide layers;
- the mean squared error of one column, cross-entropy on ``(N, 1)`` indices, on probability targets
  with smoothing summed, and on logits of size 300; the logistic loss summed on logits far from 0
  and on soft targets.
"""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, floats, size
from instructor.grading.checks.stage1 import call_check, placed


def checks(g: np.random.Generator) -> list[Check]:
    found = []
    shape = (size(g, 2, 3), size(g, 2, 4), size(g, 3, 6))
    x, grad = floats(g, *shape, scale=2), floats(g, *shape)
    for function in ("relu", "sigmoid", "tanh", "gelu"):
        found.append(call_check("sequence", function, x))
        found.append(call_check("sequence", f"{function}_backward", grad, x))
    found.append(call_check("default-slope", "leaky_relu", x))
    found.append(call_check("default-slope", "leaky_relu_backward", grad, x))
    wide = floats(g, size(g, 3, 6), size(g, 3, 6), scale=5)
    found.append(call_check("tanh-approximation-wide", "gelu", wide, approximate="tanh"))
    found.append(call_check("tanh-approximation-wide", "gelu_backward", floats(g, *wide.shape),
                            wide, approximate="tanh"))
    extreme = placed(g, [-800.0, 800.0], size(g, 3, 6))
    found.append(call_check("extreme", "sigmoid_backward", floats(g, *extreme.shape), extreme))

    rows, classes = size(g, 3, 6), size(g, 3, 7)
    offsets = g.choice([-1e4, 1e4], (rows, 1))
    shifted = (floats(g, rows, classes, scale=3) + offsets).astype(np.float32)
    found.append(call_check("shifted-rows", "softmax", shifted))
    found.append(call_check("shifted-rows", "log_softmax", shifted))
    columns = floats(g, size(g, 3, 6), size(g, 2, 5), scale=3)
    found.append(call_check("columns", "softmax", columns, axis=0))
    found.append(call_check("columns", "log_softmax", columns, axis=0))

    n, fan_in, fan_out = size(g, 3, 8), size(g, 6, 12), size(g, 5, 9)
    xs, W, b = floats(g, n, fan_in), floats(g, fan_in, fan_out), floats(g, 1, fan_out)
    found.append(call_check("row-bias", "linear", xs, W, b))
    found.append(call_check("row-bias", "linear_backward", floats(g, n, fan_out), xs, W))

    n = size(g, 5, 10)
    pred, target = floats(g, n, 1), floats(g, n, 1)
    found.append(call_check("column", "mse_loss", pred, target))
    found.append(call_check("column", "mse_loss_backward", pred, target))
    rows, classes = size(g, 3, 7), size(g, 3, 6)
    logits = floats(g, rows, classes, scale=2)
    column = g.integers(0, classes, (rows, 1)).astype(np.int64)
    found.append(call_check("column-indices", "cross_entropy", logits, column))
    found.append(call_check("column-indices", "cross_entropy_backward", logits, column))
    probabilities = g.random((rows, classes)) + 0.05
    probabilities = (probabilities / probabilities.sum(axis=1, keepdims=True)).astype(np.float32)
    for function in ("cross_entropy", "cross_entropy_backward"):
        found.append(call_check("probabilities-sum-smoothing", function, logits, probabilities,
                                reduction="sum", label_smoothing=0.2))
    large = floats(g, size(g, 2, 5), classes, scale=300)
    labels = g.integers(0, classes, len(large)).astype(np.int64)
    found.append(call_check("large-logits", "cross_entropy", large, labels))
    found.append(call_check("large-logits", "cross_entropy_backward", large, labels))
    far = (g.uniform(30.0, 80.0, (6, 1)) * g.choice([-1.0, 1.0], (6, 1))).astype(np.float32)
    binary = (g.random((6, 1)) > 0.5).astype(np.float32)
    for function in ("binary_cross_entropy_with_logits",
                     "binary_cross_entropy_with_logits_backward"):
        found.append(call_check("far-logits-sum", function, far, binary, reduction="sum"))
    n = size(g, 4, 9)
    soft_logits, soft = floats(g, n, 2, scale=3), g.uniform(0.05, 0.95, (n, 2)).astype(np.float32)
    for function in ("binary_cross_entropy_with_logits",
                     "binary_cross_entropy_with_logits_backward"):
        found.append(call_check("soft-targets", function, soft_logits, soft))
    return found
