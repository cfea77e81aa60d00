"""Submission intake: a submission is data, copied into the grader's own folder, never followed.

:func:`take_in` copies a submission (a folder, or a zip) into a fresh folder of the grader's:

- regular files and folders only: a symbolic link (dangling or not), a hard link to a file
  outside the submission, a device, a FIFO or a socket is refused with a message naming the
  entry, in folders and zips alike;
- at most :data:`MAX_ENTRIES` entries, :data:`MAX_FILE_BYTES` per file and
  :data:`MAX_TOTAL_BYTES` in all; a zip is measured from its directory before one byte is
  written, and each file is read with a counter besides;
- nothing is written outside the target folder: every name is checked (no absolute path, no
  ``..``), and every file is created with ``O_EXCL | O_NOFOLLOW``;
- tool folders a student may have zipped along (``.git``, ``.venv``, ``.nox``, ``__pycache__``,
  ``__MACOSX``: :data:`SKIPPED`) are left out unread.

A folder whose only content is zips (how some platforms hand in an upload) has them unpacked
the same way. Then :func:`instructor.grading.package_rule.find_package` finds the package in
the copy, and :func:`syntax_errors` compiles (never runs) its files.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from instructor.repo import InstructorError

#: Entries (files and folders) one submission may hold.
MAX_ENTRIES = 4000
#: Bytes one file may hold.
MAX_FILE_BYTES = 8 * 2**20
#: Bytes all files together may hold (expanded).
MAX_TOTAL_BYTES = 64 * 2**20
#: Folders left out unread, wherever they are.
SKIPPED = frozenset({".git", ".hg", ".svn", ".venv", "venv", ".nox", ".tox", "__pycache__",
                     ".pytest_cache", ".mypy_cache", ".ruff_cache", "__MACOSX", "node_modules",
                     ".ipynb_checkpoints"})

_CHUNK = 1 << 16
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class Refused(InstructorError):
    """The submission holds something the grader does not take; the message names it."""


class _Budget:
    """Counts entries and bytes against the limits."""

    def __init__(self) -> None:
        self.entries = 0
        self.total = 0

    def entry(self, name: str) -> None:
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            raise Refused(f"more than {MAX_ENTRIES} files and folders (at {name}): submit the "
                          "stage folder alone, without data sets or virtual environments")

    def size(self, name: str, size: int) -> None:
        if size > MAX_FILE_BYTES:
            raise Refused(f"{name}: {size} bytes, over the limit of {MAX_FILE_BYTES} bytes per "
                          "file; leave data files and outputs out of the submission")
        self.total += size
        if self.total > MAX_TOTAL_BYTES:
            raise Refused(f"more than {MAX_TOTAL_BYTES} bytes in all (at {name}): leave data "
                          "files and outputs out of the submission")


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _refuse_entry(name: str, kind: str) -> Refused:
    return Refused(f"{name} is {kind}: a submission holds regular files and folders only "
                   "(the grader copies files, it never follows links); replace it by the file "
                   "itself, or leave it out")


def _write(target: Path, chunks, name: str) -> None:
    """Write the chunks into the new file ``target``; refuse more than a file's limit."""
    try:
        descriptor = os.open(target, _WRITE_FLAGS, 0o644)
    except FileExistsError:
        raise Refused(f"{name}: two entries of that name") from None
    written = 0
    with os.fdopen(descriptor, "wb") as handle:
        for chunk in chunks:
            written += len(chunk)
            if written > MAX_FILE_BYTES:
                raise Refused(f"{name}: over the limit of {MAX_FILE_BYTES} bytes per file")
            handle.write(chunk)


def _read_chunks(descriptor: int):
    while True:
        chunk = os.read(descriptor, _CHUNK)
        if not chunk:
            return
        yield chunk


def copy_folder(source: Path, target: Path) -> None:
    """Copy the regular files and folders under ``source`` into the new folder ``target``.

    Raises:
        Refused: a link, a device, a FIFO, a hard link to outside, or a limit passed.
    """
    budget = _Budget()
    inodes: dict[tuple[int, int], list] = {}  # (device, inode) -> [links, names seen]
    target.mkdir(mode=0o755)

    def walk(folder: Path, into: Path, shown: PurePosixPath) -> None:
        with os.scandir(folder) as entries:
            listing = sorted(entries, key=lambda e: e.name)
        for entry in listing:
            name = str(shown / entry.name)
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                if entry.name in SKIPPED:
                    continue
                budget.entry(name)
                (into / entry.name).mkdir(mode=0o755)
                walk(Path(entry.path), into / entry.name, shown / entry.name)
                continue
            if not stat.S_ISREG(info.st_mode):
                raise _refuse_entry(name, _kind(info.st_mode))
            budget.entry(name)
            budget.size(name, info.st_size)
            if info.st_nlink > 1:
                seen = inodes.setdefault((info.st_dev, info.st_ino), [info.st_nlink, []])
                seen[1].append(name)
            descriptor = os.open(entry.path, _READ_FLAGS)
            try:
                opened = os.fstat(descriptor)
                if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino) or \
                        not stat.S_ISREG(opened.st_mode):
                    raise Refused(f"{name} changed while it was copied")
                _write(into / entry.name, _read_chunks(descriptor), name)
            finally:
                os.close(descriptor)

    info = os.lstat(source)
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse_entry(source.name, _kind(info.st_mode))
    walk(source, target, PurePosixPath("."))
    for links, names in inodes.values():
        if len(names) < links:
            raise Refused(f"{names[0].removeprefix('./')} is a hard link to a file outside the "
                          "submission: copy the file itself into the submission")


def _member_name(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The safe relative path of a zip entry; None for entries left out (``__MACOSX``)."""
    raw = info.filename.replace("\\", "/")
    path = PurePosixPath(raw)
    if raw.startswith("/") or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        raise Refused(f"{info.filename}: a zip entry whose name points outside the zip")
    parts = [p for p in path.parts if p not in ("", ".")]
    if not parts or any(p in SKIPPED for p in parts):
        return None
    return PurePosixPath(*parts)


def extract_zip(archive_path: Path, target: Path) -> None:
    """Unpack the zip at ``archive_path`` into the new folder ``target`` (see the module doc).

    Raises:
        Refused: not a zip, a link or special file inside, a name outside, or a limit passed.
    """
    if not zipfile.is_zipfile(archive_path):
        raise Refused(f"{archive_path.name} is not a valid zip file")
    budget = _Budget()
    with zipfile.ZipFile(archive_path) as archive:
        members = archive.infolist()
        if len(members) > MAX_ENTRIES:
            raise Refused(f"{archive_path.name} holds {len(members)} entries, over the limit "
                          f"of {MAX_ENTRIES}: submit the stage folder alone")
        plan = []
        for info in members:  # everything is measured before anything is written
            name = _member_name(info)
            if name is None:
                continue
            mode = info.external_attr >> 16
            if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise _refuse_entry(str(name), _kind(mode))
            budget.entry(str(name))
            if not info.is_dir():
                budget.size(str(name), info.file_size)
            plan.append((info, name))
        target.mkdir(mode=0o755)
        for info, name in plan:
            destination = target.joinpath(*name.parts)
            if info.is_dir():
                destination.mkdir(mode=0o755, parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            with archive.open(info) as member:
                _write(destination, iter(lambda: member.read(_CHUNK), b""), str(name))


def take_in(submission: Path, target: Path) -> Path:
    """Copy ``submission`` (a folder or a zip) into the new folder ``target``; return it.

    A folder that holds zips and no package has its zips unpacked into ``target/zip-N``.

    Raises:
        Refused: what the module docstring lists, naming the entry.
    """
    submission = Path(submission)
    info = os.lstat(submission)
    if stat.S_ISLNK(info.st_mode):
        raise Refused(f"{submission.name} is a symbolic link: give the grader the submission "
                      "itself")
    if stat.S_ISDIR(info.st_mode):
        copy_folder(submission, target)
        has_package = any(p.name == "__init__.py" and p.parent.name == "mini_torch"
                          for p in target.rglob("__init__.py"))
        zips = sorted(target.glob("*.zip"))
        for index, archive_path in enumerate(zips if not has_package else []):
            extract_zip(archive_path, target / f"zip-{index}")
        return target
    if not stat.S_ISREG(info.st_mode):
        raise _refuse_entry(submission.name, _kind(info.st_mode))
    extract_zip(submission, target)
    return target


def syntax_errors(package: Path) -> dict[str, str]:
    """{``src/mini_torch/x.py`` or ``examples/x.py``: message} of the files that do not compile."""
    found = {}
    for folder, prefix in ((package / "src" / "mini_torch", "src/mini_torch"),
                           (package / "examples", "examples")):
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            shown = f"{prefix}/{path.relative_to(folder).as_posix()}"
            try:
                compile(path.read_bytes(), shown, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as error:
                line = getattr(error, "lineno", None)
                where = f"{shown}:{line}" if line else shown
                found[shown] = f"{type(error).__name__}: {getattr(error, 'msg', error)} ({where})"
    return found
