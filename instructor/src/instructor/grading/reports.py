"""What grading writes: a CSV gradebook, a feedback text per student, Gradescope results.

In the output folder of ``grade``::

    gradebook.csv                  student, score, max, stageN, hidden, reported, integrity,
                                   status, message, seconds
    feedback/<student>.txt         the failed checks grouped by their error, with what to do
    results/<student>/results.json Gradescope's format (hidden checks shown after publication)

Nothing a student sees before grades are published states a hidden result: in ``results.json``
the hidden checks have ``after_published`` visibility and the visible ``output`` gives the public
subtotal only.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from instructor.grading.results import CheckResult, SubmissionResult

#: Gradescope visibility of the public and of the hidden checks.
VISIBLE, AFTER_PUBLISHED = "visible", "after_published"

# How many test names, and detail lines, one feedback group shows.
_NAMES_SHOWN = 8
_DETAIL_LINES = 30

_STATUS_TEXT = {
    "graded": "graded",
    "integrity": "integrity finding (prohibited import)",
    "no_package": "no package found",
    "grader_error": "grader error",
}


def _number(value: float) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5."""
    return f"{value:g}"


def score_line(result: SubmissionResult) -> str:
    """``Score: 35 / 40 (stage3 25/28, hidden 10/12; reported 60/64)`` (for the staff)."""
    parts = []
    for group in result.groups():
        points, most = result.subtotal(group)
        if most:
            parts.append(f"{group} {_number(points)}/{_number(most)}")
    reported = [c for c in result.checks if not c.scored]
    tail = (f"; earlier stages' code, not scored: {sum(c.passed for c in reported)}/"
            f"{len(reported)} checks pass" if reported else "")
    return (f"Score: {_number(result.score)} / {_number(result.max_score)}"
            + (f" ({', '.join(parts)}{tail})" if parts or tail else ""))


def public_score_line(result: SubmissionResult) -> str:
    """The public checks' subtotal alone: what a student may see before publication."""
    points, most = result.public_subtotal()
    return f"Public checks: {_number(points)} / {_number(most)} points"


# --- the gradebook -----------------------------------------------------------------------------


def write_gradebook(results: Sequence[SubmissionResult], path: Path) -> None:
    """One row per student: total, maximum, the public and hidden subtotals, the reported checks
    (earlier stages' code: passed/run, no points), integrity findings, status."""
    stage = max((r.stage for r in results), default=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "score", "max", f"stage{stage}", "hidden", "reported",
                         "integrity", "status", "message", "seconds"])
        for result in results:
            subtotals = [_number(result.subtotal(g)[0]) for g in (f"stage{stage}", "hidden")]
            reported = [c for c in result.checks if not c.scored]
            first_line = result.message.splitlines()[0] if result.message else ""
            writer.writerow([result.student, _number(result.score), _number(result.max_score),
                             *subtotals, f"{sum(c.passed for c in reported)}/{len(reported)}",
                             "; ".join(result.integrity), result.status, first_line,
                             f"{result.seconds:.1f}"])


# --- feedback ----------------------------------------------------------------------------------


def _rerun_hint(result: SubmissionResult, test: CheckResult) -> str:
    name = test.task.rsplit(".", 1)[-1].split(":")[-1]
    return f'nox -s stage{result.stage} -- --submission PATH -k "{name}"'


def headline(message: str) -> str:
    """The line of an error message that says what went wrong.

    ``AssertionError: `` followed by numpy's ``Not equal to tolerance ...`` gives
    ``AssertionError: Not equal to tolerance ...``.
    """
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    if lines[0].endswith(":") and len(lines) > 1:
        return f"{lines[0]} {lines[1]}"
    return lines[0]


def _groups_of_failures(checks: list[CheckResult]) -> list[list[CheckResult]]:
    """Failed checks grouped by their error (its headline), biggest group first."""
    groups: dict[tuple[str, str], list[CheckResult]] = {}
    for check in checks:
        groups.setdefault((check.outcome, headline(check.message)), []).append(check)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0].name))


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line.strip() else line for line in text.splitlines())


def _failure_lines(result: SubmissionResult, failed: list[CheckResult]) -> list[str]:
    lines = []
    for number, group in enumerate(_groups_of_failures(failed), start=1):
        first = group[0]
        count = f"{len(group)} check{'s' if len(group) > 1 else ''}"
        lines.append(f"{number}. [{first.outcome}] {count}: {headline(first.message)}")
        if first.where:
            lines.append(f"   at {first.where}")
        names = [c.name + (" (hidden check)" if c.hidden else "") for c in group]
        lines += [f"   - {name}" for name in names[:_NAMES_SHOWN]]
        if len(names) > _NAMES_SHOWN:
            lines.append(f"   - ... and {len(names) - _NAMES_SHOWN} more")
        detail = first.details.strip() or "\n".join(first.message.strip().splitlines()[1:])
        if detail:
            detail_lines = detail.splitlines()[-_DETAIL_LINES:]
            lines += ["   The first of them in detail:", _indent("\n".join(detail_lines), "   | ")]
        if not first.hidden:
            lines.append(f"   Try it with the public tests: {_rerun_hint(result, first)}")
        lines.append("")
    return lines


def feedback_text(result: SubmissionResult) -> str:
    """The feedback of one student: score, then what failed and why, grouped by error."""
    lines = [f"Mini-Torch stage {result.stage}: feedback for {result.student}", "",
             score_line(result), ""]
    if result.integrity:
        lines += ["Integrity finding: " + "; ".join(result.integrity), ""]
    if result.status != "graded":
        lines += [f"Your submission was not graded: {_STATUS_TEXT.get(result.status, '')}.",
                  _indent(result.message), ""]
        return "\n".join(lines) + "\n"
    scored = [c for c in result.checks if c.scored and not c.passed]
    reported = [c for c in result.checks if not c.scored and not c.passed]
    if not scored:
        lines.append(f"Every check of stage {result.stage}'s tasks passed. Well done.")
    else:
        lines += [f"{len(scored)} scored check(s) did not pass, grouped by their error (one fix "
                  "often repairs a whole group):", ""]
        lines += _failure_lines(result, scored)
    if reported:
        lines += ["", "Not scored (code of earlier stages, handed out solved, as it is in your "
                  f"package): {len(reported)} check(s) did not pass:", ""]
        lines += _failure_lines(result, reported)
    lines += ["PATH is your stage folder (the one holding pyproject.toml). Hidden checks test the "
              "same specification as the public ones, with other inputs."]
    return "\n".join(lines) + "\n"


def write_feedback(result: SubmissionResult, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.student}.txt"
    path.write_text(feedback_text(result), encoding="utf-8")
    return path


# --- Gradescope --------------------------------------------------------------------------------


def _check_output(check: CheckResult) -> str:
    if check.passed:
        return "passed"
    parts = [f"{check.outcome}: {check.message.strip()}"]
    if check.where:
        parts.append(f"at {check.where}")
    if check.details.strip():
        parts.append("\n".join(check.details.strip().splitlines()[-_DETAIL_LINES:]))
    return "\n".join(parts)


def gradescope_results(result: SubmissionResult, execution_time: float | None = None) -> dict:
    """Gradescope's ``results.json``.

    The scored checks are the tests (hidden ones ``after_published``); the checks that are only
    reported (earlier stages' code) are listed with ``max_score`` 0. The visible ``output``
    states the public subtotal and the status, never a hidden result.
    """
    summary = [public_score_line(result)]
    if result.status != "graded":
        summary.append(f"{_STATUS_TEXT.get(result.status, result.status)}: {result.message}")
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
        "output": "\n".join(summary),
        "visibility": VISIBLE,
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": check.name,
                "score": round(check.points, 4),
                "max_score": round(check.max_points, 4),
                "status": "passed" if check.passed else "failed",
                "output": _check_output(check),
                "visibility": AFTER_PUBLISHED if check.hidden else VISIBLE,
            }
            # the scored checks first, then those only reported
            for check in sorted(result.checks, key=lambda c: not c.scored)
        ],
    }


def write_gradescope(result: SubmissionResult, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(gradescope_results(result), indent=1) + "\n", encoding="utf-8")
    return path


def write_reports(results: Sequence[SubmissionResult], out: Path) -> None:
    """Write the gradebook, the feedback and the Gradescope results of a batch into ``out``."""
    write_gradebook(results, out / "gradebook.csv")
    for result in results:
        write_feedback(result, out / "feedback")
        write_gradescope(result, out / "results" / result.student / "results.json")
