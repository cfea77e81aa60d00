"""Releases of the real stages: cut, installed, imported and tested.

An untouched release must install and import; the tests of the earlier stages pass on it (their
code is carried solved); every test of its own stage that touches student code fails with the
message of the stub's ``NotImplementedError("Stage N: implement ...")``, never with an import
error or a crash.
Some tests of stage N pass on an untouched release because they check code the student does not
write (a docstring, an abstract base class, input validation before the stub).

Installing and running goes through the grader (instructor.grading): each release is graded
with the trusted checks of its stage. One more test runs the stage-2 release the way a student
does, from the release folder, with the public tests.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

import pytest

from instructor.grading import GradeOptions, grade_submission
from instructor.grading.checks import has_checks
from instructor.grading.kit import build_kit
from instructor.release.release import new_package_files, write_release
from instructor.release.solutions import STUB_LINE, find_regions, strip_markers
from instructor.stages.repo import stage_numbers

# instructor/tests/test_release_real.py -> the repository root two folders up.
REAL_REPO = Path(__file__).resolve().parents[2]
STAGES = stage_numbers(REAL_REPO)
MARKERS = ("# BEGIN SOLUTION", "# END SOLUTION")


def reference_python_files(stage: int) -> list[PurePosixPath]:
    folder = REAL_REPO / "stages" / f"stage{stage}"
    files = []
    for sub in ("src/mini_torch", "examples"):
        for path in sorted((folder / sub).rglob("*.py")):
            if "__pycache__" not in path.parts:
                files.append(PurePosixPath(path.relative_to(folder).as_posix()))
    return files


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[int, Path]:
    """Every stage released into its own folder."""
    base = tmp_path_factory.mktemp("releases")
    return {stage: write_release(REAL_REPO, stage, base / f"stage{stage}").out for stage in STAGES}


@pytest.mark.parametrize("stage", STAGES)
def test_no_marker_line_survives(releases, stage):
    leftovers = [
        f"{path}:{number}"
        for path in releases[stage].rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if line.strip() in MARKERS
    ]
    assert leftovers == []


@pytest.mark.parametrize("stage", STAGES)
def test_every_new_region_is_one_stub_naming_this_stage_and_its_guide(releases, stage):
    """The stubs of a release are exactly the regions of the files the stage adds."""
    new_files = {PurePosixPath("src/mini_torch") / f for f in new_package_files(REAL_REPO, stage)}
    reference = REAL_REPO / "stages" / f"stage{stage}"
    expected = 0
    for relative in reference_python_files(stage):
        if relative in new_files or relative.parts[0] == "examples":
            expected += len(find_regions((reference / relative).read_text(encoding="utf-8")))
    stubs = [
        STUB_LINE.match(line)
        for path in (releases[stage] / "stages" / f"stage{stage}").rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if "NotImplementedError(\"Stage" in line
    ]
    assert expected > 0
    assert len(stubs) == expected
    assert all(m is not None and m["stage"] == str(stage) for m in stubs)
    # each names its guide, and the section that teaches it when the guide exists
    assert {m["doc"].split("#")[0] for m in stubs} == {f"docs/stage{stage}.md"}


@pytest.mark.parametrize("stage", STAGES)
def test_carried_files_stay_solved(releases, stage):
    """Files an earlier stage already had are the reference's, with the marker lines dropped."""
    new_files = {PurePosixPath("src/mini_torch") / f for f in new_package_files(REAL_REPO, stage)}
    reference = REAL_REPO / "stages" / f"stage{stage}"
    released = releases[stage] / "stages" / f"stage{stage}"
    carried = [f for f in reference_python_files(stage)
               if f not in new_files and f.parts[0] != "examples"]
    if stage > 1:
        assert carried, "a later stage carries the files of the earlier ones"
    for relative in carried:
        expected = strip_markers((reference / relative).read_text(encoding="utf-8"))
        assert (released / relative).read_text(encoding="utf-8") == expected, relative


@pytest.mark.parametrize("stage", STAGES)
def test_release_carries_the_public_tests_and_the_guide(releases, stage):
    out = releases[stage]
    for k in range(1, stage + 1):
        source = REAL_REPO / "shared_tests" / f"stage{k}"
        if source.is_dir():
            names = [p.name for p in source.glob("*.py")]
            _, mismatch, errors = filecmp.cmpfiles(source, out / "shared_tests" / f"stage{k}",
                                                  names, shallow=False)
            assert (mismatch, errors) == ([], []), f"stage{k}"
    assert not (out / "shared_tests" / f"stage{stage + 1}").exists()
    assert (out / "shared_tests" / "conftest.py").read_bytes() == (
        REAL_REPO / "shared_tests" / "conftest.py").read_bytes()
    if (REAL_REPO / "docs" / f"stage{stage}.md").is_file():
        assert (out / "docs" / f"stage{stage}.md").is_file()
    assert not list(out.rglob("hidden_tests"))


@pytest.mark.parametrize("stage", [s for s in STAGES if has_checks(s)])
def test_untouched_release_installs_keeps_earlier_code_solved_and_raises_the_stubs(
    releases, tmp_path, stage
):
    """Graded by the trusted checks: every scored check meets a stub of this stage, every check
    of earlier stages' code passes (it is carried solved), and the release scores 0."""
    kit = build_kit(REAL_REPO, stage, tmp_path / "kit", hidden=False)
    package = releases[stage] / "stages" / f"stage{stage}"
    result = grade_submission(kit, package, options=GradeOptions(timeout=30))
    assert result.status == "graded", result.message
    scored = [c for c in result.checks if c.scored]
    assert scored and result.score == 0
    stub_text = f"Stage {stage}: implement "
    # A check that records what a call raises meets the stub as "got 'NotImplementedError'".
    wrong = [f"{c.name}: {c.outcome}: {c.message[:300]}" for c in scored
             if stub_text not in c.message and "got 'NotImplementedError'" not in c.message]
    assert wrong == []
    earlier = [c for c in result.checks if not c.scored and c.task not in kit.tasks]
    assert [c.name for c in earlier if not c.passed] == []


def test_a_student_runs_the_stage2_release_from_its_folder(releases, tmp_path):
    """pip install the stage, then pytest from the release folder with its own configuration."""
    if 2 not in STAGES:
        pytest.skip("no stage 2")
    out = releases[2]
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(site), str(out / "stages" / "stage2")],
        check=True, capture_output=True,
    )
    report = tmp_path / "report.xml"
    env = {**os.environ, "PYTHONPATH": str(site), "MINI_TORCH_EXPECT_PATH": str(site),
           "MINI_TORCH_SOURCE": str(out / "stages" / "stage2"), "MPLBACKEND": "Agg"}
    env.pop("MINI_TORCH_REPO", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "shared_tests/stage1", "shared_tests/stage2",
         "-p", "no:cacheprovider", "-q", f"--junitxml={report}"],
        cwd=out, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    cases = ET.parse(report).getroot().iter("testcase")
    outcomes = {}
    for case in cases:
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        skipped = case.find("skipped") is not None
        name = f"{case.get('classname')}::{case.get('name')}"
        outcomes[name] = ("skipped" if skipped else "passed" if problem is None
                          else (problem.get("message", "") + (problem.text or "")))
    assert outcomes, done.stdout[-2000:]
    stage1 = {n: o for n, o in outcomes.items() if n.startswith("shared_tests.stage1")}
    stage2 = {n: o for n, o in outcomes.items() if n.startswith("shared_tests.stage2")}
    # Stage 1 is solved in this release; its example tests need stage 1's own examples, which a
    # stage-2 release does not hold, so they are skipped.
    assert {o for o in stage1.values()} <= {"passed", "skipped"}
    assert all(o == "passed" for n, o in stage1.items() if "test_examples" not in n)
    failures = [o for o in stage2.values() if o not in ("passed", "skipped")]
    assert failures
    assert all("Stage 2: implement " in o for o in failures)
