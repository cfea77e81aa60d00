"""Collect submissions from students' repositories: the last commit before a due date.

``python -m instructor collect --before 2026-03-01T23:59:00+01:00 --out submissions REPO...``
clones each repository (a URL or a local path; ``--from FILE`` reads them one a line) into
``OUT/<name>``, checks out the last commit of its default branch (or ``--branch``) whose commit
date is before the due date, and writes ``OUT/collected.csv`` (name, repository, commit, date,
status). A repository without such a commit is listed with status ``no commit before the due
date`` and left out of the folder. The folders are then graded with ``grade``.

The default branch is the one the remote's ``HEAD`` names (``refs/remotes/origin/HEAD``,
resolved by its full name: a tag or branch called ``origin/HEAD`` does not shadow it), and
``--branch B`` is ``refs/remotes/origin/B``. A repository is data: git runs with no hooks
(``core.hooksPath=/dev/null``), no submodules, no Git LFS download (``GIT_LFS_SKIP_SMUDGE``),
no ``ext::`` transport, and a commit whose tree holds more than
:data:`~instructor.grading.intake.MAX_ENTRIES` files and folders, or more than
:data:`~instructor.grading.intake.MAX_TOTAL_BYTES` bytes, or a file over
:data:`~instructor.grading.intake.MAX_FILE_BYTES`, is refused before it is checked out (what
``grade`` would refuse anyway).

With a roster (``--roster FILE``, see :mod:`instructor.course.roster`) each repository is
matched to its student (a Classroom repository ``<assignment>-<username>`` by the GitHub
username) and checked out into ``OUT/<student id>``; a repository that matches no roster row
keeps its own name and the status says so; two repositories of one student are both refused,
each naming the other. With the term's file (``--term term.json --stage K``, optionally
``--extensions FILE``, see :mod:`instructor.course.lateness`) each student's deadline is their
own: the stage's due date or their extension, plus the grace and the days late the policy
takes; ``collected.csv`` then also holds the student, their due date and that cutoff, and
``grade --term`` reads the commit dates from it to charge lateness.

Commit dates are written by whoever makes the commit: a student can backdate one. Where the
deadline matters, compare with the push times GitHub records (the repository's activity, or
Classroom's own deadline), and grade the collected commit, not the student's latest.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from instructor.course.lateness import Deadlines, cutoff, parse_time
from instructor.course.roster import Roster
from instructor.grading.intake import MAX_ENTRIES, MAX_FILE_BYTES, MAX_TOTAL_BYTES
from instructor.grading.safe import file_name
from instructor.stages.repo import InstructorError

GIT_TIMEOUT = 300
#: Configuration every git command runs with: nothing of the student's repository runs.
GIT_CONFIG = ("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false",
              "-c", "submodule.recurse=false", "-c", "protocol.ext.allow=never",
              "-c", "protocol.file.allow=user", "-c", "advice.detachedHead=false")
#: Environment added to git's: no Git LFS download, no prompt for a password.
GIT_ENVIRONMENT = {"GIT_LFS_SKIP_SMUDGE": "1", "GIT_TERMINAL_PROMPT": "0"}


@dataclass
class Collected:
    """One repository's outcome."""

    name: str
    repository: str
    commit: str = ""
    date: str = ""
    status: str = "collected"
    student: str = ""  # the roster id ("" without a roster, or with no roster row)
    due: str = ""  # the student's own due date (with --term)
    cutoff: str = ""  # the last commit date taken: the due date plus what the policy allows

#: The columns of collected.csv.
COLUMNS = ["name", "repository", "commit", "date", "status", "student", "due", "cutoff"]


def parse_date(text: str) -> datetime:
    """An ISO 8601 time with its UTC offset (``2026-03-01T23:59:00+01:00``).

    The same reader as the term file's due dates: a time without an offset is refused, since
    the grading machine's own time zone (often UTC on a server) would silently move the
    deadline by hours.

    Raises:
        InstructorError: not an ISO time, or no offset.
    """
    return parse_time(text, "--before")


def read_repository_list(path: Path) -> list[str]:
    """The repositories of a ``--from`` file: one a line; blank lines and ``#`` comments left out.

    Raises:
        InstructorError: the file cannot be read.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InstructorError(f"--from {path}: {error}") from error
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def repository_name(repository: str) -> str:
    """``alice-stage3`` for ``https://github.com/course/alice-stage3.git`` or a folder."""
    name = re.split(r"[/:\\]", repository.rstrip("/").rstrip("\\"))[-1]
    name = name.removesuffix(".git") or "repository"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _git_bytes(*args: str, cwd: Path | None = None) -> bytes:
    done = subprocess.run(["git", *GIT_CONFIG, *args], cwd=cwd, capture_output=True,
                          timeout=GIT_TIMEOUT, check=False,
                          env={**os.environ, **GIT_ENVIRONMENT})
    if done.returncode != 0:
        last = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
        raise InstructorError(f"git {' '.join(args)}: {last}")
    return done.stdout


def _git(*args: str, cwd: Path | None = None) -> str:
    return _git_bytes(*args, cwd=cwd).decode("utf-8", "replace").strip()


def default_head(clone: Path, branch: str | None = None) -> str:
    """The commit at the head of the remote's default branch (``--branch``: of that one).

    Full ref names only: ``origin/HEAD`` as a short name would take a tag of that name first.

    Raises:
        InstructorError: the remote names no default branch, or there is no such branch.
    """
    if branch is None:
        try:
            ref = _git("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", cwd=clone)
        except InstructorError:
            raise InstructorError("the repository names no default branch (its HEAD is not "
                                  "a branch): pass --branch") from None
        if not ref.startswith("refs/remotes/origin/"):
            raise InstructorError(f"the default branch is {ref}, not a branch of origin")
    else:
        ref = f"refs/remotes/origin/{branch}"
    try:
        return _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=clone)
    except InstructorError:
        raise InstructorError(f"no branch {ref.removeprefix('refs/remotes/origin/')}") from None


def tree_measure(clone: Path, commit: str) -> tuple[int, int, int]:
    """(files and folders, bytes, largest file's bytes) of ``commit``'s tree, from git's
    object database: nothing is checked out."""
    listing = _git_bytes("ls-tree", "-r", "-t", "-l", "-z", "--full-tree", commit, cwd=clone)
    entries = total = largest = 0
    for line in listing.split(b"\0"):
        if not line:
            continue
        entries += 1
        size = line.split(b"\t", 1)[0].split()[-1]
        if size.isdigit():
            total += int(size)
            largest = max(largest, int(size))
    return entries, total, largest


def _refuse_large(entries: int, total: int, largest: int) -> str:
    """The status of a tree over the caps (not checked out), or ``""``."""
    if entries > MAX_ENTRIES or total > MAX_TOTAL_BYTES or largest > MAX_FILE_BYTES:
        return (f"refused: its tree holds {entries} files and folders and {total} bytes "
                f"(largest file {largest}), over the limits of {MAX_ENTRIES} entries, "
                f"{MAX_TOTAL_BYTES} bytes, {MAX_FILE_BYTES} a file; not checked out")
    return ""


def _plan(repositories: Sequence[str], roster: Roster | None
          ) -> list[tuple[str, str, str, str]]:
    """(repository, folder name, roster id, refusal) of each repository, in order."""
    plan, seen = [], set()
    owners: dict[str, list[str]] = {}
    for repository in repositories:
        name = repository_name(repository)
        student = roster.find(name) if roster is not None else None
        if student is not None:
            owners.setdefault(student.id, []).append(repository)
            name = file_name(student.id)
        while name in seen:
            name += "_"
        seen.add(name)
        plan.append([repository, name, student.id if student else "", ""])
    for entry in plan:
        mine = owners.get(entry[2], [])
        if entry[2] and len(mine) > 1:
            entry[3] = (f"refused: {len(mine)} repositories for student {entry[2]} "
                        f"({', '.join(mine)}); keep one and collect again")
        elif roster is not None and not entry[2]:
            entry[3] = "unknown: no roster row matches this repository"
    return [tuple(entry) for entry in plan]


def collect(repositories: Sequence[str], before: datetime | None, out: Path, *,
            branch: str | None = None, roster: Roster | None = None,
            deadlines: Deadlines | None = None, stage: int | None = None,
            used: Mapping[str, int] | None = None) -> list[Collected]:
    """Clone each repository into ``out`` at its last commit before its student's cutoff.

    ``before`` is everyone's due date; with ``deadlines`` (and ``stage``) each student has
    their own (``used``: late days a student spent on earlier stages, for a late-day budget).
    """
    if shutil.which("git") is None:
        raise InstructorError("collect needs git on the PATH")
    if before is None and (deadlines is None or stage is None):
        raise InstructorError("collect needs a due date: --before DATE, or --term FILE with "
                              "--stage K")
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for repository, name, student, refusal in _plan(repositories, roster):
        entry = Collected(name, repository, student=student)
        target = out / name
        limit = before
        if deadlines is not None and stage is not None:
            due = deadlines.due_for(student or name, stage)
            limit = cutoff(due, deadlines.policy, (used or {}).get(student or name, 0))
            entry.due = due.isoformat()
        entry.cutoff = limit.isoformat()
        if refusal.startswith("refused"):
            entry.status = refusal
            results.append(entry)
            continue
        try:
            if target.exists():
                shutil.rmtree(target)
            source = repository
            if Path(repository).expanduser().exists():
                source = str(Path(repository).expanduser().resolve())
            _git("clone", "--quiet", "--no-checkout", "--no-recurse-submodules", "--",
                 source, str(target))
            head = default_head(target, branch)
            commit = _git("rev-list", "-1", f"--before={limit.isoformat()}", head, cwd=target)
            refused = _refuse_large(*tree_measure(target, commit)) if commit else ""
            if not commit or refused:
                entry.status = refused or "no commit before the due date"
                entry.commit = commit
                shutil.rmtree(target, ignore_errors=True)
            else:
                _git("checkout", "--quiet", "--no-recurse-submodules", commit, "--",
                     cwd=target)
                entry.commit = commit
                entry.date = _git("show", "-s", "--format=%cI", commit, cwd=target)
                entry.status = refusal or "collected"
        except (InstructorError, subprocess.SubprocessError, OSError) as error:
            entry.status = f"failed: {error}"
            shutil.rmtree(target, ignore_errors=True)
        results.append(entry)
    with open(out / "collected.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for entry in results:
            writer.writerow([getattr(entry, column) for column in COLUMNS])
    return results
