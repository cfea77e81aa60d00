"""What grading writes: a CSV gradebook, a feedback text per student, Gradescope results.

In the output folder of ``grade``::

    gradebook.csv                  student, score, max, stageN, hidden, reported, integrity,
                                   status, message, seconds, cpu_seconds, isolation
    feedback/<student>.txt         the failed checks grouped by their error, with what to do
    results/<student>/results.json Gradescope's format (hidden checks shown after publication)
    logs/<student>.log             for staff, when there is anything: why a worker ended (the end
                                   of its standard error), the grader's own tracebacks

Nothing a student sees before grades are published states a hidden result: in ``results.json``
the hidden checks have ``after_published`` visibility and the visible ``output`` gives the public
subtotal only; the feedback names a failed hidden check by its task alone, without its name, its
inputs or the expected value. Checks are named in words with the guide section that teaches
them. A run without isolation says so on the first line of every report.

The grader owns what it writes: :func:`write_reports` creates the output folder itself (mode
0700; an existing path is refused unless it is an empty folder of the grader's own) and every
file in it with ``O_CREAT | O_EXCL | O_NOFOLLOW``: nothing planted there is followed or
overwritten.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

from instructor.grading.results import CheckResult, SubmissionResult
from instructor.grading.safe import file_key, file_name, safe_cell, safe_text
from instructor.stages.repo import InstructorError

#: Gradescope visibility of the public and of the hidden checks.
VISIBLE, AFTER_PUBLISHED = "visible", "after_published"

# How many test names, and detail lines, one feedback group shows.
_NAMES_SHOWN = 8
_DETAIL_LINES = 30

_STATUS_TEXT = {
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
            detail_lines = detail.splitlines()[-_DETAIL_LINES:]
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
        lines += [f"Your submission was not graded: {_STATUS_TEXT.get(result.status, '')}.",
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
    summary = [] if result.isolated else [result.isolation]
    summary.append(public_score_line(result))
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


_SAFE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def write_new_file(path: Path, text: str) -> None:
    """Create ``path`` (it must not exist: nothing there is followed) and write ``text``."""
    descriptor = os.open(path, _SAFE_FLAGS, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


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


def make_out_folder(out: Path) -> None:
    """Create the output folder, mode 0700, refusing a path the grader does not own.

    Raises:
        InstructorError: ``out`` exists and is not an empty folder of the grader's own (a link,
            a file, somebody else's, or one holding earlier results).
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(out, 0o700)
        return
    except FileExistsError:
        pass
    info = os.lstat(out)
    owner = not hasattr(os, "geteuid") or info.st_uid == os.geteuid()
    if not (os.path.isdir(out) and not os.path.islink(out) and owner) or any(out.iterdir()):
        raise InstructorError(
            f"--out {out}: it exists and is not an empty folder of this user's; grading "
            "writes into a new folder of its own: name one that does not exist yet")
    os.chmod(out, 0o700)


def write_gradescope(result: SubmissionResult, path: Path) -> Path:
    """Gradescope's results.json at ``path``; an earlier regular file of the grader's is replaced,
    anything else there (a link, somebody else's file) is refused."""
    text = gradescope_text(result)
    try:
        write_new_file(path, text)
    except FileExistsError:
        info = os.lstat(path)
        if os.path.islink(path) or not os.path.isfile(path) or (
                hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
            raise InstructorError(f"{path}: exists and is not a file of this user's; refusing "
                                  "to write through it") from None
        os.unlink(path)
        write_new_file(path, text)
    return path


class Reports:
    """The output folder of a batch, written as each submission finishes (:meth:`add`), the
    gradebook at the end (:meth:`finish`): a batch that stops half way keeps the reports of
    what it graded, and one report that cannot be written is that submission's
    ``grader_error``, never the batch's end.

    Every file is named by :func:`~instructor.grading.safe.file_name` of its student, which
    cannot collide; two results whose names differ only in case (one file on macOS or
    Windows) get no files of their own (the gradebook names both: the grader refuses such a
    pair, see :func:`instructor.grading.pipeline.student_names`).

    Raises:
        InstructorError: ``out`` cannot be the grader's own new folder.
    """

    def __init__(self, out: Path) -> None:
        make_out_folder(out)
        os.mkdir(out / "feedback", 0o700)
        os.mkdir(out / "results", 0o700)
        self.out = out
        self._owners: dict[str, Path] = {}  # file_key -> the source that owns those files
        self._added: set[int] = set()
        self._lock = threading.Lock()

    def add(self, result: SubmissionResult) -> None:
        """Write (or write again, after a retry) the files of one submission."""
        with self._lock:
            self._added.add(id(result))
            key = file_key(result.student)
            owner = self._owners.setdefault(key, result.source)
            if owner != result.source:
                result.notes.append("no feedback or results file: another submission's name "
                                    "gives the same file name")
                return
            try:
                self._write(result, file_name(result.student))
            except (OSError, ValueError) as error:
                result.status = "grader_error"
                result.message = f"the grader could not write this submission's reports ({error})"
                result.log.append(f"writing the reports: {error!r}")

    def _write(self, result: SubmissionResult, name: str) -> None:
        feedback = self.out / "feedback" / f"{name}.txt"
        folder = self.out / "results" / name
        log = self.out / "logs" / f"{name}.log"
        for path in (feedback, folder / "results.json", log):
            if path.is_file() and not path.is_symlink():
                path.unlink()  # the first run's file of this same submission, after a retry
        write_new_file(feedback, feedback_text(result))
        if not folder.is_dir():
            os.mkdir(folder, 0o700)
        write_new_file(folder / "results.json", gradescope_text(result))
        if result.log or any(c.retried for c in result.checks):
            if not (self.out / "logs").is_dir():
                os.mkdir(self.out / "logs", 0o700)
            write_new_file(log, log_text(result))

    def finish(self, results: Sequence[SubmissionResult]) -> None:
        """Write the files of any result not added yet, then the gradebook: one row per result."""
        for result in results:
            if id(result) not in self._added:
                self.add(result)
        with self._lock:
            write_new_file(self.out / "gradebook.csv", gradebook_text(results))


def write_reports(results: Sequence[SubmissionResult], out: Path) -> None:
    """Write the gradebook, the feedback and the Gradescope results of a batch into ``out``,
    a folder this creates (see :class:`Reports`).

    Raises:
        InstructorError: ``out`` cannot be the grader's own new folder.
    """
    reports = Reports(out)
    for result in results:
        reports.add(result)
    reports.finish(results)
