"""What a submission names or prints is data where it lands: file names that cannot collide,
no escape sequence on the terminal or in the reports, no formula in the gradebook, and one
report that cannot be written never costs the batch its others."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

from instructor.gradescope.results import gradescope_text
from instructor.grading.batch import progress_text
from instructor.grading.outfolder import Reports, write_reports
from instructor.grading.reports import feedback_text
from instructor.grading.results import CheckResult, SubmissionResult
from instructor.grading.safe import file_key, file_name, safe_cell, safe_text

NOT_UTF8 = os.fsdecode(b"caf\xe9")  # latin-1 bytes in a folder name: a surrogate when decoded
ANSI_ERASE = "\x1b[2J\x1b[H"
BIDI = "alice\u202egnp.exe"

HOSTILE_NAMES = ["honest bug", "honest_bug", "honest%20bug", "../../evil", ".hidden", "",
                 NOT_UTF8, "café", BIDI, "=HYPERLINK(\"http://x\",\"y\")", "a" * 400,
                 "a" * 401, ANSI_ERASE + "bob", "%", "%25", "CON", "x/y", "x\\y"]


def test_file_names_never_collide_and_never_leave_their_folder():
    names = [file_name(n) for n in HOSTILE_NAMES]
    assert len(set(names)) == len(HOSTILE_NAMES)
    for name in names:
        assert "/" not in name and "\\" not in name and "\x00" not in name
        assert not name.startswith(".") and 0 < len(name.encode()) < 200
        assert name.isascii() and name.isprintable()
    assert file_name("honest_bug") == "honest_bug"  # a plain name stays readable
    assert file_name("honest bug") == "honest%20bug"
    assert file_key("Alice") == file_key("alice")


def test_unsafe_characters_are_shown_as_escapes_and_lines_are_cut():
    text = safe_text(f"{ANSI_ERASE}Score: 51 \u2215 51\n{BIDI}\n{NOT_UTF8}\tok\x7f\x9b")
    assert "\x1b" not in text and "\\x1b[2J" in text
    assert "\u202e" not in text and "\\u202e" in text
    assert "caf\\xe9" in text and "\\x7f" in text and "\\x9b" in text
    assert text.count("\n") == 2 and "\tok" in text  # newlines and tabs are kept
    text.encode("utf-8")  # no lone surrogate left
    assert len(safe_text("x" * 5000, line_bound=100)) < 120


def test_a_gradebook_cell_is_never_a_formula():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        cell = safe_cell(f"{start}HYPERLINK(\"http://evil\",\"x\")")
        assert cell.startswith("'"), repr(cell)
    assert safe_cell("alice") == "alice"
    assert "\n" not in safe_cell("two\nlines")


def _failed(message: str) -> CheckResult:
    return CheckResult(name="stage3/MSELoss.forward[mean]", task="mini_torch.nn.loss.MSELoss."
                       "forward", file="src/mini_torch/nn/loss.py", outcome="error",
                       message=message, max_points=1.0)


def test_hostile_names_and_messages_are_safe_in_every_report(tmp_path):
    results = []
    for index, name in enumerate(["=HYPERLINK(\"http://x\",\"y\")", "honest bug", "honest_bug",
                                  NOT_UTF8, ANSI_ERASE + "mallory"]):
        result = SubmissionResult(name, Path(f"s{index}"), 3)
        result.checks = [_failed(f"ValueError: {ANSI_ERASE}Score: 51 \u2215 51 {BIDI}")]
        results.append(result)
    out = tmp_path / "out"
    write_reports(results, out)
    rows = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text("utf-8"))))
    assert len(rows) == 1 + len(results)
    assert rows[1][0].startswith("'=HYPERLINK")
    feedback = sorted(p.name for p in (out / "feedback").iterdir())
    assert len(feedback) == len(results)  # honest bug and honest_bug: a file each
    assert "honest%20bug.txt" in feedback and "honest_bug.txt" in feedback
    assert f"feedback for {results[1].student}" in (out / "feedback" / "honest%20bug.txt"
                                                     ).read_text()
    for path in [*out.rglob("*.txt"), *out.rglob("*.json"), out / "gradebook.csv"]:
        text = path.read_text("utf-8")
        assert "\x1b" not in text and "\u202e" not in text, path
    line = progress_text(results[4])
    assert "\x1b" not in line and line.startswith("\\x1b[2J")


def test_a_report_that_cannot_be_written_is_that_submissions_grader_error(tmp_path):
    out = tmp_path / "out"
    reports = Reports(out)
    blocked, fine = (SubmissionResult(n, Path(n), 3) for n in ("blocked", "fine"))
    (out / "feedback" / "blocked.txt").mkdir()  # what makes one write fail
    for result in (blocked, fine):
        reports.add(result)
    reports.finish([blocked, fine])
    assert blocked.status == "grader_error" and "could not write" in blocked.message
    assert fine.status == "graded" and (out / "results" / "fine" / "results.json").is_file()
    rows = list(csv.reader(io.StringIO((out / "gradebook.csv").read_text())))
    assert [r[0] for r in rows[1:]] == ["blocked", "fine"]
    assert rows[1][rows[0].index("status")] == "grader_error"


def test_a_retried_submission_replaces_its_own_reports(tmp_path):
    out = tmp_path / "out"
    reports = Reports(out)
    result = SubmissionResult("alice", Path("alice"), 3)
    result.checks = [_failed("first run")]
    reports.add(result)
    result.checks = [CheckResult(name="stage3/MSELoss.forward[mean]", task="t", file="f",
                                 outcome="passed", points=1.0, max_points=1.0)]
    reports.add(result)
    reports.finish([result])
    data = json.loads((out / "results" / "alice" / "results.json").read_text())
    assert data["score"] == 1 and "first run" not in (out / "feedback" / "alice.txt").read_text()


def test_names_equal_but_for_case_share_no_file(tmp_path):
    out = tmp_path / "out"
    first, second = SubmissionResult("Alice", Path("a/Alice"), 3), SubmissionResult(
        "alice", Path("b/alice"), 3)
    write_reports([first, second], out)
    assert sorted(p.name for p in (out / "feedback").iterdir()) == ["Alice.txt"]
    assert "Alice" in (out / "feedback" / "Alice.txt").read_text()
    assert any("same file name" in note for note in second.notes)


def test_the_feedback_and_results_json_carry_no_control_character():
    result = SubmissionResult("bob", Path("bob"), 3)
    result.checks = [_failed("boom \x1b]0;title\x07 \x00")]
    for text in (feedback_text(result), gradescope_text(result)):
        assert not any(ord(c) < 32 and c not in "\n\t" for c in json.loads(json.dumps(text)))
        assert "\\x1b]0;title\\x07" in text or "\\\\x1b]0;title\\\\x07" in text


def test_the_gradebook_says_which_jail_and_whether_it_had_a_cgroup(tmp_path):
    from instructor.grading.jail import Jail

    assert Jail("uid", 61000).summary == "isolated (uid, no cgroup)"
    assert Jail("none").summary == "NOT ISOLATED"
    result = SubmissionResult("alice", Path("alice"), 3, jail=Jail("uid", 61000).summary)
    write_reports([result], tmp_path / "out")
    rows = list(csv.reader(io.StringIO((tmp_path / "out" / "gradebook.csv").read_text())))
    assert rows[1][rows[0].index("isolation")] == "isolated (uid, no cgroup)"
