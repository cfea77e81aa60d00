"""Submission intake: a submission is data, copied into the grader's own folder, never followed.

:func:`take_in` copies a submission (a folder, or a zip) into a fresh folder of the grader's:

- every name is text the grader can show: a name (the submission's own, a file's, a folder's,
  a zip entry's) that is not UTF-8, or holds a control character or a bidirectional formatting
  character, is refused by :func:`check_name`, which shows it with the bad characters escaped;
- regular files and folders only: a symbolic link (dangling or not), a hard link to a file
  outside the submission, a device, a FIFO or a socket is refused with a message naming the
  entry, in folders and zips alike;
- the whole submission (the folder, and the zips it holds once unpacked) is measured before one
  byte is written: at most :data:`MAX_ENTRIES` files and folders (a folder a zip entry's name
  only implies counts too), :data:`MAX_FILE_BYTES` per file and :data:`MAX_TOTAL_BYTES` in all;
  a zip's central directory is read by its end record before :mod:`zipfile` parses it
  (:data:`MAX_DIRECTORY_BYTES`, and the count of entries), and each file is read with a counter
  besides;
- the copies of all submissions taken in and not yet released (:func:`release`) hold at most
  :data:`BATCH_MAX_BYTES` and :data:`BATCH_MAX_ENTRIES` together: a submission whose measure does
  not fit waits, before writing, until earlier copies are released;
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
import struct
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from instructor.stages.repo import InstructorError

#: Entries (files and folders, those a zip entry's name implies included) one submission may hold.
MAX_ENTRIES = 4000
#: Bytes one file may hold.
MAX_FILE_BYTES = 8 * 2**20
#: Bytes all files of one submission together may hold (the zips it holds, and their content).
MAX_TOTAL_BYTES = 64 * 2**20
#: Bytes of a zip's central directory (4,000 entries with names of 200 characters take 1 MiB).
MAX_DIRECTORY_BYTES = 2**20
#: Bytes of one name in a zip (a path inside it).
MAX_NAME_BYTES = 1024
#: Bytes and entries the copies of the submissions being graded at once may hold together.
BATCH_MAX_BYTES = 4 * MAX_TOTAL_BYTES
BATCH_MAX_ENTRIES = 4 * MAX_ENTRIES
#: Folders left out unread, wherever they are.
SKIPPED = frozenset({".git", ".hg", ".svn", ".venv", "venv", ".nox", ".tox", "__pycache__",
                     ".pytest_cache", ".mypy_cache", ".ruff_cache", "__MACOSX", "node_modules",
                     ".ipynb_checkpoints"})
#: Characters that change the order in which text is shown (a name can pass for another).
BIDI_FORMATTING = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                            "\u2066\u2067\u2068\u2069")

_CHUNK = 1 << 16
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)

# The zip records read before zipfile parses the central directory (APPNOTE.TXT 4.3.12-4.3.16).
_END = struct.Struct("<4s4H2LH")  # signature, disks, entries here, entries, size, offset, comment
_END_SIGNATURE = b"PK\x05\x06"
_LOCATOR64 = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_CENTRAL_SIGNATURE = b"PK\x01\x02"
_UTF8_FLAG = 0x800


class Refused(InstructorError):
    """The submission holds something the grader does not take; the message names it."""


def _unsafe(character: str) -> bool:
    code = ord(character)
    return (code < 0x20 or 0x7F <= code <= 0x9F or character in BIDI_FORMATTING
            or 0xD800 <= code <= 0xDFFF)


def shown_name(name: str | bytes) -> str:
    """``name`` as text safe to show anywhere: bytes that are not UTF-8 as ``\\xff``, control
    and bidirectional formatting characters as ``\\x1b``, ``\\u202e``; a good name unchanged."""
    if isinstance(name, str):
        try:  # the bytes Python read as surrogates (os.fsdecode) back to bytes
            name = name.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a surrogate no bytes decode to: shown as its UTF-8 form
            name = name.encode("utf-8", "surrogatepass")
    text = name.decode("utf-8", "backslashreplace")
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 0x100 and _unsafe(c)
                   else f"\\u{ord(c):04x}" if _unsafe(c) else c for c in text)


def check_name(name: str | bytes, inside: str = "") -> str:
    """The name of a submission, a file or folder in it, or a zip entry, as text; refused when
    it cannot be shown as it is.

    A name is given as the bytes the file system or the zip holds (``os.fsencode``,
    ``os.scandir`` of a bytes path), or as the ``str`` Python made of them (where bytes that are
    not UTF-8 became surrogates). ``inside``: where it is (a folder, a zip), for the message.

    Raises:
        Refused: the name is not UTF-8, or holds a control character (C0, DEL, C1) or a
            bidirectional formatting character (U+061C, U+200E/F, U+202A-E, U+2066-9); the
            message shows the name with those escaped (:func:`shown_name`).
    """
    if isinstance(name, bytes):
        try:
            text = name.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    else:
        text = name if not any(0xD800 <= ord(c) <= 0xDFFF for c in name) else None
    if text is None:
        why = "is not UTF-8 text"
    else:
        bad = [c for c in text if _unsafe(c)]
        if not bad:
            return text
        why = ("holds a bidirectional formatting character, which shows it as another name"
               if bad[0] in BIDI_FORMATTING else "holds a control character")
    where = f" in {inside}" if inside else ""
    raise Refused(f'the name "{shown_name(name)}"{where} {why}: name files and folders with '
                  'letters, digits, spaces, "-", "_" and "."')


@dataclass
class _Budget:
    """Counts entries and bytes of one submission against the limits."""

    entries: int = 0
    total: int = 0

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


class _Ledger:
    """What the copies taken in and not yet released hold together: a copy is written only
    once its whole measure fits beside the others (so no copy waits holding a part)."""

    def __init__(self) -> None:
        self.held: dict[str, tuple[int, int]] = {}
        self.changed = threading.Condition()

    def total(self) -> tuple[int, int]:
        with self.changed:
            return (sum(b for b, _ in self.held.values()), sum(e for _, e in self.held.values()))

    def reserve(self, target: Path, budget: _Budget) -> None:
        with self.changed:
            while self.held:
                held_bytes, held_entries = self.total()
                if held_bytes + budget.total <= BATCH_MAX_BYTES and \
                        held_entries + budget.entries <= BATCH_MAX_ENTRIES:
                    break
                self.changed.wait()
            self.held[str(target)] = (budget.total, budget.entries)

    def release(self, target: Path) -> None:
        with self.changed:
            self.held.pop(str(target), None)
            self.changed.notify_all()


_LEDGER = _Ledger()


def release(target: Path) -> None:
    """Count the copy taken in at ``target`` no more (it is removed, or kept on purpose)."""
    _LEDGER.release(Path(target))


def held() -> tuple[int, int]:
    """(bytes, entries) the copies taken in and not yet released hold together."""
    return _LEDGER.total()


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


def _write(target: Path, chunks, name: str, limit: int = MAX_FILE_BYTES) -> None:
    """Write the chunks into the new file ``target``; refuse more than ``limit`` bytes."""
    try:
        descriptor = os.open(target, _WRITE_FLAGS, 0o644)
    except FileExistsError:
        raise Refused(f"{name}: two entries of that name") from None
    written = 0
    with os.fdopen(descriptor, "wb") as handle:
        for chunk in chunks:
            written += len(chunk)
            if written > limit:
                raise Refused(f"{name}: over the limit of {limit} bytes, or changed while it "
                              "was taken in")
            handle.write(chunk)


def _read_chunks(descriptor: int):
    while True:
        chunk = os.read(descriptor, _CHUNK)
        if not chunk:
            return
        yield chunk


# --- folders -------------------------------------------------------------------------------------


@dataclass
class _FolderPlan:
    """What copying a folder writes: folders, then files with the stat they were measured by."""

    folders: list[PurePosixPath] = field(default_factory=list)
    files: list[tuple[bytes, PurePosixPath, os.stat_result]] = field(default_factory=list)


def _plan_folder(source: Path, budget: _Budget) -> _FolderPlan:
    """Measure the regular files and folders under ``source`` (names checked, links refused)."""
    plan = _FolderPlan()
    inodes: dict[tuple[int, int], list] = {}  # (device, inode) -> [links, names seen]

    def walk(folder: bytes, shown: PurePosixPath) -> None:
        with os.scandir(folder) as entries:  # a bytes path: the names as the disk holds them
            listing = sorted(entries, key=lambda e: e.name)
        for entry in listing:
            name = shown / check_name(entry.name, str(shown) if shown.parts else "")
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(info.st_mode):
                if name.name in SKIPPED:
                    continue
                budget.entry(str(name))
                plan.folders.append(name)
                walk(entry.path, name)
                continue
            if not stat.S_ISREG(info.st_mode):
                raise _refuse_entry(str(name), _kind(info.st_mode))
            budget.entry(str(name))
            budget.size(str(name), info.st_size)
            if info.st_nlink > 1:
                seen = inodes.setdefault((info.st_dev, info.st_ino), [info.st_nlink, []])
                seen[1].append(str(name))
            plan.files.append((entry.path, name, info))

    info = os.lstat(source)
    if not stat.S_ISDIR(info.st_mode):
        raise _refuse_entry(source.name, _kind(info.st_mode))
    walk(os.fsencode(source), PurePosixPath())
    for links, names in inodes.values():
        if len(names) < links:
            raise Refused(f"{names[0]} is a hard link to a file outside the submission: copy "
                          "the file itself into the submission")
    return plan


def _copy_planned(plan: _FolderPlan, target: Path) -> None:
    """Write what :func:`_plan_folder` measured into the new folder ``target``."""
    target.mkdir(mode=0o755)
    for name in plan.folders:
        target.joinpath(*name.parts).mkdir(mode=0o755)
    for path, name, info in plan.files:
        descriptor = os.open(path, _READ_FLAGS)
        try:
            opened = os.fstat(descriptor)
            if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino) or \
                    not stat.S_ISREG(opened.st_mode):
                raise Refused(f"{name} changed while it was copied")
            _write(target.joinpath(*name.parts), _read_chunks(descriptor), str(name),
                   limit=info.st_size)
        finally:
            os.close(descriptor)


def copy_folder(source: Path, target: Path) -> None:
    """Copy the regular files and folders under ``source`` into the new folder ``target``.

    Raises:
        Refused: a name that is not text, a link, a device, a FIFO, a hard link to outside,
            or a limit passed.
    """
    _copy_planned(_plan_folder(Path(source), _Budget()), Path(target))


# --- zips ----------------------------------------------------------------------------------------


def _end_records(handle) -> list[tuple[int, int, int]]:
    """(entries, size, start) of each central directory a zip reader may take: the end record
    at the file's end or any found in its last 64 KiB (where :mod:`zipfile` looks), with its
    zip64 record applied."""
    handle.seek(0, os.SEEK_END)
    file_size = handle.tell()
    tail_start = max(file_size - (1 << 16) - _END.size, 0)
    handle.seek(tail_start)
    tail = handle.read()
    records = []
    at = tail.rfind(_END_SIGNATURE)
    while at >= 0:
        if at + _END.size <= len(tail):
            fields = _END.unpack_from(tail, at)
            entries, size, location = fields[4], fields[5], tail_start + at
            start = location - size
            if location >= _LOCATOR64.size + _END64.size:
                handle.seek(location - _LOCATOR64.size)
                locator = _LOCATOR64.unpack(handle.read(_LOCATOR64.size))
                handle.seek(location - _LOCATOR64.size - _END64.size)
                end64 = _END64.unpack(handle.read(_END64.size))
                if locator[0] == b"PK\x06\x07" and end64[0] == b"PK\x06\x06":
                    entries, size = end64[7], end64[8]
                    start = location - _LOCATOR64.size - _END64.size - size
            records.append((entries, size, start))
        at = tail.rfind(_END_SIGNATURE, 0, at)
    return records


def _directory_names(handle, shown: str) -> list[tuple[bytes, int]]:
    """(name as the zip holds it, flag bits) of each central-directory entry, read record by
    record from the end record, and refused above the caps before :mod:`zipfile` sees them."""
    records = _end_records(handle)
    if not records:
        raise Refused(f"{shown} is not a valid zip file")
    for entries, size, _ in records:  # whichever record a reader takes, it is small
        if entries > MAX_ENTRIES:
            raise Refused(f"{shown} holds {entries} entries, over the limit of {MAX_ENTRIES}: "
                          "submit the stage folder alone")
        if size > MAX_DIRECTORY_BYTES:
            raise Refused(f"{shown}: its directory takes {size} bytes, over the limit of "
                          f"{MAX_DIRECTORY_BYTES}: submit the stage folder alone")
    _, size, start = records[0]
    if start < 0:
        raise Refused(f"{shown} is not a valid zip file")
    handle.seek(start)
    directory = handle.read(size)
    names, at = [], 0
    while at < len(directory):
        if len(directory) - at < _CENTRAL.size or \
                directory[at:at + 4] != _CENTRAL_SIGNATURE:
            raise Refused(f"{shown} is not a valid zip file (a broken directory)")
        fields = _CENTRAL.unpack_from(directory, at)
        name_length, extra_length, comment_length = fields[12], fields[13], fields[14]
        name = directory[at + _CENTRAL.size:at + _CENTRAL.size + name_length]
        names.append((name, fields[5]))
        if len(names) > MAX_ENTRIES:
            raise Refused(f"{shown} holds more than {MAX_ENTRIES} entries, over the limit: "
                          "submit the stage folder alone")
        at += _CENTRAL.size + name_length + extra_length + comment_length
    return names


def _member_name(info: zipfile.ZipInfo, shown: str) -> PurePosixPath | None:
    """The safe relative path of a zip entry; None for entries left out (``__MACOSX``)."""
    # zipfile decodes a name without the UTF-8 flag as cp437: take back its bytes, as UTF-8
    raw = info.orig_filename.encode("utf-8" if info.flag_bits & _UTF8_FLAG else "cp437")
    text = check_name(raw, shown).replace("\\", "/")
    path = PurePosixPath(text)
    if len(raw) > MAX_NAME_BYTES:
        raise Refused(f"{shown_name(raw[:80])}...: a zip entry whose name is over "
                      f"{MAX_NAME_BYTES} bytes long")
    if text.startswith("/") or (path.parts and ":" in path.parts[0]) or ".." in path.parts:
        raise Refused(f"{text}: a zip entry whose name points outside the zip")
    parts = [p for p in path.parts if p not in ("", ".")]
    if not parts or any(p in SKIPPED for p in parts):
        return None
    return PurePosixPath(*parts)


@dataclass
class _ZipPlan:
    """An open zip and what unpacking it writes, measured."""

    archive: zipfile.ZipFile
    members: list[tuple[zipfile.ZipInfo, PurePosixPath]]
    folders: list[PurePosixPath]


def _plan_zip(archive_path: Path, budget: _Budget, shown: str) -> _ZipPlan:
    """Open the zip at ``archive_path`` and measure what it would write into ``budget``: its
    files and every folder (named or implied by a name), before anything is written."""
    descriptor = os.open(archive_path, _READ_FLAGS)
    handle = os.fdopen(descriptor, "rb")
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise _refuse_entry(shown, _kind(os.fstat(descriptor).st_mode))
        names = _directory_names(handle, shown)
        for raw, _ in names:
            check_name(raw, shown)
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, ValueError, EOFError) as error:
            raise Refused(f"{shown} is not a valid zip file ({error})") from None
        if len(archive.infolist()) != len(names):
            archive.close()
            raise Refused(f"{shown} is not a valid zip file (its directory reads two ways)")
    except BaseException:
        handle.close()
        raise
    try:
        members, folders, seen = [], [], set()
        for info in archive.infolist():
            name = _member_name(info, shown)
            if name is None:
                continue
            mode = info.external_attr >> 16
            if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise _refuse_entry(str(name), _kind(mode))
            implied = list(reversed(list(name.parents)[:-1])) + ([name] if info.is_dir() else [])
            for folder in implied:
                if folder not in seen:
                    seen.add(folder)
                    budget.entry(f"{shown}: {folder}/")
                    folders.append(folder)
            if not info.is_dir():
                budget.entry(f"{shown}: {name}")
                budget.size(f"{shown}: {name}", info.file_size)
                members.append((info, name))
        return _ZipPlan(archive, members, folders)
    except BaseException:
        archive.close()
        handle.close()
        raise


def _unpack_planned(plan: _ZipPlan, target: Path) -> None:
    """Write what :func:`_plan_zip` measured into the new folder ``target``."""
    target.mkdir(mode=0o755)
    for folder in plan.folders:
        target.joinpath(*folder.parts).mkdir(mode=0o755, exist_ok=True)
    for info, name in plan.members:
        with plan.archive.open(info) as member:
            _write(target.joinpath(*name.parts), iter(lambda: member.read(_CHUNK), b""),
                   str(name), limit=info.file_size)


def _close(plan: _ZipPlan) -> None:
    handle = plan.archive.fp
    plan.archive.close()
    if handle is not None:
        handle.close()


def extract_zip(archive_path: Path, target: Path) -> None:
    """Unpack the zip at ``archive_path`` into the new folder ``target`` (see the module doc).

    Raises:
        Refused: not a zip, a name that is not text, a link or special file inside, a name
            outside, or a limit passed.
    """
    plan = _plan_zip(Path(archive_path), _Budget(), Path(archive_path).name)
    try:
        _unpack_planned(plan, Path(target))
    finally:
        _close(plan)


# --- a submission --------------------------------------------------------------------------------


def take_in(submission: Path, target: Path) -> Path:
    """Copy ``submission`` (a folder or a zip) into the new folder ``target``; return it.

    A folder that holds zips and no package has its zips unpacked into ``target/zip-N``. All of
    it is measured first against one submission's limits, and written once it fits beside the
    copies not yet released (call :func:`release` with ``target`` once the copy is gone).

    Raises:
        Refused: what the module docstring lists, naming the entry.
    """
    submission, target = Path(submission), Path(target)
    check_name(os.fsencode(submission.name))
    info = os.lstat(submission)
    if stat.S_ISLNK(info.st_mode):
        raise Refused(f"{submission.name} is a symbolic link: give the grader the submission "
                      "itself")
    budget = _Budget()
    zips: list[tuple[_ZipPlan, Path]] = []
    try:
        if stat.S_ISDIR(info.st_mode):
            folder = _plan_folder(submission, budget)
            has_package = any(name.name == "__init__.py" and name.parent.name == "mini_torch"
                              for _, name, _ in folder.files)
            archives = [] if has_package else [(path, name) for path, name, _ in folder.files
                                               if len(name.parts) == 1 and name.suffix == ".zip"]
            for index, (path, name) in enumerate(archives):
                budget.entry(f"zip-{index}/")
                zips.append((_plan_zip(Path(os.fsdecode(path)), budget, str(name)),
                             target / f"zip-{index}"))
            _LEDGER.reserve(target, budget)
            _copy_planned(folder, target)
        elif stat.S_ISREG(info.st_mode):
            zips.append((_plan_zip(submission, budget, submission.name), target))
            _LEDGER.reserve(target, budget)
        else:
            raise _refuse_entry(submission.name, _kind(info.st_mode))
        for plan, into in zips:
            _unpack_planned(plan, into)
    finally:
        for plan, _ in zips:
            _close(plan)
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
