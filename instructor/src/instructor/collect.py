"""Collect submissions from students' repositories: the last commit before a due date.

``python -m instructor collect --before 2026-03-01T23:59:00+01:00 --out submissions REPO...``
clones each repository (a URL or a local path; ``--from FILE`` reads them one a line) into
``OUT/<name>``, checks out the last commit of its default branch (or ``--branch``) whose commit
date is before the due date, and writes ``OUT/collected.csv`` (name, repository, commit, date,
status). A repository without such a commit is listed with status ``no commit before the due
date`` and left out of the folder. The folders are then graded with ``grade``.

Commit dates are written by whoever makes the commit: a student can backdate one. Where the
deadline matters, compare with the push times GitHub records (the repository's activity, or
Classroom's own deadline), and grade the collected commit, not the student's latest.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from instructor.repo import InstructorError

GIT_TIMEOUT = 300


@dataclass
class Collected:
    """One repository's outcome."""

    name: str
    repository: str
    commit: str = ""
    date: str = ""
    status: str = "collected"


def parse_date(text: str) -> datetime:
    """An ISO 8601 date (``2026-03-01``, ``2026-03-01T23:59``, with or without an offset).

    Raises:
        InstructorError: not a date.
    """
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise InstructorError(
            f"--before {text!r}: not an ISO date (like 2026-03-01T23:59:00+01:00)") from error
    return moment if moment.tzinfo else moment.astimezone()  # no offset: the local time zone


def repository_name(repository: str) -> str:
    """``alice-stage3`` for ``https://github.com/course/alice-stage3.git`` or a folder."""
    name = re.split(r"[/:\\]", repository.rstrip("/").rstrip("\\"))[-1]
    name = name.removesuffix(".git") or "repository"
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=GIT_TIMEOUT, check=False)
    if done.returncode != 0:
        raise InstructorError(f"git {' '.join(args)}: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout.strip()


def collect(repositories: Sequence[str], before: datetime, out: Path, *,
            branch: str | None = None) -> list[Collected]:
    """Clone each repository into ``out`` at its last commit before ``before``."""
    if shutil.which("git") is None:
        raise InstructorError("collect needs git on the PATH")
    out.mkdir(parents=True, exist_ok=True)
    results, seen = [], set()
    for repository in repositories:
        name = repository_name(repository)
        while name in seen:
            name += "_"
        seen.add(name)
        entry = Collected(name, repository)
        target = out / name
        try:
            if target.exists():
                shutil.rmtree(target)
            source = repository
            if Path(repository).expanduser().exists():
                source = str(Path(repository).expanduser().resolve())
            _git("clone", "--quiet", "--no-checkout", source, str(target))
            ref = f"origin/{branch}" if branch else "origin/HEAD"
            try:
                _git("rev-parse", "--verify", "--quiet", ref, cwd=target)
            except InstructorError:
                ref = f"origin/{branch}" if branch else "HEAD"
            commit = _git("rev-list", "-1", f"--before={before.isoformat()}", ref, cwd=target)
            if not commit:
                entry.status = "no commit before the due date"
                shutil.rmtree(target, ignore_errors=True)
            else:
                _git("-c", "advice.detachedHead=false", "checkout", "--quiet", commit,
                     cwd=target)
                entry.commit = commit
                entry.date = _git("show", "-s", "--format=%cI", commit, cwd=target)
        except (InstructorError, subprocess.SubprocessError, OSError) as error:
            entry.status = f"failed: {error}"
            shutil.rmtree(target, ignore_errors=True)
        results.append(entry)
    with open(out / "collected.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "repository", "commit", "date", "status"])
        for entry in results:
            writer.writerow([entry.name, entry.repository, entry.commit, entry.date,
                             entry.status])
    return results
