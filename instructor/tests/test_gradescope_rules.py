"""The course's rules on Gradescope: late policy, extensions and a limit, run by run_autograder.

An autograder built with ``--term``, ``--roster``, ``--extensions`` and ``--max-submissions``
is unpacked as Gradescope does and run on stage 1's reference, with a
``submission_metadata.json`` laid out as Gradescope documents it.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timedelta, timezone

import pytest

from instructor.course.lateness import Lateness
from instructor.course.roster import read_roster
from instructor.gradescope.metadata import Decision
from instructor.gradescope.rules import build_rules, read_rules, with_lateness
from instructor.stages.repo import InstructorError

from .conftest import REAL_REPO
from .test_autograder import run_script, unzip_source

EST = timezone(timedelta(hours=-5))
DUE = "2027-01-25T23:59:00-05:00"
ROSTER = ("ID,Name,Email,GitHub Username,Section\n"
          "s001,Ada Lovelace,ada@uni.edu,ada-l,A\n"
          "s002,Alan Turing,Alan@Uni.edu,aturing,B\n")
TERM = {"due": {"1": DUE}, "late_policy": {"kind": "percent", "percent_per_day": 10,
                                           "cap_percent": 50, "max_days": 5,
                                           "grace_minutes": 0}}


@pytest.fixture
def course(tmp_path):
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "term.json").write_text(json.dumps(TERM), encoding="utf-8")
    (tmp_path / "extensions.csv").write_text(
        "student,stage,due\ns002,1,2027-01-28T23:59:00-05:00\n"
        "s001,2,2027-02-28T23:59:00-05:00\n", encoding="utf-8")
    return tmp_path


def metadata(email: str, created: str, previous: list[tuple[str, float]] = ()) -> dict:
    """Gradescope's documented submission_metadata.json (its due date is not the term's)."""
    return {
        "id": 1, "created_at": created,
        "assignment": {"due_date": "2027-01-30T23:59:00.000000-05:00", "late_due_date": None,
                       "title": "Stage 1", "total_points": "90.0", "id": 2, "course_id": 3,
                       "group_size": None, "group_submission": False,
                       "release_date": "2027-01-10T00:00:00.000000-05:00"},
        "submission_method": "upload",
        "users": [{"email": email, "id": 77, "name": "Someone"}],
        "previous_submissions": [
            {"submission_time": t, "score": s,
             "results": {"score": s, "output": "earlier output", "tests": []}}
            for t, s in previous],
    }


def test_the_rules_carry_the_terms_due_date_and_only_the_stages_extensions(course):
    rules = build_rules(1, term=course / "term.json", extensions=course / "extensions.csv",
                        roster=read_roster(course / "roster.csv"), max_submissions=3)
    assert rules.due == datetime(2027, 1, 25, 23, 59, tzinfo=EST)
    # Alan's stage-1 extension, by his email as Gradescope gives it (case folded); Ada's
    # extension is for stage 2 and not carried
    assert rules.extensions == {"alan@uni.edu": datetime(2027, 1, 28, 23, 59, tzinfo=EST)}
    path = course / "course.json"
    path.write_text(rules.to_json(), encoding="utf-8")
    assert read_rules(path) == rules
    assert build_rules(1) is None  # nothing asked for: no course.json, grading as before


@pytest.mark.parametrize("options, words", [
    ({"extensions": "extensions.csv"}, "needs --term"),
    ({"max_submissions": 0}, "expected 1 or more"),
])
def test_rules_that_cannot_work_are_refused(course, options, words):
    options = {k: course / v if isinstance(v, str) else v for k, v in options.items()}
    with pytest.raises(InstructorError, match=words):
        build_rules(1, **options)


def test_an_extension_of_a_student_the_roster_lacks_is_refused(course):
    (course / "extensions.csv").write_text("student,stage,due\ns999,1,2027-01-28T23:59:00Z\n")
    with pytest.raises(InstructorError, match=r"s999.*not in the roster"):
        build_rules(1, term=course / "term.json", extensions=course / "extensions.csv",
                    roster=read_roster(course / "roster.csv"))


def test_lateness_is_charged_on_the_total_and_the_tests_keep_their_points():
    results = {"score": 50.0, "output": "Public checks: 30 / 30 points",
               "tests": [{"name": "a", "score": 50.0, "max_score": 50.0}]}
    late = Decision(True, Lateness(2, True, 20.0), "2 day(s) late: 20 % of the score is taken off.")
    charged = with_lateness(results, late)
    assert charged["score"] == 40.0 and charged["tests"] == results["tests"]
    assert charged["output"].startswith("2 day(s) late") and "before the late policy: 50" in \
        charged["output"]
    refused = Decision(True, Lateness(6, False, 100.0), "too late")
    assert with_lateness(results, refused)["score"] == 0.0
    assert with_lateness(results, Decision(True, None)) == results


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """A Gradescope root holding the stage-1 autograder built with the course's rules."""
    folder = tmp_path_factory.mktemp("rules")
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (folder / "term.json").write_text(json.dumps(TERM), encoding="utf-8")
    (folder / "extensions.csv").write_text("student,stage,due\ns002,1,2027-01-28T23:59:00-05:00\n")
    from instructor.cli import main

    zip_path = folder / "stage1.zip"
    assert main(["autograder", "--root", str(REAL_REPO), "--stage", "1", "--out", str(zip_path),
                 "--term", str(folder / "term.json"), "--roster", str(folder / "roster.csv"),
                 "--extensions", str(folder / "extensions.csv"),
                 "--max-submissions", "2"]) == 0
    root = folder / "gradescope"
    unzip_source(zip_path, root)
    extra = {"AUTOGRADER_PYTHON": sys.executable}
    done = run_script(root, root / "source" / "setup.sh", AUTOGRADER_SKIP_INSTALL="1", **extra)
    assert done.returncode == 0, done.stdout + done.stderr
    return root, extra


def run_on_gradescope(autograder, meta: dict) -> tuple[dict, str]:
    root, extra = autograder
    shutil.rmtree(root / "submission", ignore_errors=True)
    shutil.copytree(REAL_REPO / "stages" / "stage1", root / "submission",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    (root / "submission_metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    for entry in (root / "results").iterdir():
        entry.unlink()
    done = run_script(root, root / "source" / "run_autograder", **extra)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text()), done.stdout


def test_on_gradescope_late_work_loses_the_policys_share_and_an_extension_saves_it(autograder):
    # both submitted 1 day 12 hours after the term's due date (a second day started; before
    # the assignment's own due date, which the term's replaces)
    created = "2027-01-27T12:00:00.000000-05:00"
    ada, log = run_on_gradescope(autograder, metadata("ada@uni.edu", created))
    full = sum(t["max_score"] for t in ada["tests"])
    assert full > 0 and sum(t["score"] for t in ada["tests"]) == full  # the reference: all pass
    assert ada["score"] == pytest.approx(0.8 * full)  # 2 days at 10 %
    assert "2 day(s) late" in ada["output"], log
    alan, _ = run_on_gradescope(autograder, metadata("alan@uni.edu", created))
    assert alan["score"] == pytest.approx(full) and "late" not in alan["output"].split("\n")[0]


def test_on_gradescope_a_submission_over_the_limit_keeps_the_last_graded_results(autograder):
    previous = [("2027-01-20T10:00:00-05:00", 12.0), ("2027-01-22T10:00:00-05:00", 33.0)]
    kept, log = run_on_gradescope(autograder, metadata("ada@uni.edu", "2027-01-23T10:00:00-05:00",
                                                       previous))
    assert kept["score"] == 33.0 and "at most 2" in kept["output"]
    assert "earlier output" in kept["output"] and "not graded" in log
