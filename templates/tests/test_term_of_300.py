"""docs/instructor.md "Running a term of 300", run word for word.

Every ``bash`` block of that section runs, in order, with ``bash -e`` from a folder that stands
for the monorepo's root (its ``noxfile.py``, ``stages/``, ``instructor/``, ``templates/`` and
``shared_tests/`` linked in), after the section's own CSV blocks (```` ```csv NAME ````) are
written there. The class: Ada on time, Alan on time by his extension, Grace two days late,
Barbara without a repository, and Mallory, whose repository matches no roster row. Each
repository holds stage 3's reference; Ada's last commit, after her cutoff, breaks it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from instructor.course.lms import CANVAS_COLUMNS

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "instructor.md"
SECTION = "## Running a term of 300"
LINKED = ("noxfile.py", "stages", "instructor", "templates", "shared_tests")

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def section_blocks() -> list[tuple[str, str]]:
    """The fenced blocks of the section, in order: (info string, body)."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    body = text[start:end if end != -1 else len(text)]
    return [(m["info"].strip(), m["body"]) for m in re.finditer(
        r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```$", body, re.MULTILINE | re.DOTALL)]


def git(*args: str, cwd: Path, date: str | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "s", "GIT_AUTHOR_EMAIL": "s@example.org",
           "GIT_COMMITTER_NAME": "s", "GIT_COMMITTER_EMAIL": "s@example.org"}
    if date:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def repository(folder: Path, dates: list[str], *, break_last: bool = False) -> Path:
    """A bare repository of stage 3's reference, one commit per date."""
    work = folder / "work"
    shutil.copytree(REPO / "stages" / "stage3", work,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    git("init", "--quiet", "--initial-branch=main", cwd=work)
    for index, date in enumerate(dates):
        if break_last and index == len(dates) - 1:
            loss = work / "src" / "mini_torch" / "nn" / "loss.py"
            loss.write_text(loss.read_text(encoding="utf-8") + "\nraise ImportError('broken')\n")
        (work / "progress.txt").write_text(f"commit {index}\n")
        git("add", "-A", cwd=work)
        git("commit", "--quiet", "-m", f"commit {index}", cwd=work, date=date)
    bare = folder.parent / f"{folder.name}.git"
    git("clone", "--quiet", "--bare", str(work), str(bare), cwd=folder.parent)
    shutil.rmtree(work)
    return bare


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """The folder the commands ran in, after every block of the section ran."""
    root = tmp_path_factory.mktemp("course")
    for name in LINKED:
        (root / name).symlink_to(REPO / name)
    blocks = section_blocks()
    for info, body in blocks:
        kind, _, name = info.partition(" ")
        if kind == "csv":
            (root / name.strip()).write_text(body, encoding="utf-8")
    repos = tmp_path_factory.mktemp("repos")
    listing = [
        repository(repos / "stage-3-ada-l", ["2027-02-20T10:00:00-05:00",
                                             "2027-03-10T10:00:00-05:00"], break_last=True),
        repository(repos / "stage-3-aturing", ["2027-02-24T12:00:00-05:00"]),
        repository(repos / "stage-3-ghopper", ["2027-02-24T09:00:00-05:00"]),
        repository(repos / "stage-3-mallory", ["2027-02-20T10:00:00-05:00"]),
    ]
    (root / "repos-stage3.txt").write_text("".join(f"{p}\n" for p in listing), encoding="utf-8")
    home = tmp_path_factory.mktemp("home")
    (home / "config.yaml").write_text(
        f"cookiecutters_dir: {json.dumps(str(home / 'cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(home / 'replay'))}\n", encoding="utf-8")
    env = {**os.environ, "HOME": str(home), "COOKIECUTTER_CONFIG": str(home / "config.yaml"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    commands = [body for info, body in blocks if info == "bash"]
    assert len(commands) == 7, f"the section's command blocks changed: {len(commands)}"
    outputs = []
    for body in commands:
        done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", body], cwd=root, env=env,
                              capture_output=True, text=True, timeout=900, check=False)
        assert done.returncode == 0, (f"the guide's command failed:\n{body}\n{done.stdout}"
                                      f"\n{done.stderr}")
        outputs.append(done.stdout)
    return root, outputs


def rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_the_bake_writes_the_due_dates_that_collect_and_grade_read(term):
    root, _ = term
    data = json.loads((root / "cs-447-spring-2027" / "term.json").read_text())
    assert data["due"]["3"] == "2027-02-22T23:59:00-05:00"
    assert data["late_policy"]["kind"] == "percent"
    assert data["late_policy"]["percent_per_day"] == 10


def test_collect_takes_each_students_last_commit_before_their_own_cutoff(term):
    root, _ = term
    collected = {r["student"] or r["name"]: r
                 for r in rows(root / "submissions" / "stage3" / "collected.csv")}
    assert collected["s001"]["date"].startswith("2027-02-20")  # not the commit after her cutoff
    assert collected["s002"]["due"].startswith("2027-02-25")  # his extension
    assert collected["stage-3-mallory"]["status"].startswith("unknown")
    assert sorted(p.name for p in (root / "submissions/stage3").iterdir() if p.is_dir()) == [
        "s001", "s002", "s003", "stage-3-mallory"]


def test_the_gradebook_has_one_row_per_student_with_lateness_then_the_stranger(term):
    root, _ = term
    book = rows(root / "grades/stage3/gradebook.csv")
    assert [(r["student_id"], r["status"]) for r in book] == [
        ("s001", "graded"), ("s002", "graded"), ("s003", "graded"), ("s004", "missing"),
        ("", "unknown")]
    ada, alan, grace, barbara, _ = book
    full = float(ada["max"])
    assert full > 0 and float(ada["raw"]) == full == float(ada["final"])
    assert alan["days_late"] == "0" and float(alan["final"]) == full  # by his extension
    # two days and a bit late under 10 % a day (both started days count)
    assert grace["days_late"] == "2" and float(grace["penalty_percent"]) == 20
    assert float(grace["final"]) == pytest.approx(0.8 * float(grace["raw"]))
    assert float(barbara["final"]) == 0
    assert (root / "grades/stage3/similarity.html").is_file()


def test_the_regrade_is_in_the_history_and_the_gradebook_keeps_one_row_each(term):
    root, _ = term
    history = rows(root / "grades/stage3/regrades.csv")
    assert [(h["student"], h["who"], h["reason"]) for h in history] == [
        ("s002", "TA Sam", "a check's tolerance was fixed after grading")]
    assert history[0]["old_score"] == history[0]["new_score"]  # nothing changed: still recorded
    book = rows(root / "grades/stage3/gradebook.csv")
    assert [r["student_id"] for r in book] == ["s001", "s002", "s003", "s004", ""]


def test_verify_reproduced_the_grades(term):
    _, outputs = term
    assert "DIFFERENT" not in outputs[4] and "same" in outputs[4]  # bash -e: exit status 0


def test_the_canvas_file_has_its_documented_layout(term):
    root, _ = term
    table = list(csv.reader(io.StringIO((root / "canvas.csv").read_text(encoding="utf-8"))))
    assert table[0] == [*CANVAS_COLUMNS, "Mini-Torch stage 3"]
    assert table[1][0] == "Points Possible"
    ids = [row[1] for row in table[2:]]
    assert ids == ["s001", "s002", "s003", "s004"]  # the stranger is not exported
    assert table[-1][-1] == "0"  # Barbara handed nothing in


def test_the_autograder_carries_the_terms_rules(term):
    root, _ = term
    with zipfile.ZipFile(root / "stage3-autograder.zip") as archive:
        course = json.loads(archive.read("course.json"))
    assert course["due"] == "2027-02-22T23:59:00-05:00"
    assert course["extensions"] == {"alan@uni.edu": "2027-02-25T23:59:00-05:00"}
    assert course["max_submissions"] == 10
