"""Regrades (``grade --regrade``) and ``verify`` of a graded batch (``grading/regrade.py``,
``grading/verify.py``). The batches are two copies of the real stage 1, graded in-process."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import datetime, timezone

import pytest

from instructor.course.gradebook import COLUMNS as TERM_COLUMNS
from instructor.grading.record import RECORD_FILE, start_record
from instructor.grading.regrade import (
    HISTORY,
    HISTORY_COLUMNS,
    LOCK,
    REGRADES,
    regraded_term_rows,
)

from .conftest import REAL_REPO, replace_region


def _stage1(folder):
    shutil.copytree(REAL_REPO / "stages" / "stage1", folder,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return folder


def _break_relu(folder):
    """ReLU that lets negative numbers through: the relu checks fail."""
    replace_region(folder / "src" / "mini_torch" / "functional.py", "relu", "return x")


def _rows(path):
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _scores(out):
    return {row["student"]: float(row["score"]) for row in _rows(out / "gradebook.csv")}


def _grade(run_cli, out, *subs):
    code, _, err = run_cli("grade", "--stage", "1", "--out", out, *subs)
    assert code == 0, err
    return _scores(out)


def test_a_regrade_of_a_fixed_submission_merges_and_keeps_the_old_files(tmp_path, run_cli):
    subs = tmp_path / "subs"
    alice, bob = _stage1(subs / "alice"), _stage1(subs / "bob")
    _break_relu(alice)
    out = tmp_path / "out"
    first = _grade(run_cli, out, alice, bob)
    assert first["alice"] < first["bob"]
    old_gradebook = (out / "gradebook.csv").read_text(encoding="utf-8")
    old_feedback = (out / "feedback" / "alice.txt").read_text(encoding="utf-8")
    old_results = (out / "results" / "alice" / "results.json").read_text(encoding="utf-8")
    bob_feedback = (out / "feedback" / "bob.txt").read_text(encoding="utf-8")
    old_record = (out / RECORD_FILE).read_bytes()

    # Before the fix the batch reproduces: the recorded draw grades alice's bug the same way.
    code, stdout, err = run_cli("verify", out)
    assert code == 0, stdout + err
    assert "alice: recorded" in stdout and "DIFFERENT" not in stdout

    # alice fixes her relu; her regrade is asked for.
    shutil.copyfile(bob / "src" / "mini_torch" / "functional.py",
                    alice / "src" / "mini_torch" / "functional.py")
    code, stdout, err = run_cli("grade", "--regrade", out, "--only", "alice",
                                "--reason", "relu fixed after the deadline, approved",
                                "--by", "TA Sam")
    assert code == 0, err
    after = _scores(out)
    assert after == {"alice": first["bob"], "bob": first["bob"]}  # one row per student
    header = next(csv.reader(io.StringIO(old_gradebook)))
    assert next(csv.reader(io.StringIO((out / "gradebook.csv").read_text()))) == header

    history = _rows(out / HISTORY)
    assert list(history[0]) == HISTORY_COLUMNS and len(history) == 1
    row = history[0]
    assert (row["who"], row["student"], row["reason"]) == (
        "TA Sam", "alice", "relu fixed after the deadline, approved")
    assert float(row["old_score"]) == first["alice"] and float(row["new_score"]) == first["bob"]
    assert (row["submission"], row["kit"], row["status"]) == ("changed", "same", "graded")
    assert datetime.fromisoformat(row["when"]).utcoffset() == timezone.utc.utcoffset(None)
    folder = out / row["folder"]
    assert folder.parent == out / REGRADES and folder.name.startswith("1-")

    # The regrade folder is a grade run of its own; nothing of the first run is lost.
    assert json.loads((folder / RECORD_FILE).read_text())["submissions"].keys() == {"alice"}
    assert (out / RECORD_FILE).read_bytes() == old_record
    replaced = folder / "replaced"
    assert (replaced / "gradebook.csv").read_text(encoding="utf-8") == old_gradebook
    assert (replaced / "feedback" / "alice.txt").read_text(encoding="utf-8") == old_feedback
    assert (replaced / "results" / "alice" / "results.json").read_text() == old_results
    new_feedback = (out / "feedback" / "alice.txt").read_text(encoding="utf-8")
    assert new_feedback == (folder / "feedback" / "alice.txt").read_text(encoding="utf-8")
    assert new_feedback != old_feedback
    assert json.loads((out / "results" / "alice" / "results.json").read_text())["score"] \
        == first["bob"]
    assert (out / "feedback" / "bob.txt").read_text(encoding="utf-8") == bob_feedback
    assert not (out / LOCK).exists()

    # run.json still records the broken submission: verify says it changed, and grades the
    # regrade folder's own record the same again.
    code, stdout, err = run_cli("verify", out, "--sample", "2")
    assert code == 1, stdout + err
    lines = {line.split(":")[0]: line for line in stdout.splitlines()}
    assert "CHANGED SUBMISSION" in lines["alice"] and "regraded since" in lines["alice"]
    assert lines["bob"].endswith(": same")
    code, stdout, err = run_cli("verify", folder)
    assert code == 0, stdout + err

    # A regrade that changes nothing is recorded all the same, in a folder of its own.
    code, _, err = run_cli("grade", "--regrade", out, "--only", "bob", "--reason", "asked")
    assert code == 0, err
    history = _rows(out / HISTORY)
    assert [r["student"] for r in history] == ["alice", "bob"]
    assert history[1]["old_score"] == history[1]["new_score"] and history[1]["who"]
    assert history[1]["submission"] == "same" and history[1]["folder"].startswith(
        f"{REGRADES}/2-")
    assert _scores(out) == after


def _fake_out(tmp_path):
    """An out folder as grade leaves it (run.json and gradebook), without grading."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "gradebook.csv").write_text("student,score,max,status\nalice,40,90,graded\n"
                                       "bob,90,90,graded\n", encoding="utf-8")
    record = start_record(root=None, stage=1, command=["grade"], reference=tmp_path,
                          hidden=None, weights=None, seed=1, jail="test")
    record.write(out)
    return out


def test_a_regrade_is_refused_without_reason_known_names_or_a_run_record(tmp_path, run_cli,
                                                                          capsys):
    out = _fake_out(tmp_path)
    before = sorted(p.name for p in out.iterdir())
    code, _, err = run_cli("grade", "--regrade", out, "--only", "alice", "carol", "mallory",
                           "--reason", "why not")
    assert code == 2
    assert "--only carol, mallory: not in" in err and "its students: alice, bob" in err
    with pytest.raises(SystemExit) as stopped:
        run_cli("grade", "--regrade", out, "--only", "alice")
    assert stopped.value.code == 2 and "--reason" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_cli("grade", "--regrade", out, "--only", "alice", "--reason", "   ")
    with pytest.raises(SystemExit):
        run_cli("grade", "--regrade", out, "--reason", "no names")
    with pytest.raises(SystemExit):  # a regrade grades as the first run did
        run_cli("grade", "--regrade", out, "--only", "alice", "--reason", "x", "--stage", "2")
    assert "--stage" in capsys.readouterr().err
    (out / RECORD_FILE).unlink()
    code, _, err = run_cli("grade", "--regrade", out, "--only", "alice", "--reason", "x")
    assert code == 2 and f"no {RECORD_FILE}" in err
    assert sorted(p.name for p in out.iterdir()) == sorted(set(before) - {RECORD_FILE})


def test_a_submission_given_again_must_be_one_of_the_students_named(tmp_path, run_cli):
    out = _fake_out(tmp_path)
    code, _, err = run_cli("grade", "--regrade", out, "--only", "alice", "--reason", "x",
                           _stage1(tmp_path / "bob"))
    assert code == 2 and "bob is not named by --only" in err
    # This record was written without the submissions' paths: they must be given again.
    code, _, err = run_cli("grade", "--regrade", out, "--only", "alice", "--reason", "x")
    assert code == 2 and "give it again" in err
    assert not (out / REGRADES).exists() and not (out / HISTORY).exists()


def test_a_regrade_reads_and_writes_through_no_planted_link(tmp_path, run_cli):
    out = _fake_out(tmp_path)
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("not the history\n", encoding="utf-8")
    (out / HISTORY).symlink_to(elsewhere)
    code, _, err = run_cli("grade", "--regrade", out, "--only", "alice", "--reason", "x")
    assert code == 2 and f"{out / HISTORY}: a link" in err
    assert elsewhere.read_text(encoding="utf-8") == "not the history\n"
    (out / HISTORY).unlink()
    (out / "feedback").symlink_to(tmp_path, target_is_directory=True)
    code, _, err = run_cli("grade", "--regrade", out, "--only", "alice", "--reason", "x")
    assert code == 2 and "feedback: a link" in err


def test_the_term_gradebook_keeps_its_rows_and_the_lateness_charged():
    extra = ["hidden", "integrity"]
    header = TERM_COLUMNS + extra
    rows = [dict(zip(header, values)) for values in (
        ["s1", "Ada", "A", "ada", "graded", "40", "90", "2", "", "", "20", "32", "", "", "10", ""],
        ["s2", "Alan", "B", "", "missing", "0", "90", "", "", "", "", "0", "", "", "", ""],
        ["s3", "Grace", "A", "grace", "too late", "50", "90", "9", "", "", "", "0", "", "",
         "5", ""],
        ["", "", "", "mallory", "unknown", "20", "90", "", "", "", "", "20", "", "", "3", ""],
    )]
    new = {name: {"student": name, "score": "80", "max": "90", "status": "graded",
                  "hidden": "40", "integrity": ""} for name in ("ada", "grace", "mallory")}
    merged = regraded_term_rows(rows, new)
    assert [r["student_id"] for r in merged] == ["s1", "s2", "s3", ""]
    ada, alan, grace, mallory = merged
    assert (ada["raw"], ada["final"], ada["hidden"], ada["status"]) == ("80", "64", "40",
                                                                       "graded")
    assert alan == rows[1]
    assert (grace["raw"], grace["final"], grace["status"]) == ("80", "0", "too late")
    assert (mallory["raw"], mallory["final"], mallory["status"]) == ("80", "80", "unknown")


def test_verify_reproduces_a_batch_and_reports_a_tampered_score(tmp_path, run_cli):
    subs = tmp_path / "subs"
    alice, bob = _stage1(subs / "alice"), _stage1(subs / "bob")
    _break_relu(bob)
    out = tmp_path / "out"
    first = _grade(run_cli, out, alice, bob)
    code, stdout, err = run_cli("verify", out, "--sample", "1", "--seed", "3")
    assert code == 0, stdout + err
    assert stdout.count(": same") == 1 and "1 of 1 sampled submission(s) (of 2)" in stdout

    gradebook = out / "gradebook.csv"
    text = gradebook.read_text(encoding="utf-8")
    bob_row = next(line for line in text.splitlines() if line.startswith("bob,"))
    tampered = bob_row.replace(f"bob,{first['bob']:g},", f"bob,{first['bob'] + 5:g},", 1)
    assert tampered != bob_row
    gradebook.write_text(text.replace(bob_row, tampered), encoding="utf-8")
    code, stdout, err = run_cli("verify", out, "--sample", "2")
    assert code == 1, stdout + err
    assert f"bob: the gradebook says {first['bob'] + 5:g}, run.json says {first['bob']:g}: " \
        "DIFFERENT" in stdout

    # A score of record that the grader does not give again is DIFFERENT.
    gradebook.write_text(text, encoding="utf-8")
    record = json.loads((out / RECORD_FILE).read_text(encoding="utf-8"))
    record["submissions"]["alice"]["score"] -= 1
    (out / RECORD_FILE).write_text(json.dumps(record), encoding="utf-8")
    code, stdout, err = run_cli("verify", out, "--sample", "2")
    assert code == 1
    assert any(line.startswith("alice: recorded") and line.endswith("DIFFERENT")
               for line in stdout.splitlines()), stdout


def test_a_regrade_after_a_roster_run_replaces_the_rows_of_both_gradebooks(tmp_path, run_cli):
    subs = tmp_path / "subs"
    ada, mallory = _stage1(subs / "stage1-ada-l"), _stage1(subs / "mallory")
    _break_relu(ada)
    roster = tmp_path / "roster.csv"
    roster.write_text("ID,Name,GitHub Username\ns001,Ada Lovelace,ada-l\ns002,Alan Turing,"
                      "aturing\n", encoding="utf-8")
    out = tmp_path / "out"
    code, _, err = run_cli("grade", "--stage", "1", "--out", out, "--roster", roster, ada,
                           mallory)
    assert code == 0, err
    term_before = _rows(out / "gradebook.csv")
    own_before = {r["student"]: float(r["score"]) for r in _rows(out / "submissions.csv")}
    assert own_before["stage1-ada-l"] < own_before["mallory"]
    shutil.copyfile(mallory / "src" / "mini_torch" / "functional.py",
                    ada / "src" / "mini_torch" / "functional.py")
    code, _, err = run_cli("grade", "--regrade", out, "--only", "stage1-ada-l",
                           "--reason", "fixed")
    assert code == 0, err
    own = {r["student"]: float(r["score"]) for r in _rows(out / "submissions.csv")}
    assert own == {"stage1-ada-l": own_before["mallory"], "mallory": own_before["mallory"]}
    term = _rows(out / "gradebook.csv")
    assert [(r["student_id"], r["submission"], r["status"]) for r in term] == [
        (r["student_id"], r["submission"], r["status"]) for r in term_before]
    assert float(term[0]["raw"]) == float(term[0]["final"]) == own_before["mallory"]
    assert term[1:] == term_before[1:]
    assert list(term[0]) == list(term_before[0])

    # A raw score of the term gradebook that is not grade's own is reported.
    text = (out / "gradebook.csv").read_text(encoding="utf-8")
    (out / "gradebook.csv").write_text(text.replace(",mallory,unknown,", ",mallory,unknown,1", 1),
                                       encoding="utf-8")
    code, stdout, _ = run_cli("verify", out, "--sample", "1", "--seed", "0")
    assert code == 1 and "mallory: the term gradebook's raw score is 1" in stdout
