"""The texts grading writes for people: score lines, the CSV gradebook, a student's feedback.

Nothing a student sees before grades are published states a hidden result: the feedback names a
failed hidden check by its task alone, without its name, its inputs or the expected value.
Checks are named in words with the guide section that teaches them. A run without isolation
says so on the first line of every report. Gradescope's ``results.json`` is
:mod:`instructor.gradescope.results`; the folder these texts are written into is
:mod:`instructor.grading.outfolder`.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence

from instructor.grading.results import CheckResult, SubmissionResult
from instructor.grading.safe import safe_cell, safe_text

# How many test names, and detail lines, one feedback group shows.
_NAMES_SHOWN = 8
DETAIL_LINES = 30

STATUS_TEXT = {
    "graded": "graded",
    "integrity": "integrity finding (prohibited import)",
    "refused": "refused (it holds a link, a special file, or too much)",
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


def gradebook_text(results: Sequence[SubmissionResult]) -> str:
    """One row per student: total, maximum, the public and hidden subtotals, the reported checks
    (earlier stages' code: passed/run, no points), integrity findings, status, isolation."""
    stage = max((r.stage for r in results), default=1)
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    writer.writerow(["student", "score", "max", f"stage{stage}", "hidden", "reported",
                     "integrity", "status", "message", "seconds", "cpu_seconds", "isolation"])
    for result in results:
        writer.writerow(_gradebook_row(result, stage))
    return handle.getvalue()


def _gradebook_row(result: SubmissionResult, stage: int) -> list[str]:
    """A gradebook row; what came from the submission (its name, messages, findings) goes
    through :func:`~instructor.grading.safe.safe_cell`."""
    try:
        subtotals = [_number(result.subtotal(g)[0]) for g in (f"stage{stage}", "hidden")]
        reported = [c for c in result.checks if not c.scored]
        first_line = result.message.splitlines()[0] if result.message else ""
        return [safe_cell(result.student), _number(result.score), _number(result.max_score),
                *subtotals, f"{sum(c.passed for c in reported)}/{len(reported)}",
                safe_cell("; ".join(result.integrity + result.findings)), result.status,
                safe_cell(first_line), f"{result.seconds:.1f}", f"{result.cpu:.1f}",
                safe_cell(result.jail or result.isolation.split(":")[0])]
    except (ArithmeticError, TypeError, ValueError) as error:  # never the batch's end
        return [safe_cell(result.student), "0", "0", "0", "0", "0/0", "", "grader_error",
                safe_cell(f"the row could not be written: {error!r}"), "0", "0", ""]


# --- feedback ----------------------------------------------------------------------------------


def _rerun_hint(result: SubmissionResult, test: CheckResult) -> str:
    """The public tests of the check's task: the kit's ``-k`` for it (the test module of the
    task where there is one: ``-k layer_norm``), else the task's name in test words."""
    from instructor.grading.kit import test_keyword

    name = test.keyword or test_keyword(test.task, set())
    return f'nox -s stage{result.stage} -- --submission PATH -k "{name}"'


def task_words(task: str) -> str:
    """``MSELoss.forward`` for ``mini_torch.nn.loss.MSELoss.forward``; ``train_step in
    examples/train_sine.py`` for ``examples/train_sine.py:train_step``."""
    if ":" in task:
        script, _, function = task.partition(":")
        return f"{function} in {script}"
    parts = task.split(".")
    classes = [i for i, part in enumerate(parts) if part[:1].isupper()]
    return ".".join(parts[classes[0]:]) if classes else parts[-1]


def check_title(check: CheckResult) -> str:
    """A check in a student's words: what it calls, and in which case.

    ``MSELoss.forward, case "mean"``; a hidden check is named by its task alone.
    """
    words = task_words(check.task)
    if check.hidden:
        return f"a hidden check of {words}"
    case = re.search(r"\[(.*)\]$", check.name)
    return f'{words}, case "{case.group(1)}"' if case else words


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
    public = [c for c in failed if not c.hidden]
    for number, group in enumerate(_groups_of_failures(public), start=1):
        first = group[0]
        count = f"{len(group)} check{'s' if len(group) > 1 else ''}"
        lines.append(f"{number}. [{first.outcome}] {count}: {headline(first.message)}")
        if first.where:
            lines.append(f"   at {first.where}")
        names = [check_title(c) for c in group]
        lines += [f"   - {name}" for name in names[:_NAMES_SHOWN]]
        if len(names) > _NAMES_SHOWN:
            lines.append(f"   - ... and {len(names) - _NAMES_SHOWN} more")
        detail = first.details.strip() or "\n".join(first.message.strip().splitlines()[1:])
        if detail:
            detail_lines = detail.splitlines()[-DETAIL_LINES:]
            lines += ["   The first of them in detail:", _indent("\n".join(detail_lines), "   | ")]
        if first.guide:
            lines.append(f"   Read: {first.guide}")
        lines.append(f"   Try it with the public tests: {_rerun_hint(result, first)}")
        lines.append("")
    hidden: dict[str, list[CheckResult]] = {}
    for check in failed:
        if check.hidden:
            hidden.setdefault(check.task, []).append(check)
    for task, group in sorted(hidden.items()):
        guide = f" (read: {group[0].guide})" if group[0].guide else ""
        lines += [f"- {len(group)} hidden check(s) of {task_words(task)} did not pass{guide}; "
                  "hidden checks are explained when grades are published.", ""]
    return lines


def feedback_text(result: SubmissionResult) -> str:
    """The feedback of one student: score, then what failed and why, grouped by error."""
    lines = [] if result.isolated else [result.isolation, ""]
    lines += [f"Mini-Torch stage {result.stage}: feedback for {result.student}", "",
              score_line(result), ""]
    if result.integrity:
        lines += ["Integrity finding: " + "; ".join(result.integrity), ""]
    if result.status != "graded":
        lines += [f"Your submission was not graded: {STATUS_TEXT.get(result.status, '')}.",
                  _indent(result.message), ""]
        return safe_text("\n".join(lines) + "\n")
    scored = [c for c in result.checks if c.scored and not c.passed]
    reported = [c for c in result.checks if not c.scored and not c.passed]
    retried = sum(1 for c in result.checks if c.retried)
    if retried:
        lines += [f"{retried} check(s) were graded a second time, alone, on a fresh worker: the "
                  "first run was stopped by the grader's own trouble (a busy machine, a worker "
                  "that would not start), not by your code. Their verdicts are the second "
                  "run's.", ""]
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
    return safe_text("\n".join(lines) + "\n")


def log_text(result: SubmissionResult) -> str:
    """The staff's log of one submission: what its workers wrote on standard error when they
    ended badly, and the grader's own tracebacks."""
    parts = [f"Mini-Torch stage {result.stage}: log of {result.student} ({result.status})", ""]
    parts += [f"note: {note}" for note in result.notes]
    if result.notes:
        parts.append("")
    for entry in result.log:
        parts += [entry.rstrip(), "-" * 72]
    return safe_text("\n".join(parts) + "\n")
