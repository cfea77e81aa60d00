"""The leak check's rules about an artifact itself, whatever its stubs.

- ``marker``: a solution marker line left in a file of ``stages/stageK``;
- ``instructor-material``: hidden tests, the instructor tools or the term template inside it;
- ``session-name``: a ``nox -s NAME`` in its Markdown that is not a session of its own
  ``noxfile.py`` (:func:`noxfile_sessions`, :func:`session_references`);
- ``maintainer-words``: an issue number, a path under ``instructor/`` or a solution marker in its
  Markdown, words only a maintainer reads;
- ``broken-link`` (:func:`check_links`): a relative link or image of its Markdown that does not
  resolve inside it, anchors included (read by :mod:`instructor.release.markdown`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from instructor.release.artifact import Finding, artifact_files, stage_of
from instructor.release.markdown import markdown_links, resolve_link
from instructor.release.solutions import BEGIN_MARKER, END_MARKER

#: Path parts that never belong in a student artifact.
_INSTRUCTOR_PARTS = frozenset({"hidden_tests", "instructor", "templates"})


def marker_findings(artifact: Path, files: list[PurePosixPath]) -> list[Finding]:
    """Every solution marker line left in a ``.py`` file of ``stages/stageK``."""
    findings = []
    for relative in files:
        if relative.suffix != ".py" or stage_of(relative) is None:
            continue
        text = (artifact / relative).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip() in (BEGIN_MARKER, END_MARKER):
                findings.append(Finding("marker", relative.as_posix(), number, line.strip(),
                                        "a solution marker line left in a student file"))
    return findings


_NOX_COMMAND = re.compile(r"\bnox\b(?P<args>[^`\n]*)")
_SESSION_OPTION = re.compile(r"(?:^|\s)(?:-s|--sessions?)(?:\s+|=)(?P<name>[A-Za-z_][\w.-]*)")


def _is_nox_session(node: ast.AST) -> bool:
    """``nox.session`` (or a bare ``session`` imported from nox), called or not."""
    target = node.func if isinstance(node, ast.Call) else node
    return (isinstance(target, ast.Attribute) and target.attr == "session"
            and isinstance(target.value, ast.Name) and target.value.id == "nox") or (
        isinstance(target, ast.Name) and target.id == "session")


def _session_name(call: ast.AST) -> ast.AST | None:
    if isinstance(call, ast.Call):
        for keyword in call.keywords:
            if keyword.arg == "name":
                return keyword.value
    return None


def noxfile_sessions(artifact: Path) -> set[str] | None:
    """The session names of the artifact's ``noxfile.py``, read without running it.

    A function decorated ``@nox.session`` is named by its ``name=`` (else its own name); a
    registration ``nox.session(name=f"stage{...}")`` names one session per folder
    ``stages/stageK`` holding a ``pyproject.toml`` (how the student noxfile registers them).
    None: the artifact has no noxfile (or one that does not parse).
    """
    noxfile = artifact / "noxfile.py"
    if not noxfile.is_file():
        return None
    try:
        tree = ast.parse(noxfile.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None
    names: set[str] = set()
    patterns: set[str] = set()

    def add(value: ast.AST | None, default: str | None) -> None:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            names.add(value.value)
        elif isinstance(value, ast.JoinedStr) and value.values and isinstance(
            value.values[0], ast.Constant
        ):
            patterns.add(str(value.values[0].value))
        elif value is None and default is not None:
            names.add(default)

    decorators: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if _is_nox_session(decorator):
                    decorators.add(id(decorator))
                    add(_session_name(decorator), node.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and id(node) not in decorators and _is_nox_session(node):
            add(_session_name(node), None)
    for prefix in patterns:
        if prefix == "stage":
            names |= {path.name for path in (artifact / "stages").glob("stage[0-9]*")
                      if (path / "pyproject.toml").is_file()}
    return names


def session_references(line: str) -> list[tuple[str, str]]:
    """``(command, session)`` of every ``nox -s NAME`` / ``--session NAME`` of a line."""
    found = []
    for command in _NOX_COMMAND.finditer(line):
        args = command["args"].split(" -- ", 1)[0]
        for option in _SESSION_OPTION.finditer(args):
            found.append((f"nox{args[:option.end()]}".strip(), option["name"]))
    return found


#: A name that stands for one: ``nox -s stageK`` (any stage session), ``nox -s NAME``.
_PLACEHOLDER = re.compile(r"(?P<stage>stage)?[A-Z]+")


def _names_a_session(name: str, sessions: set[str]) -> bool:
    placeholder = _PLACEHOLDER.fullmatch(name)
    if placeholder and placeholder["stage"]:
        return any(re.fullmatch(r"stage\d+", session) for session in sessions)
    return placeholder is not None or name in sessions


def session_findings(artifact: Path, files: list[PurePosixPath]) -> list[Finding]:
    """``nox -s NAME`` in a Markdown file of an artifact whose noxfile has no session NAME
    (``nox -s stageK`` stands for any stage session, an upper-case ``NAME`` for any)."""
    sessions = noxfile_sessions(artifact)
    if sessions is None:
        return []
    findings = []
    for relative in files:
        if relative.suffix != ".md":
            continue
        text = (artifact / relative).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for command, name in session_references(line):
                if not _names_a_session(name, sessions):
                    findings.append(Finding(
                        "session-name", relative.as_posix(), number, command,
                        f"no session {name} in this artifact's noxfile.py (it has: "
                        f"{', '.join(sorted(sessions)) or 'none'})"))
    return findings


#: What only a maintainer reads: an issue number, the instructor tools, the solution markers
#: (a student sees only the stubs that replaced them).
_MAINTAINER_WORDS = (
    (re.compile(r"\bissues?\s+#?\d+\b", re.I), "an issue number"),
    (re.compile(r"(?<![\w\]/(#&-])#\d+\b(?![\w-])"), "an issue number"),
    (re.compile(r"(?<![\w./-])instructor/[\w./-]*"), "a path of the instructor tools"),
    (re.compile(r"#\s*(?:BEGIN|END) SOLUTION\b"), "a solution marker the student never sees"),
)


def maintainer_findings(artifact: Path, files: list[PurePosixPath]) -> list[Finding]:
    """Words of the maintainers in a Markdown file a student receives."""
    findings = []
    for relative in files:
        if relative.suffix != ".md":
            continue
        text = (artifact / relative).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for pattern, what in _MAINTAINER_WORDS:
                for match in pattern.finditer(line):
                    findings.append(Finding(
                        "maintainer-words", relative.as_posix(), number, match.group(0),
                        f"{what}: {line.strip()[:160]}"))
    return findings


def material_findings(files: list[PurePosixPath]) -> list[Finding]:
    """Hidden tests, instructor tools or template material (one finding per folder)."""
    findings = []
    reported: set[str] = set()
    for relative in files:
        parts = relative.parts
        hit = next((part for part in parts[:-1] if part in _INSTRUCTOR_PARTS), None)
        if hit is None and relative.name == "cookiecutter.json":
            hit = relative.name
        if hit is None:
            continue
        folder = "/".join(parts[: parts.index(hit) + 1]) if hit in parts[:-1] else str(relative)
        if folder not in reported:
            reported.add(folder)
            findings.append(Finding("instructor-material", folder, 0, hit,
                                    "instructor or template material in a student artifact"))
    return findings


def check_links(artifact: Path, files: Iterable[PurePosixPath] | None = None) -> list[Finding]:
    """Every relative link of the artifact's Markdown files that does not resolve inside it."""
    findings = []
    for relative in files if files is not None else artifact_files(artifact):
        if relative.suffix != ".md":
            continue
        text = (artifact / relative).read_text(encoding="utf-8", errors="replace")
        for number, target in markdown_links(text):
            problem = resolve_link(artifact, relative, target)
            if problem:
                findings.append(Finding("broken-link", relative.as_posix(), number, target,
                                        problem))
    return findings


__all__ = [
    "check_links",
    "maintainer_findings",
    "marker_findings",
    "material_findings",
    "noxfile_sessions",
    "session_findings",
    "session_references",
]
