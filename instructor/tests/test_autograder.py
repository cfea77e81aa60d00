"""The ``grade`` and ``autograder`` commands end to end.

The autograder zip's own scripts run against a temporary folder laid out like Gradescope's
(``source/`` holding the unzipped autograder, ``submission/``, ``results/``). setup.sh is told to
skip installing (this interpreter already has every package) and runs its checks; run_autograder
runs as it would on Gradescope, with this interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from instructor.cli import main

# instructor/tests/test_autograder.py -> the repository root two folders up.
REAL_REPO = Path(__file__).resolve().parents[2]
SELECT = ["shared_tests/stage3/test_loss_base.py::*", "hidden_tests/*"]


# --- grade ---------------------------------------------------------------------------------------


def test_grade_command_writes_gradebook_feedback_and_gradescope_results(
    tmp_path, run_cli, submission_factory
):
    correct = shutil.copytree(REAL_REPO / "stages" / "stage3", tmp_path / "subs" / "alice")
    torch = submission_factory("prohibited_import", tmp_path / "subs" / "bob")
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"hidden_tests/*": 5, "*no_such_test*": 1}))
    out = tmp_path / "grades"
    code, stdout, _ = run_cli(
        "grade", "--root", REAL_REPO, "--stage", 3, "--out", out, "--weights", weights,
        "--jobs", 2, "--timeout", 10, *[f"--select={p}" for p in SELECT], correct, torch,
    )
    assert code == 0
    assert "warning: the weights pattern '*no_such_test*' matches no test" in stdout
    assert "bob: Score: 0 /" in stdout and "[prohibited_import]" in stdout
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert rows[0] == "student,score,max,stage1,stage2,stage3,hidden,status,message"
    alice = rows[1].split(",")
    assert alice[0] == "alice" and alice[1] == alice[2]
    assert alice[6] == "20"  # the four hidden tests at 5 points each
    assert (out / "feedback" / "bob.txt").read_text().count("imports torch") >= 1
    results = json.loads((out / "results" / "alice" / "results.json").read_text())
    assert results["score"] == results["max_score"] == float(alice[2])


def test_gradescope_results_file_takes_one_submission(tmp_path, run_cli):
    with pytest.raises(SystemExit) as error:
        run_cli("grade", "--root", REAL_REPO, "--stage", 3, "--gradescope-results",
                tmp_path / "r.json", tmp_path, tmp_path)
    assert error.value.code == 2


@pytest.mark.parametrize("option", [["--jobs", "0"], ["--timeout", "0"],
                                    ["--submission-timeout", "-1"]])
def test_limits_must_be_positive(tmp_path, run_cli, option):
    with pytest.raises(SystemExit) as error:
        run_cli("grade", "--root", REAL_REPO, "--stage", 3, *option, tmp_path)
    assert error.value.code == 2


def test_a_missing_submission_is_a_usage_error(tmp_path, run_cli):
    code, _, err = run_cli("grade", "--root", REAL_REPO, "--stage", 3, tmp_path / "nobody")
    assert code == 2 and "no such submission" in err


# --- autograder ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("autograder") / "stage3.zip"
    code = main(["autograder", "--root", str(REAL_REPO), "--stage", "3", "--out", str(out),
                 "--timeout", "3", "--submission-timeout", "20",
                 *[f"--select={p}" for p in SELECT]])
    assert code == 0
    return out


def gradescope_folder(zip_path: Path, root: Path, submission: Path | None) -> Path:
    """Unzip the autograder as Gradescope does (file modes kept) and put the submission in."""
    (root / "source").mkdir(parents=True)
    (root / "results").mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = Path(archive.extract(info, root / "source"))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)
    if submission is None:
        (root / "submission").mkdir()
    else:
        shutil.copytree(submission, root / "submission")
    return root


def run_script(root: Path, script: Path, **extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable,
           **extra}
    return subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def results_of(root: Path) -> dict:
    return json.loads((root / "results" / "results.json").read_text())


def test_zip_holds_the_scripts_the_package_and_the_kit(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {i.filename: (i.external_attr >> 16) for i in archive.infolist()}
        requirements = archive.read("requirements.txt").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "instructor/pyproject.toml",
            "instructor/src/instructor/grading.py", "kit/kit.json", "kit/tests/pytest.ini",
            "kit/build/pyproject.toml"} <= names
    assert any(n.startswith("kit/tests/hidden_tests/stage3/") for n in names)
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    for package in ("numpy", "scipy", "matplotlib", "numexpr", "pytest", "pytest-timeout",
                    "hatchling"):
        assert package in requirements


def test_setup_checks_the_environment_and_the_kit(autograder_zip, tmp_path):
    root = gradescope_folder(autograder_zip, tmp_path / "autograder", None)
    done = run_script(root, root / "source" / "setup.sh", AUTOGRADER_SKIP_INSTALL="1")
    assert done.returncode == 0, done.stderr
    assert "setup.sh: kit of stage 3" in done.stdout and "setup.sh: ready" in done.stdout


def test_run_autograder_grades_a_correct_submission(autograder_zip, tmp_path):
    root = gradescope_folder(autograder_zip, tmp_path / "autograder",
                             REAL_REPO / "stages" / "stage3")
    done = run_script(root, root / "source" / "run_autograder")
    assert done.returncode == 0, done.stderr
    results = results_of(root)
    assert results["score"] == results["max_score"] > 0
    visibility = {t["name"].split("/")[0]: t["visibility"] for t in results["tests"]}
    assert visibility == {"shared_tests": "visible", "hidden_tests": "after_due_date"}


def test_run_autograder_reports_a_submission_that_times_out(
    autograder_zip, tmp_path, submission_factory
):
    loop = submission_factory("infinite_loop", tmp_path / "loop")
    root = gradescope_folder(autograder_zip, tmp_path / "autograder", loop)
    done = run_script(root, root / "source" / "run_autograder")
    assert done.returncode == 0
    results = results_of(root)
    assert 0 < results["score"] < results["max_score"]
    outputs = [t["output"] for t in results["tests"] if t["score"] < t["max_score"]]
    assert outputs and all(o.startswith(("timeout:", "not_run:")) for o in outputs)


def test_run_autograder_reports_an_empty_submission(autograder_zip, tmp_path):
    root = gradescope_folder(autograder_zip, tmp_path / "autograder", None)
    run_script(root, root / "source" / "run_autograder")
    results = results_of(root)
    assert results["score"] == 0 and results["max_score"] > 0
    assert "no src/mini_torch/__init__.py in the submission" in results["output"]


def test_run_autograder_writes_a_fallback_when_the_grader_itself_fails(autograder_zip, tmp_path):
    root = gradescope_folder(autograder_zip, tmp_path / "autograder",
                             REAL_REPO / "stages" / "stage3")
    (root / "source" / "kit" / "kit.json").unlink()  # a broken autograder
    done = run_script(root, root / "source" / "run_autograder")
    assert done.returncode == 0
    results = results_of(root)
    assert results["score"] == 0 and results["max_score"] > 0
    assert "could not grade this submission" in results["output"]
    assert "not a grading kit" in results["output"]
