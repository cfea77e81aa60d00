"""Where an artifact gives a stub's answer away: solved copies, solution text, open paths.

The stubs are the ``raise NotImplementedError("Stage K: implement NAME (see GUIDE)")`` lines of
``stages/stageK/**.py`` (:func:`find_stubs`). For each protected stub, the leak check
(:mod:`instructor.release.leakcheck`) asks this module for

- :func:`copy_findings` (``solved-copy``): a solved definition of the same module path and name,
  or of the same script function in another copy of the script;
- :func:`text_findings` (``solution-text``): :data:`WINDOW` or more consecutive lines of the
  stub's reference solution (:func:`reference_solutions`, read from the monorepo) in any text
  file, compared as :func:`normalize` shows them;
- :func:`outside_findings` (``outside-markers``): a stub's ``raise`` inside a branch, or a
  ``return``/``yield`` of its function that answers without the student.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from instructor.release.artifact import Finding, StubSite, artifact_files, stage_of
from instructor.release.solutions import STUB_LINE, MarkerError, solution_bodies
from instructor.stages.repo import PACKAGE_SUBDIR

#: A reference solution shares this many consecutive lines with a text before it is a leak.
WINDOW = 3

#: Files larger than this are data, not text a student reads (the bundled CSVs are gzipped).
_MAX_TEXT_BYTES = 2_000_000
_BINARY_SUFFIXES = frozenset({".gz", ".zip", ".png", ".jpg", ".jpeg", ".gif", ".pdf", ".npz",
                              ".npy", ".pkl", ".whl", ".pyc"})
# Lines too generic to count as solution text on their own (they neither match nor break a run).
_TRIVIAL = frozenset({"else:", "try:", "finally:", "pass", "return", "break", "continue",
                      "returnNone", "returnself"})
_COMMENT = re.compile(r"(^|\s)#.*$")
_PROMPT = re.compile(r"^(>>>|\.\.\.)(\s|$)")


def find_stubs(artifact: Path, files: Iterable[PurePosixPath] | None = None) -> list[StubSite]:
    """Every stub line in the ``.py`` files of ``stages/stageK`` of the artifact."""
    sites = []
    for relative in files if files is not None else artifact_files(artifact):
        stage = stage_of(relative)
        if stage is None or relative.suffix != ".py":
            continue
        text = (artifact / relative).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            match = STUB_LINE.match(line)
            if match and int(match["stage"]) == stage:
                sites.append(StubSite(stage, relative.as_posix(), number, match["name"]))
    return sites


def _read_text(path: Path) -> str | None:
    """The text of a file a student reads, or None for data and binaries."""
    if path.suffix in _BINARY_SUFFIXES or path.stat().st_size > _MAX_TEXT_BYTES:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    if path.suffix == ".ipynb":
        try:
            cells = json.loads(text).get("cells", [])
        except (ValueError, AttributeError):
            return text
        sources = []
        for cell in cells:
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
        return "\n".join(sources)
    return text


# ------------------------------------------------------------------------- solution text


def normalize(line: str) -> str:
    """A line as the text comparison sees it: no prompt, no comment, no whitespace."""
    line = _PROMPT.sub("", line.strip())
    line = _COMMENT.sub("", line)
    return re.sub(r"\s+", "", line)


def _significant(numbered: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    kept = []
    for number, line in numbered:
        norm = normalize(line)
        if norm and norm not in _TRIVIAL and any(c.isalnum() for c in norm):
            kept.append((number, norm))
    return kept


def _module_owner(stage_relative: PurePosixPath) -> str | None:
    """How the release names a file's scope: a module of src/mini_torch or an example script."""
    parts = stage_relative.parts
    package = PACKAGE_SUBDIR.parts
    if parts[: len(package)] == package:
        module = list(PurePosixPath(*parts[len(package):]).with_suffix("").parts)
        if module and module[-1] == "__init__":
            module.pop()
        return ".".join(["mini_torch", *module])
    if parts and parts[0] == "examples":
        return f"{stage_relative.as_posix()}:"
    return None


def reference_solutions(root: Path, stubs: Iterable[StubSite]) -> dict[str, list[str]]:
    """The normalized significant lines of each stub's reference solution in the monorepo."""
    wanted = {(stub.stage, stub.path) for stub in stubs}
    solutions: dict[str, list[str]] = {}
    for _stage, path in sorted(wanted):
        relative = PurePosixPath(path)
        reference = root / relative
        owner = _module_owner(PurePosixPath(*relative.parts[2:]))
        if owner is None or not reference.is_file():
            continue
        text = reference.read_text(encoding="utf-8")
        try:
            bodies = solution_bodies(text, owner=owner, filename=path)
        except MarkerError:
            continue
        for name, lines in bodies:
            solutions.setdefault(name, [])
            solutions[name] += [norm for _, norm in _significant(lines)]
    return solutions


def text_findings(
    artifact: Path, files: list[PurePosixPath], solutions: dict[str, list[str]],
    stub_names: set[str],
) -> list[Finding]:
    """Each text file holding :data:`WINDOW` consecutive lines of a protected stub's solution."""
    grams: dict[tuple[str, ...], set[str]] = {}
    for name, lines in solutions.items():
        if name not in stub_names:
            continue
        for start in range(len(lines) - WINDOW + 1):
            grams.setdefault(tuple(lines[start:start + WINDOW]), set()).add(name)
    if not grams:
        return []
    findings = []
    for relative in files:
        text = _read_text(artifact / relative)
        if text is None:
            continue
        lines = _significant(enumerate(text.splitlines(), start=1))
        reported: set[str] = set()
        for start in range(len(lines) - WINDOW + 1):
            window = tuple(norm for _, norm in lines[start:start + WINDOW])
            for name in sorted(grams.get(window, ())):
                if name in reported:
                    continue
                reported.add(name)
                findings.append(Finding(
                    "solution-text", relative.as_posix(), lines[start][0], name,
                    f"{WINDOW}+ consecutive lines of the reference solution of {name} "
                    f"(from line {lines[start][0]})",
                ))
    return findings


# --------------------------------------------------------------------------- solved copies


def _definitions(tree: ast.AST) -> dict[str, ast.AST]:
    """Every function and class of a module by qualified name."""
    found: dict[str, ast.AST] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualified = f"{prefix}.{child.name}" if prefix else child.name
                found[qualified] = child
                visit(child, qualified)

    visit(tree, "")
    return found


def _is_stub_body(node: ast.AST) -> bool:
    """Whether a function's own body raises NotImplementedError (a stub, not a solution)."""
    for statement in getattr(node, "body", []):
        if isinstance(statement, ast.Raise) and statement.exc is not None:
            exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                return True
    return False


def _python_module(relative: PurePosixPath) -> str | None:
    """``x/src/mini_torch/nn/linear.py`` -> ``mini_torch.nn.linear`` (any folder mini_torch)."""
    parts = relative.parts
    if "mini_torch" not in parts[:-1]:
        return None
    index = len(parts) - 1 - parts[::-1].index("mini_torch", 1)
    module = list(PurePosixPath(*parts[index:]).with_suffix("").parts)
    if module[-1] == "__init__":
        module.pop()
    return ".".join(module)


def copy_findings(
    artifact: Path, files: list[PurePosixPath], stubs: list[StubSite]
) -> list[Finding]:
    """Each solved definition of a stub's module path and name (or script function)."""
    by_module: dict[str, list[StubSite]] = {}
    by_script: dict[str, list[StubSite]] = {}
    for stub in stubs:
        if ":" in stub.name:
            script, _ = stub.name.split(":", 1)
            by_script.setdefault(script, []).append(stub)
        else:
            by_module.setdefault(stub.name, []).append(stub)
    findings = []
    for relative in files:
        if relative.suffix != ".py":
            continue
        candidates: list[tuple[StubSite, str]] = []
        module = _python_module(relative)
        if module is not None:
            prefix = module + "."
            candidates += [(site, name[len(prefix):]) for name, sites in by_module.items()
                           if name.startswith(prefix) for site in sites]
        for script, sites in by_script.items():
            if relative.as_posix().endswith(script):
                for site in sites:
                    other_stage = next((int(part.removeprefix("stage"))
                                        for part in relative.parts
                                        if re.fullmatch(r"stage\d+", part)), None)
                    if relative.as_posix() == site.path or (
                        other_stage is not None and other_stage < site.stage
                    ):
                        continue  # the stub itself, or an earlier stage's own script
                    candidates.append((site, site.name.split(":", 1)[1]))
        if not candidates:
            continue
        try:
            definitions = _definitions(ast.parse((artifact / relative).read_text("utf-8")))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for site, qualified in candidates:
            node = definitions.get(qualified)
            if node is None or relative.as_posix() == site.path or _is_stub_body(node):
                continue
            findings.append(Finding(
                "solved-copy", relative.as_posix(), node.lineno, site.name,
                f"a solved definition of the stub at {site.path}:{site.line}",
            ))
    return findings


# ------------------------------------------------------------------------ outside markers


def _answers_outside(function: ast.AST) -> ast.AST | None:
    """A ``return``/``yield`` of the function itself (nested definitions aside), if any."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)):
            return node
        stack.extend(ast.iter_child_nodes(node))
    return None


def _reached_unconditionally(body: list[ast.stmt], line: int) -> bool:
    """Whether the raise at ``line`` is a statement of ``body``, or of the body of a ``for`` or
    ``with`` statement of it (a loop over the parameters is given code): no branch skips it."""
    for statement in body:
        if isinstance(statement, ast.Raise) and statement.lineno == line:
            return True
        if isinstance(statement, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)) and (
            statement.lineno <= line <= (statement.end_lineno or statement.lineno)
        ):
            return _reached_unconditionally(statement.body, line)
    return False


def outside_findings(artifact: Path, stubs: list[StubSite]) -> list[Finding]:
    """Stubs that sit in a branch, or whose function returns without reaching them."""
    findings = []
    by_file: dict[str, list[StubSite]] = {}
    for stub in stubs:
        by_file.setdefault(stub.path, []).append(stub)
    for path, sites in by_file.items():
        text = (artifact / path).read_text(encoding="utf-8")
        try:
            tree = ast.parse(text)
        except SyntaxError as error:
            findings.append(Finding("outside-markers", path, error.lineno or 0, sites[0].name,
                                    f"the stubbed file is not valid Python: {error.msg}"))
            continue
        functions = [node for node in ast.walk(tree)
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        for site in sites:
            enclosing = [f for f in functions
                         if f.lineno <= site.line <= (f.end_lineno or f.lineno)]
            if not enclosing:
                continue  # a script-level stub: the whole script is the task
            function = max(enclosing, key=lambda f: f.lineno)
            if not _reached_unconditionally(function.body, site.line):
                findings.append(Finding(
                    "outside-markers", path, site.line, site.name,
                    f"the stub sits inside a branch of {function.name}(): the code around it "
                    "answers the other inputs; put the whole computation inside the markers",
                ))
                continue
            answer = _answers_outside(function)
            if answer is not None:
                findings.append(Finding(
                    "outside-markers", path, answer.lineno, site.name,
                    f"{function.name}() returns at line {answer.lineno} without reaching the "
                    "stub: a fast path or special case outside the solution markers",
                ))
    return findings


__all__ = [
    "WINDOW",
    "copy_findings",
    "find_stubs",
    "normalize",
    "outside_findings",
    "reference_solutions",
    "text_findings",
]
