"""Hidden checks of stage 3: the loss objects on inputs the public checks and tests do not use.

Only the grader holds this file (it ships in the autograder's kit, never in a release). The
trusted grader compares each result with the reference stage's on the same inputs:

- sum-reduced cross-entropy with label smoothing on probability targets, value and gradient;
- smoothed cross-entropy at its minimum (logits = log of the smoothed targets plus a row shift);
- BCEWithLogitsLoss on soft targets in (0, 1) and on logits of both signs far from 0;
- MSELoss on a wide (N, D) batch with reduction "sum".

Every input, and the shapes within small bounds, are drawn from the grading run's generator.
"""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, floats, size
from instructor.grading.checks.stage3 import loss_pair, shuffled


def checks(g: np.random.Generator) -> list[Check]:
    found = []
    rows, classes = size(g, 4, 7), size(g, 6, 9)
    targets = g.random((rows, classes)) + 0.05
    targets = (targets / targets.sum(axis=1, keepdims=True)).astype(np.float32)
    for smoothing in (0.2, 0.7):
        found += loss_pair(f"sum-smoothing-{smoothing}", "CrossEntropyLoss",
                           floats(g, rows, classes, scale=2.5), targets,
                           reduction="sum", label_smoothing=smoothing)
    rows, classes = size(g, 3, 6), size(g, 4, 7)
    targets = g.random((rows, classes)) + 0.05
    smoothed = 0.7 * targets / targets.sum(axis=1, keepdims=True) + 0.3 / classes
    # Near the minimum of smoothed probability targets, not at it: there the gradient is ~0,
    # and an answer of zeros would pass; 0.5 off in every logit it is well away from 0.
    logits = (np.log(smoothed) + g.standard_normal((rows, 1))
              + 0.5 * g.standard_normal((rows, classes))).astype(np.float32)
    found += loss_pair("near-minimum", "CrossEntropyLoss", logits,
                       ((smoothed - 0.3 / classes) / 0.7).astype(np.float32),
                       label_smoothing=0.3)
    rows = size(g, 5, 9)
    found += loss_pair("soft-targets", "BCEWithLogitsLoss", floats(g, rows, 1, scale=3),
                       g.uniform(0.05, 0.95, (rows, 1)).astype(np.float32))
    # Logits of both signs far from 0 (magnitudes 30 .. 60), each sign with both targets.
    far = (g.uniform(30.0, 60.0, 4) * np.array([1.0, -1.0, 1.0, -1.0])).astype(np.float32)
    found += loss_pair("far-logits", "BCEWithLogitsLoss", *shuffled(
        g, far.reshape(4, 1), np.array([[1.0], [0.0], [0.0], [1.0]], np.float32)),
        reduction="sum")
    shape = (size(g, 2, 4), size(g, 5, 9))
    found += loss_pair("wide-sum", "MSELoss", floats(g, *shape), floats(g, *shape),
                       reduction="sum")
    return found
