"""Grading one submission: the trusted side of the grader, step by step.

A submission goes through these steps, one module each:

1. intake (:mod:`~instructor.grading.intake`): the submission (a folder, or a zip) is copied
   as data into a fresh work folder (links, devices and oversized archives refused), and
   :mod:`~instructor.grading.package_rule` finds the package in the copy;
2. scan (:mod:`~instructor.grading.scan`): its ``src/mini_torch`` and ``examples`` are read
   with :mod:`ast` for prohibited imports (torch, sklearn, ...) and imports of the test
   machinery: an integrity finding, which under the ``zero`` policy scores 0 without running
   anything and under ``flag`` is reported beside the score; each file is compiled (never run):
   a file that does not compile fails its own checks, with the line, and nothing else;
3. installs (:mod:`~instructor.grading.running`): the reference stage with stage K's own files
   replaced by the student's (so carried-forward earlier work cannot cost or earn points; an
   own file that does not compile is replaced by its stub), with the student's examples beside
   it; and the student's whole package for the checks that are only reported (earlier stages'
   code);
4. jail (:mod:`~instructor.grading.jail`): each check runs in a worker
   (:mod:`~instructor.grading.worker`, the only code that shares a process with the student's)
   shut in the submission's own jail, with a limit of CPU time per check and a budget of CPU
   time for the submission; the public checks first, then those only reported, the hidden
   ones last (so that nothing student code saw of a hidden check can reach a visible one);
5. oracle and verdicts (:mod:`~instructor.grading.oracle`, :mod:`~instructor.grading.verdicts`):
   the answer is judged against the reference's in this process;
6. scoring (:mod:`~instructor.grading.scoring`): stage K's own tasks carry the points;
7. reports (:mod:`~instructor.grading.reports`): written once the submission's jail is gone,
   into a folder the grader creates.

This process never imports the submission's code; student code runs only in jails, and what
they send back is plain data. :func:`instructor.grading.batch_run.grade_batch` grades many
submissions side by side, then runs again, one at a time, every check whose first run was the
grader's problem (a wall-clock backstop on a busy machine, a worker that died): only the second
run gives its verdict.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from instructor.grading import oracle
from instructor.grading.intake import Refused, release, shown_name, syntax_errors, take_in
from instructor.grading.jail import Jail, JailPlan, choose_jail, clean_jail, jail_absent_modules
from instructor.grading.kit import Kit
from instructor.grading.package_rule import PackageNotFound, find_package
from instructor.grading.results import CheckResult, SubmissionResult
from instructor.grading.running import SubmissionRun, run_checks
from instructor.grading.safe import file_key, safe_text
from instructor.grading.scan import scan_package
from instructor.grading.scoring import Weights, is_scored
from instructor.stages.repo import InstructorError


@dataclass
class GradeOptions:
    """How a submission is run."""

    timeout: float = 10.0  # CPU seconds per check
    budget: float = 420.0  # CPU seconds for all checks of one submission
    policy: str = "zero"  # what a prohibited import costs: "zero" or "flag"
    keep: bool = False  # keep each submission's work folder (its path goes into the notes)
    work_root: Path | None = None  # where the work folders go (default: the system temp folder)
    unisolated: bool = False  # grade even where no jail is possible (every report says so)
    private: tuple[Path, ...] = ()  # folders a uid jail must not read besides the kit


def check_grader_environment(modules: Sequence[str]) -> None:
    """Refuse to start in an interpreter that lacks a module every worker needs: ``modules``,
    the import names of the stage's runtime dependencies
    (:func:`instructor.stages.import_names`; the worker imports numpy and what the stage uses).

    Raises:
        InstructorError: naming the missing modules and the pip command that installs them.
    """
    import importlib.util
    import sys

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise InstructorError(
            f"the grader's Python ({sys.executable}) lacks {', '.join(missing)}: "
            f"{sys.executable} -m pip install {' '.join(missing)}"
        )


def student_name(path: Path) -> str:
    """The folder name, or the zip's stem (bytes that are not text escaped: ``\\xff``)."""
    return shown_name(path.stem if path.suffix == ".zip" else path.name)


def student_names(submissions: Sequence[Path]) -> tuple[list[str], dict[int, str]]:
    """One student name per submission (:func:`student_name`), and the refusal of each
    submission whose name gives the same report file name as another's (the same name twice,
    ``alice`` and ``alice.zip``, or names that differ in case only): by index, a message naming
    all of them. Nobody's grade goes into somebody else's file; the staff decide who is who."""
    names = [student_name(Path(path)) for path in submissions]
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        groups.setdefault(file_key(name), []).append(index)
    refused = {}
    for members in groups.values():
        if len(members) > 1:
            listed = ", ".join(safe_text(Path(submissions[i]).name, line_bound=80)
                               for i in members)
            for index in members:
                refused[index] = (
                    f"{len(members)} submissions of this batch have one name ({listed}): "
                    "their reports would share a file; rename all but one submission (or "
                    "grade them in separate batches) and grade again")
    return names, refused


def plan_jails(kit: Kit, options: GradeOptions, submissions: int = 1) -> JailPlan:
    """The jail kind of a run: the best this machine offers (see :func:`choose_jail`)."""
    return choose_jail(unisolated=options.unisolated, private=(kit.path, *options.private),
                       submissions=submissions, distributions=kit.distributions)


def grade_submission(
    kit: Kit,
    submission: Path,
    weights: Weights | None = None,
    options: GradeOptions | None = None,
    *,
    student: str | None = None,
    jail: Jail | None = None,
    only: set[str] | None = None,
    into: SubmissionResult | None = None,
) -> SubmissionResult:
    """Grade one submission (a folder or a zip) with the checks of ``kit``; never raises.

    ``jail``: the submission's jail (:meth:`JailPlan.for_submission`); by default the best
    this machine offers, for this submission alone. ``only`` and ``into``: run again the
    checks named in ``only`` (their second run: its verdict stands) into the earlier result
    ``into``.

    Raises:
        InstructorError: only when no jail is given and none is possible (see
            :func:`instructor.grading.jail.choose_jail`).
    """
    weights = weights or Weights()
    options = options or GradeOptions()
    submission = Path(submission)
    plan = plan_jails(kit, options, 1) if jail is None else None
    jail = plan.for_submission(0) if plan is not None else jail
    result = into or _new_result(kit, submission, student or student_name(submission), jail,
                                 weights)
    start = time.perf_counter()
    try:
        _grade_in_jail(kit, submission, result, jail, options, only, first_run=into is None)
    finally:
        if plan is not None:
            plan.close()
    _flag_grader_errors(result)
    result.seconds += time.perf_counter() - start
    return result


def _grade_in_jail(kit: Kit, submission: Path, result: SubmissionResult, jail: Jail,
                   options: GradeOptions, only: set[str] | None, *, first_run: bool) -> None:
    """The steps of one submission in its jail, into ``result``: the reference's answers, a
    work folder, the intake, the scan, the checks, the findings; then the jail and the work
    folder cleaned up. A fault of the grader is the submission's ``grader_error``."""
    work: Path | None = None
    run: SubmissionRun | None = None
    try:
        expected = oracle.compute(kit.checks, kit.reference_dir)
        work = _work_folder(options, jail)
        package = _take_in(submission, work, kit.stage, result)
        if package is None or not _passes_scan(package, result, options.policy):
            return
        run = SubmissionRun(kit, package, work, _syntax_errors(package, result, first_run),
                            jail, options)
        run_checks(run, kit, result, expected, only)
        result.findings = _hidden_findings(result) + _absent_import_findings(result,
                                                                             kit.distributions)
    except Exception as error:  # a grader problem must not stop the batch
        _grader_failed(result, error)
    finally:
        _clean_up(result, jail, work, run, options.keep)


def _new_result(kit: Kit, submission: Path, student: str, jail: Jail,
                weights: Weights) -> SubmissionResult:
    """A result with every check of ``kit`` not run yet, worth its points if it is scored."""
    result = SubmissionResult(student, submission, kit.stage, isolation=jail.describe(),
                              isolated=jail.isolated, jail=jail.summary)
    tasks = set(kit.tasks)
    for c in kit.checks:
        scored = is_scored(c, tasks)
        result.checks.append(CheckResult(
            c.name, c.task, file=c.file, outcome="not_run", hidden=c.hidden, scored=scored,
            max_points=weights.points(c.name) if scored else 0.0,
            guide=kit.guides.get(c.task, ""), keyword=kit.keywords.get(c.task, "")))
    return result


def _work_folder(options: GradeOptions, jail: Jail) -> Path:
    """A new work folder for the submission, under ``options.work_root`` if set."""
    if options.work_root is not None:
        options.work_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="grade-", dir=options.work_root))
    if jail.kind == "uid":
        os.chmod(work, 0o711)  # the jail's uid reaches its own installs, and lists nothing
    return work


def _not_run(result: SubmissionResult, status: str, message: str) -> None:
    """The submission is not run: ``status`` and ``message``, and every check not run."""
    result.status, result.message = status, message
    for entry in result.checks:
        entry.outcome, entry.message, entry.points = "not_run", f"not run: {message}", 0.0


def _take_in(submission: Path, work: Path, stage: int, result: SubmissionResult) -> Path | None:
    """The package in the intake's copy of ``submission``; None when the submission is refused
    or holds no package (``result`` then says why, and no check runs)."""
    try:
        return find_package(take_in(submission, work / "submission"), stage)
    except Refused as error:
        _not_run(result, "refused", str(error))
    except PackageNotFound as error:
        _not_run(result, "no_package", str(error))
    except OSError as error:
        _not_run(result, "no_package", f"cannot read the submission: {error.strerror}")
    return None


def _passes_scan(package: Path, result: SubmissionResult, policy: str) -> bool:
    """Whether the checks may run after the scan for prohibited imports: its findings go into
    ``result``, as the score's zero under the ``zero`` policy, as a note under ``flag``."""
    violations, _ = scan_package(package)
    if not violations:
        return True
    result.integrity = [v.describe() for v in violations]
    if policy == "zero":
        _not_run(
            result, "integrity",
            f"{violations[0].describe()}: Mini-Torch is built on numpy alone (no torch, "
            "tensorflow, keras, jax, sklearn, autograd; no test machinery in the package); "
            "under this course's policy the submission scores 0. Remove the import(s): "
            + "; ".join(result.integrity))
        return False
    result.notes.append("integrity finding (policy flag: reported, not scored): "
                        + "; ".join(result.integrity))
    return True


def _syntax_errors(package: Path, result: SubmissionResult, first_run: bool) -> dict[str, str]:
    """The package's files that do not compile (file: message), noted on the first run."""
    syntax = syntax_errors(package)
    if first_run:
        result.notes += [f"{file}: {message}" for file, message in syntax.items()]
    return syntax


def _hidden_findings(result: SubmissionResult) -> list[str]:
    """Tasks whose public scored checks all pass and whose hidden checks do not: an answer
    keyed on what the public checks send looks like this (a finding for staff, not a score)."""
    found = []
    for task in sorted({c.task for c in result.checks if c.hidden}):
        public = [c for c in result.checks if c.task == task and c.scored and not c.hidden]
        hidden = [c for c in result.checks if c.task == task and c.hidden]
        failed = [c for c in hidden if c.outcome in ("failed", "error")]
        if public and all(c.passed for c in public) and failed:
            found.append(f"passes its public checks, fails {len(failed)} hidden check(s) of "
                         f"{task}: a possible answer keyed on the public checks")
    return found


_NO_MODULE = re.compile(r"No module named '([\w.]+)'")


def _absent_import_findings(result: SubmissionResult,
                            distributions: tuple[str, ...]) -> list[str]:
    """Modules the submission's code tried to import that no jail holds (the grading
    environment's other packages, the prohibited libraries, however the import was spelled):
    a finding for staff, beside the source scan's early message."""
    absent = set(jail_absent_modules(distributions))
    tried = {match.group(1) for c in result.checks for match in _NO_MODULE.finditer(c.message)
             if match.group(1).split(".")[0] in absent}
    return [f"tried to import {name}, which the grading jail does not hold (a prohibited "
            "library or a tool of the grader's)" for name in sorted(tried)[:5]]


def _grader_failed(result: SubmissionResult, error: Exception) -> None:
    """The grader failed on the submission with ``error`` (being handled): for staff, the
    traceback; for the student, a ``grader_error`` without points, to regrade."""
    result.status = "grader_error"
    result.message = f"the grader failed on this submission: {type(error).__name__}"
    result.log.append(traceback.format_exc())
    for entry in result.checks:
        entry.points = 0.0


def _clean_up(result: SubmissionResult, jail: Jail, work: Path | None,
              run: SubmissionRun | None, keep: bool) -> None:
    """After the submission: its workers stopped (their logs kept), everything of its jail
    killed and swept, its work folder removed (or kept, and named in the notes)."""
    if run is not None:
        run.close()
        result.log += run.log
    left = clean_jail(jail)
    if left:
        result.log.append(f"left by uid {jail.uid} and removed: " + ", ".join(left[:50]))
    if jail.kind == "uid":
        result.notes.append(f"cleanup: nothing of uid {jail.uid} is left (processes killed"
                            + (f"; {len(left)} file(s) or IPC object(s) removed"
                               if left else "") + ")")
    if work is not None:
        release(work / "submission")
        if keep:
            result.notes.append(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def _flag_grader_errors(result: SubmissionResult) -> None:
    """A graded submission with checks the grader could not run twice is a grader error."""
    if any(c.outcome == "grader_error" for c in result.checks) and result.status == "graded":
        result.status = "grader_error"
        result.message = ("the grader could not run " + ", ".join(
            c.name for c in result.checks if c.outcome == "grader_error")[:300]
            + " twice; those checks are not scored: regrade this submission")
