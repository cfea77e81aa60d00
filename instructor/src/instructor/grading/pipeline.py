"""Grading one submission, and a batch: the trusted side of the grader.

A submission goes through these steps, one module each:

1. intake (:mod:`~instructor.grading.intake`): the submission (a folder, or a zip) is copied
   as data into a fresh work folder (links, devices and oversized archives refused), and
   :mod:`~instructor.grading.package_rule` finds the package in the copy;
2. scan (:mod:`~instructor.grading.scan`): its ``src/mini_torch`` and ``examples`` are read
   with :mod:`ast` for prohibited imports (torch, sklearn, ...) and imports of the test
   machinery: an integrity finding, which under the ``zero`` policy scores 0 without running
   anything and under ``flag`` is reported beside the score; each file is compiled (never run):
   a file that does not compile fails its own checks, with the line, and nothing else;
3. installs (here): the reference stage with stage K's own files replaced by the student's (so
   carried-forward earlier work cannot cost or earn points; an own file that does not compile
   is replaced by its stub), with the student's examples beside it; and the student's whole
   package for the checks that are only reported (earlier stages' code);
4. jail (:mod:`~instructor.grading.jail`): each check runs in a worker
   (:mod:`~instructor.grading.worker`, the only code that shares a process with the student's)
   shut in the submission's own jail, with a time limit per check and a budget for the
   submission;
5. oracle and verdicts (:mod:`~instructor.grading.oracle`, :mod:`~instructor.grading.verdicts`):
   the answer is judged against the reference's in this process;
6. scoring (:mod:`~instructor.grading.scoring`): stage K's own tasks carry the points;
7. reports (:mod:`~instructor.grading.reports`): written by :func:`write_reports` once every
   jail of the batch is gone, into a folder the grader creates.

This process never imports the submission's code; student code runs only in jails, and what
they send back is plain data. :func:`grade_batch` grades many submissions side by side.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from instructor.checks import Check
from instructor.grading import oracle
from instructor.grading.intake import Refused, syntax_errors, take_in
from instructor.grading.jail import (
    Jail,
    JailPlan,
    Worker,
    WorkerCrash,
    WorkerTimeout,
    choose_jail,
    share_with_jail,
    sweep_uid,
)
from instructor.grading.kit import Kit
from instructor.grading.messages import describe_error
from instructor.grading.package_rule import PackageNotFound, find_package
from instructor.grading.results import CheckResult, SubmissionResult
from instructor.grading.scan import scan_package
from instructor.grading.scoring import Weights, is_scored
from instructor.grading.verdicts import BadAnswer, decode, judge
from instructor.repo import InstructorError
from instructor.solutions import stub_solutions

#: Modules the grader's interpreter needs (the worker imports numpy and what the stage uses).
GRADER_MODULES = ("numpy", "scipy", "matplotlib", "numexpr")

#: Seconds a check may take after another check of the same task timed out.
REPEAT_TIMEOUT = 2.0


@dataclass
class GradeOptions:
    """How a submission is run."""

    timeout: float = 10.0  # seconds per check
    budget: float = 420.0  # seconds for all checks of one submission
    policy: str = "zero"  # what a prohibited import costs: "zero" or "flag"
    keep: bool = False  # keep each submission's work folder (its path goes into the notes)
    work_root: Path | None = None  # where the work folders go (default: the system temp folder)
    unisolated: bool = False  # grade even where no jail is possible (every report says so)
    private: tuple[Path, ...] = ()  # folders a uid jail must not read besides the kit


class _GradeStop(Exception):
    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def check_grader_environment() -> None:
    """Refuse to start in an interpreter that lacks a module every worker needs.

    Raises:
        InstructorError: naming the missing modules and the pip command that installs them.
    """
    import importlib.util
    import sys

    missing = [m for m in GRADER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise InstructorError(
            f"the grader's Python ({sys.executable}) lacks {', '.join(missing)}: "
            f"{sys.executable} -m pip install {' '.join(missing)}"
        )


def student_name(path: Path) -> str:
    """The folder name, or the zip's stem."""
    return path.stem if path.suffix == ".zip" else path.name


def copy_python(source: Path, target: Path) -> None:
    """Copy the ``.py`` files under ``source`` (the intake's copy: no links) to ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*.py")):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


class _Submission:
    """The installs of one submission and the workers on them, all in its jail."""

    def __init__(self, kit: Kit, package: Path, work: Path, syntax: dict[str, str],
                 jail: Jail) -> None:
        self.kit, self.package, self.work, self.syntax = kit, package, work, syntax
        self.jail = jail
        self.workers: dict[str, tuple[Worker, set[str]]] = {}
        self.dead: dict[str, str] = {}  # installs whose worker never answered: why

    def _scored_site(self, folder: Path) -> tuple[Path, set[str]]:
        """The reference package with stage K's own files replaced by the student's.

        An own file the student lacks, or one that does not compile, is replaced by its stub
        (the release's version), so the rest still imports; its checks fail on their own. The
        reference solutions of stage K are never in the install.
        """
        site = folder / "site"
        shutil.copytree(self.kit.reference_dir / "src" / "mini_torch", site / "mini_torch",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        mine = set()
        for file in self.kit.own_files:
            if not file.startswith("src/mini_torch/"):
                continue
            target = site / "mini_torch" / file[len("src/mini_torch/"):]
            student = self.package / file
            if student.is_file() and file not in self.syntax:
                shutil.copyfile(student, target)
                mine.add(file)
            elif target.is_file():
                text = target.read_text(encoding="utf-8")
                module = "mini_torch." + file[len("src/mini_torch/"):-3].replace("/", ".")
                stubbed, _ = stub_solutions(text, owner=module, stage=self.kit.stage,
                                            doc=f"docs/stage{self.kit.stage}.md", filename=file)
                target.write_text(stubbed, encoding="utf-8")
        return site, mine

    def install(self, key: str) -> tuple[Worker, set[str]]:
        """The worker of an install: ``scored`` or ``full`` (the student's whole package)."""
        if key in self.workers:
            return self.workers[key]
        folder = self.work / f"install-{key}"
        student_examples = folder / "examples"
        copy_python(self.package / "examples", student_examples)
        if key == "full":
            site = folder / "site"
            copy_python(self.package / "src" / "mini_torch", site / "mini_torch")
            mine = {f"src/mini_torch/{p.relative_to(site / 'mini_torch').as_posix()}"
                    for p in (site / "mini_torch").rglob("*.py")}
        else:
            site, mine = self._scored_site(folder)
        share_with_jail(folder, self.jail)
        worker = Worker(site, student_examples, folder / "scratch", jail=self.jail)
        self.workers[key] = (worker, mine)
        return self.workers[key]

    def close(self) -> None:
        for worker, _ in self.workers.values():
            worker.stop()


def _key(scored: bool) -> str:
    return "scored" if scored else "full"


def _run_check(run: _Submission, check: Check, key: str, limit: float,
               expected: dict) -> tuple[str, str, str, str]:
    """(outcome, message, where, details) of one check."""
    problem_file = check.file if check.file in run.syntax else None
    if key != "full" and problem_file:
        return ("syntax_error", f"{check.file} does not compile: {run.syntax[check.file]}",
                run.syntax[check.file].rsplit("(", 1)[-1].rstrip(")"), "")
    if key != "full" and not (run.package / check.file).is_file():
        return "error", f"{check.file} is missing from the submission", "", ""
    if key in run.dead:
        return "timeout", run.dead[key], "", ""
    worker, mine = run.install(key)
    try:
        response = worker.request(check.steps, check.outputs, limit)
    except WorkerTimeout as error:
        if str(error) == "never answered":
            run.dead[key] = ("Timeout: the package did not finish loading (an endless loop at "
                             "import time?); none of the checks that need it could run.")
            return "timeout", run.dead[key], "", ""
        return ("timeout", f"Timeout: the check did not finish within {limit:g} s and was "
                "stopped (an endless loop, or a loop that swallows the interruption).", "", "")
    except WorkerCrash as error:
        return "error", f"the code under test ended the worker process: {error}", "", ""
    if not response.get("ok"):
        error = response.get("error") if isinstance(response.get("error"), dict) else {}
        site, examples = worker.paths
        message, where, details = describe_error(error, site=site, examples=examples,
                                                 own_files=mine)
        return ("timeout" if error.get("type") == "Timeout" else "error"), message, where, details
    try:
        outputs = response.get("outputs")
        if not isinstance(outputs, dict):
            raise BadAnswer("no outputs")
        got = {name: decode(value) for name, value in outputs.items() if name in check.outputs}
    except BadAnswer as error:
        return "failed", f"the answer could not be read: {error}", "", ""
    problem = judge(check, got, expected)
    if problem:
        return "failed", problem, "", ""
    return "passed", "", "", ""


def _stub_note(run: _Submission, check: Check, key: str) -> str:
    """Why a check may have met a stub it did not write: a file of the stage does not compile."""
    broken = [f for f in run.kit.own_files if f in run.syntax and f.startswith("src/")
              and f != check.file]
    if key == "scored" and broken:
        return (f" (note: {', '.join(broken)} does not compile, so the grader used its stub; "
                "this check calls it)")
    return ""


def grade_submission(
    kit: Kit,
    submission: Path,
    weights: Weights | None = None,
    options: GradeOptions | None = None,
    *,
    student: str | None = None,
    jail: Jail | None = None,
) -> SubmissionResult:
    """Grade one submission (a folder or a zip) with the checks of ``kit``; never raises.

    ``jail``: the submission's jail (:meth:`JailPlan.for_submission`); by default the best
    this machine offers (:func:`plan_jails`).

    Raises:
        InstructorError: only when no jail is given and none is possible (see
            :func:`instructor.grading.jail.choose_jail`).
    """
    weights = weights or Weights()
    options = options or GradeOptions()
    jail = jail or plan_jails(kit, options).for_submission(0)
    submission = Path(submission)
    result = SubmissionResult(student or student_name(submission), submission, kit.stage,
                              isolation=jail.describe(), isolated=jail.isolated)
    start = time.perf_counter()
    tasks = set(kit.tasks)
    scored = {c.name: is_scored(c, tasks) for c in kit.checks}
    result.checks = [
        CheckResult(c.name, c.task, c.file, "not_run", hidden=c.hidden, scored=scored[c.name],
                    max_points=weights.points(c.name) if scored[c.name] else 0.0,
                    guide=kit.guides.get(c.task, ""))
        for c in kit.checks
    ]
    by_name = {c.name: c for c in result.checks}
    work = run = None
    try:
        expected = oracle.compute(kit.checks, kit.reference_dir)
        if options.work_root is not None:
            options.work_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="grade-", dir=options.work_root))
        if jail.kind == "uid":
            os.chmod(work, 0o711)  # the jail's uid reaches its own installs, and lists nothing
        try:
            package = find_package(take_in(submission, work / "submission"), kit.stage)
        except Refused as error:
            raise _GradeStop("refused", str(error)) from error
        except PackageNotFound as error:
            raise _GradeStop("no_package", str(error)) from error
        except OSError as error:
            raise _GradeStop("no_package", f"cannot read the submission: {error.strerror}"
                             ) from error
        violations, _ = scan_package(package)
        if violations:
            result.integrity = [v.describe() for v in violations]
            if options.policy == "zero":
                raise _GradeStop(
                    "integrity",
                    f"{violations[0].describe()}: Mini-Torch is built on numpy alone (no torch, "
                    "tensorflow, keras, jax, sklearn, autograd; no test machinery in the "
                    "package); under this course's policy the submission scores 0. Remove the "
                    "import(s): " + "; ".join(result.integrity))
        syntax = syntax_errors(package)
        result.notes += [f"{file}: {message}" for file, message in syntax.items()]
        run = _Submission(kit, package, work, syntax, jail)
        order = sorted(kit.checks, key=lambda c: not scored[c.name])  # scored first
        deadline = time.monotonic() + options.budget
        timed_out: set[str] = set()
        for check in order:
            entry = by_name[check.name]
            left = deadline - time.monotonic()
            if left <= 1:
                entry.message = (f"not run: the submission used up its {options.budget:g} s "
                                 "budget before this check")
                continue
            limit = min(check.limit or options.timeout, left,
                        REPEAT_TIMEOUT if check.task in timed_out else options.timeout)
            began = time.perf_counter()
            outcome, message, where, details = _run_check(
                run, check, _key(scored[check.name]), limit, expected[check.name])
            if outcome != "passed":
                message += _stub_note(run, check, _key(scored[check.name]))
            entry.outcome, entry.message, entry.where, entry.details = (
                outcome, message, where, details)
            entry.seconds = time.perf_counter() - began
            if outcome == "timeout":
                timed_out.add(check.task)
            if entry.passed:
                entry.points = entry.max_points
        if result.integrity:
            result.notes.append("integrity finding (policy flag: reported, not scored): "
                                + "; ".join(result.integrity))
    except _GradeStop as stop:
        result.status, result.message = stop.status, stop.message
        for entry in result.checks:
            entry.outcome, entry.message, entry.points = "not_run", f"not run: {stop.message}", 0
    except Exception as error:  # a grader problem must not stop the batch
        result.status = "grader_error"
        result.message = f"the grader failed on this submission: {error!r}"
        result.notes.append(traceback.format_exc())
        for entry in result.checks:
            entry.points = 0.0
    finally:
        if run is not None:
            run.close()
        if work is not None:
            if options.keep:
                result.notes.append(f"work folder kept: {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
    result.seconds = time.perf_counter() - start
    return result


def unique_names(submissions: Sequence[Path]) -> list[str]:
    """One student name per submission; repeated names get ``-2``, ``-3`` ..."""
    names, seen = [], {}
    for path in submissions:
        name = student_name(Path(path))
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return names


def plan_jails(kit: Kit, options: GradeOptions) -> JailPlan:
    """The jail kind of a run: the best this machine offers (see :func:`choose_jail`)."""
    return choose_jail(unisolated=options.unisolated,
                       private=(kit.path, *options.private))


def grade_batch(
    kit: Kit,
    submissions: Sequence[Path],
    weights: Weights | None = None,
    options: GradeOptions | None = None,
    *,
    jobs: int = 2,
    progress: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every submission, ``jobs`` at a time; results in the order of ``submissions``.

    Each submission gets a jail of its own; when this returns, every jail is gone (the ``uid``
    jails' uids are swept once more), so the reports can be written.

    Raises:
        InstructorError: no jail is possible here and ``options.unisolated`` is not set.
    """
    options = options or GradeOptions()
    plan = plan_jails(kit, options)
    names = unique_names(submissions)
    oracle.compute(kit.checks, kit.reference_dir)  # once, before the submissions share it

    def grade(index: int) -> SubmissionResult:
        result = grade_submission(kit, Path(submissions[index]), weights, options,
                                  student=names[index], jail=plan.for_submission(index))
        if progress is not None:
            progress(result)
        return result

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(grade, range(len(submissions))))
    finally:
        for index in range(len(submissions)):
            uid = plan.for_submission(index).uid
            if uid is not None:
                sweep_uid(uid)


