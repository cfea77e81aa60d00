"""The roster of a course, and which submission belongs to which student.

A roster is a CSV file with a header row. Two layouts are read:

- the course's own: ``id`` and ``name`` are required; ``email``, ``github``, ``section``,
  ``sis_user_id`` and ``sis_login_id`` are optional (header names are matched without regard to
  case, spaces, dashes or underscores, so ``GitHub Username`` is ``github``);
- Canvas's gradebook export, as Canvas writes it (``Student``, ``ID``, ``SIS User ID``,
  ``SIS Login ID``, ``Section``, then one column per assignment): its ``Points Possible`` row and
  Canvas's own test student (``Student, Test``) are left out.

A submission is matched to a student by its name (the folder or zip name, or the repository
name ``collect`` gave it), compared without regard to case with the student's id, GitHub
username, SIS login id and email address; a GitHub Classroom repository name
(``<assignment>-<username>``) matches by its longest suffix after a dash that is a GitHub
username of the roster. :func:`match_submissions` then gives exactly one row per roster student:
a student without a submission is ``missing``; a submission that matches nobody is ``unknown``
(reported, never graded as a new student); two submissions of one student are both refused,
each naming the other.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from instructor.stages.repo import InstructorError

#: The largest roster read (a course of thousands fits many times over).
MAX_ROSTER_BYTES = 16 * 1024 * 1024

#: Our header names, and the spellings (normalised) that mean each.
FIELDS = {
    "id": ("id", "studentid", "userid"),
    "name": ("name", "student", "fullname", "studentname"),
    "email": ("email", "emailaddress", "mail"),
    "github": ("github", "githubusername", "githublogin", "githubuser", "rosteridentifier"),
    "section": ("section", "sections"),
    "sis_user_id": ("sisuserid",),
    "sis_login_id": ("sisloginid", "login", "loginid"),
}
#: Canvas's own test student, present in every Canvas gradebook export.
CANVAS_TEST_STUDENT = "Student, Test"


def _normal(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header.strip().lstrip("\ufeff")).casefold()


@dataclass(frozen=True)
class Student:
    """One roster row."""

    id: str
    name: str
    email: str = ""
    github: str = ""
    section: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""

    def keys(self) -> set[str]:
        """The names a submission of this student may carry (case folded)."""
        keys = {self.id, self.github, self.sis_login_id, self.email}
        return {key.casefold() for key in keys if key}


@dataclass
class Roster:
    students: list[Student]
    source: str = ""  # "course" or "canvas": which layout the file had

    def __post_init__(self) -> None:
        self._by_key: dict[str, Student] = {}
        for student in self.students:
            for key in student.keys():
                other = self._by_key.setdefault(key, student)
                if other is not student:
                    raise InstructorError(
                        f"roster: {student.name!r} ({student.id}) and {other.name!r} "
                        f"({other.id}) share the name {key!r} (an id, GitHub username, login "
                        f"or email): a submission named so could be either; fix the roster")
        self._github = {s.github.casefold(): s for s in self.students if s.github}

    def __len__(self) -> int:
        return len(self.students)

    def find(self, submission: str) -> Student | None:
        """The student a submission's name belongs to, or None."""
        name = submission.casefold()
        for suffix in (".zip",):
            name = name.removesuffix(suffix)
        if name in self._by_key:
            return self._by_key[name]
        # A Classroom repository: <assignment>-<username>, the longest username suffix first.
        parts = name.split("-")
        for start in range(1, len(parts)):
            student = self._github.get("-".join(parts[start:]))
            if student is not None:
                return student
        return None


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    size = path.stat().st_size
    if size > MAX_ROSTER_BYTES:
        raise InstructorError(f"{path}: a roster of {size} bytes; at most {MAX_ROSTER_BYTES} "
                              f"are read")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise InstructorError(f"{path}: a roster must be UTF-8 text ({error})") from error
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in row)]
    if not rows:
        raise InstructorError(f"{path}: the roster is empty; it needs a header row "
                              f"(id,name,...) and one row per student")
    return rows[0], rows[1:]


def read_roster(path: str | Path) -> Roster:
    """Read a roster file (the course's layout or Canvas's gradebook export)."""
    path = Path(path)
    header, rows = _rows(path)
    columns: dict[str, int] = {}
    normal = [_normal(h) for h in header]
    for name, spellings in FIELDS.items():
        for index, heading in enumerate(normal):
            if heading in spellings and name not in columns:
                columns[name] = index
    canvas = {"student", "id", "sisuserid", "sisloginid"} <= set(normal)
    missing = [name for name in ("id", "name") if name not in columns]
    if missing:
        raise InstructorError(
            f"{path}: the roster has no {' or '.join(missing)} column (its header is "
            f"{header}); a roster needs columns id and name (optionally email, github, "
            f"section), or is Canvas's gradebook export as Canvas writes it")
    students, seen = [], {}
    for number, row in enumerate(rows, start=2):
        values = {name: (row[index].strip() if index < len(row) else "")
                  for name, index in columns.items()}
        if canvas and values["name"] == "Points Possible":
            continue  # Canvas's row of assignment maxima ("    Points Possible")
        if canvas and values["name"] == CANVAS_TEST_STUDENT:
            continue
        if not values["id"]:
            raise InstructorError(f"{path}, line {number}: a student without an id "
                                  f"({values['name']!r}); every roster row needs one")
        if values["id"] in seen:
            raise InstructorError(f"{path}, lines {seen[values['id']]} and {number}: the id "
                                  f"{values['id']!r} twice; ids are unique")
        seen[values["id"]] = number
        values["github"] = values.get("github", "").lstrip("@")
        students.append(Student(**values))
    return Roster(students, source="canvas" if canvas else "course")


@dataclass
class Matched:
    """One roster student and what was handed in for them."""

    student: Student
    submission: str | None = None  # the submission's name; None: nothing was handed in
    refused: str = ""  # why it is not graded (two submissions for one student)


@dataclass
class Matching:
    rows: list[Matched]  # one per roster student, in roster order
    unknown: list[str] = field(default_factory=list)  # submissions that match no roster row

    def graded(self) -> dict[str, Student]:
        """{submission name: student} of the submissions to grade."""
        return {row.submission: row.student for row in self.rows
                if row.submission is not None and not row.refused}


def match_submissions(names: Iterable[str], roster: Roster) -> Matching:
    """Give every roster student their submission; see the module docstring for the rules."""
    found: dict[str, list[str]] = {}
    unknown = []
    for name in names:
        student = roster.find(name)
        if student is None:
            unknown.append(name)
        else:
            found.setdefault(student.id, []).append(name)
    rows = []
    for student in roster.students:
        mine = sorted(found.get(student.id, []))
        if not mine:
            rows.append(Matched(student))
        elif len(mine) == 1:
            rows.append(Matched(student, mine[0]))
        else:
            rows.append(Matched(student, ", ".join(mine), refused=(
                f"{len(mine)} submissions for {student.name} ({student.id}): "
                f"{', '.join(mine)}; keep one and grade again")))
    return Matching(rows, sorted(unknown))
