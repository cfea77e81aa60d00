"""Text from a jail made safe where it lands: the terminal, the feedback, ``results.json``, the
gradebook, and the file names of the reports.

Everything a submission chooses (its name, what its code raises or prints) is data. Where it
lands:

- :func:`safe_text`: control characters (C0 but newline and tab, DEL, C1: the ANSI escapes that
  move a terminal's cursor or erase its screen), bidirectional formatting characters (they
  reorder what a reader sees) and undecodable bytes (surrogates) are shown as escapes, ``\\x1b``
  or ``\\u202e``; every line is cut to a bound.
- :func:`safe_cell`: a gradebook cell, one line, and a cell that begins with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return is written as text (a leading ``'``), the OWASP rule
  against CSV injection: a spreadsheet never runs a student's formula. Numbers the grader
  writes itself are not cells of this kind.
- :func:`file_name`: a student's name as a file name, by a mapping that cannot collide: two
  different names never give the same file name (see :func:`file_key` for file systems that
  ignore case).
- :func:`make_out_folder`, :func:`write_new_file`, :func:`replace_file`: the grader owns what it
  writes. It creates its output folder itself (mode 0700; an existing path is refused unless it
  is an empty folder of the grader's own) and every file in it with
  ``O_CREAT | O_EXCL | O_NOFOLLOW``: nothing planted there is followed or overwritten.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from instructor.stages.repo import InstructorError

#: Characters per line that a report keeps of text it did not write itself.
LINE_BOUND = 1000

# C0 controls but tab and newline, DEL, C1 controls; bidirectional marks, embeddings, overrides
# and isolates; the line and paragraph separators; lone surrogates (undecodable bytes).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                     "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

#: The characters a gradebook cell may not begin with (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _escape(match: re.Match) -> str:
    code = ord(match.group(0))
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: object, *, line_bound: int = LINE_BOUND) -> str:
    """``text`` with its unsafe characters escaped and every line cut to ``line_bound``."""
    lines = _UNSAFE.sub(_escape, str(text)).split("\n")
    return "\n".join(line if len(line) <= line_bound else line[:line_bound] + " [cut]"
                     for line in lines)


def safe_cell(value: object, *, bound: int = 240) -> str:
    """A gradebook cell: one line of :func:`safe_text`, never read as a formula."""
    raw = str(value)
    text = safe_text(raw.replace("\r", " ").replace("\n", " "), line_bound=bound)
    # leading blanks too: some spreadsheets drop them before they read a formula
    risky = raw.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS)
    return "'" + text if risky else text


_KEEP = re.compile(rb"[A-Za-z0-9_.-]")
_NAME_BOUND = 120


def file_name(student: str) -> str:
    """A student's name as a file name: ASCII letters, digits, ``_``, ``-`` and ``.`` kept,
    every other byte of its UTF-8 (undecodable bytes as they were) written ``%XX``, a leading
    dot too; a long name is cut and ends with a digest of the whole.

    Injective: ``honest bug`` gives ``honest%20bug``, ``honest_bug`` stays, ``../x`` gives
    ``%2E.%2Fx``; no result holds a path separator or begins with a dot.
    """
    raw = os.fsencode(student) if student else b""
    if not raw:
        return "%"  # the empty name; no other name maps to a lone %
    encoded = "".join(chr(b) if _KEEP.fullmatch(bytes([b])) else f"%{b:02X}" for b in raw)
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    if len(encoded) > _NAME_BOUND:
        digest = hashlib.sha256(raw).hexdigest()[:16]
        encoded = f"{encoded[:_NAME_BOUND]}~{digest}"  # ~ is encoded elsewhere: no clash
    return encoded


def file_key(student: str) -> str:
    """What two names must not share to get two files on a file system that ignores case
    (macOS, Windows): :func:`file_name` case-folded."""
    return file_name(student).casefold()


_SAFE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def write_new_file(path: Path, text: str) -> None:
    """Create ``path`` (it must not exist: nothing there is followed) and write ``text``."""
    descriptor = os.open(path, _SAFE_FLAGS, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


def replace_file(path: Path, text: str) -> Path:
    """Write ``text`` at ``path``; an earlier regular file of the grader's is replaced, anything
    else there (a link, somebody else's file) is refused.

    Raises:
        InstructorError: ``path`` is a link, not a regular file, or not this user's.
    """
    try:
        write_new_file(path, text)
    except FileExistsError:
        info = os.lstat(path)
        if os.path.islink(path) or not os.path.isfile(path) or (
                hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
            raise InstructorError(f"{path}: exists and is not a file of this user's; refusing "
                                  "to write through it") from None
        os.unlink(path)
        write_new_file(path, text)
    return path


def make_out_folder(out: Path) -> None:
    """Create the output folder, mode 0700, refusing a path the grader does not own.

    Raises:
        InstructorError: ``out`` exists and is not an empty folder of the grader's own (a link,
            a file, somebody else's, or one holding earlier results).
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(out, 0o700)
        return
    except FileExistsError:
        pass
    info = os.lstat(out)
    owner = not hasattr(os, "geteuid") or info.st_uid == os.geteuid()
    if not (os.path.isdir(out) and not os.path.islink(out) and owner) or any(out.iterdir()):
        raise InstructorError(
            f"--out {out}: it exists and is not an empty folder of this user's; grading "
            "writes into a new folder of its own: name one that does not exist yet")
    os.chmod(out, 0o700)
