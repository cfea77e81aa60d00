"""The term's grades as a learning management system imports them.

- **Canvas** (Grades, Import): a CSV whose first five columns are ``Student``, ``ID``,
  ``SIS User ID``, ``SIS Login ID`` and ``Section``, then one column per assignment, headed by the
  assignment's name as Canvas shows it (``Stage 3 (4471)`` with Canvas's assignment id matches
  an existing assignment; a new name makes a new one). A second row ``Points Possible`` gives
  each assignment's maximum. Canvas matches a row to its student by ``ID``, else
  ``SIS User ID``, else ``SIS Login ID``: a roster read from Canvas's own export has them all.
- **Moodle** (Grade administration, Import, CSV file): a CSV with a header row; on import the
  staff map ``Email address`` (or ``ID number``) to the user field of that name and each stage
  column to its grade item.

Each roster student is one row. A student who handed nothing in gets 0, as the gradebook says
(``missing``); a submission that matched no roster row (``unknown``) has no row to go into and
is not exported: it needs a roster row first (the export command lists such submissions). A
stage without a grade for the student (the stage was not graded yet) stays empty, which both
systems read as "leave the grade as it is".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from instructor.course.gradebook import read_gradebook, score_text, unquote
from instructor.course.roster import Roster, read_roster
from instructor.grading.safe import safe_cell
from instructor.stages.repo import InstructorError

LMS = ("canvas", "moodle")
CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
MOODLE_COLUMNS = ["First name", "Last name", "ID number", "Email address"]


@dataclass(frozen=True)
class Assignment:
    """One stage as the LMS names it, with its maximum."""

    stage: int
    title: str
    points: float


def _split_name(name: str) -> tuple[str, str]:
    """(first, last): ``Lovelace, Ada`` as Canvas writes names, or ``Ada Lovelace``."""
    if "," in name:
        last, first = (part.strip() for part in name.split(",", 1))
        return first, last
    first, _, last = name.strip().rpartition(" ")
    return (first, last) if first else (last, "")


def lms_rows(lms: str, roster: Roster, assignments: Sequence[Assignment],
             grades: Mapping[int, Mapping[str, float]]) -> list[list[str]]:
    """The rows of the import file: ``grades[stage][student id]`` is a final score; a student
    of the roster absent from a graded stage's mapping handed nothing in (0 points)."""
    if lms not in LMS:
        raise ValueError(f"lms {lms!r}; expected one of {LMS}")
    titles = [a.title for a in assignments]
    if lms == "canvas":
        rows = [CANVAS_COLUMNS + titles,
                ["Points Possible", "", "", "", ""] + [score_text(a.points) for a in assignments]]
    else:
        rows = [MOODLE_COLUMNS + titles]
    for student in roster.students:
        scores = []
        for assignment in assignments:
            stage_grades = grades.get(assignment.stage)
            if stage_grades is None:
                scores.append("")  # not graded yet: leave the LMS's grade alone
            else:
                scores.append(score_text(stage_grades.get(student.id, 0.0)))
        if lms == "canvas":
            who = [student.name, student.id, student.sis_user_id, student.sis_login_id,
                   student.section]
        else:
            who = [*_split_name(student.name), student.id, student.email]
        rows.append([safe_cell(cell) for cell in who] + scores)
    return rows


def lms_text(lms: str, roster: Roster, assignments: Sequence[Assignment],
             grades: Mapping[int, Mapping[str, float]]) -> str:
    handle = io.StringIO(newline="")
    csv.writer(handle).writerows(lms_rows(lms, roster, assignments, grades))
    return handle.getvalue()


def stage_grades(gradebook: Path, roster: Roster) -> tuple[dict[str, float], float, list[str]]:
    """({student id: final score}, the stage's maximum, unknown submissions) of one stage's
    gradebook: the term gradebook (``student_id``, ``final``) or grade's own (``student``,
    ``score``, matched to the roster by name)."""
    rows = read_gradebook(gradebook)
    scores: dict[str, float] = {}
    unknown: list[str] = []
    top = 0.0
    for row in rows:
        top = max(top, float(row.get("max") or 0))
        if "student_id" in row:
            if row["student_id"]:
                scores[unquote(row["student_id"])] = float(row.get("final") or 0)
            else:
                unknown.append(unquote(row.get("submission", "")))
            continue
        name = unquote(row["student"])
        student = roster.find(name)
        if student is None:
            unknown.append(name)
        else:
            scores[student.id] = float(row.get("score") or 0)
    return scores, top, unknown


def export_grades(lms: str, out: Path, roster_file: Path, folders: Mapping[int, str | Path],
                  titles: Mapping[int, str], say: Callable[[str], None] = print) -> str:
    """Write the import file of ``lms`` for the grade folders of ``folders`` (stage -> folder);
    return a one-line summary. Submissions without a roster row are said, not exported.

    Raises:
        InstructorError: a stage's folder holds no gradebook.csv.
    """
    roster = read_roster(roster_file)
    assignments, grades = [], {}
    for stage, folder in sorted(folders.items()):
        gradebook = Path(folder) / "gradebook.csv"
        if not gradebook.is_file():
            raise InstructorError(f"--stage {stage}={folder}: no gradebook.csv there")
        scores, top, unknown = stage_grades(gradebook, roster)
        grades[stage] = scores
        assignments.append(Assignment(stage, titles.get(stage, f"Mini-Torch stage {stage}"),
                                      top))
        for name in unknown:
            say(f"stage {stage}: {name}: no roster row, not exported")
    out.write_text(lms_text(lms, roster, assignments, grades), encoding="utf-8")
    return f"wrote {out}: {len(roster)} students, {len(assignments)} stage(s) for {lms}"
