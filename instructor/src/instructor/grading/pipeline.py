"""Grading one submission, and a batch: the trusted side of the grader.

For each submission (a folder, or a zip of one) :func:`grade_submission`:

1. unpacks it into a fresh work folder and finds the package: the shallowest folder holding
   ``src/mini_torch/__init__.py``;
2. scans its ``src/mini_torch`` and ``examples`` with :mod:`ast` for prohibited imports (torch,
   tensorflow, keras, jax, sklearn, autograd) and imports of the test machinery
   (:mod:`instructor.grading.scan`): an integrity finding, which under the ``zero`` policy scores 0
   without running anything and under ``flag`` is reported beside the score;
3. compiles (never runs) each of its files: a file that does not compile fails its own checks,
   with the line, and nothing else;
4. installs the reference stage with stage K's own files replaced by the student's (so
   carried-forward earlier work cannot cost or earn points; an own file that does not compile
   is replaced by its stub), with the student's examples beside it; and the student's whole
   package for the checks that are only reported (earlier stages' code);
5. runs each check in a sandboxed worker (:mod:`instructor.grading.jail`) on the install it needs,
   with a time limit per check and a budget for the submission, and judges the answer against
   the reference's (:mod:`instructor.grading.oracle`, :mod:`instructor.grading.verdicts`) in this process.

This process never imports the submission's code; student code runs only in workers, and what
they send back is plain data. :func:`grade_batch` grades many submissions side by side.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from instructor.grading import oracle
from instructor.checks import Check
from instructor.grading.kit import Kit
from instructor.grading.messages import describe_error
from instructor.repo import InstructorError
from instructor.grading.results import CheckResult, SubmissionResult
from instructor.grading.jail import (
    Worker,
    WorkerCrash,
    WorkerTimeout,
    isolation_notes,
    prepare_readable,
)
from instructor.grading.scan import scan_package
from instructor.grading.scoring import is_scored
from instructor.solutions import stub_solutions
from instructor.grading.verdicts import BadAnswer, decode, judge
from instructor.grading.scoring import Weights

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


def find_package(folder: Path, stage: int | None = None) -> Path:
    """The shallowest folder under ``folder`` that holds ``src/mini_torch/__init__.py``.

    Among several at the same depth (a release of several stages), the one in a folder named
    ``stage<stage>`` is chosen.

    Raises:
        InstructorError: none, or two at the same depth (the message says what was found).
    """
    candidates = [
        init.parents[2]
        for init in folder.rglob("__init__.py")
        if init.parent.name == "mini_torch" and init.parents[1].name == "src"
        and "__MACOSX" not in init.parts
    ]
    if not candidates:
        flat = sorted(p.parent for p in folder.rglob("mini_torch/__init__.py"))
        hint = (f" (found {flat[0].relative_to(folder)} without the src/ folder around it)"
                if flat else "")
        raise InstructorError(
            f"no src/mini_torch/__init__.py in the submission{hint}: submit the stage folder "
            "that holds pyproject.toml and src/mini_torch"
        )
    depth = min(len(c.parts) for c in candidates)
    shallowest = sorted(c for c in candidates if len(c.parts) == depth)
    if len(shallowest) > 1 and stage is not None:
        named = [c for c in shallowest if c.name == f"stage{stage}"]
        shallowest = named or shallowest
    if len(shallowest) > 1:
        names = ", ".join(str(c.relative_to(folder)) for c in shallowest)
        raise InstructorError(f"several packages in the submission ({names}): submit one")
    return shallowest[0]


def _extract(archive_path: Path, target: Path) -> None:
    if not zipfile.is_zipfile(archive_path):
        raise InstructorError(f"{archive_path.name} is not a valid zip file")
    with zipfile.ZipFile(archive_path) as archive:
        archive.extractall(target)  # extractall drops absolute and ".." parts of names


def unpack(submission: Path, work: Path) -> Path:
    """The folder to look for the package in: ``submission``, or its zip(s) unpacked."""
    if submission.is_dir():
        zips = sorted(submission.glob("*.zip"))
        if not zips or any(p.parent.name == "mini_torch" for p in submission.rglob("__init__.py")):
            return submission
        for index, archive_path in enumerate(zips):
            _extract(archive_path, work / "submission" / str(index))
        return work / "submission"
    if not zipfile.is_zipfile(submission):
        raise InstructorError(f"{submission.name} is neither a folder nor a zip file")
    _extract(submission, work / "submission")
    return work / "submission"


def copy_python(source: Path, target: Path) -> None:
    """Copy the regular ``.py`` files under ``source`` (no links, no data, no caches)."""
    target.mkdir(parents=True, exist_ok=True)
    if not source.is_dir() or source.is_symlink():
        return
    for folder, dirs, files in os.walk(source, followlinks=False):
        dirs[:] = [d for d in dirs if d != "__pycache__"
                   and not os.path.islink(os.path.join(folder, d))]
        relative = Path(folder).relative_to(source)
        for name in files:
            path = Path(folder) / name
            if name.endswith(".py") and path.is_file() and not path.is_symlink():
                destination = target / relative / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)


def syntax_errors(package: Path) -> dict[str, str]:
    """{``src/mini_torch/x.py`` or ``examples/x.py``: message} of the files that do not compile."""
    found = {}
    for folder, prefix in ((package / "src" / "mini_torch", "src/mini_torch"),
                           (package / "examples", "examples")):
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            shown = f"{prefix}/{path.relative_to(folder).as_posix()}"
            try:
                compile(path.read_bytes(), shown, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as error:
                line = getattr(error, "lineno", None)
                where = f"{shown}:{line}" if line else shown
                found[shown] = f"{type(error).__name__}: {getattr(error, 'msg', error)} ({where})"
    return found


class _Submission:
    """The installs of one submission and the workers on them."""

    def __init__(self, kit: Kit, package: Path, work: Path, syntax: dict[str, str]) -> None:
        self.kit, self.package, self.work, self.syntax = kit, package, work, syntax
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
            if student.is_file() and not student.is_symlink() and file not in self.syntax:
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
        prepare_readable(folder)
        worker = Worker(site, student_examples, folder / "scratch")
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
        message, where, details = describe_error(
            error, site=str(worker.site), examples=str(worker.examples), own_files=mine)
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
) -> SubmissionResult:
    """Grade one submission (a folder or a zip) with the checks of ``kit``; never raises."""
    weights = weights or Weights()
    options = options or GradeOptions()
    submission = Path(submission)
    result = SubmissionResult(student or student_name(submission), submission, kit.stage)
    start = time.perf_counter()
    tasks = set(kit.tasks)
    scored = {c.name: is_scored(c, tasks) for c in kit.checks}
    result.checks = [
        CheckResult(c.name, c.task, c.file, "not_run", hidden=c.hidden, scored=scored[c.name],
                    max_points=weights.points(c.name) if scored[c.name] else 0.0)
        for c in kit.checks
    ]
    by_name = {c.name: c for c in result.checks}
    work = run = None
    try:
        expected = oracle.compute(kit.checks, kit.reference_dir)
        if options.work_root is not None:
            options.work_root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f"grade-{result.student[:40]}-",
                                     dir=options.work_root))
        os.chmod(work, 0o711)
        try:
            package = find_package(unpack(submission, work), kit.stage)
        except InstructorError as error:
            raise _GradeStop("no_package", str(error)) from error
        except (OSError, zipfile.BadZipFile) as error:
            raise _GradeStop("no_package", f"cannot read the submission: {error}") from error
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
        result.notes += isolation_notes()
        run = _Submission(kit, package, work, syntax)
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


def grade_batch(
    kit: Kit,
    submissions: Sequence[Path],
    weights: Weights | None = None,
    options: GradeOptions | None = None,
    *,
    jobs: int = 2,
    progress: Callable[[SubmissionResult], None] | None = None,
) -> list[SubmissionResult]:
    """Grade every submission, ``jobs`` at a time; results in the order of ``submissions``."""
    names = unique_names(submissions)
    oracle.compute(kit.checks, kit.reference_dir)  # once, before the submissions share it

    def grade(index: int) -> SubmissionResult:
        result = grade_submission(kit, Path(submissions[index]), weights, options,
                                  student=names[index])
        if progress is not None:
            progress(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(grade, range(len(submissions))))


