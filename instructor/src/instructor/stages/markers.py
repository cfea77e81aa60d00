"""Solution markers: where a stage's code holds the work of its students, and the stubs for it.

In the reference stages, the code a student writes sits between two whole comment lines, indented
like the code they enclose::

    def relu(x: np.ndarray) -> np.ndarray:
        \"\"\"Rectified linear unit.\"\"\"
        x = as_float_array(x, "x", "relu")
        # BEGIN SOLUTION
        return np.maximum(x, 0)
        # END SOLUTION

Only a line whose stripped text equals the marker counts; a sentence that mentions a marker (in a
docstring, a README) is text. A comment line that nearly matches (``# BEGIN SOLUTION: relu``,
``# end solution``) is refused, because it would silently leak the solution into a release.

:func:`stub_solutions` replaces each region by one line at the indentation of its BEGIN marker::

    raise NotImplementedError("Stage 1: implement mini_torch.functional.relu (see docs/stage1.md)")

These are facts of a stage's code, read alike by the release (:mod:`instructor.release`) and by
grading and the similarity check, which find a submission's regions and stubs the same way.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass

BEGIN_MARKER = "# BEGIN SOLUTION"
END_MARKER = "# END SOLUTION"

# A comment that talks like a marker without being one: "#BEGIN SOLUTION", "# end solution:".
_NEAR_MARKER = re.compile(r"^#\s*(BEGIN|END)\s+SOLUTION\b", re.IGNORECASE)

#: The stub text; ``{stage}``, ``{name}`` and ``{doc}`` are filled in.
STUB_MESSAGE = "Stage {stage}: implement {name} (see {doc})"

#: What every stub line of a release looks like (for tools that read releases back).
STUB_LINE = re.compile(
    r'^(?P<indent>\s*)raise NotImplementedError\("Stage (?P<stage>\d+): implement (?P<name>\S+) '
    r'\(see (?P<doc>[^)]+)\)"\)\s*$'
)


class MarkerError(Exception):
    """Unbalanced, nested or malformed solution markers; the message starts with ``file:line:``."""


@dataclass(frozen=True)
class Region:
    """One solution region: the 1-based line numbers of its two markers and their indentation."""

    begin: int
    end: int
    indent: str


def marker_kind(line: str) -> str | None:
    """``"begin"`` or ``"end"`` for a marker line (its stripped text is exactly the marker)."""
    stripped = line.strip()
    if stripped == BEGIN_MARKER:
        return "begin"
    if stripped == END_MARKER:
        return "end"
    return None


def find_regions(text: str, filename: str = "<source>") -> list[Region]:
    """Every solution region of ``text``, in order.

    Raises:
        MarkerError: an END without a BEGIN, a BEGIN inside an open region, a BEGIN never closed,
            an END indented differently from its BEGIN, or a comment that looks like a marker but
            is not exactly one. The message names ``filename`` and the line.
    """
    regions: list[Region] = []
    open_line, open_indent = 0, ""
    for number, line in enumerate(text.splitlines(), start=1):
        kind = marker_kind(line)
        if kind is None:
            if _NEAR_MARKER.match(line.strip()):
                raise MarkerError(
                    f"{filename}:{number}: {line.strip()!r} looks like a solution marker but is "
                    f"not one; write exactly {BEGIN_MARKER!r} or {END_MARKER!r} on its own line"
                )
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if kind == "begin":
            if open_line:
                raise MarkerError(
                    f"{filename}:{number}: {BEGIN_MARKER} inside the region opened at line "
                    f"{open_line}; regions cannot nest (close it with {END_MARKER} first)"
                )
            open_line, open_indent = number, indent
            continue
        if not open_line:
            raise MarkerError(
                f"{filename}:{number}: {END_MARKER} without a {BEGIN_MARKER} before it"
            )
        if indent != open_indent:
            raise MarkerError(
                f"{filename}:{number}: {END_MARKER} is indented differently from the "
                f"{BEGIN_MARKER} at line {open_line}; indent both like the code they enclose"
            )
        regions.append(Region(open_line, number, open_indent))
        open_line = 0
    if open_line:
        raise MarkerError(f"{filename}:{open_line}: {BEGIN_MARKER} is never closed by {END_MARKER}")
    return regions


def enclosing_names(text: str, filename: str = "<source>") -> dict[int, str]:
    """For each line inside a function or class of ``text``: its qualified name there.

    ``{12: "Linear.forward", 30: "relu"}``: the innermost ``def``/``class`` chain around the line.
    Lines outside every definition are absent.

    Raises:
        MarkerError: ``text`` is not valid Python (the message names the file and line).
    """
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as error:
        raise MarkerError(f"{filename}:{error.lineno}: not valid Python: {error.msg}") from error
    names: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualified = f"{prefix}.{child.name}" if prefix else child.name
                # The body starts after the signature; a marker line sits inside the body's span.
                for line in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                    names[line] = qualified
                visit(child, qualified)
            else:
                visit(child, prefix)

    visit(tree, "")
    return names


def region_name(owner: str, scope: str | None) -> str:
    """The qualified name of a region: ``mini_torch.nn.linear.Linear.forward``, or for a script
    (``owner`` ends with ``:``) ``examples/train.py:train_step``."""
    if owner.endswith(":"):
        return f"{owner}{scope}" if scope else owner.rstrip(":")
    return f"{owner}.{scope}" if scope else owner


def stub_solutions(
    text: str,
    *,
    owner: str,
    stage: int,
    doc: str | Callable[[str], str],
    filename: str = "<source>",
) -> tuple[str, list[str]]:
    """Replace every solution region of ``text`` by a ``raise NotImplementedError`` stub.

    Args:
        text: the source of one reference file.
        owner: how the stub names the file's scope: a dotted module (``mini_torch.nn.linear``),
            joined with ``.`` to the enclosing function, or ``examples/train.py:`` for a script,
            joined directly (``examples/train.py:train_step``).
        stage: the stage number the message names.
        doc: the guide the message points to (``docs/stage3.md``), or a function of the
            qualified name that returns it (``docs/stage1.md#linear``).
        filename: the file name used in error messages.

    Returns:
        (the stubbed source, the qualified names stubbed, in order).

    Raises:
        MarkerError: malformed markers, or a result that is no longer valid Python.
    """
    regions = find_regions(text, filename)
    if not regions:
        return text, []
    names = enclosing_names(text, filename)
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    output: list[str] = []
    stubbed: list[str] = []
    cursor = 0
    for region in regions:
        output.extend(lines[cursor : region.begin - 1])
        name = region_name(owner, names.get(region.begin))
        where = doc(name) if callable(doc) else doc
        message = STUB_MESSAGE.format(stage=stage, name=name, doc=where)
        output.append(f'{region.indent}raise NotImplementedError("{message}"){newline}')
        stubbed.append(name)
        cursor = region.end
    output.extend(lines[cursor:])
    result = "".join(output)
    try:
        ast.parse(result, filename=filename)
    except SyntaxError as error:
        raise MarkerError(
            f"{filename}:{error.lineno}: the stubbed file is not valid Python ({error.msg}); "
            "a region must hold whole statements of one body"
        ) from error
    return result, stubbed


__all__ = [
    "BEGIN_MARKER",
    "END_MARKER",
    "STUB_LINE",
    "STUB_MESSAGE",
    "MarkerError",
    "Region",
    "enclosing_names",
    "find_regions",
    "marker_kind",
    "region_name",
    "stub_solutions",
]
