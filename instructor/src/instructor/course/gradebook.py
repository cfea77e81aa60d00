"""The term's gradebook: one row per roster student, with lateness and the final score.

``grade`` writes its own gradebook (one row per graded submission). With a roster and the term's
file, :func:`term_rows` turns it into the course's: the roster's order and identities, every
student once (``missing``: nothing handed in, 0 points; ``refused``: two submissions for one
student), then ``unknown`` rows for submissions that match no roster student (graded, reported,
never exported), and for each the raw score, the days late, the late days used and left (a
late-day budget), the penalty and the final score.

The late days a student spent on earlier stages come from those stages' term gradebooks
(:func:`late_days_spent`), so that a budget spans the term.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from instructor.course.lateness import Deadlines, assess, parse_time
from instructor.course.roster import Matching
from instructor.grading.safe import safe_cell

#: The term gradebook's columns; after them come grade's own columns it does not repeat.
COLUMNS = ["student_id", "name", "section", "submission", "status", "raw", "max", "days_late",
           "late_days_used", "late_days_left", "penalty_percent", "final", "submitted", "due"]
#: grade's gradebook columns the term gradebook replaces.
REPLACED = {"student", "score", "max", "status"}


def score_text(value: float) -> str:
    """A score as the gradebooks write it: ``72``, ``81.5``, at most two decimals."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def read_gradebook(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def late_days_spent(gradebooks: Sequence[Path]) -> dict[str, int]:
    """{student id: late days used} summed over earlier stages' term gradebooks."""
    spent: dict[str, int] = {}
    for path in gradebooks:
        for row in read_gradebook(path):
            used = row.get("late_days_used") or "0"
            if row.get("student_id") and used.isdigit():
                spent[row["student_id"]] = spent.get(row["student_id"], 0) + int(used)
    return spent


def unquote(cell: str) -> str:
    """A gradebook cell as grade wrote it, without the quote that keeps it from a formula."""
    return cell[1:] if cell.startswith("'") else cell


def term_rows(graded: Sequence[Mapping[str, str]], matching: Matching, stage: int, *,
              max_score: float, deadlines: Deadlines | None = None,
              submitted: Mapping[str, datetime] | None = None,
              used_before: Mapping[str, int] | None = None) -> list[list[str]]:
    """The term gradebook's rows (header first) from grade's rows (``student`` = submission)."""
    by_submission = {unquote(row["student"]): row for row in graded}
    extra = [column for column in (graded[0].keys() if graded else []) if column not in REPLACED]
    rows = [COLUMNS + extra]
    submitted = submitted or {}
    used_before = used_before or {}

    def row_of(student_id: str, name: str, section: str, submission: str, status: str,
               grade_row: Mapping[str, str] | None) -> list[str]:
        raw = float(grade_row["score"]) if grade_row else 0.0
        top = float(grade_row["max"]) if grade_row else max_score
        late = ["", "", "", ""]  # days late, late days used and left, penalty: not known
        final = raw
        when = submitted.get(submission)
        due = ""
        if deadlines is not None and grade_row is not None and student_id:
            due_at = deadlines.due_for(student_id, stage)
            due = due_at.isoformat()
            if when is not None:
                lateness = assess(when, due_at, deadlines.policy, used_before.get(student_id, 0))
                final = lateness.final(raw)
                left = "" if lateness.late_days_left is None else str(lateness.late_days_left)
                late = [str(lateness.days_late), str(lateness.late_days_used), left,
                        score_text(lateness.penalty_percent)]
                if not lateness.accepted:
                    status = "too late"
        cells = [safe_cell(student_id), safe_cell(name), safe_cell(section),
                 safe_cell(submission), status, score_text(raw), score_text(top), *late,
                 score_text(final), when.isoformat() if when else "", due]
        return cells + [grade_row.get(column, "") if grade_row else "" for column in extra]

    for matched in matching.rows:
        student = matched.student
        if matched.refused:
            rows.append(row_of(student.id, student.name, student.section, matched.submission,
                               "refused", None))
        elif matched.submission is None:
            rows.append(row_of(student.id, student.name, student.section, "", "missing", None))
        else:
            grade_row = by_submission.get(matched.submission)
            status = grade_row["status"] if grade_row else "missing"
            rows.append(row_of(student.id, student.name, student.section, matched.submission,
                               status, grade_row))
    for name in matching.unknown:
        grade_row = by_submission.get(name)
        rows.append(row_of("", "", "", name, "unknown", grade_row))
    return rows


def term_text(rows: Sequence[Sequence[str]]) -> str:
    handle = io.StringIO(newline="")
    csv.writer(handle).writerows(rows)
    return handle.getvalue()


def commit_dates(submissions: Sequence[Path]) -> dict[str, datetime]:
    """{folder name: commit date} from the collected.csv beside collected submissions."""
    dates: dict[str, datetime] = {}
    for listing in sorted({path.parent / "collected.csv" for path in submissions}):
        if listing.is_file():
            for row in csv.DictReader(listing.read_text(encoding="utf-8").splitlines()):
                if row.get("date"):
                    dates[row["name"]] = parse_time(row["date"], str(listing))
    return dates


def write_term_gradebook(out: Path, matching: Matching, stage: int, max_score: float,
                         submissions: Sequence[Path], *, deadlines: Deadlines | None = None,
                         earlier: Sequence[Path] = ()) -> None:
    """Replace grade's ``out/gradebook.csv`` by the term's; grade's own rows are kept in
    ``out/submissions.csv``. ``earlier``: earlier stages' grade folders (late days spent)."""
    own = out / "gradebook.csv"
    graded = read_gradebook(own)
    own.replace(out / "submissions.csv")
    rows = term_rows(graded, matching, stage, max_score=max_score, deadlines=deadlines,
                     submitted=commit_dates(submissions),
                     used_before=late_days_spent([Path(g) / "gradebook.csv" for g in earlier]))
    own.write_text(term_text(rows), encoding="utf-8")
