"""The ``grade``, ``autograder`` and ``collect`` commands end to end, and the Classroom workflow.

The autograder zip's own scripts run against a temporary folder laid out like Gradescope's
(``source/`` holding the unzipped autograder, ``submission/``, ``results/``), re-rooted with
``AUTOGRADER_ROOT``. When these tests run as root and the machine has a system Python with
``venv``, setup.sh runs for real: it builds the virtualenv, creates the unprivileged user and
locks the kit, and run_autograder then runs student code as that user. Otherwise setup.sh only
runs its checks, with this interpreter.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from instructor.cli import main
from instructor.gradescope.autograder import GRADESCOPE_LIMIT

from .conftest import (
    DAEMON_MARKER,
    REAL_REPO,
    make_forged,
    make_refused,
    make_release,
    make_submission,
)
from .test_grading_real import fingerprint, processes_with

SELECT = ["stage3/MSELoss*", "hidden/*"]
SYSTEM_PYTHON = "/usr/bin/python3"
#: The forgeries graded on the simulated Gradescope, beside the honest submissions.
GRADESCOPE_FORGERIES = ("disk_search", "process_killer", "detached_rewriter", "fake_training",
                        "leaky_error", "response_forger")


# --- grade ---------------------------------------------------------------------------------------


def test_grade_command_writes_gradebook_feedback_and_gradescope_results(tmp_path, run_cli):
    correct = shutil.copytree(REAL_REPO / "stages" / "stage3", tmp_path / "subs" / "alice")
    torch = make_submission("prohibited_import", tmp_path / "subs" / "bob")
    weights = tmp_path / "weights.json"
    weights.write_text(json.dumps({"hidden/*": 5, "*no_such_check*": 1}))
    out = tmp_path / "grades"
    code, stdout, _ = run_cli(
        "grade", "--root", REAL_REPO, "--stage", 3, "--out", out, "--weights", weights,
        "--jobs", 2, "--timeout", 10, *[f"--select={p}" for p in SELECT], correct, torch,
    )
    assert code == 0
    assert "warning: the weights pattern '*no_such_check*' matches no test" in stdout
    assert "bob: Score: 0 /" in stdout and "[integrity]" in stdout
    rows = (out / "gradebook.csv").read_text().splitlines()
    assert rows[0] == ("student,score,max,stage3,hidden,reported,integrity,status,message,"
                       "seconds,cpu_seconds,isolation")
    alice = rows[1].split(",")
    assert alice[0] == "alice" and alice[1] == alice[2]
    assert float(alice[4]) > 0 and float(alice[4]) % 5 == 0  # the hidden checks, 5 points each
    assert "imports torch" in (out / "feedback" / "bob.txt").read_text()
    results = json.loads((out / "results" / "alice" / "results.json").read_text())
    assert results["score"] == results["max_score"] == float(alice[2])


def test_hostile_names_cost_no_neighbour_its_report_and_reach_no_terminal(tmp_path, run_cli):
    """Names a student may choose for a folder: bytes that are not UTF-8, an ANSI escape that
    erases the screen, a spreadsheet formula, a name that maps onto a classmate's."""
    subs = tmp_path / "subs"
    subs.mkdir()
    names = [os.fsdecode(b"caf\xe9"), "\x1b[2J\x1b[Hmallory", '=HYPERLINK("http://x","y")',
             "honest bug", "honest_bug"]
    paths = [shutil.copytree(REAL_REPO / "stages" / "stage3", subs / name) for name in names]
    out = tmp_path / "grades"
    code, stdout, _ = run_cli("grade", "--root", REAL_REPO, "--stage", 3, "--out", out,
                              "--jobs", 2, "--timeout", 10, "--select=stage3/MSELoss.forward*",
                              "--no-hidden", *paths)
    assert code == 0
    assert "\x1b" not in stdout and "honest_bug: Score:" in stdout
    rows = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text("utf-8"))))
    assert len(rows) == 1 + len(names)
    assert all(not row[0].startswith(("=", "+", "-", "@")) for row in rows[1:])
    honest = next(row for row in rows if row[0] == "honest_bug")
    assert honest[rows[0].index("status")] == "graded" and honest[1] == honest[2] != "0"
    feedback = {p.name: p.read_text("utf-8") for p in (out / "feedback").iterdir()}
    assert len(feedback) == len(names)
    assert "feedback for honest_bug" in feedback["honest_bug.txt"]
    assert "feedback for honest bug" in feedback["honest%20bug.txt"]
    assert not any("\x1b" in text for text in feedback.values())


def test_gradescope_results_file_takes_one_submission(tmp_path, run_cli):
    with pytest.raises(SystemExit) as error:
        run_cli("grade", "--root", REAL_REPO, "--stage", 3, "--gradescope-results",
                tmp_path / "r.json", tmp_path, tmp_path)
    assert error.value.code == 2


@pytest.mark.parametrize("option", [["--jobs", "0"], ["--timeout", "0"], ["--budget", "-1"],
                                    ["--policy", "lenient"]])
def test_limits_must_be_positive_and_policies_known(tmp_path, run_cli, option):
    with pytest.raises(SystemExit) as error:
        run_cli("grade", "--root", REAL_REPO, "--stage", 3, *option, tmp_path)
    assert error.value.code == 2


def test_a_missing_submission_is_a_usage_error(tmp_path, run_cli):
    code, _, err = run_cli("grade", "--root", REAL_REPO, "--stage", 3, tmp_path / "nobody")
    assert code == 2 and "no such submission" in err


def test_an_autograder_over_the_platform_limit_is_refused(tmp_path, run_cli):
    code, _, err = run_cli("autograder", "--root", REAL_REPO, "--stage", 3, "--out",
                           tmp_path / "a.zip", "--budget", GRADESCOPE_LIMIT)
    assert code == 2 and "default limit" in err


# --- a simulated Gradescope ----------------------------------------------------------------------


def _real_setup() -> bool:
    """Run setup.sh for real: as root, with a system Python that has venv."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not Path(SYSTEM_PYTHON).is_file():
        return False
    done = subprocess.run([SYSTEM_PYTHON, "-c", "import venv, ensurepip"], capture_output=True,
                          check=False)
    return done.returncode == 0


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("autograder") / "stage3.zip"
    code = main(["autograder", "--root", str(REAL_REPO), "--stage", "3", "--out", str(out),
                 "--timeout", "4", "--budget", "240"])
    assert code == 0
    return out


def unzip_source(zip_path: Path, root: Path) -> None:
    """Unzip the autograder into ROOT/source as Gradescope does (file modes kept)."""
    (root / "source").mkdir(parents=True)
    (root / "results").mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = Path(archive.extract(info, root / "source"))
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                target.chmod(mode)


def container(root: Path) -> list[str]:
    """A Gradescope-like container around a run: this machine's system, with a /tmp of its own
    holding only the Gradescope root, and neither the repository nor /work (Gradescope's image
    has no copy of the course); as root, no user namespace. Empty without bubblewrap."""
    if shutil.which("bwrap") is None or os.geteuid() != 0:
        return []
    hidden = [str(p) for p in {REAL_REPO, Path("/work")} if p.is_dir()
              and not str(root).startswith(str(p))]
    command = ["bwrap", "--bind", "/", "/", "--tmpfs", "/tmp", "--bind", str(root), str(root),
               "--dev-bind", "/dev", "/dev", "--proc", "/proc", "--die-with-parent"]
    for path in sorted(hidden):
        command += ["--tmpfs", path]
    return [*command, "--"]


def run_script(root: Path, script: Path, *, contained: bool = False,
               **extra: str) -> subprocess.CompletedProcess:
    """Run ``script`` with ``AUTOGRADER_ROOT=root``; ``contained``: in :func:`container`.

    The grader's work folders go under ``root/tmp``, so the processes of this run's jails are
    the ones whose command line holds ``root`` (another run on the machine has other paths).
    """
    (root / "tmp").mkdir(mode=0o711, exist_ok=True)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "TMPDIR": str(root / "tmp"), **extra}
    prefix = container(root) if contained else []
    return subprocess.run([*prefix, str(script)], env=env, capture_output=True, text=True,
                          timeout=900, check=False)


@pytest.fixture(scope="module")
def gradescope(autograder_zip):
    """A Gradescope root after setup.sh; yields (root, extra environment for the scripts)."""
    # Not under pytest's private temp folder: the unprivileged user must reach the virtualenv.
    root = Path(tempfile.mkdtemp(prefix="mini-torch-gradescope-", dir="/tmp"))
    root.chmod(0o755)
    unzip_source(autograder_zip, root)
    if _real_setup():
        extra = {"AUTOGRADER_PYTHON": SYSTEM_PYTHON}
        done = run_script(root, root / "source" / "setup.sh", **extra)
        extra = {}
    else:
        extra = {"AUTOGRADER_PYTHON": sys.executable}
        done = run_script(root, root / "source" / "setup.sh", AUTOGRADER_SKIP_INSTALL="1",
                          **extra)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "setup.sh: kit of stage 3" in done.stdout and "setup.sh: ready" in done.stdout
    yield root, extra
    shutil.rmtree(root, ignore_errors=True)


def grade_on_gradescope(gradescope, submission: Path | None) -> tuple[dict, float, str]:
    """run_autograder on one submission: (results.json, wall seconds, the grader's log)."""
    root, extra = gradescope
    shutil.rmtree(root / "submission", ignore_errors=True)
    for entry in (root / "results").iterdir():
        entry.unlink()
    if submission is None:
        (root / "submission").mkdir()
    else:  # links stay links: Gradescope hands the grader what the student uploaded
        shutil.copytree(submission, root / "submission", symlinks=True)
    start = time.monotonic()
    # Gradescope's container has no user namespaces: the jail is a uid of the submission's own
    # (with a real setup.sh, whose virtualenv that uid can run; else the best jail here).
    real = not extra
    done = run_script(root, root / "source" / "run_autograder", contained=real,
                      **({"MINI_TORCH_JAIL": "uid"} if real else extra))
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    time.sleep(2)  # anything a submission left running has had its chance to write
    return json.loads((root / "results" / "results.json").read_text()), seconds, done.stdout


@pytest.fixture(scope="module")
def gradescope_runs(gradescope, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gradescope-submissions")
    release = make_release(folder / "release-out")
    # One forged submission carries both payloads that go for the files around the grader.
    forged = make_forged("results_at_exit", release, folder / "forged")
    payload = (Path(__file__).parent / "fixtures" / "forged" / "sandbox_escape.py").read_text()
    loss = forged / "src" / "mini_torch" / "nn" / "loss.py"
    loss.write_text(loss.read_text() + payload)
    submissions = {
        "correct": REAL_REPO / "stages" / "stage3",
        "broken": make_submission("broken_backward", folder / "broken"),
        "looping": make_submission("infinite_loop", folder / "looping"),
        "forged": forged,
        "release": release,
        "linked_folder": make_refused("linked_folder", release, REAL_REPO / "stages" / "stage3",
                                      folder / "linked_folder"),
    }
    submissions |= {f"forged_{kind}": make_forged(kind, release, folder / kind)
                    for kind in GRADESCOPE_FORGERIES}
    root = gradescope[0]
    kit_before = fingerprint(root / "source")
    runs = {name: grade_on_gradescope(gradescope, path) for name, path in submissions.items()}
    runs["escaped"] = [str(p) for p in (root / "results" / "escaped.txt",
                                        root / "source" / "kit" / "escaped.txt") if p.exists()]
    runs["kit_changed"] = [p for p, h in fingerprint(root / "source").items()
                           if kit_before.get(p) != h]
    runs["alive"] = processes_with(DAEMON_MARKER, str(root))
    return runs


def isolated(log: str) -> bool:
    return "NOT ISOLATED" not in log and "isolated: " in log


#: The forgeries that search the disk can only be judged inside the simulated container (the
#: repository, with its solved stages, is on this machine's disk, as it is not on Gradescope's).
requires_container = pytest.mark.skipif(
    shutil.which("bwrap") is None or not _real_setup(),
    reason="the simulated Gradescope container needs bubblewrap, root and a system Python with "
    "venv")


def test_the_zip_holds_the_scripts_the_package_and_the_kit(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as archive:
        names = set(archive.namelist())
        modes = {i.filename: (i.external_attr >> 16) for i in archive.infolist()}
        requirements = archive.read("requirements.txt").decode()
        setup = archive.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "instructor/pyproject.toml",
            "instructor/src/instructor/grading/worker.py", "kit/kit.json",
            "kit/reference/src/mini_torch/nn/loss.py"} <= names
    assert "kit/tests/hidden_tests/stage3/hidden_checks.py" in names
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    for package in ("numpy", "scipy", "matplotlib", "numexpr"):
        assert package in requirements
    assert "useradd" in setup and "chmod -R go-rwx" in setup


def test_every_run_writes_valid_results_within_the_limit(gradescope_runs):
    for name in ("correct", "broken", "looping", "forged"):
        results, seconds, _ = gradescope_runs[name]
        assert isinstance(results["score"], (int, float)) and results["max_score"] > 0, name
        assert 0 <= results["execution_time"] <= seconds + 1 < GRADESCOPE_LIMIT, name
        assert all({"name", "score", "max_score", "output", "visibility"} <= set(t)
                   for t in results["tests"])


def test_scores_on_gradescope(gradescope_runs):
    correct, broken, looping = (gradescope_runs[k][0] for k in ("correct", "broken", "looping"))
    assert correct["score"] == correct["max_score"]
    lost = [t for t in broken["tests"] if t["score"] < t["max_score"]]
    assert lost and all("MSELoss.backward" in t["name"] or "train_sine" in t["name"] for t in lost)
    hung = [t for t in looping["tests"] if t["score"] < t["max_score"]]
    assert hung and all(t["output"].startswith("timeout:") for t in hung)
    assert any(t["name"].startswith("hidden/") and t["score"] == t["max_score"] > 0
               for t in looping["tests"])


def test_a_forged_release_scores_what_the_untouched_release_does(gradescope_runs):
    # The untouched release scores 0 here: every scored check calls a stub (test_grading_real
    # grades the release itself). The forgery writes results files, reads the kit, and runs on.
    results, _, log = gradescope_runs["forged"]
    if isolated(log):  # as root with the unprivileged user: nothing it writes counts
        assert results["score"] == 0 and results["max_score"] > 0
        assert not gradescope_runs["escaped"]
    else:  # the grader's own user: the report must say the run was not isolated
        assert "NOT ISOLATED" in log


@requires_container
@pytest.mark.parametrize("kind", ("linked_folder",
                                  *[f"forged_{kind}" for kind in GRADESCOPE_FORGERIES]))
def test_forgeries_on_gradescope_score_no_more_than_the_untouched_release(gradescope_runs,
                                                                          kind):
    results, _, log = gradescope_runs[kind]
    release = gradescope_runs["release"][0]
    assert isolated(log), log[-2000:]
    assert results["max_score"] == release["max_score"] > 0
    assert results["score"] <= release["score"], [
        t["name"] for t in results["tests"] if t["score"] > 0]


@requires_container
def test_on_gradescope_nothing_of_a_jail_survives_and_the_kit_is_unchanged(gradescope_runs):
    assert gradescope_runs["alive"] == []
    assert gradescope_runs["kit_changed"] == []
    assert not gradescope_runs["escaped"]
    leak = gradescope_runs["forged_leaky_error"][0]
    text = json.dumps(leak)
    assert "leak:" in text and "/tmp/" not in text and "/autograder" not in text


def test_no_hidden_result_is_visible_before_publication(gradescope_runs):
    for name in ("correct", "looping", "broken"):
        results = gradescope_runs[name][0]
        hidden = [t for t in results["tests"] if t["name"].startswith("hidden/")]
        assert hidden and all(t["visibility"] == "after_published" for t in hidden)
        assert results["visibility"] == "visible"
        assert not any(t["name"] in results["output"] for t in hidden)
        public = [t for t in results["tests"] if t not in hidden]
        points = sum(t["score"] for t in public)
        most = sum(t["max_score"] for t in public)
        assert f"Public checks: {points:g} / {most:g} points" in results["output"]
        assert f"{results['score']:g} / {results['max_score']:g}" not in results["output"]


def test_student_code_runs_as_the_unprivileged_user_when_root(gradescope_runs):
    log = gradescope_runs["correct"][2]
    if _real_setup():
        assert isolated(log), log[-2000:]
    else:
        assert not isolated(log) or os.geteuid() == 0


def test_run_autograder_reports_an_empty_submission(gradescope):
    results, _, _ = grade_on_gradescope(gradescope, None)
    assert results["score"] == 0 and results["max_score"] > 0
    assert "no src/mini_torch/__init__.py in the submission" in results["output"]


def test_run_autograder_writes_a_fallback_when_the_grader_itself_fails(autograder_zip, tmp_path):
    root = tmp_path / "autograder"
    unzip_source(autograder_zip, root)
    shutil.copytree(REAL_REPO / "stages" / "stage3", root / "submission")
    (root / "source" / "kit" / "kit.json").unlink()  # a broken autograder
    done = run_script(root, root / "source" / "run_autograder", AUTOGRADER_PYTHON=sys.executable)
    assert done.returncode == 0
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["max_score"] > 0
    assert "could not grade this submission" in results["output"]
    assert "not a grading kit" in done.stdout  # the staff read why in the autograder's output
    assert results["stdout_visibility"] == "hidden"
    assert isinstance(results["execution_time"], int)


def test_the_fallback_never_shows_what_the_grader_printed(autograder_zip, tmp_path):
    """The grader's lines name the hidden subtotal; a grader that printed one and then died
    leaves a fallback whose visible output holds none of it."""
    root = tmp_path / "autograder"
    unzip_source(autograder_zip, root)
    shutil.copytree(REAL_REPO / "stages" / "stage3", root / "submission")
    dying = tmp_path / "dying-python"
    dying.write_text("#!/bin/sh\necho 'submission: Score: 51 / 51 (stage3 39/39, hidden 12/12)'\n"
                     "echo 'hidden/stage3/MSELoss.forward[wide-sum] passed'\nexit 3\n")
    dying.chmod(0o755)
    done = run_script(root, root / "source" / "run_autograder", AUTOGRADER_PYTHON=str(dying))
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 0 and "exit status 3" in results["output"]
    assert "hidden" not in results["output"].lower() and "12/12" not in results["output"]
    assert results["stdout_visibility"] == "hidden" and "hidden 12/12" in done.stdout


# --- collect -------------------------------------------------------------------------------------


def git(*args: str, cwd: Path, date: str | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "s", "GIT_AUTHOR_EMAIL": "s@example.org",
           "GIT_COMMITTER_NAME": "s", "GIT_COMMITTER_EMAIL": "s@example.org"}
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def student_repository(folder: Path, dates: list[str]) -> tuple[Path, list[str]]:
    """A bare repository with one commit per date (file ``work.txt`` = the commit's index)."""
    work = folder / "work"
    work.mkdir(parents=True)
    git("init", "--quiet", "--initial-branch=main", cwd=work)
    commits = []
    for index, date in enumerate(dates):
        (work / "work.txt").write_text(str(index))
        git("add", "work.txt", cwd=work)
        git("commit", "--quiet", "-m", f"commit {index}", cwd=work, date=date)
        commits.append(git("rev-parse", "HEAD", cwd=work))
    bare = folder / f"{folder.name}.git"
    git("clone", "--quiet", "--bare", str(work), str(bare), cwd=folder)
    return bare, commits


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_collect_checks_out_the_last_commit_before_the_due_date(tmp_path, run_cli):
    alice, alice_commits = student_repository(
        tmp_path / "alice", ["2026-02-01T10:00:00+00:00", "2026-02-28T23:00:00+00:00",
                             "2026-03-02T09:00:00+00:00"])
    bob, _ = student_repository(tmp_path / "bob", ["2026-03-05T12:00:00+00:00"])
    listing = tmp_path / "repos.txt"
    listing.write_text(f"# the class\n{bob}\n")
    out = tmp_path / "collected"
    code, stdout, _ = run_cli("collect", "--before", "2026-03-01T00:00:00+00:00", "--out", out,
                              "--from", listing, alice)
    assert code == 0
    assert (out / "alice" / "work.txt").read_text() == "1"  # the second commit, not the third
    assert git("rev-parse", "HEAD", cwd=out / "alice") == alice_commits[1]
    assert not (out / "bob").exists()
    rows = (out / "collected.csv").read_text().splitlines()
    assert rows[0] == "name,repository,commit,date,status,student,due,cutoff"
    assert any(r.startswith("alice,") and alice_commits[1] in r and ",collected," in r
               for r in rows)
    assert any(r.startswith("bob,") and ",no commit before the due date," in r for r in rows)
    assert "1 of 2 collected" in stdout


def test_collect_refuses_a_date_it_cannot_read(tmp_path, run_cli):
    code, _, err = run_cli("collect", "--before", "next friday", "--out", tmp_path, "x")
    assert code == 2 and "not an ISO time" in err


def test_collect_refuses_a_due_date_without_its_offset(tmp_path, run_cli):
    # the grading server's own zone (often UTC) would move the deadline by hours
    code, _, err = run_cli("collect", "--before", "2026-03-01T23:59", "--out", tmp_path, "x")
    assert code == 2 and "no UTC offset" in err and "2026-03-01T23:59+00:00" in err


# --- the Classroom workflow ----------------------------------------------------------------------

WORKFLOWS = (REAL_REPO / "templates" / "term" / "{{cookiecutter.repo_name}}" / ".github"
             / "workflows")


def render_workflow(first: int, last: int) -> dict:
    jinja2 = pytest.importorskip("jinja2")
    yaml = pytest.importorskip("yaml")
    text = (WORKFLOWS / "mini-torch-autograding.yml").read_text()
    rendered = jinja2.Environment(keep_trailing_newline=True).from_string(text).render(
        cookiecutter={"course_code": "CS 1", "term": "Fall", "python_version": "3.12",
                      "first_stage": str(first), "last_stage": str(last)})
    return yaml.safe_load(rendered)


def test_the_classroom_workflow_keeps_its_own_name():
    assert sorted(p.name for p in WORKFLOWS.iterdir()) == ["mini-torch-autograding.yml"]


@pytest.mark.parametrize("stage", [1, 3])
def test_the_classroom_workflow_awards_the_stage_points_and_reports_them(stage):
    workflow = render_workflow(stage, stage)
    assert workflow["permissions"]["checks"] == "write"
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert "actions/checkout@v6" in uses and "actions/setup-python@v6" in uses
    graders = [s for s in steps
               if s.get("uses") == "classroom-resources/autograding-command-grader@v1"]
    assert [s["id"] for s in graders] == [f"stage{stage}"] + (
        [f"stage{stage}-earlier"] if stage > 1 else [])
    points = {s["id"]: s["with"]["max-score"] for s in graders}
    assert points[f"stage{stage}"] > 0
    assert all(points[k] == 0 for k in points if k.endswith("-earlier"))
    ignored = graders[0]["with"]["command"]
    assert all(f"--ignore=shared_tests/stage{k}" in ignored for k in range(1, stage))
    assert f"--ignore=shared_tests/stage{stage}" not in ignored
    (reporter,) = [s for s in steps
                   if s.get("uses") == "classroom-resources/autograding-grading-reporter@v1"]
    assert reporter["with"]["runners"].split(",") == [s["id"] for s in graders]
    assert set(reporter["env"]) == {f"{s['id'].upper()}_RESULTS" for s in graders}
