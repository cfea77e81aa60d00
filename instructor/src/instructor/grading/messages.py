"""Messages for students: worker errors rewritten to point at the student's own lines.

The worker reports an exception as its type, message and frames ``[file, line, function,
text]`` with the jail's paths. :func:`describe_error` turns them into ``where`` (the innermost
frame in a file the student wrote, as ``src/mini_torch/nn/loss.py:95 in forward``) and a short
traceback of the frames in the package and the examples (numpy's and the worker's own frames are
left out).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection

#: Lines, and characters per line, of an error message that reach the feedback.
MESSAGE_LINES = 4
LINE_CHARACTERS = 240
#: What is read of a worker's error record, which the code under test can forge: the last
#: frames (the worker sends at most 12), characters of a message, of a path, of a name.
MAX_FRAMES = 12
MAX_TEXT = 8000
MAX_PATH = 1000
NAME_CHARACTERS = 80

_PATH = re.compile(r"(?<![\w.~-])/(?:[\w.@+~-]+/)*[\w.@+~-]+")


def clean_text(text: str, *, site: str, examples: str) -> str:
    """``text`` as a student may see it: at most :data:`MESSAGE_LINES` lines, the package's
    paths in the student's terms (``src/mini_torch/nn/loss.py``) and every other absolute path
    replaced by ``<path>`` (what code under test puts in an exception is not the grader's to
    pass on: its command line, the folders around it, its environment)."""

    def replace(match: re.Match) -> str:
        return student_path(match.group(0), site, examples) or "<path>"

    lines = [line.rstrip() for line in str(text)[:MAX_TEXT].strip().splitlines()
             if line.strip()]
    shown = [_PATH.sub(replace, line)[:LINE_CHARACTERS] for line in lines[:MESSAGE_LINES]]
    if len(lines) > MESSAGE_LINES:
        shown.append(f"... ({len(lines) - MESSAGE_LINES} more lines)")
    return "\n".join(shown)


def student_path(path: str, site: str, examples: str) -> str | None:
    """``src/mini_torch/...`` or ``examples/...`` for a file of the package under test."""
    path = os.path.normpath(path)
    package = os.path.join(os.path.normpath(site), "mini_torch") + os.sep
    if path.startswith(package):
        return "src/mini_torch/" + path[len(package):].replace(os.sep, "/")
    examples = os.path.normpath(examples) + os.sep
    if path.startswith(examples):
        return "examples/" + path[len(examples):].replace(os.sep, "/")
    return None


def describe_error(error: dict, *, site: str, examples: str, own_files: Collection[str],
                   limit: float | None = None) -> tuple[str, str, str]:
    """(message, where, details) of a worker error, in the student's terms.

    ``own_files``: the files of this run written by the student (``src/mini_torch/nn/loss.py``);
    the other package files are the grader's copies, named but not quoted in the details.
    ``limit``: the CPU seconds the check had (for a timeout's message).

    The record comes from the jail, so it is read as forgeable: only its last
    :data:`MAX_FRAMES` frames, each ``[str, int, str, str]`` or skipped, every text cut.
    """
    kind = re.sub(r"[^\w.]", "", _text(error.get("type"), 200) or "Error")[:60] or "Error"
    text = clean_text(_text(error.get("message"), MAX_TEXT), site=site, examples=examples)
    frames = error.get("frames")
    frames = frames[-MAX_FRAMES:] if isinstance(frames, list) else []
    lines, where = [], ""
    for frame in frames:
        if not (isinstance(frame, list) and len(frame) == 4 and isinstance(frame[0], str)
                and frame[0][:MAX_PATH].isprintable() and type(frame[1]) is int
                and 0 <= frame[1] < 10**9 and isinstance(frame[2], str)):
            continue
        path, line = frame[0][:MAX_PATH], frame[1]
        code = " ".join(_text(frame[3], LINE_CHARACTERS).split())
        function = re.sub(r"[^\w.<>]", "", frame[2])[:NAME_CHARACTERS] or "?"
        shown = student_path(path, site, examples)
        if shown is None:
            continue
        mine = shown in own_files or shown.startswith("examples/")
        label = "" if mine else " (the grader's copy)"
        lines.append(f"{shown}:{line} in {function}{label}")
        if code and mine:  # the grader's copies are not quoted
            lines.append(f"    {code}")
        if mine:
            where = f"{shown}:{line} in {function}"
    if kind == "Timeout":
        budget = f" of {limit:g} CPU seconds" if limit is not None else ""
        swallowed = (" The loop caught the interruption and went on (an `except "
                     "BaseException:` or a bare `except:` around it?), so the worker was ended."
                     if error.get("hard") else "")
        message = (f"Timeout: the check used more than its limit{budget} and was stopped"
                   + (f" while running {where}" if where else "")
                   + ". Look for an endless loop (a loop whose condition never changes) or a "
                   "very slow computation there." + swallowed)
    else:
        message = f"{kind}: {text}" if text else kind
    return message, where, "\n".join(lines)


def _text(value, most: int) -> str:
    """``value`` as text of at most ``most`` characters: a string cut, anything else empty."""
    return value[:most] if isinstance(value, str) else ""
