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
   shut in the submission's own jail, with a limit of CPU time per check and a budget of CPU
   time for the submission; the public checks first, then those only reported, the hidden
   ones last (so that nothing student code saw of a hidden check can reach a visible one);
5. oracle and verdicts (:mod:`~instructor.grading.oracle`, :mod:`~instructor.grading.verdicts`):
   the answer is judged against the reference's in this process;
6. scoring (:mod:`~instructor.grading.scoring`): stage K's own tasks carry the points;
7. reports (:mod:`~instructor.grading.reports`): written once the submission's jail is gone,
   into a folder the grader creates.

This process never imports the submission's code; student code runs only in jails, and what
they send back is plain data. :func:`grade_batch` grades many submissions side by side, then
runs again, one at a time, every check whose first run was the grader's problem (a wall-clock
backstop on a busy machine, a worker that died): only the second run gives its verdict.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading import oracle
from instructor.grading.checks import Check
from instructor.grading.intake import Refused, release, shown_name, syntax_errors, take_in
from instructor.grading.jail import (
    Jail,
    JailPlan,
    UnreadableAnswer,
    Worker,
    WorkerBackstop,
    WorkerCrash,
    WorkerTimeout,
    choose_jail,
    clean_jail,
    jail_absent_modules,
    share_with_jail,
)
from instructor.grading.kit import Kit
from instructor.grading.messages import describe_error
from instructor.grading.package_rule import PackageNotFound, find_package
from instructor.grading.results import CheckResult, SubmissionResult
from instructor.grading.safe import file_key, safe_text
from instructor.grading.scan import scan_package
from instructor.grading.scoring import Weights, is_scored
from instructor.grading.verdicts import decode, judge
from instructor.stages.markers import stub_solutions
from instructor.stages.repo import InstructorError

#: After a check of a submission timed out, its other checks get this many times the CPU time
#: the reference took for them, and at least :data:`REPEAT_TIMEOUT` seconds (correct code of
#: these small checks takes milliseconds; a hung function would cost each of its callers the
#: full limit again).
REPEAT_FACTOR = 50.0
REPEAT_TIMEOUT = 2.0
#: Workers of one install that may die before a death is the student's verdict at once
#: instead of a check to retry (code that ends its process on every call).
CRASHES_TO_RETRY = 3
#: Checks of one install that may hit the wall-clock backstop in the first run before the
#: install's other checks wait for the second run (a worker that never reads its requests, or
#: sleeps in every call, would otherwise cost every check a backstop on a machine of students).
BACKSTOPS_TO_DEFER = 3


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


def copy_python(source: Path, target: Path) -> None:
    """Copy the ``.py`` files under ``source`` (the intake's copy: no links) to ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*.py")):
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)


@dataclass
class Verdict:
    """What one run of a check came to."""

    outcome: str
    message: str = ""
    where: str = ""
    details: str = ""
    cpu: float = 0.0
    log: str = ""  # for staff: why a worker ended
    # Wall-clock seconds charged to the budget: a second run's backstop (the wait is then the
    # student's, and bounding it by the budget bounds the submission's time).
    wall: float = 0.0


class _Submission:
    """The installs of one submission and the workers on them, all in its jail."""

    def __init__(self, kit: Kit, package: Path, work: Path, syntax: dict[str, str],
                 jail: Jail, options: GradeOptions) -> None:
        self.kit, self.package, self.work, self.syntax = kit, package, work, syntax
        self.jail, self.options = jail, options
        self.workers: dict[str, tuple[Worker, set[str]]] = {}
        self.dead: dict[str, str] = {}  # installs whose package never finishes loading: why
        self.crashes: dict[str, int] = {}
        self.backstops: dict[str, int] = {}  # first-run backstops per install
        self.log: list[str] = []
        self.same_package: bool | None = None  # is the full install the scored one?

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

    def resolve(self, key: str) -> str:
        """The install a check of ``key`` runs on: ``full`` is ``scored`` when the two would
        hold the same package, byte for byte (a student who kept the earlier stages' files as
        handed out): one worker then answers both, and the submission starts one worker, not
        two. Decided once the scored install exists (its checks run first)."""
        if key != "full" or "scored" not in self.workers:
            return key
        if self.same_package is None:
            self.same_package = _same_python_files(
                self.package / "src" / "mini_torch",
                self.work / "install-scored" / "site" / "mini_torch")
        return "scored" if self.same_package else "full"

    def install(self, key: str) -> tuple[Worker, set[str]]:
        """The worker of an install: ``scored`` or ``full`` (the student's whole package)."""
        if key in self.workers:
            return self.workers[key]
        folder = self.work / f"install-{key}"
        copy_python(self.package / "examples", folder / "examples")
        if key == "full":
            site = folder / "site"
            copy_python(self.package / "src" / "mini_torch", site / "mini_torch")
            mine = {f"src/mini_torch/{p.relative_to(site / 'mini_torch').as_posix()}"
                    for p in (site / "mini_torch").rglob("*.py")}
        else:
            site, mine = self._scored_site(folder)
        worker = Worker(folder, self.work / f"scratch-{key}", jail=self.jail)
        shutil.copyfile(Path(__file__).with_name("worker.py"), folder / "worker.py")
        share_with_jail(folder, self.jail)
        self.workers[key] = (worker, mine)
        return self.workers[key]

    def stop(self, key: str) -> None:
        """Stop the worker of ``key`` (a fresh one starts for its next check)."""
        worker, _ = self.workers[key]
        text = worker.stop()
        if text.strip():
            self.log.append(text)

    def close(self) -> None:
        for worker, _ in self.workers.values():
            self.log += [text for text in [worker.stop(), *worker.logs] if text.strip()]


def _same_python_files(one: Path, other: Path) -> bool:
    """Whether two folders hold the same ``.py`` files with the same bytes."""
    def files(folder: Path) -> dict[str, Path]:
        return {p.relative_to(folder).as_posix(): p for p in folder.rglob("*.py")
                if "__pycache__" not in p.parts}

    mine, theirs = files(one), files(other)
    return mine.keys() == theirs.keys() and all(
        mine[name].read_bytes() == theirs[name].read_bytes() for name in mine)


def _key(check: Check, scored: bool) -> str:
    return "scored" if scored else "full"


def _load(run: _Submission, key: str, worker: Worker, mine: set[str]) -> Verdict | None:
    """Start the worker of ``key`` and import the package under test (student code: the
    check's time limit applies). None when the worker is ready, else the verdict of the
    check that needed it."""
    limit = run.options.timeout
    try:
        reply = worker.request({"load": "mini_torch"}, limit)
    except WorkerBackstop as error:
        return Verdict("retry", f"the grader could not start the worker in time ({error})",
                       log=error.log)
    except WorkerTimeout:
        run.dead[key] = (f"Timeout: importing the package used more than {limit:g} CPU "
                         "seconds (an endless loop at import time?); none of the checks that "
                         "need it could run.")
        return Verdict("timeout", run.dead[key])
    except UnreadableAnswer as error:
        run.dead[key] = (f"your code returned something the grader cannot read ({error}) "
                         "when the package was imported; none of the checks that need it "
                         "could run.")
        return Verdict("failed", run.dead[key])
    except WorkerCrash as error:
        run.crashes[key] = run.crashes.get(key, 0) + 1
        if run.crashes[key] >= 2:
            run.dead[key] = f"the package ended the worker process when it was imported: {error}"
            return Verdict("error", run.dead[key], log=getattr(error, "log", ""))
        return Verdict("retry", f"the worker process ended while the package was imported: "
                       f"{error}", log=getattr(error, "log", ""))
    if not reply.ok and reply.error.get("type") == "Timeout":
        site, examples = worker.paths
        _, where, details = describe_error(reply.error, site=site, examples=examples,
                                           own_files=mine, limit=limit)
        run.dead[key] = ("Timeout: importing the package used more than its limit of "
                         f"{limit:g} CPU seconds" + (f" at {where}" if where else "")
                         + "; none of the checks that need it could run.")
        run.stop(key)
        return Verdict("timeout", run.dead[key], where, details, reply.cpu)
    return None  # an import error is reported by every check that imports the package


def _run_check(run: _Submission, check: Check, key: str, limit: float, expected: dict,
               retry: bool) -> Verdict:
    """The verdict of one run of a check (see :class:`Verdict`).

    ``retry``: this is the check's second run; a wall-clock backstop or a dead worker is now a
    verdict, not a check to run again.
    """
    problem_file = check.file if check.file in run.syntax else None
    if key != "full" and problem_file:
        return Verdict("syntax_error", f"{check.file} does not compile: {run.syntax[check.file]}",
                       run.syntax[check.file].rsplit("(", 1)[-1].rstrip(")"))
    if key != "full" and not (run.package / check.file).is_file():
        return Verdict("error", f"{check.file} is missing from the submission")
    if key in run.dead:
        outcome = ("timeout" if run.dead[key].startswith("Timeout") else "failed"
                   if run.dead[key].startswith("your code") else "error")
        return Verdict(outcome, run.dead[key])
    if not retry and run.backstops.get(key, 0) >= BACKSTOPS_TO_DEFER:
        return Verdict("retry", "not run yet: the worker of this install hit the wall-clock "
                       f"backstop {BACKSTOPS_TO_DEFER} times; graded again alone")
    worker, mine = run.install(key)
    if worker.process is None:
        trouble = _load(run, key, worker, mine)
        if trouble is not None:
            if trouble.outcome == "retry" and retry:
                trouble.outcome = "grader_error"
            return trouble
    try:
        reply = worker.request({"steps": check.steps, "outputs": check.outputs}, limit)
    except WorkerTimeout as error:
        return Verdict("timeout", f"Timeout: the check used more than its limit of {limit:g} "
                       f"CPU seconds ({error.cpu:.1f} s) without answering or being "
                       "interrupted, and was stopped: a loop in compiled code, or code that "
                       "blocks the interruption?", cpu=error.cpu)
    except WorkerBackstop as error:
        if not retry:
            run.backstops[key] = run.backstops.get(key, 0) + 1
            return Verdict("retry", f"the grader's wall-clock backstop ({error})", cpu=error.cpu,
                           log=error.log)
        return Verdict("timeout", f"Timeout: the check did not finish in {error.wall:.0f} s "
                       f"of wall-clock time although it used only {error.cpu:.1f} CPU seconds: "
                       "a sleep, or a call that waits for something that never comes?",
                       cpu=error.cpu, log=error.log, wall=error.wall)
    except UnreadableAnswer as error:
        return Verdict("failed", _unreadable(check, f"{error}; far more, or other, than the "
                                             "reference's answer"))
    except WorkerCrash as error:
        run.crashes[key] = run.crashes.get(key, 0) + 1
        memory = (" It ran out of its jail's memory." if error.out_of_memory else "")
        if retry or run.crashes[key] > CRASHES_TO_RETRY:
            return Verdict("error", f"the code under test ended the worker process: {error}."
                           + memory, log=error.log)
        return Verdict("retry", f"the worker process ended: {error}." + memory, log=error.log)
    # Everything below reads what the jail sent: whatever it makes this side raise is the
    # answer's fault (a forged error record, an array header that lies), never the grader's.
    try:
        if not reply.ok:
            site, examples = worker.paths
            message, where, details = describe_error(reply.error, site=site,
                                                     examples=examples, own_files=mine,
                                                     limit=limit)
            if reply.error.get("type") == "Timeout":
                run.stop(key)  # after a timeout the next check gets a fresh worker
                return Verdict("timeout", message, where, details, reply.cpu)
            return Verdict("error", message, where, details, reply.cpu)
        got = {name: decode(value) for name, value in reply.outputs.items()
               if name in check.outputs}
        problem = judge(check, got, expected)
    except Exception as error:
        return Verdict("failed", _unreadable(check, f"{type(error).__name__}: "
                                             f"{str(error)[:200]}"), cpu=reply.cpu)
    if problem:
        return Verdict("failed", problem, cpu=reply.cpu)
    return Verdict("passed", cpu=reply.cpu)


def _unreadable(check: Check, why: str) -> str:
    """The message of an answer the grader cannot read, naming the check (a hidden one by its
    task alone)."""
    name = f"a hidden check of {check.task}" if check.hidden else f"check {check.name}"
    return (f"your code returned something the grader cannot read in {name} ({why}); a "
            "check's calls return arrays of numbers, lists of them, or strings")


def _stub_note(run: _Submission, check: Check, key: str) -> str:
    """Why a check may have met a stub it did not write: a file of the stage does not compile."""
    broken = [f for f in run.kit.own_files if f in run.syntax and f.startswith("src/")
              and f != check.file]
    if key == "scored" and broken:
        return (f" (note: {', '.join(broken)} does not compile, so the grader used its stub; "
                "this check calls it)")
    return ""


def _order(checks: Sequence[Check], scored: dict[str, bool]) -> list[Check]:
    """The public scored checks, then those only reported, then the hidden ones."""
    return sorted(checks, key=lambda c: (c.hidden, not scored[c.name]))


@dataclass
class _Stop:
    status: str
    message: str


def _take_in(submission: Path, work: Path, stage: int) -> Path | _Stop:
    try:
        return find_package(take_in(submission, work / "submission"), stage)
    except Refused as error:
        return _Stop("refused", str(error))
    except PackageNotFound as error:
        return _Stop("no_package", str(error))
    except OSError as error:
        return _Stop("no_package", f"cannot read the submission: {error.strerror}")


def _scan(package: Path, result: SubmissionResult, policy: str) -> _Stop | None:
    violations, _ = scan_package(package)
    if not violations:
        return None
    result.integrity = [v.describe() for v in violations]
    if policy == "zero":
        return _Stop(
            "integrity",
            f"{violations[0].describe()}: Mini-Torch is built on numpy alone (no torch, "
            "tensorflow, keras, jax, sklearn, autograd; no test machinery in the package); "
            "under this course's policy the submission scores 0. Remove the import(s): "
            + "; ".join(result.integrity))
    result.notes.append("integrity finding (policy flag: reported, not scored): "
                        + "; ".join(result.integrity))
    return None


def _new_result(kit: Kit, submission: Path, student: str, jail: Jail,
                weights: Weights) -> SubmissionResult:
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


def _run_checks(run: _Submission, kit: Kit, result: SubmissionResult, expected: dict,
                only: set[str] | None) -> None:
    """Run the checks of ``kit`` (those named in ``only``, on their second run) into
    ``result``, in order, within the submission's CPU budget."""
    options = run.options
    by_name = {c.name: c for c in result.checks}
    scored = {c.name: by_name[c.name].scored for c in kit.checks}
    used = sum(c.cpu for c in result.checks if only is None or c.name not in only)
    reference = oracle.costs(kit.checks, kit.reference_dir)
    timed_out = False
    for check in _order(kit.checks, scored):
        if only is not None and check.name not in only:
            continue
        entry = by_name[check.name]
        left = options.budget - used
        if left <= 0.5:
            entry.outcome, entry.message = "not_run", (
                f"not run: the submission used up its budget of {options.budget:g} CPU "
                "seconds before this check")
            continue
        limit = min(check.limit or options.timeout, left, options.timeout)
        if timed_out:
            limit = min(limit, max(REPEAT_TIMEOUT, REPEAT_FACTOR * reference[check.name]))
        key = run.resolve(_key(check, scored[check.name]))
        began = time.perf_counter()
        verdict = _run_check(run, check, key, limit, expected[check.name],
                             retry=only is not None)
        if verdict.outcome not in ("passed", "retry", "grader_error"):
            verdict.message += _stub_note(run, check, key)
        if verdict.log.strip():
            run.log.append(f"{check.name}: {verdict.message}\n{verdict.log}")
        entry.outcome, entry.message = verdict.outcome, verdict.message
        entry.where, entry.details = verdict.where, verdict.details
        entry.seconds, entry.cpu = time.perf_counter() - began, verdict.cpu
        entry.retried = only is not None
        entry.points = entry.max_points if entry.passed else 0.0
        used += max(verdict.cpu, verdict.wall)
        if verdict.outcome == "timeout":
            timed_out = True


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
    plan = None
    if jail is None:
        plan = plan_jails(kit, options, 1)
        jail = plan.for_submission(0)
    submission = Path(submission)
    result = into or _new_result(kit, submission, student or student_name(submission), jail,
                                 weights)
    start = time.perf_counter()
    work = run = None
    try:
        expected = oracle.compute(kit.checks, kit.reference_dir)
        if options.work_root is not None:
            options.work_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="grade-", dir=options.work_root))
        if jail.kind == "uid":
            os.chmod(work, 0o711)  # the jail's uid reaches its own installs, and lists nothing
        package = _take_in(submission, work, kit.stage)
        stop = package if isinstance(package, _Stop) else _scan(package, result, options.policy)
        if stop is not None:
            result.status, result.message = stop.status, stop.message
            for entry in result.checks:
                entry.outcome, entry.message, entry.points = ("not_run",
                                                              f"not run: {stop.message}", 0.0)
        else:
            syntax = syntax_errors(package)
            if into is None:
                result.notes += [f"{file}: {message}" for file, message in syntax.items()]
            run = _Submission(kit, package, work, syntax, jail, options)
            _run_checks(run, kit, result, expected, only)
            result.findings = _hidden_findings(result) + _absent_import_findings(result,
                                                                        kit.distributions)
    except Exception as error:  # a grader problem must not stop the batch
        result.status = "grader_error"
        result.message = f"the grader failed on this submission: {type(error).__name__}"
        result.log.append(traceback.format_exc())
        for entry in result.checks:
            entry.points = 0.0
    finally:
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
            if options.keep:
                result.notes.append(f"work folder kept: {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
        if plan is not None:
            plan.close()
    if any(c.outcome == "grader_error" for c in result.checks) and result.status == "graded":
        result.status = "grader_error"
        result.message = ("the grader could not run " + ", ".join(
            c.name for c in result.checks if c.outcome == "grader_error")[:300]
            + " twice; those checks are not scored: regrade this submission")
    result.seconds += time.perf_counter() - start
    return result


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


@dataclass
class Batch:
    """A graded batch: the results in the submissions' order, how it was run, and where
    its reports are (:func:`instructor.grading.batch.grade`)."""

    results: list[SubmissionResult]
    plan: JailPlan
    retried: list[str] = field(default_factory=list)  # students whose checks ran twice
    out: Path | None = None  # the reports' folder


def grade_batch(
    kit: Kit,
    submissions: Sequence[Path],
    weights: Weights | None = None,
    options: GradeOptions | None = None,
    *,
    jobs: int = 2,
    progress: Callable[[SubmissionResult], None] | None = None,
    plan: JailPlan | None = None,
) -> list[SubmissionResult]:
    """Grade every submission, ``jobs`` at a time; results in the order of ``submissions``.

    Each submission gets a jail of its own. The checks whose first run was the grader's
    problem run again at the end, one submission at a time, and that run gives their verdict.
    When this returns, every jail is gone, so the reports can be written.

    Raises:
        InstructorError: no jail is possible here and ``options.unisolated`` is not set.
    """
    options = options or GradeOptions()
    owned = plan is None
    plan = plan or plan_jails(kit, options, len(submissions))
    names, clashes = student_names(submissions)
    try:
        oracle.compute(kit.checks, kit.reference_dir)  # once, before the submissions share it

        def grade(index: int) -> SubmissionResult:
            if index in clashes:
                result = SubmissionResult(names[index], Path(submissions[index]), kit.stage,
                                          status="refused", message=clashes[index])
                if progress is not None:
                    progress(result)
                return result
            result = grade_submission(kit, Path(submissions[index]), weights, options,
                                      student=names[index], jail=plan.for_submission(index))
            if progress is not None and not result.pending:
                progress(result)
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(grade, range(len(submissions))))
        for index, result in enumerate(results):
            pending = {c.name for c in result.pending}
            if not pending:
                continue
            result.notes.append(f"graded again, alone: {len(pending)} check(s) whose first "
                                "run was the grader's problem (" + ", ".join(sorted(pending))
                                [:200] + ")")
            grade_submission(kit, Path(submissions[index]), weights, options,
                             jail=plan.for_submission(index), only=pending, into=result)
            if progress is not None:
                progress(result)
        return results
    finally:
        if owned:
            plan.close()
