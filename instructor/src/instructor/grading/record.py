"""``run.json``: what produced the grades of one out folder, so that they can be checked later.

A grade is only as good as the question "could it be produced again?". Every out folder holds
one record (staff only: it names the draw's seed) with

- ``tool``: the instructor tools' version, the monorepo's commit and whether its tree was clean;
- ``kit``: the stage, the sha256 of the reference stage's files, of the hidden checks and of the
  weights, and the seed of the checks' draw;
- ``command``: the command line; ``jail``: how student code was shut in; ``platform``: the
  operating system and Python;
- ``started`` and ``ended`` (UTC, ISO 8601);
- ``options``: how it was graded (the limits, the policy, the weights file, the selection,
  with or without the hidden checks, the kit or the monorepo), so that a regrade or a check of
  the run (:mod:`~instructor.grading.regrade`, :mod:`~instructor.grading.verify`) grades the
  same way;
- ``submissions``: per student, what was graded (``sha256`` of a zip, ``tree-sha256`` of a
  folder, the ``commit`` a Classroom collection checked out), where it was (``source``, an
  absolute path) and the score it got.

A digest of a folder (:func:`tree_digest`) hashes each file's path and bytes in sorted order,
leaving out compiled files and ``.git``; it does not depend on time stamps or on the order a
file system lists names.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from instructor.stages.repo import InstructorError, is_build_artifact

RECORD_FILE = "run.json"
RECORD_FORMAT = 1
_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def tree_digest(folder: Path) -> str:
    """sha256 over (relative path, sha256 of the bytes) of every file under ``folder``."""
    digest = hashlib.sha256()
    entries = []
    for path in folder.rglob("*"):
        relative = PurePosixPath(path.relative_to(folder).as_posix())
        if ".git" in relative.parts or is_build_artifact(relative):
            continue
        if path.is_file() and not path.is_symlink():
            entries.append((str(relative), file_digest(path)))
    for relative, content in sorted(entries):
        digest.update(f"{relative}\0{content}\n".encode())
    return digest.hexdigest()


def digest_of(path: Path) -> dict[str, str]:
    """What identifies a submission: a zip's sha256, or a folder's tree digest (and commit)."""
    if path.is_file():
        return {"sha256": file_digest(path)}
    found = {"tree-sha256": tree_digest(path)}
    commit = _git(path, "rev-parse", "HEAD") if (path / ".git").exists() else None
    if commit:
        found["commit"] = commit
    return found


def _git(where: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(where), *args], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def repository_state(root: Path) -> dict[str, object]:
    """The monorepo's commit, and whether its working tree matched it (no change, no new file)."""
    commit = _git(root, "rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "clean": False}
    status = _git(root, "status", "--porcelain", "--untracked-files=normal")
    return {"commit": commit, "clean": status == ""}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class RunRecord:
    stage: int
    command: list[str]
    started: str
    tool: dict = field(default_factory=dict)
    kit: dict = field(default_factory=dict)
    jail: str = ""
    platform: dict = field(default_factory=dict)
    ended: str = ""
    submissions: dict[str, dict] = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    format: int = RECORD_FORMAT

    def add(self, student: str, source: Path, score: float, status: str) -> None:
        self.submissions[student] = {**digest_of(source), "source": os.path.abspath(source),
                                     "score": score, "status": status}

    def write(self, out: Path) -> Path:
        path = out / RECORD_FILE
        path.write_text(json.dumps(asdict(self), indent=1, sort_keys=True) + "\n",
                        encoding="utf-8")
        return path


def start_record(*, root: Path | None, stage: int, command: Sequence[str], reference: Path,
                 hidden: Path | None, weights: Path | None, seed: int, jail: str) -> RunRecord:
    """The record of a run about to start (``ended`` and ``submissions`` filled as it goes)."""
    from instructor import __version__

    def digest(path: Path | None) -> str | None:
        if path is None or not path.exists():
            return None
        return tree_digest(path) if path.is_dir() else file_digest(path)

    tool = {"version": __version__, **(repository_state(root) if root else
                                       {"commit": None, "clean": False})}
    kit = {"reference": digest(reference), "hidden": digest(hidden), "weights": digest(weights),
           "seed": seed}
    system = {"system": platform.system(), "release": platform.release(),
              "machine": platform.machine(), "python": sys.version.split()[0]}
    return RunRecord(stage=stage, command=list(command), started=now(), tool=tool, kit=kit,
                     jail=jail, platform=system)


def read_record(out: Path) -> RunRecord:
    path = out / RECORD_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != RECORD_FORMAT:
            raise InstructorError(f"{path}: record format {data.get('format')!r}; this version "
                                  f"reads {RECORD_FORMAT}")
        return RunRecord(**data)
    except (OSError, ValueError, TypeError) as error:
        raise InstructorError(f"{path}: cannot read the run record ({error})") from error


def changed_submissions(record: RunRecord, sources: Iterable[tuple[str, Path]]) -> list[str]:
    """Students whose submission is no longer what the record says was graded."""
    changed = []
    for student, source in sources:
        recorded = record.submissions.get(student)
        now_digest = digest_of(source)
        if recorded is None or any(recorded.get(k) != v for k, v in now_digest.items()):
            changed.append(student)
    return changed
