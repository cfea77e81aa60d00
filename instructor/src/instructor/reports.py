"""What grading writes: a CSV gradebook, a feedback text per student, Gradescope results.

In the output folder of ``grade``::

    gradebook.csv                  student, score, max, stage1 .. stageN, hidden, status, message
    feedback/<student>.txt         the failed tests grouped by their error, with what to do
    results/<student>/results.json Gradescope's format (hidden tests visible after the due date)
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from instructor.grading import SubmissionResult, TestResult

#: Gradescope visibility of the public and of the hidden tests.
VISIBLE, AFTER_DUE_DATE = "visible", "after_due_date"

# How many test names, and detail lines, one feedback group shows.
_NAMES_SHOWN = 8
_DETAIL_LINES = 30

_STATUS_TEXT = {
    "graded": "graded",
    "time_limit": "graded until the time limit",
    "no_package": "no package found",
    "prohibited_import": "prohibited import",
    "build_error": "package does not build",
    "import_error": "import fails",
    "grader_error": "grader error",
}


def _number(value: float) -> str:
    """``3`` for 3.0, ``2.5`` for 2.5."""
    return f"{value:g}"


def score_line(result: SubmissionResult) -> str:
    """``Score: 95 / 100 (stage1 40/40, stage2 30/30, stage3 23/25, hidden 2/5)``."""
    parts = []
    for group in result.groups():
        points, most = result.subtotal(group)
        if most:
            parts.append(f"{group} {_number(points)}/{_number(most)}")
    return (f"Score: {_number(result.score)} / {_number(result.max_score)}"
            + (f" ({', '.join(parts)})" if parts else ""))


# --- the gradebook -----------------------------------------------------------------------------


def write_gradebook(results: Sequence[SubmissionResult], path: Path) -> None:
    """One row per student: total, maximum, a subtotal per stage and for the hidden tests."""
    stage = max((r.stage for r in results), default=1)
    groups = [f"stage{k}" for k in range(1, stage + 1)] + ["hidden"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "score", "max", *groups, "status", "message"])
        for result in results:
            subtotals = [_number(result.subtotal(g)[0]) for g in groups]
            first_line = result.message.splitlines()[0] if result.message else ""
            writer.writerow([result.student, _number(result.score), _number(result.max_score),
                             *subtotals, result.status, first_line])


# --- feedback ----------------------------------------------------------------------------------


def _rerun_hint(result: SubmissionResult, test: TestResult) -> str:
    name = test.nodeid.split("::")[-1].split("[")[0]
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


def _groups_of_failures(tests: list[TestResult]) -> list[list[TestResult]]:
    """Failed tests grouped by their error (its headline), biggest group first."""
    groups: dict[tuple[str, str], list[TestResult]] = {}
    for test in tests:
        groups.setdefault((test.outcome, headline(test.message)), []).append(test)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0].nodeid))


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line.strip() else line for line in text.splitlines())


def feedback_text(result: SubmissionResult) -> str:
    """The feedback of one student: score, then what failed and why, grouped by error."""
    lines = [f"Mini-Torch stage {result.stage}: feedback for {result.student}", "",
             score_line(result), ""]
    if result.status not in ("graded",):
        lines += [f"Your submission was not fully graded: {_STATUS_TEXT.get(result.status, '')}.",
                  _indent(result.message), ""]
        if result.status in ("no_package", "prohibited_import", "build_error", "import_error"):
            lines += ["Fix this first: no test could run. Then run the tests yourself with",
                      f"    nox -s stage{result.stage} -- --submission PATH",
                      "where PATH is your stage folder (the one holding pyproject.toml).", ""]
            return "\n".join(lines)
    failed = [t for t in result.tests if not t.passed]
    if not failed:
        lines.append("Every test passed. Well done.")
        return "\n".join(lines) + "\n"
    groups = _groups_of_failures(failed)
    lines += [f"{len(failed)} of {len(result.tests)} tests did not pass. They are grouped by "
              "their error, the most common first: one fix often repairs a whole group.", ""]
    for number, group in enumerate(groups, start=1):
        first = group[0]
        count = f"{len(group)} test{'s' if len(group) > 1 else ''}"
        lines.append(f"{number}. [{first.outcome}] {count}: {headline(first.message)}")
        if first.where:
            lines.append(f"   raised at {first.where}")
        names = [t.nodeid + (" (hidden test)" if t.hidden else "") for t in group]
        shown = names[:_NAMES_SHOWN]
        lines += [f"   - {name}" for name in shown]
        if len(names) > len(shown):
            lines.append(f"   - ... and {len(names) - len(shown)} more")
        detail = first.details.strip() or "\n".join(first.message.strip().splitlines()[1:])
        if detail:
            detail_lines = detail.splitlines()
            if len(detail_lines) > _DETAIL_LINES:
                detail_lines = ["...", *detail_lines[-_DETAIL_LINES:]]
            lines += ["   The first of them in detail:", _indent("\n".join(detail_lines), "   | ")]
        if not first.hidden:
            lines.append(f"   Rerun it: {_rerun_hint(result, first)}")
        lines.append("")
    lines += ["PATH is your stage folder (the one holding pyproject.toml). Hidden tests check the "
              "same specification as the public ones, with other inputs."]
    return "\n".join(lines) + "\n"


def write_feedback(result: SubmissionResult, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{result.student}.txt"
    path.write_text(feedback_text(result), encoding="utf-8")
    return path


# --- Gradescope --------------------------------------------------------------------------------


def _test_output(test: TestResult) -> str:
    if test.passed:
        return "passed"
    parts = [f"{test.outcome}: {test.message.strip()}"]
    if test.where:
        parts.append(f"raised at {test.where}")
    if test.details.strip():
        detail = test.details.strip().splitlines()[-_DETAIL_LINES:]
        parts.append("\n".join(detail))
    return "\n".join(parts)


def gradescope_results(result: SubmissionResult) -> dict:
    """Gradescope's ``results.json``: total, per test, hidden tests after the due date."""
    summary = [score_line(result)]
    if result.status != "graded":
        summary.append(f"{_STATUS_TEXT.get(result.status, result.status)}: {result.message}")
    failed = sum(1 for t in result.tests if not t.passed and not t.hidden)
    if failed:
        summary.append(f"{failed} public test(s) did not pass; each one below says why.")
    elif result.tests:
        summary.append("Every public test passed.")
    return {
        "score": round(result.score, 4),
        "max_score": round(result.max_score, 4),
        "output": "\n".join(summary),
        "visibility": VISIBLE,
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": test.nodeid,
                "score": round(test.points, 4),
                "max_score": round(test.max_points, 4),
                "status": "passed" if test.passed else "failed",
                "output": _test_output(test),
                "visibility": AFTER_DUE_DATE if test.hidden else VISIBLE,
            }
            for test in result.tests
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
