"""Regrades: grade some students of a graded batch again and merge their new grades in.

A regrade request (Gradescope's word) names a few students of an out folder of ``grade``; they
are graded again as the first run graded them (the stage, the options, the weights, the hidden
checks and the draw's seed recorded in its ``run.json``), from the same places (the ``source``
each submission's entry records) unless a submission is given again. Nothing is overwritten
silently:

- the students are graded by :func:`~instructor.grading.batch.grade` itself into a fresh folder
  ``OUT/regrades/<n>-<UTC time>/`` with its own ``gradebook.csv``, reports and ``run.json``;
- their rows of ``OUT/gradebook.csv`` (and, after a ``--roster`` run, of ``OUT/submissions.csv``
  and the term gradebook's rows of their submissions) are replaced: a new file is written
  beside the old one and renamed over it, with the same columns; the old gradebooks are kept in
  the regrade folder's ``replaced/``;
- their ``feedback``, ``results`` and ``logs`` files in ``OUT`` are moved into ``replaced/``
  and the new ones written in their place (created, never written through a planted link);
- one row per student goes to ``OUT/regrades.csv`` (:data:`HISTORY_COLUMNS`): when, who,
  the old and the new score, whether the submission is the one graded first, whether the kit
  (reference stage, hidden checks, weights) is the first run's, the reason and the folder. A
  score that did not change is recorded too.

``OUT/run.json`` stays the first run's record.
"""

from __future__ import annotations

import csv
import getpass
import io
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from instructor.course.gradebook import COLUMNS as TERM_COLUMNS
from instructor.course.gradebook import read_gradebook, score_text, unquote
from instructor.grading.batch import grade, options_from_record
from instructor.grading.pipeline import student_name
from instructor.grading.record import RECORD_FILE, RunRecord, digest_of, read_record
from instructor.grading.safe import file_name, safe_cell, write_new_file
from instructor.stages.repo import InstructorError

#: The folder of ``OUT`` that holds one folder per regrade.
REGRADES = "regrades"
#: The history of every regrade of ``OUT``, one row per student regraded.
HISTORY = "regrades.csv"
HISTORY_COLUMNS = ["when", "who", "student", "old_score", "new_score", "max", "status",
                   "submission", "kit", "reason", "folder"]
#: Held while a regrade merges into ``OUT``: two at once would lose one's rows.
LOCK = ".regrade.lock"
#: The kit's parts ``run.json`` digests, in the words a report uses.
KIT_PARTS = {"reference": "the reference stage", "hidden": "the hidden checks",
             "weights": "the weights"}

_LOCK_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_APPEND_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)


@dataclass
class RegradeEntry:
    """One student of a regrade: the score before and after, and what was graded."""

    student: str
    old_score: float
    new_score: float
    max_score: float
    status: str
    submission: str  # "same" (as graded first), "changed" (its digest differs), "given again"


@dataclass
class RegradeReport:
    """What :func:`regrade` did: the new folder, one entry per student, kit differences."""

    folder: Path
    entries: list[RegradeEntry] = field(default_factory=list)
    kit_changes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"warning: {change}" for change in self.kit_changes]
        for entry in self.entries:
            moved = ("unchanged" if entry.old_score == entry.new_score else
                     f"{score_text(entry.old_score)} -> {score_text(entry.new_score)}")
            lines.append(f"{entry.student}: {moved} / {score_text(entry.max_score)} "
                         f"[{entry.status}], submission {entry.submission}")
        return lines

    def summary(self) -> str:
        changed = sum(e.old_score != e.new_score for e in self.entries)
        return (f"regraded {len(self.entries)} student(s) into {self.folder} "
                f"({changed} score(s) changed); history in {self.folder.parents[1] / HISTORY}")


# --- the out folder ----------------------------------------------------------------------------


def check_out_folder(out: Path) -> RunRecord:
    """The run record of ``out``, a grade out folder of this user's.

    Raises:
        InstructorError: ``out`` is not a folder (or a link to one, or somebody else's), or it
            holds no ``run.json``: not what ``grade`` writes.
    """
    if out.is_symlink() or not out.is_dir():
        raise InstructorError(f"{out}: not a folder; give the out folder of a grade run "
                              "(the one holding gradebook.csv and run.json)")
    if hasattr(os, "geteuid") and os.lstat(out).st_uid != os.geteuid():
        raise InstructorError(f"{out}: the folder is not this user's; regrade as the user "
                              "who graded it")
    if not (out / RECORD_FILE).is_file():
        raise InstructorError(f"{out}: no {RECORD_FILE}, so not a grade out folder (or one "
                              "written before grade recorded its runs): grade it again")
    return read_record(out)


def _refuse_links(out: Path) -> None:
    """Refuse, before grading, an ``out`` where a regrade would read or write through a link
    (or find a folder where a file belongs, or the other way round)."""
    for name, folder in (("gradebook.csv", False), ("submissions.csv", False), (HISTORY, False),
                         (REGRADES, True), ("feedback", True), ("results", True),
                         ("logs", True)):
        path = out / name
        if path.is_symlink() or (path.exists() and path.is_dir() != folder):
            kind = "a folder" if folder else "a file"
            raise InstructorError(f"{path}: a link, or not {kind}: grade wrote no such thing "
                                  "here; refusing to read or write through it")


def own_gradebook(out: Path) -> Path:
    """grade's own gradebook of ``out`` (one row per submission): ``submissions.csv`` after a
    ``--roster`` run (``gradebook.csv`` is the term's then), else ``gradebook.csv``."""
    submissions = out / "submissions.csv"
    return submissions if submissions.is_file() else out / "gradebook.csv"


def _csv_text(header: Sequence[str], rows: Sequence[Mapping[str, str]]) -> str:
    handle = io.StringIO(newline="")
    writer = csv.DictWriter(handle, fieldnames=list(header), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return handle.getvalue()


def _header(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return next(csv.reader(io.StringIO(text, newline="")), [])


def swap_file(path: Path, text: str) -> None:
    """Write ``text`` into a new file beside ``path`` and rename it over ``path`` (one step: a
    reader sees the old file or the new one, never half of one; a link at ``path`` is replaced,
    not followed)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    write_new_file(temporary, text)
    os.replace(temporary, path)


def _copy_new(source: Path, target: Path) -> None:
    write_new_file(target, source.read_text(encoding="utf-8"))


def _private_folder(path: Path) -> Path:
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise InstructorError(f"{path}: exists and is not a folder; refusing to write there")
    if not path.exists():
        os.mkdir(path, 0o700)
    return path


# --- the gradebooks ----------------------------------------------------------------------------


def merged_rows(rows: Sequence[dict[str, str]], new: Mapping[str, Mapping[str, str]],
                key: str = "student") -> list[dict[str, str]]:
    """``rows`` with each row whose ``key`` (unquoted) is in ``new`` replaced by that row."""
    return [dict(new[unquote(row[key])]) if unquote(row.get(key, "")) in new else row
            for row in rows]


def regraded_term_rows(rows: Sequence[dict[str, str]],
                       new: Mapping[str, Mapping[str, str]]) -> list[dict[str, str]]:
    """The term gradebook's rows with the submissions of ``new`` (grade's rows, by student)
    graded again: their raw score, maximum and status, and the final score with the lateness
    already charged (the penalty of the row; a row ``too late`` stays so, at 0); grade's other
    columns from the new row."""
    merged = []
    for row in rows:
        grade_row = new.get(unquote(row.get("submission", "")))
        if grade_row is None or row.get("status") in ("missing", "refused"):
            merged.append(row)
            continue
        row = dict(row)
        raw = float(grade_row["score"])
        row["raw"], row["max"] = score_text(raw), score_text(float(grade_row["max"]))
        if row.get("status") == "too late":
            row["final"] = score_text(0.0)
        else:
            if row.get("status") != "unknown":
                row["status"] = grade_row["status"]
            penalty = float(row.get("penalty_percent") or 0)
            row["final"] = score_text(raw * (1.0 - penalty / 100.0))
        for column in row:
            if column not in TERM_COLUMNS and column in grade_row:
                row[column] = grade_row[column]
        merged.append(row)
    return merged


def _is_term_gradebook(header: Sequence[str]) -> bool:
    return list(header[:len(TERM_COLUMNS)]) == TERM_COLUMNS


# --- the regrade -------------------------------------------------------------------------------


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


def kit_changes(before: RunRecord, after: RunRecord) -> list[str]:
    """Sentences naming each part of the kit whose digest differs between two records."""
    changes = []
    for part, words in KIT_PARTS.items():
        then, now = before.kit.get(part), after.kit.get(part)
        if then != now:
            changes.append(f"{words} differ from the ones that graded the first run "
                           f"({_short(then)} then, {_short(now)} now)")
    return changes


def _short(digest: object) -> str:
    return "none" if digest is None else f"sha256 {str(digest)[:12]}"


def _submission_state(recorded: Mapping[str, object], source: Path, given: bool) -> str:
    if given:
        return "given again"
    now = digest_of(source)
    return "same" if all(recorded.get(k) == v for k, v in now.items()) else "changed"


def _next_folder(regrades: Path, when: datetime) -> Path:
    numbers = [int(m.group(1)) for p in regrades.iterdir()
               if (m := re.match(r"(\d+)-", p.name))]
    return regrades / f"{max(numbers, default=0) + 1}-{when.strftime('%Y%m%dT%H%M%SZ')}"


def regrade(out: Path, only: Sequence[str], reason: str, *, submissions: Sequence[Path] = (),
            by: str | None = None, root: Path | None = None, jobs: int = 2,
            keep: bool = False, say: Callable[[str], None] = print,
            command: Sequence[str] = ()) -> RegradeReport:
    """Grade the students ``only`` of the out folder ``out`` again and merge their new grades
    in (see the module docstring). ``submissions``: a submission given again (named as the
    student it replaces), instead of the recorded one; ``by``: who asked (default: the user
    running this); ``root``: the monorepo, instead of the one the first run used.

    Raises:
        InstructorError: ``out`` is not a grade out folder of this user's, no reason is given,
            a name of ``only`` is not in its gradebook, a submission given again names no
            student of ``only``, a submission's path was not recorded (or is gone), another
            regrade of ``out`` is running.
    """
    out = Path(out)
    if not reason or not reason.strip():
        raise InstructorError("a regrade needs its reason: --reason \"...\" (it goes into "
                              f"{HISTORY})")
    record = check_out_folder(out)
    _refuse_links(out)
    own = own_gradebook(out)
    rows = read_gradebook(own)
    known = [unquote(row["student"]) for row in rows]
    only = _unique(only)
    if not only:
        raise InstructorError("name the students to regrade: --only STUDENT...")
    unknown = [name for name in only if name not in known]
    if unknown:
        raise InstructorError(
            f"--only {', '.join(unknown)}: not in {own} (its students: "
            f"{', '.join(sorted(known)) or 'none'})")
    given: dict[str, Path] = {}
    for path in submissions:
        name = student_name(Path(path))
        if name not in only:
            raise InstructorError(f"{path}: it is {name}'s submission, and {name} is not "
                                  f"named by --only ({', '.join(only)})")
        if name in given:
            raise InstructorError(f"{given[name]} and {path}: two submissions for {name}")
        given[name] = Path(path)
    sources: dict[str, Path] = {}
    unrecorded = []
    for name in only:
        source = given.get(name) or record.submissions.get(name, {}).get("source")
        if source is None:
            unrecorded.append(name)
        else:
            sources[name] = Path(source)
    if unrecorded:
        raise InstructorError(
            f"{out / RECORD_FILE} does not say where the submission of "
            f"{', '.join(unrecorded)} was: give it again (grade --regrade ... PATH)")
    gone = [f"{name} ({path})" for name, path in sources.items() if not path.exists()]
    if gone:
        raise InstructorError(f"no such submission: {', '.join(gone)}: give it again "
                              "(grade --regrade ... PATH)")
    states = {name: _submission_state(record.submissions.get(name, {}), path, name in given)
              for name, path in sources.items()}

    try:
        lock = os.open(out / LOCK, _LOCK_FLAGS, 0o600)
    except FileExistsError:
        raise InstructorError(f"{out / LOCK} exists: another regrade of {out} is running (if "
                              "none is, remove the file and try again)") from None
    os.close(lock)
    try:
        when = datetime.now(timezone.utc).replace(microsecond=0)
        folder = _next_folder(_private_folder(out / REGRADES), when)
        options = options_from_record(record.options, root=root, out=folder, jobs=jobs,
                                      say=say, command=command, keep=keep,
                                      seed=record.kit.get("seed"))
        batch = grade([sources[name] for name in only], record.stage, options)
        report = RegradeReport(folder, kit_changes=kit_changes(record, read_record(folder)))
        by_student = {unquote(row["student"]): row for row in rows}
        for result in batch.results:
            report.entries.append(RegradeEntry(
                result.student, float(by_student[result.student]["score"]), result.score,
                result.max_score, result.status, states[result.student]))
        _merge(out, folder, [r.student for r in batch.results])
        _append_history(out, report, when, by or _user(), reason)
    finally:
        os.unlink(out / LOCK)
    return report


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _merge(out: Path, folder: Path, students: Sequence[str]) -> None:
    """Put the regrade folder's reports of ``students`` in place of theirs in ``out``; the
    replaced files go to ``folder/replaced``."""
    for part in ("feedback", "results", "logs"):
        if (out / part).exists() or (out / part).is_symlink():
            _private_folder(out / part)  # refuses a link planted in place of the folder
    replaced = _private_folder(folder / "replaced")
    new_rows = {unquote(row["student"]): row for row in read_gradebook(folder / "gradebook.csv")}
    gradebook = out / "gradebook.csv"
    own = own_gradebook(out)
    for path in {own, gradebook}:
        _copy_new(path, replaced / path.name)
    swap_file(own, _csv_text(_header(own), merged_rows(read_gradebook(own), new_rows)))
    if own != gradebook and _is_term_gradebook(_header(gradebook)):
        swap_file(gradebook, _csv_text(_header(gradebook), regraded_term_rows(
            read_gradebook(gradebook), new_rows)))
    for student in students:
        name = file_name(student)
        for part, relative in (("feedback", f"{name}.txt"), ("results", name),
                               ("logs", f"{name}.log")):
            old = out / part / relative
            if old.exists() or old.is_symlink():
                _private_folder(replaced / part)
                os.rename(old, replaced / part / relative)  # a link moves, is not followed
            new = folder / part / relative
            if new.is_dir():
                _private_folder(_private_folder(out / part) / relative)
                for file in sorted(new.iterdir()):
                    _copy_new(file, out / part / relative / file.name)
            elif new.is_file():
                _copy_new(new, _private_folder(out / part) / relative)


def history_rows(report: RegradeReport, when: datetime, who: str,
                 reason: str) -> list[list[str]]:
    """The rows :func:`regrade` appends to ``OUT/regrades.csv`` (:data:`HISTORY_COLUMNS`)."""
    kit = "same" if not report.kit_changes else "; ".join(
        words for part, words in KIT_PARTS.items()
        if any(change.startswith(words) for change in report.kit_changes)) + " changed"
    return [[when.isoformat(), safe_cell(who), safe_cell(entry.student),
             score_text(entry.old_score), score_text(entry.new_score),
             score_text(entry.max_score), entry.status, entry.submission, kit,
             safe_cell(reason, bound=1000), f"{REGRADES}/{report.folder.name}"]
            for entry in report.entries]


def _append_history(out: Path, report: RegradeReport, when: datetime, who: str,
                    reason: str) -> None:
    path = out / HISTORY
    new = not path.exists() and not path.is_symlink()
    handle = io.StringIO(newline="")
    writer = csv.writer(handle)
    if new:
        writer.writerow(HISTORY_COLUMNS)
    writer.writerows(history_rows(report, when, who, reason))
    try:
        descriptor = os.open(path, _APPEND_FLAGS, 0o600)
    except OSError as error:  # a link planted there: O_NOFOLLOW refuses it
        raise InstructorError(f"{path}: cannot append the regrade's history ({error}); the "
                              f"regrade itself is in {report.folder}") from error
    with os.fdopen(descriptor, "a", encoding="utf-8", newline="") as file:
        file.write(handle.getvalue())


def read_history(out: Path) -> list[dict[str, str]]:
    """The rows of ``OUT/regrades.csv`` (none if no regrade was made)."""
    path = out / HISTORY
    return read_gradebook(path) if path.is_file() else []
