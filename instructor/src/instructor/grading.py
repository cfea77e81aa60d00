"""Grading: run the grader's tests against each student's package, each in its own sandbox.

For each submission (a folder, or a zip of one) :func:`grade_submission`:

1. unpacks it into a fresh temporary folder and finds the package: the shallowest folder holding
   ``src/mini_torch/__init__.py``;
2. scans its ``src/mini_torch`` and ``examples`` with :mod:`ast` for prohibited imports (torch,
   tensorflow, keras, jax, sklearn, autograd) and imports of the test machinery; such a
   submission scores 0 and is not run (:mod:`instructor.scan`);
3. builds the student's ``src/mini_torch`` with the reference stage's own ``pyproject.toml`` (from
   the kit; the submission's packaging is not used) and installs it with ``pip --no-deps
   --no-build-isolation --target <work>/site``; everything in ``site`` that is not ``mini_torch/``
   or a ``*.dist-info`` folder is deleted and reported, and so are entry points;
4. imports ``mini_torch`` in a subprocess: a failure scores 0 with the error's last line;
5. runs pytest in a subprocess whose working folder is a fresh copy of the kit's tests, with the
   kit's ``pytest.ini`` (``-c``), ``--rootdir`` and ``--confcutdir`` on that copy, plugin
   autoloading off, ``PYTHONPATH`` = ``<work>/site`` alone, ``MINI_TORCH_EXPECT_PATH`` (the shared
   conftest then stops the run if ``mini_torch`` comes from anywhere else), a per-test timeout
   (pytest-timeout) and an overall wall-clock limit (the process group is killed);
6. reads the results that :mod:`instructor.pytest_grader` streamed, and scores every test the
   kit lists: a test that did not run scores 0 with the reason.

Nothing a submission contains (``conftest.py``, ``pytest.ini``, ``sitecustomize.py``, a ``tests/``
folder, a ``mini_torch`` folder beside ``src``) is on the path or read by pytest. What is not
covered: the student's code runs with the grader's permissions (grade untrusted code in a
container or as an unprivileged user, as Gradescope does).

:func:`grade_batch` grades many submissions side by side (``jobs`` at a time); a submission that
fails in any way is graded with a message and never stops the batch.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from instructor.kit import Kit
from instructor.repo import InstructorError
from instructor.scan import scan_package
from instructor.weights import Weights

#: Modules the grader's interpreter needs (the shared third-party environment).
GRADER_MODULES = ("pytest", "pytest_timeout", "hatchling", "numpy", "scipy", "matplotlib",
                  "numexpr")

#: Environment variables a test run inherits from the grader; everything else is dropped.
INHERITED_ENV = frozenset({
    "PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP", "SYSTEMROOT", "USER",
    "LOGNAME", "MPLCONFIGDIR", "XDG_CACHE_HOME", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
})
#: ... and the variables with these prefixes: pip's configuration (a test may build a wheel).
INHERITED_PREFIXES = ("PIP_",)

#: Seconds for ``pip install`` of one submission and for the import check.
INSTALL_TIMEOUT = 300
IMPORT_TIMEOUT = 120

OUTCOME_PASSED = "passed"

# pytest-timeout's message when it stops a test.
_PYTEST_TIMEOUT = re.compile(r"Timeout \(>([0-9.]+)s\) from pytest-timeout")
_STAGE_TEST = re.compile(r"^shared_tests/stage(\d+)/")
HIDDEN_PREFIX = "hidden_tests/"


@dataclass
class GradeOptions:
    """How a submission is run."""

    timeout: float = 30.0  # seconds per test
    submission_timeout: float = 600.0  # seconds for the whole test run of one submission
    keep: bool = False  # keep each submission's work folder (its path goes into the notes)
    work_root: Path | None = None  # where the work folders go (default: the system temp folder)


@dataclass
class TestResult:
    """The outcome of one test for one submission.

    ``outcome``: ``passed``, ``failed``, ``error`` (fixture or file failed), ``skipped``,
    ``timeout`` or ``not_run``.
    """

    __test__ = False  # not a pytest test class, whatever its name

    nodeid: str
    outcome: str
    message: str = ""
    where: str = ""
    details: str = ""
    points: float = 0.0
    max_points: float = 1.0

    @property
    def passed(self) -> bool:
        return self.outcome == OUTCOME_PASSED

    @property
    def hidden(self) -> bool:
        return self.nodeid.startswith(HIDDEN_PREFIX)

    @property
    def group(self) -> str:
        """``stage3`` for shared_tests/stage3/..., ``hidden`` for a hidden test."""
        if self.hidden:
            return "hidden"
        match = _STAGE_TEST.match(self.nodeid)
        return f"stage{match.group(1)}" if match else "other"


@dataclass
class SubmissionResult:
    """The grade of one submission.

    ``status``: ``graded`` (the tests ran), ``time_limit`` (they ran until the submission's time
    was up), ``no_package``, ``prohibited_import``, ``build_error``, ``import_error`` or
    ``grader_error`` (a problem of the grader itself; the message says what).
    """

    student: str
    source: Path
    stage: int
    status: str = "graded"
    message: str = ""
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_points for t in self.tests)

    def groups(self) -> list[str]:
        """``stage1`` .. ``stageN`` and ``hidden``: the columns of the gradebook."""
        return [f"stage{k}" for k in range(1, self.stage + 1)] + ["hidden"]

    def subtotal(self, group: str) -> tuple[float, float]:
        """(points, max points) of the tests of one group."""
        tests = [t for t in self.tests if t.group == group]
        return sum(t.points for t in tests), sum(t.max_points for t in tests)


# --- the subprocess set-up ------------------------------------------------------------------


def run_environment(site: Path, source: Path, stage: int, reference: Path) -> dict[str, str]:
    """The environment of a test run: only what the run needs, nothing from the submission.

    Args:
        site: the folder holding the installed ``mini_torch`` (the only ``PYTHONPATH`` entry).
        source: the package folder under test (``pyproject.toml``, ``src/``, ``examples/``).
        stage: the stage graded.
        reference: the folder holding the reference ``stages/stageK/examples`` of earlier stages.
    """
    env = {name: value for name, value in os.environ.items()
           if name in INHERITED_ENV or name.startswith(INHERITED_PREFIXES)}
    env.update(
        PYTHONPATH=str(site),
        PYTHONNOUSERSITE="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",  # no plugin from any installed entry point
        MINI_TORCH_EXPECT_PATH=str(site),
        MINI_TORCH_SOURCE=str(source),
        MINI_TORCH_REPO=str(reference),
        MINI_TORCH_STAGE=str(stage),
        MPLBACKEND="Agg",
        # One thread per run: submissions run side by side, and BLAS threads would fight.
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    return env


def pytest_command(
    kit: Kit, work: Path, log: Path, *, timeout: float, collect_only: bool = False
) -> list[str]:
    """The pytest command line of a run in ``kit.tests_dir`` (or a copy of it) as cwd."""
    command = [
        sys.executable, "-m", "pytest",
        "-c", "pytest.ini", "--rootdir", ".", "--confcutdir", ".",
        "-p", "no:cacheprovider", "-p", "pytest_timeout", "-p", "instructor.pytest_grader",
        "--import-mode=importlib",
        # A test file that fails to import costs its own tests, not the whole run.
        "--continue-on-collection-errors",
        f"--timeout={timeout:g}",
        "--grader-log", str(log),
        "--basetemp", str(work / "pytest-tmp"),
        "-q", "--tb=short", "-rN", "--color=no",
    ]
    command += [f"--grader-select={pattern}" for pattern in kit.select]
    if collect_only:
        command.append("--collect-only")
    return command + kit.test_folders()


def read_log(path: Path) -> list[dict]:
    """The events of a grader log; a line cut short by a killed run is skipped."""
    events = []
    if not path.is_file():
        return events
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def check_grader_environment() -> None:
    """Refuse to start a batch in an interpreter that lacks a module every run needs.

    Raises:
        InstructorError: naming the missing modules and the pip command that installs them.
    """
    probe = (
        "import importlib.util, sys\n"
        "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
    )
    done = subprocess.run([sys.executable, "-c", probe, *GRADER_MODULES], capture_output=True,
                          text=True, check=False, env={**os.environ, "PYTHONPATH": ""})
    missing = done.stdout.split() if done.returncode == 0 else list(GRADER_MODULES)
    if missing:
        names = " ".join(m.replace("_", "-") for m in missing)
        raise InstructorError(
            f"the grader's Python ({sys.executable}) lacks {', '.join(missing)}: "
            f"{sys.executable} -m pip install {names}"
        )


# --- one submission -------------------------------------------------------------------------


def student_name(path: Path) -> str:
    """The folder name, or the zip's stem."""
    return path.stem if path.suffix == ".zip" else path.name


def find_package(folder: Path, stage: int | None = None) -> Path:
    """The shallowest folder under ``folder`` that holds ``src/mini_torch/__init__.py``.

    Among several at the same depth (a release of several stages: ``stages/stage1``,
    ``stages/stage2``, ...), the one in a folder named ``stage<stage>`` is chosen.

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


def _rewrite_paths(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        text = text.replace(old, new)
    return text


def _last_error_line(stderr: str) -> str:
    """``SyntaxError: ... (at src/mini_torch/nn/loss.py:12)`` from a traceback."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    if not lines:
        return "no error message"
    last = lines[-1].strip()
    where = None
    for line in reversed(lines):
        match = re.match(r'\s*File "([^"]+)", line (\d+)', line)
        if match:
            where = f"{match.group(1)}:{match.group(2)}"
            break
    return f"{last} (at {where})" if where else last


class _Sandbox:
    """The work folder of one submission and the steps run in it."""

    def __init__(self, kit: Kit, options: GradeOptions, result: SubmissionResult) -> None:
        self.kit, self.options, self.result = kit, options, result
        root = options.work_root
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix=f"grade-{result.student[:40]}-", dir=root))
        self.site = self.work / "site"
        # The package folder under test: the kit's pyproject.toml and README.md, the student's
        # src/mini_torch and examples/. It is built into site, and MINI_TORCH_SOURCE names it.
        self.source = self.work / "package"
        self.tests = self.work / "tests"
        self.log = self.work / "results.jsonl"
        self.replacements: list[tuple[str, str]] = []

    def unpack(self, submission: Path) -> Path:
        """The folder to look for the package in: ``submission``, or a zip unpacked.

        A folder without a package but with zip files in it (an upload of a zip to a folder,
        as Gradescope may keep it) is searched through its unpacked zips.
        """
        if submission.is_dir():
            zips = sorted(submission.glob("*.zip"))
            if not zips or any(
                p.parent.name == "mini_torch" for p in submission.rglob("__init__.py")
            ):
                return submission
            target = self.work / "submission"
            for index, archive_path in enumerate(zips):
                self._extract(archive_path, target / str(index))
            return target
        if not zipfile.is_zipfile(submission):
            raise InstructorError(f"{submission.name} is neither a folder nor a zip file")
        target = self.work / "submission"
        self._extract(submission, target)
        return target

    @staticmethod
    def _extract(archive_path: Path, target: Path) -> None:
        if not zipfile.is_zipfile(archive_path):
            raise InstructorError(f"{archive_path.name} is not a valid zip file")
        with zipfile.ZipFile(archive_path) as archive:
            archive.extractall(target)  # extractall drops absolute and ".." parts of names

    def install(self, package: Path) -> None:
        """Build the student's src/mini_torch with the kit's pyproject.toml into ``site``."""
        build = self.source
        shutil.copytree(self.kit.build_dir, build)
        shutil.copytree(package / "src" / "mini_torch", build / "src" / "mini_torch",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), symlinks=False)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
             "--no-index", "--disable-pip-version-check", "--no-input", "--quiet",
             "--target", str(self.site), str(build)],
            capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False,
            env={**os.environ, "PYTHONPATH": "", "PIP_NO_INPUT": "1"},
        )
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-8:])
            raise _GradeStop("build_error", f"building the package failed:\n{tail}")
        removed = []
        for entry in sorted(self.site.iterdir()):
            if entry.name == "mini_torch" and entry.is_dir():
                continue
            if entry.name.endswith(".dist-info") and entry.is_dir():
                for extra in ("entry_points.txt",):
                    if (entry / extra).exists():
                        (entry / extra).unlink()
                        removed.append(f"{entry.name}/{extra}")
                continue
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            removed.append(entry.name)
        if removed:
            self.result.notes.append(
                "removed from the installed package (only mini_torch/ is graded): "
                + ", ".join(removed)
            )
        # Tracebacks name the installed files; the student knows them by their source paths.
        # pytest shows them relative to its rootdir, the tests folder beside site/ and package/.
        self.replacements += [
            (str(self.site / "mini_torch"), "src/mini_torch"),
            (str(self.source) + os.sep, ""),
            (str(self.site), "site"),
            (f"..{os.sep}site{os.sep}mini_torch", "src/mini_torch"),
            (f"..{os.sep}package{os.sep}", ""),
        ]

    def copy_examples(self, package: Path) -> None:
        """Complete the build folder into the package folder the tests see: add ``examples/``."""
        if (package / "examples").is_dir():
            shutil.copytree(package / "examples", self.source / "examples",
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    def env(self) -> dict[str, str]:
        return run_environment(self.site, self.source, self.kit.stage,
                               self.tests / "reference")

    def check_import(self) -> None:
        empty = self.work / "empty"
        empty.mkdir()
        try:
            done = subprocess.run(
                [sys.executable, "-c", "import mini_torch; print(mini_torch.__file__)"],
                cwd=empty, env=self.env(), capture_output=True, text=True,
                timeout=min(IMPORT_TIMEOUT, self.options.submission_timeout), check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise _GradeStop(
                "import_error", f"import mini_torch did not finish within {error.timeout:g} s "
                "(an endless loop at import time?)") from error
        if done.returncode != 0:
            message = _rewrite_paths(_last_error_line(done.stderr), self.replacements)
            raise _GradeStop("import_error", f"import mini_torch failed: {message}")
        lines = done.stdout.strip().splitlines()
        location = Path(lines[-1] if lines else "?").resolve()
        if not location.is_relative_to(self.site.resolve()):
            raise _GradeStop("grader_error", f"mini_torch was imported from {location}")

    def run_tests(self) -> tuple[list[dict], bool, str]:
        """Run the suite; return (log events, whether the time limit killed it, output tail)."""
        shutil.copytree(self.kit.tests_dir, self.tests)
        self.replacements.insert(0, (str(self.tests) + os.sep, ""))
        command = pytest_command(self.kit, self.work, self.log, timeout=self.options.timeout)
        output_path = self.work / "pytest-output.txt"
        killed = False
        with open(output_path, "w", encoding="utf-8") as output:
            process = subprocess.Popen(
                command, cwd=self.tests, env=self.env(), stdout=output,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
            try:
                process.wait(timeout=self.options.submission_timeout)
            except subprocess.TimeoutExpired:
                killed = True
                _kill_group(process)
            finally:
                _kill_group(process)  # example scripts the tests started must not outlive it
        text = output_path.read_text(encoding="utf-8", errors="replace")
        tail = "\n".join(line for line in text.strip().splitlines()[-12:])
        return read_log(self.log), killed, _rewrite_paths(tail, self.replacements)

    def close(self) -> None:
        if self.options.keep:
            self.result.notes.append(f"work folder kept: {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


class _GradeStop(Exception):
    """A submission cannot be run further: status and message of its grade."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _kill_group(process: subprocess.Popen) -> None:
    """Kill the process and everything it started (it leads its own process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already
    except AttributeError:  # no process groups on this system
        process.kill()
    process.wait()


_STUDENT_FRAME = re.compile(r"^(?:src/mini_torch|examples)/\S+?:\d+", re.MULTILINE)


def _student_frame(details: str) -> str:
    """The innermost ``src/mini_torch/...:line`` or ``examples/...:line`` of a traceback."""
    frames = _STUDENT_FRAME.findall(details)
    return frames[-1] if frames else ""


def _friendly(record: dict, replacements: list[tuple[str, str]]) -> tuple[str, str, str, str]:
    """(outcome, message, where, details) of a log record, paths rewritten for the student."""
    outcome = record["outcome"]
    message = _rewrite_paths(record.get("message", ""), replacements)
    where = _rewrite_paths(record.get("where", ""), replacements)
    details = _rewrite_paths(record.get("details", ""), replacements)
    frame = _student_frame(details)
    if frame and not where.startswith(("src/mini_torch/", "examples/")):
        where = f"{where} (called from {frame})" if where else frame
    match = _PYTEST_TIMEOUT.search(message)
    if match:
        where = frame or where
        outcome = "timeout"
        message = (
            f"Timeout: the test took longer than {float(match.group(1)):g} s and was stopped. "
            "Look for an endless loop (a while loop whose condition never changes) or a very "
            "slow computation in the code this test calls."
        )
    elif outcome == "skipped":
        message = f"skipped ({message}); a skipped test earns no points"
    return outcome, message, where, details


def score_results(
    result: SubmissionResult,
    kit: Kit,
    weights: Weights,
    events: list[dict],
    *,
    killed: bool,
    options: GradeOptions,
    output_tail: str,
    replacements: list[tuple[str, str]] | None = None,
) -> None:
    """Fill ``result.tests``: one entry per test of the kit, from the log events of a run."""
    replacements = replacements or []
    records = {e["nodeid"]: e for e in events if e["event"] == "result"}
    started = [e["nodeid"] for e in events if e["event"] == "start"]
    running = started[-1] if started and started[-1] not in records else None
    collect_errors = [e for e in events if e["event"] == "collect_error"]
    collected = any(e["event"] == "collected" for e in events)
    for nodeid in kit.tests:
        test = TestResult(nodeid, "not_run", max_points=weights.points(nodeid))
        record = records.get(nodeid)
        broken_file = next((e for e in collect_errors
                            if nodeid.startswith(e["nodeid"] + "::") or nodeid == e["nodeid"]),
                           None)
        if record is not None:
            test.outcome, test.message, test.where, test.details = _friendly(record, replacements)
        elif killed and nodeid == running:
            test.outcome = "timeout"
            test.message = (
                f"Timeout: the submission's whole test run reached its "
                f"{options.submission_timeout:g} s limit while this test was running."
            )
        elif broken_file is not None:
            test.outcome = "error"
            message = _rewrite_paths(broken_file["message"], replacements)
            test.message = f"the test file could not be loaded: {message}"
            test.where = _rewrite_paths(broken_file.get("where", ""), replacements)
        elif killed:
            test.message = (
                f"not run: the submission's test run was stopped at its "
                f"{options.submission_timeout:g} s limit before this test started"
            )
        elif not collected:
            test.message = f"not run: the test run stopped before any test ran:\n{output_tail}"
        else:
            test.message = "not run: the test was not collected in this submission's run"
        if test.passed:
            test.points = test.max_points
        result.tests.append(test)
    extra = sorted(set(records) - set(kit.tests))
    if extra:
        result.notes.append(f"{len(extra)} test(s) ran that the kit does not list (not scored)")
    if killed:
        result.status = "time_limit"
        result.message = (
            f"the test run was stopped at the {options.submission_timeout:g} s time limit; "
            "the tests that had not finished score 0"
        )


def _unrun(result: SubmissionResult, kit: Kit, weights: Weights, message: str) -> None:
    """Every test of the kit, scored 0 with ``message``."""
    result.tests = [TestResult(n, "not_run", message=message, max_points=weights.points(n))
                    for n in kit.tests]


def grade_submission(
    kit: Kit,
    submission: Path,
    weights: Weights | None = None,
    options: GradeOptions | None = None,
    *,
    student: str | None = None,
) -> SubmissionResult:
    """Grade one submission (a folder or a zip) with the tests of ``kit``; never raises."""
    weights = weights or Weights()
    options = options or GradeOptions()
    submission = Path(submission)
    result = SubmissionResult(student or student_name(submission), submission, kit.stage)
    start = time.perf_counter()
    sandbox = None
    try:
        sandbox = _Sandbox(kit, options, result)
        try:
            package = find_package(sandbox.unpack(submission), kit.stage)
        except InstructorError as error:
            raise _GradeStop("no_package", str(error)) from error
        except (OSError, zipfile.BadZipFile) as error:
            raise _GradeStop("no_package", f"cannot read the submission: {error}") from error
        violations, notes = scan_package(package)
        result.notes += notes
        if violations:
            tampering = any(v.tampering for v in violations)
            what = ("imports the test machinery, which the package may not do" if tampering
                    else "imports a prohibited library: Mini-Torch is built on numpy alone "
                    "(no torch, tensorflow, keras, jax, sklearn, autograd)")
            more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
            lines = "\n".join(f"  {v.describe()}" for v in violations)
            raise _GradeStop(
                "prohibited_import",
                f"{violations[0].describe()}{more}: the package {what}; the tests were not "
                f"run. Remove the import(s):\n{lines}",
            )
        sandbox.install(package)
        sandbox.copy_examples(package)
        sandbox.check_import()
        events, killed, tail = sandbox.run_tests()
        score_results(result, kit, weights, events, killed=killed, options=options,
                      output_tail=tail, replacements=sandbox.replacements)
    except _GradeStop as stop:
        result.status, result.message = stop.status, stop.message
        _unrun(result, kit, weights, f"not run: {stop.message}")
    except Exception as error:  # a grader problem must not stop the batch
        result.status = "grader_error"
        result.message = f"the grader failed on this submission: {error!r}"
        result.notes.append(traceback.format_exc())
        _unrun(result, kit, weights, f"not run: {result.message}")
    finally:
        if sandbox is not None:
            sandbox.close()
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

    def grade(index: int) -> SubmissionResult:
        result = grade_submission(kit, Path(submissions[index]), weights, options,
                                  student=names[index])
        if progress is not None:
            progress(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(grade, range(len(submissions))))
