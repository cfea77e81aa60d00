"""Hidden checks of stage 3: the loss objects on inputs the public checks and tests do not use.

Only the grader holds this file (it ships in the autograder's kit, never in a release). The
trusted grader compares each result with the reference stage's on the same inputs:

- sum-reduced cross-entropy with label smoothing on probability targets, value and gradient;
- smoothed cross-entropy at its minimum (logits = log of the smoothed targets plus a row shift);
- BCEWithLogitsLoss on soft targets in (0, 1) and on logits of both signs far from 0;
- MSELoss on a wide (N, 7) batch with reduction "sum".
"""

from __future__ import annotations

import numpy as np

from instructor.checks import Check
from instructor.checks.stage3 import loss_pair


def checks() -> list[Check]:
    g = np.random.default_rng(2024)
    found = []
    targets = g.random((5, 7)) + 0.05
    targets = (targets / targets.sum(axis=1, keepdims=True)).astype(np.float32)
    for smoothing in (0.2, 0.7):
        found += loss_pair(f"sum-smoothing-{smoothing}", "CrossEntropyLoss",
                           (2.5 * g.standard_normal((5, 7))).astype(np.float32), targets,
                           reduction="sum", label_smoothing=smoothing)
    smoothed = 0.7 * targets[:4, :5] / targets[:4, :5].sum(axis=1, keepdims=True) + 0.3 / 5
    # Near the minimum of smoothed probability targets, not at it: there the gradient is ~0,
    # and an answer of zeros would pass; 0.5 off in every logit it is well away from 0.
    logits = (np.log(smoothed) + g.standard_normal((4, 1))
              + 0.5 * g.standard_normal((4, 5))).astype(np.float32)
    found += loss_pair("near-minimum", "CrossEntropyLoss", logits,
                       ((smoothed - 0.3 / 5) / 0.7).astype(np.float32),
                       label_smoothing=0.3)
    found += loss_pair("soft-targets", "BCEWithLogitsLoss",
                       (3 * g.standard_normal((6, 1))).astype(np.float32),
                       g.uniform(0.05, 0.95, (6, 1)).astype(np.float32))
    found += loss_pair("far-logits", "BCEWithLogitsLoss",
                       np.array([[40.0], [-60.0], [35.0], [-45.0]], np.float32),
                       np.array([[1.0], [0.0], [0.0], [1.0]], np.float32), reduction="sum")
    found += loss_pair("wide-sum", "MSELoss", g.standard_normal((3, 7)).astype(np.float32),
                       g.standard_normal((3, 7)).astype(np.float32), reduction="sum")
    return found
