"""``nox -s stage1`` inside a baked term: what a student runs, and what the instructor grades with.

Two terms of stage 1 alone are baked, one as students get it and one with the answer keys in
its staff folder, and ``nox -s stage1`` runs in the student repository and in the answer key of
stage 1 at the same time (each creates its virtualenv and installs the
stage, so they take a while; pip's cache makes the second time quick). The test results are read
from the JUnit XML report that pytest writes when the noxfile passes it ``--junitxml``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from instructor.release.solutions import STUB_MESSAGE

SUPPORTED = ("3.10", "3.11", "3.12", "3.13")
RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"
NOX_TIMEOUT = 1200
# What every failure of the untouched student release must say (the stub's message).
STUB_PREFIX = "NotImplementedError: " + STUB_MESSAGE.split("{name}")[0].format(stage=1)


@dataclass
class NoxRun:
    project: Path
    returncode: int
    output: str
    cases: list[dict]


def _read_junit(path: Path) -> list[dict]:
    """One dict per test case: its id, outcome and the text of its failure or error."""
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        outcome, detail = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = child.tag
                detail = f"{child.get('message', '')}\n{child.text or ''}"
        cases.append({"id": f"{case.get('classname')}::{case.get('name')}",
                      "outcome": outcome, "detail": detail})
    return cases


@pytest.fixture(scope="module")
def nox_runs(bake) -> dict[str, NoxRun]:
    """``nox -s stage1`` in a student term and in a solutions term, run side by side."""
    # The bake pins the course's Python; this machine's Python plays that part when it can.
    course_python = RUNNING if RUNNING in SUPPORTED else SUPPORTED[-1]
    env = {name: value for name, value in os.environ.items() if not name.startswith("NOX")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    started = {}
    for label, solutions in (("student", False), ("solutions", True)):
        project = bake(first_stage="1", last_stage="1", python_version=course_python,
                       include_solutions=solutions, platform="none", repo_name=label)
        if solutions:  # the answer key sits in the staff's folder, in the release's layout
            project = project.parent / f"{label}-staff" / "answer-keys" / "stage1"
        junit = project.parent / "junit.xml"
        log = project.parent / "nox.log"
        command = [sys.executable, "-m", "nox", "-f", str(project / "noxfile.py"), "-s", "stage1"]
        if course_python != RUNNING:
            command += ["--force-python", RUNNING]
        command += ["--", f"--junitxml={junit}", "-p", "no:cacheprovider"]
        with open(log, "wb") as stream:
            process = subprocess.Popen(command, cwd=project, env=env, stdout=stream,
                                       stderr=subprocess.STDOUT)
        started[label] = (project, junit, log, process)
    runs = {}
    for label, (project, junit, log, process) in started.items():
        try:
            returncode = process.wait(timeout=NOX_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        output = log.read_text(encoding="utf-8", errors="replace")
        cases = _read_junit(junit) if junit.is_file() else []
        runs[label] = NoxRun(project, returncode, output, cases)
    return runs


def _tail(run: NoxRun) -> str:
    return "\n".join(run.output.splitlines()[-30:])


def test_student_stage1_runs_the_whole_suite(nox_runs):
    student, solutions = nox_runs["student"], nox_runs["solutions"]
    assert student.cases, _tail(student)
    assert sorted(c["id"] for c in student.cases) == sorted(c["id"] for c in solutions.cases)


def test_student_stage1_fails(nox_runs):
    student = nox_runs["student"]
    assert student.returncode != 0, _tail(student)
    assert any(c["outcome"] in ("failure", "error") for c in student.cases), _tail(student)


def test_student_stage1_fails_only_with_the_stub_messages(nox_runs):
    student = nox_runs["student"]
    others = [
        f"{c['id']}: {c['detail'].strip().splitlines()[0] if c['detail'].strip() else ''}"
        for c in student.cases
        if c["outcome"] in ("failure", "error") and STUB_PREFIX not in c["detail"]
    ]
    assert others == [], "\n".join(others[:20])


def test_a_failure_names_the_file_the_student_edits(nox_runs):
    """The stage is installed editable: tracebacks point into the student's own stages/stage1,
    never into a copy inside the virtualenv that the next run would replace."""
    student = nox_runs["student"]
    # pytest names a file under its rootdir (the term) relative to it, any other absolutely; an
    # example script's traceback comes from Python itself (File "...", line N).
    source = re.compile(
        r"(^|\s|/)stages/stage1/(src/mini_torch|examples)/[^\s\"]+\.py(:|\", line )\d+",
        re.MULTILINE)
    failures = [c for c in student.cases if c["outcome"] in ("failure", "error")]
    assert failures, _tail(student)
    for case in failures:
        assert source.search(case["detail"]), (
            f"{case['id']}: the traceback does not name a file under stages/stage1:\n"
            f"{case['detail'][-1500:]}")
        assert f"site-packages{os.sep}mini_torch" not in case["detail"], case["id"]


def test_student_stage1_passes_what_needs_no_student_code(nox_runs):
    """The rules every package keeps (no forbidden import, ...) hold before any work is done."""
    passed = [c for c in nox_runs["student"].cases if c["outcome"] == "passed"]
    assert any("test_rules" in c["id"] for c in passed)


def test_solutions_stage1_passes(nox_runs):
    solutions = nox_runs["solutions"]
    assert solutions.returncode == 0, _tail(solutions)
    assert solutions.cases
    assert not [c["id"] for c in solutions.cases if c["outcome"] in ("failure", "error")]


# --- a zip of a package is tested as the folder it holds -----------------------------------


def _zip(folder: Path, archive: Path) -> Path:
    """A zip of ``folder`` with the folder itself at its top, as students zip a stage."""
    import zipfile

    with zipfile.ZipFile(archive, "w") as handle:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                handle.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    return archive


def _outcomes(noxfile: Path, submission: Path, cwd: Path, env: dict) -> dict[str, str]:
    """{test id: outcome} of ``nox -s stage1 -- --submission SUBMISSION`` (the example tests,
    which run the package's scripts from their own folder), invoked from ``cwd``."""
    junit = cwd / f"junit-{submission.name}.xml"
    command = [sys.executable, "-m", "nox", "-f", str(noxfile), "-r", "-s", "stage1", "--",
               "--submission", str(submission), "-k", "examples", f"--junitxml={junit}",
               "-p", "no:cacheprovider"]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=NOX_TIMEOUT, check=False)
    assert junit.is_file(), done.stdout[-3000:] + done.stderr[-3000:]
    return {c["id"]: c["outcome"] for c in _read_junit(junit)}


@pytest.mark.parametrize("which", ["students", "monorepo"])
def test_a_zip_of_a_package_passes_exactly_when_its_folder_passes(nox_runs, tmp_path, which):
    """Both noxfiles: the students' (in the answer key of a term) and the monorepo's."""
    from .conftest import REPO

    if which == "students":
        noxfile = nox_runs["solutions"].project / "noxfile.py"
        package = nox_runs["solutions"].project / "stages" / "stage1"
    else:
        noxfile, package = REPO / "noxfile.py", REPO / "stages" / "stage1"
    env = {name: value for name, value in os.environ.items() if not name.startswith("NOX")}
    elsewhere = tmp_path / "elsewhere"  # not the noxfile's folder, not the package's
    elsewhere.mkdir()
    archive = _zip(package, tmp_path / "stage1.zip")
    folder = _outcomes(noxfile, package, elsewhere, env)
    zipped = _outcomes(noxfile, archive, elsewhere, env)
    assert folder and set(folder.values()) == {"passed"}, folder
    assert zipped == folder
