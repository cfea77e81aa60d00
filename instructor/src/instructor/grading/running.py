"""Running the checks of one submission in its jail: its installs, their workers, one verdict
per run of a check.

Two installs, each with a worker of its own in the submission's jail: ``scored``, the
reference stage with stage K's own files replaced by the student's (an own file that does
not compile replaced by its stub), and ``full``, the student's whole package for the checks
only reported (one worker answers both when they hold the same package). The checks run in
order (:func:`_order`: the public scored ones, those only reported, the hidden ones last),
each with a limit of CPU time, within the submission's budget (:func:`run_checks`). A run
whose trouble was the grader's (a wall-clock backstop, a worker that died) is the verdict
``retry``: the check runs again, alone, and that second run gives its verdict.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from instructor.grading import oracle
from instructor.grading.checks import Check
from instructor.grading.jail import (
    Jail,
    UnreadableAnswer,
    Worker,
    WorkerBackstop,
    WorkerCrash,
    WorkerTimeout,
    share_with_jail,
)
from instructor.grading.kit import Kit
from instructor.grading.messages import describe_error
from instructor.grading.results import SubmissionResult
from instructor.grading.verdicts import decode, judge
from instructor.stages.markers import stub_solutions

if TYPE_CHECKING:
    from instructor.grading.pipeline import GradeOptions

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


class SubmissionRun:
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


def _load(run: SubmissionRun, key: str, worker: Worker, mine: set[str]) -> Verdict | None:
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


def _run_check(run: SubmissionRun, check: Check, key: str, limit: float, expected: dict,
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


def _stub_note(run: SubmissionRun, check: Check, key: str) -> str:
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


def run_checks(run: SubmissionRun, kit: Kit, result: SubmissionResult, expected: dict,
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
