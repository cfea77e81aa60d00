"""Gradescope's ``results.json``: what a student sees of one graded submission on Gradescope.

The layout is Gradescope's documented autograder output: ``score``, ``max_score``,
``execution_time``, ``output``, ``visibility``, ``stdout_visibility`` and ``tests``, each test
with ``name``, ``score``, ``max_score``, ``status``, ``output`` and ``visibility``.

Nothing a student sees before grades are published states a hidden result: the hidden checks
have ``after_published`` visibility and the visible ``output`` gives the public subtotal only.
``grade`` writes one per student (``results/<student>/results.json``) and, for the autograder,
the one at ``--gradescope-results``.
"""

from __future__ import annotations

import json
from pathlib import Path

from instructor.grading.reports import DETAIL_LINES, STATUS_TEXT, public_score_line
from instructor.grading.results import CheckResult, SubmissionResult
from instructor.grading.safe import replace_file, safe_text

#: Gradescope visibility of the public and of the hidden checks.
VISIBLE, AFTER_PUBLISHED = "visible", "after_published"


def _check_output(check: CheckResult) -> str:
    if check.passed:
        return "passed"
    parts = [f"{check.outcome}: {check.message.strip()}"]
    if check.where:
        parts.append(f"at {check.where}")
    if check.details.strip():
        parts.append("\n".join(check.details.strip().splitlines()[-DETAIL_LINES:]))
    return "\n".join(parts)


def gradescope_results(result: SubmissionResult, execution_time: float | None = None) -> dict:
    """Gradescope's ``results.json``.

    The scored checks are the tests (hidden ones ``after_published``); the checks that are only
    reported (earlier stages' code) are listed with ``max_score`` 0. The visible ``output``
    states the public subtotal and the status, never a hidden result.
    """
    summary = [] if result.isolated else [result.isolation]
    summary.append(public_score_line(result))
    if result.status != "graded":
        summary.append(f"{STATUS_TEXT.get(result.status, result.status)}: {result.message}")
    if result.integrity:
        summary.append("Integrity finding: " + "; ".join(result.integrity))
    failed = sum(1 for c in result.checks if c.scored and not c.passed and not c.hidden)
    if failed:
        summary.append(f"{failed} public check(s) did not pass; each one below says why.")
    elif result.status == "graded":
        summary.append("Every public check passed.")
    summary.append("Hidden checks are shown when grades are published.")
    seconds = result.seconds if execution_time is None else execution_time
    return {
        "score": round(result.score, 4),
        "max_score": round(result.max_score, 4),
        "execution_time": round(seconds),
        "output": safe_text("\n".join(summary)),
        "visibility": VISIBLE,
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": safe_text(check.name),
                "score": round(check.points, 4),
                "max_score": round(check.max_points, 4),
                "status": "passed" if check.passed else "failed",
                "output": safe_text(_check_output(check)),
                "visibility": AFTER_PUBLISHED if check.hidden else VISIBLE,
            }
            # the scored checks first, then those only reported
            for check in sorted(result.checks, key=lambda c: not c.scored)
        ],
    }


def gradescope_text(result: SubmissionResult) -> str:
    """The contents of a ``results.json``."""
    return json.dumps(gradescope_results(result), indent=1) + "\n"


def write_gradescope(result: SubmissionResult, path: Path) -> Path:
    """Gradescope's results.json at ``path`` (see :func:`~instructor.grading.safe.replace_file`)."""
    return replace_file(path, gradescope_text(result))
