"""The course's roster, due dates, late policy and LMS export (``instructor.course``)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import datetime, timedelta, timezone

import pytest

from instructor.course.gradebook import COLUMNS as TERM_COLUMNS
from instructor.course.gradebook import late_days_spent, term_rows
from instructor.course.lateness import Deadlines, LatePolicy, assess, cutoff, read_term
from instructor.course.lms import CANVAS_COLUMNS, Assignment, lms_text
from instructor.course.roster import match_submissions, read_roster
from instructor.gradescope.metadata import decide, read_metadata
from instructor.stages.repo import InstructorError

EST = timezone(timedelta(hours=-5))
DUE = datetime(2027, 1, 25, 23, 59, tzinfo=EST)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def roster(tmp_path):
    return read_roster(_write(tmp_path / "roster.csv", (
        "ID,Name,Email,GitHub Username,Section\n"
        "s001,Ada Lovelace,ada@uni.edu,ada-l,A\n"
        "s002,Alan Turing,alan@uni.edu,aturing,B\n"
        "s003,Grace Hopper,grace@uni.edu,@ghopper,A\n")))


def test_the_course_roster_reads_its_columns_by_any_usual_spelling(roster):
    assert roster.source == "course"
    assert [s.id for s in roster.students] == ["s001", "s002", "s003"]
    ada = roster.students[0]
    assert (ada.name, ada.email, ada.github, ada.section) == (
        "Ada Lovelace", "ada@uni.edu", "ada-l", "A")
    assert roster.students[2].github == "ghopper"  # the @ of a handle is not part of it


def test_canvas_gradebook_export_is_read_as_canvas_writes_it(tmp_path):
    # Canvas's export: the five student columns, assignments with their ids, score columns,
    # a "Points Possible" row and Canvas's own test student.
    text = ('\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Stage 1 (4471),Current Score\n'
            '    Points Possible,,,,,90,(read only)\n'
            '"Lovelace, Ada",1201,s001,ada,CS101-A,,\n'
            '"Turing, Alan",1202,s002,aturing,CS101-B,12,\n'
            '"Student, Test",1299,,,CS101-A,,\n')
    roster = read_roster(_write(tmp_path / "canvas.csv", text))
    assert roster.source == "canvas"
    assert [(s.id, s.name, s.sis_user_id, s.sis_login_id, s.section) for s in roster.students] \
        == [("1201", "Lovelace, Ada", "s001", "ada", "CS101-A"),
            ("1202", "Turing, Alan", "s002", "aturing", "CS101-B")]
    assert roster.find("ada").id == "1201"  # by SIS login


@pytest.mark.parametrize("text, words", [
    ("name,email\nAda,a@x\n", "no id column"),
    ("id,name\ns1,Ada\ns1,Alan\n", "lines 2 and 3"),
    ("id,name\n,Ada\n", "without an id"),
    ("id,name,github\ns1,Ada,ada\ns2,Alan,ADA\n", "share the name 'ada'"),
])
def test_a_roster_that_cannot_be_trusted_is_refused_with_the_line(tmp_path, text, words):
    with pytest.raises(InstructorError, match=words):
        read_roster(_write(tmp_path / "roster.csv", text))


def test_one_row_per_roster_student_missing_unknown_and_two_for_one(roster):
    matching = match_submissions(
        ["s001.zip", "stage3-aturing", "ALAN@uni.edu", "mallory", "stage3-ghopper"], roster)
    rows = {row.student.id: row for row in matching.rows}
    assert len(matching.rows) == 3
    assert rows["s001"].submission == "s001.zip" and not rows["s001"].refused
    # Two submissions of one student: both refused, each named.
    assert "stage3-aturing" in rows["s002"].refused and "ALAN@uni.edu" in rows["s002"].refused
    assert rows["s003"].submission == "stage3-ghopper"  # a Classroom repository name
    assert matching.unknown == ["mallory"]
    assert matching.graded() == {"s001.zip": rows["s001"].student,
                                 "stage3-ghopper": rows["s003"].student}


def test_a_student_without_a_submission_is_missing(roster):
    matching = match_submissions(["s001"], roster)
    assert [(row.student.id, row.submission) for row in matching.rows] == [
        ("s001", "s001"), ("s002", None), ("s003", None)]


def test_classroom_names_match_the_longest_username_suffix(tmp_path):
    roster = read_roster(_write(tmp_path / "r.csv", "id,name,github\n1,B,bob\n2,X,x-bob\n"))
    assert roster.find("stage2-x-bob").id == "2"
    assert roster.find("stage2-bob").id == "1"
    assert roster.find("stage2-alice") is None


# ------------------------------------------------------------------------------- lateness


def test_percent_policy_counts_started_days_after_the_grace():
    policy = LatePolicy(percent_per_day=10, cap_percent=25, max_days=5, grace_minutes=15)
    on_time = assess(DUE + timedelta(minutes=15), DUE, policy)
    assert (on_time.days_late, on_time.penalty_percent, on_time.final(40)) == (0, 0, 40)
    one = assess(DUE + timedelta(minutes=16), DUE, policy)
    assert (one.days_late, one.penalty_percent, one.final(40)) == (1, 10, 36)
    two = assess(DUE + timedelta(hours=25), DUE, policy)
    assert two.days_late == 2 and two.penalty_percent == 20
    capped = assess(DUE + timedelta(days=4), DUE, policy)
    assert capped.penalty_percent == 25 and capped.final(40) == 30
    too_late = assess(DUE + timedelta(days=5, minutes=16), DUE, policy)
    assert not too_late.accepted and too_late.final(40) == 0


def test_late_day_budget_is_spent_across_the_term():
    policy = LatePolicy(kind="late_days", budget=3, max_days=2, grace_minutes=0)
    first = assess(DUE + timedelta(hours=30), DUE, policy)  # two days of three
    assert (first.accepted, first.late_days_used, first.late_days_left, first.final(50)) == (
        True, 2, 1, 50)
    second = assess(DUE + timedelta(hours=30), DUE, policy, used_before=2)  # one day left
    assert not second.accepted and second.final(50) == 0
    assert cutoff(DUE, policy, used_before=2) == DUE + timedelta(days=1)
    assert cutoff(DUE, policy) == DUE + timedelta(days=2)  # max_days, not the budget


def test_the_term_file_and_extensions(tmp_path):
    term = _write(tmp_path / "term.json", (
        '{"due": {"1": "2027-01-25T23:59:00-05:00", "2": "2027-02-08T23:59:00-05:00"},'
        ' "late_policy": {"kind": "percent", "percent_per_day": 5}}'))
    extensions = _write(tmp_path / "extensions.csv",
                        "student,stage,due\ns002,1,2027-01-28T23:59:00-05:00\n")
    deadlines = read_term(term, extensions)
    assert deadlines.policy.percent_per_day == 5 and deadlines.policy.kind == "percent"
    assert deadlines.due_for("s001", 1) == DUE
    assert deadlines.due_for("s002", 1) == DUE + timedelta(days=3)
    assert deadlines.due_for("s002", 2) == datetime(2027, 2, 8, 23, 59, tzinfo=EST)
    with pytest.raises(InstructorError, match="no due date for stage 3"):
        deadlines.due_for("s001", 3)


@pytest.mark.parametrize("text, words", [
    ('{"due": {"1": "2027-01-25T23:59:00"}}', "no UTC offset"),
    ('{"due": {"1": "next monday"}}', "not an ISO time"),
    ('{"due": {"1": "2027-01-25T23:59:00Z"}, "late_policy": {"kind": "sometimes"}}', "kind"),
    ('{"due": {"1": "2027-01-25T23:59:00Z"}, "late_policy": {"percent": 5}}', "unknown keys"),
    ('{"due": {"1": "2027-01-25T23:59:00Z"}, "late_policy": {"cap_percent": 150}}', "at most"),
])
def test_a_term_file_that_cannot_be_read_right_is_refused(tmp_path, text, words):
    with pytest.raises(InstructorError, match=words):
        read_term(_write(tmp_path / "term.json", text))


# ------------------------------------------------------------------------------------ LMS


def _parse(text):
    return list(csv.reader(io.StringIO(text, newline="")))


def test_canvas_import_file_has_the_documented_layout(roster):
    assignments = [Assignment(1, "Stage 1 (4471)", 90), Assignment(2, "Stage 2 (4472)", 55)]
    text = lms_text("canvas", roster, assignments, {1: {"s001": 81.5, "s003": 90}})
    rows = _parse(text)
    assert rows[0] == [*CANVAS_COLUMNS, "Stage 1 (4471)", "Stage 2 (4472)"]
    assert rows[1] == ["Points Possible", "", "", "", "", "90", "55"]
    by_id = {row[1]: row for row in rows[2:]}
    assert len(by_id) == len(roster)
    assert by_id["s001"][5:] == ["81.5", ""]  # stage 2 not graded yet: left alone
    assert by_id["s002"][5] == "0"  # handed nothing in
    assert by_id["s003"][0] == "Grace Hopper" and by_id["s003"][4] == "A"


def test_moodle_import_file_maps_by_email_and_id_number(roster):
    text = lms_text("moodle", roster, [Assignment(3, "Mini-Torch stage 3", 51)],
                    {3: {"s002": 40}})
    rows = _parse(text)
    assert rows[0] == ["First name", "Last name", "ID number", "Email address",
                       "Mini-Torch stage 3"]
    assert rows[2] == ["Alan", "Turing", "s002", "alan@uni.edu", "40"]
    assert rows[1][-1] == "0" and rows[3][-1] == "0"


def test_roster_cells_cannot_become_formulas(tmp_path):
    roster = read_roster(_write(tmp_path / "r.csv", 'id,name\ns9,"=HYPERLINK(""x"")"\n'))
    rows = _parse(lms_text("canvas", roster, [Assignment(1, "Stage 1", 90)], {1: {}}))
    assert rows[2][0].startswith("'=")


# --------------------------------------------------------------------- Gradescope metadata


def _metadata(tmp_path, created, previous=(), due="2027-01-25T23:59:00.000000-05:00"):
    # The fields of Gradescope's documented submission_metadata.json.
    data = {
        "id": 123456, "created_at": created,
        "assignment": {"due_date": due, "group_size": None, "group_submission": False,
                       "id": 25828, "course_id": 1234, "late_due_date": None,
                       "release_date": "2027-01-10T00:00:00.000000-05:00",
                       "title": "Mini-Torch stage 3", "total_points": "51.0"},
        "submission_method": "upload",
        "users": [{"email": "Ada@uni.edu", "id": 1234, "name": "Ada Lovelace"}],
        "previous_submissions": [{"submission_time": t, "score": s, "results": {"score": s}}
                                 for t, s in previous],
    }
    path = tmp_path / "submission_metadata.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return read_metadata(path)


def test_gradescope_lateness_comes_from_created_at_not_the_clock(tmp_path):
    policy = LatePolicy(percent_per_day=10, cap_percent=50, max_days=3, grace_minutes=0)
    meta = _metadata(tmp_path, "2027-01-26T10:00:00.000000-05:00")
    assert meta.created_at == DUE + timedelta(hours=10, minutes=1)
    decision = decide(meta, policy)
    assert decision.grade and decision.lateness.days_late == 1
    assert decision.lateness.penalty_percent == 10 and "10 %" in decision.message
    on_time = decide(_metadata(tmp_path, "2027-01-25T22:00:00-05:00"), policy)
    assert on_time.lateness.days_late == 0 and on_time.message == ""


def test_gradescope_extension_by_email(tmp_path):
    policy = LatePolicy(grace_minutes=0)
    meta = _metadata(tmp_path, "2027-01-27T10:00:00-05:00")
    decision = decide(meta, policy, extensions={"ada@uni.edu": DUE + timedelta(days=3)})
    assert decision.lateness.days_late == 0


def test_gradescope_submission_limit_keeps_the_last_graded_results(tmp_path):
    previous = [("2027-01-20T10:00:00-05:00", 30.0), ("2027-01-21T10:00:00-05:00", 45.0)]
    meta = _metadata(tmp_path, "2027-01-22T10:00:00-05:00", previous)
    decision = decide(meta, LatePolicy(), max_submissions=2)
    assert not decision.grade and decision.kept.score == 45.0
    assert "at most 2" in decision.message
    assert decide(meta, LatePolicy(), max_submissions=3).grade


def test_metadata_without_its_fields_is_refused(tmp_path):
    path = tmp_path / "submission_metadata.json"
    path.write_text('{"assignment": {}}', encoding="utf-8")
    with pytest.raises(InstructorError, match="created_at"):
        read_metadata(path)


# -------------------------------------------------------------------- collect with a roster


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_collect_takes_each_students_own_cutoff_and_names_folders_by_roster_id(
        tmp_path, roster, run_cli):
    from .test_autograder import git, student_repository

    ada, ada_commits = student_repository(tmp_path / "stage3-ada-l", [
        "2027-01-20T10:00:00-05:00", "2027-01-27T09:00:00-05:00", "2027-01-29T09:00:00-05:00"])
    alan, alan_commits = student_repository(tmp_path / "stage3-aturing", [
        "2027-01-30T09:00:00-05:00"])
    grace_one, _ = student_repository(tmp_path / "one" / "stage3-ghopper", [
        "2027-01-20T09:00:00-05:00"])
    grace_two, _ = student_repository(tmp_path / "two" / "ghopper", [
        "2027-01-20T09:00:00-05:00"])
    mallory, _ = student_repository(tmp_path / "stage3-mallory", ["2027-01-20T09:00:00-05:00"])
    term = _write(tmp_path / "term.json", (
        '{"due": {"3": "2027-01-25T23:59:00-05:00"}, "late_policy": {"kind": "percent", '
        '"percent_per_day": 10, "max_days": 2, "grace_minutes": 0}}'))
    extensions = _write(tmp_path / "ext.csv",
                        "student,stage,due\ns002,3,2027-01-29T23:59:00-05:00\n")
    out = tmp_path / "collected"
    code, _, err = run_cli(
        "collect", "--term", term, "--stage", "3", "--extensions", extensions,
        "--roster", tmp_path / "roster.csv", "--out", out,
        ada, alan, grace_one, grace_two, mallory)
    assert code == 0, err
    # Ada: due the 25th, two days late are taken: the commit of the 27th, not the 29th.
    assert git("rev-parse", "HEAD", cwd=out / "s001") == ada_commits[1]
    # Alan's extension to the 29th: his commit of the 30th is within the two days.
    assert git("rev-parse", "HEAD", cwd=out / "s002") == alan_commits[0]
    assert not (out / "s003").exists()  # two repositories for Grace: both refused
    rows = {row["repository"]: row for row in csv.DictReader(
        io.StringIO((out / "collected.csv").read_text(encoding="utf-8")))}
    assert rows[str(ada)]["student"] == "s001" and rows[str(ada)]["status"] == "collected"
    assert rows[str(ada)]["due"] == "2027-01-25T23:59:00-05:00"
    assert rows[str(ada)]["cutoff"] == "2027-01-27T23:59:00-05:00"
    assert rows[str(alan)]["cutoff"] == "2027-01-31T23:59:00-05:00"
    for repository in (grace_one, grace_two):
        status = rows[str(repository)]["status"]
        assert status.startswith("refused: 2 repositories for student s003"), status
        assert str(grace_one) in status and str(grace_two) in status
    assert rows[str(mallory)]["status"].startswith("unknown")
    assert rows[str(mallory)]["name"] == "stage3-mallory"


# ---------------------------------------------------------------------- the term gradebook


def test_the_term_gradebook_has_one_row_per_roster_student_then_the_unknown(roster):
    graded = [
        {"student": "s001", "score": "40", "max": "51", "status": "graded", "hidden": "10"},
        {"student": "stage3-ghopper", "score": "51", "max": "51", "status": "graded",
         "hidden": "12"},
        {"student": "mallory", "score": "20", "max": "51", "status": "graded", "hidden": "3"},
    ]
    matching = match_submissions(["s001", "stage3-ghopper", "mallory"], roster)
    deadlines = Deadlines({3: DUE}, LatePolicy(percent_per_day=10, cap_percent=50, max_days=5,
                                               grace_minutes=0), {})
    submitted = {"s001": DUE + timedelta(hours=30), "stage3-ghopper": DUE - timedelta(hours=1)}
    rows = term_rows(graded, matching, 3, max_score=51, deadlines=deadlines,
                     submitted=submitted)
    header, body = rows[0], [dict(zip(rows[0], row)) for row in rows[1:]]
    assert header[:len(TERM_COLUMNS)] == TERM_COLUMNS and header[-1] == "hidden"
    assert [row["student_id"] for row in body] == ["s001", "s002", "s003", ""]
    ada, alan, grace, mallory = body
    assert (ada["raw"], ada["days_late"], ada["penalty_percent"], ada["final"]) == (
        "40", "2", "20", "32")
    assert (alan["status"], alan["raw"], alan["final"], alan["max"]) == ("missing", "0", "0", "51")
    assert (grace["days_late"], grace["final"], grace["submission"]) == (
        "0", "51", "stage3-ghopper")
    assert (mallory["status"], mallory["submission"], mallory["raw"]) == ("unknown", "mallory",
                                                                         "20")


def test_a_late_day_budget_spans_the_term(roster, tmp_path):
    earlier = tmp_path / "stage1.csv"
    earlier.write_text(f"{','.join(TERM_COLUMNS)}\n"
                       "s001,Ada,A,s001,graded,50,90,2,2,1,0,50,,\n", encoding="utf-8")
    used = late_days_spent([earlier])
    assert used == {"s001": 2}
    policy = LatePolicy(kind="late_days", budget=3, max_days=3, grace_minutes=0)
    matching = match_submissions(["s001"], roster)
    graded = [{"student": "s001", "score": "45", "max": "55", "status": "graded"}]
    rows = term_rows(graded, matching, 2, max_score=55,
                     deadlines=Deadlines({2: DUE}, policy, {}),
                     submitted={"s001": DUE + timedelta(hours=30)}, used_before=used)
    ada = dict(zip(rows[0], rows[1]))
    # Two days late with one day left: not taken.
    assert (ada["status"], ada["final"], ada["late_days_used"]) == ("too late", "0", "0")
    rows = term_rows(graded, matching, 2, max_score=55,
                     deadlines=Deadlines({2: DUE}, policy, {}),
                     submitted={"s001": DUE + timedelta(hours=3)}, used_before=used)
    ada = dict(zip(rows[0], rows[1]))
    assert (ada["final"], ada["late_days_used"], ada["late_days_left"]) == ("45", "1", "0")


# ------------------------------------------------- grade --roster --term, then export --lms


def test_grade_with_a_roster_then_export_for_canvas(tmp_path, run_cli):
    from .conftest import REAL_REPO

    subs = tmp_path / "submissions"
    for name in ("stage1-ada-l", "mallory"):
        shutil.copytree(REAL_REPO / "stages" / "stage1", subs / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    # As collect writes it: Ada's commit a day and a bit after the due date.
    (subs / "collected.csv").write_text(
        "name,repository,commit,date,status,student,due,cutoff\n"
        "stage1-ada-l,r,c,2027-01-27T01:00:00-05:00,collected,s001,,\n", encoding="utf-8")
    term = _write(tmp_path / "term.json", (
        '{"due": {"1": "2027-01-25T23:59:00-05:00"}, "late_policy": {"kind": "percent", '
        '"percent_per_day": 10, "cap_percent": 50, "max_days": 5, "grace_minutes": 0}}'))
    roster_file = tmp_path / "roster.csv"
    roster_file.write_text("ID,Name,Email,GitHub Username,Section\n"
                           "s001,Ada Lovelace,ada@uni.edu,ada-l,A\n"
                           "s002,Alan Turing,alan@uni.edu,aturing,B\n", encoding="utf-8")
    out = tmp_path / "grades"
    code, stdout, err = run_cli("grade", "--stage", "1", "--out", out, "--roster", roster_file,
                                "--term", term, subs / "stage1-ada-l", subs / "mallory")
    assert code == 0, err
    assert "mallory: no roster row" in stdout
    rows = list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))
    assert [(r["student_id"], r["status"]) for r in rows] == [
        ("s001", "graded"), ("s002", "missing"), ("", "unknown")]
    ada = rows[0]
    assert (ada["raw"], ada["days_late"], ada["penalty_percent"], ada["final"]) == (
        "90", "2", "20", "72")
    assert (out / "submissions.csv").is_file()  # grade's own rows, one per submission
    export = tmp_path / "canvas.csv"
    code, stdout, err = run_cli("export", "--lms", "canvas", export, "--roster", roster_file,
                                "--stage", f"1={out}", "--title", "1=Stage 1 (4471)")
    assert code == 0, err
    assert "mallory: no roster row, not exported" in stdout
    table = _parse(export.read_text(encoding="utf-8"))
    assert table[0] == [*CANVAS_COLUMNS, "Stage 1 (4471)"]
    assert table[1][-1] == "90"
    assert [(row[1], row[-1]) for row in table[2:]] == [("s001", "72"), ("s002", "0")]
