"""The leak check: what a student receives never gives away the work it asks for.

The rule, and the tools that keep it, are in docs/instructor.md.

Every tool that writes a student artifact (``release``, the term bake, ``open-stage``, the
Classroom starters) calls :func:`refuse_leaks` on what it wrote, and writes nothing (or removes
what it wrote) when the check finds anything. The check reads the artifact back: its stubs are the
``raise NotImplementedError("Stage K: implement NAME (see GUIDE)")`` lines of
``stages/stageK/**.py`` (see :data:`instructor.release.solutions.STUB_LINE`). The protected
stubs are those of the stages still open in the artifact (default: every stub in it). For each, it
looks for
``solved-copy``
    a solved definition of the same module path and name anywhere in the artifact
    (``mini_torch.nn.activation.ReLU.forward`` in another ``src/mini_torch/nn/activation.py``, a
    ``solutions/`` folder, ...), or of the same script function in another copy of the script;
``solution-text``
    three or more consecutive lines of the stub's reference solution (read from the monorepo)
    in any text file of the artifact: docs, READMEs, tests, notebooks, other code. Lines are
    compared with their whitespace removed, comments and blank lines ignored;
``outside-markers``
    code of a stubbed function that can answer without the student: the stub's ``raise`` must be
    a statement of the function's own body (not inside a branch) and the function may not
    ``return`` or ``yield`` anywhere (a fast path, a special case or a numexpr branch left outside
    the solution markers does), so the function raises the stub error for every input that gets
    past its input checks.

It also reports ``marker`` (a solution marker line left in a stubbed file), ``instructor-material``
(hidden tests, the instructor tools or the term template inside the artifact), ``session-name``
(a ``nox -s NAME`` in its Markdown that is not a session of its own ``noxfile.py``, see
:func:`noxfile_sessions`), ``maintainer-words`` (an issue number, a path under ``instructor/``
or a solution marker in its Markdown: words only a maintainer reads) and, through
:func:`check_links`, ``broken-link`` (a relative link or image of a Markdown file that does not
resolve inside the artifact, anchors included).
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from instructor.release.solutions import (
    BEGIN_MARKER,
    END_MARKER,
    STUB_LINE,
    MarkerError,
    solution_bodies,
)
from instructor.stages.repo import PACKAGE_SUBDIR, InstructorError, is_build_artifact

#: A reference solution shares this many consecutive lines with a text before it is a leak.
WINDOW = 3

#: Files larger than this are data, not text a student reads (the bundled CSVs are gzipped).
_MAX_TEXT_BYTES = 2_000_000
_BINARY_SUFFIXES = frozenset({".gz", ".zip", ".png", ".jpg", ".jpeg", ".gif", ".pdf", ".npz",
                              ".npy", ".pkl", ".whl", ".pyc"})
#: Path parts that never belong in a student artifact.
_INSTRUCTOR_PARTS = frozenset({"hidden_tests", "instructor", "templates"})
_SKIPPED_PARTS = frozenset({".git", ".nox", ".venv", "__pycache__", ".pytest_cache",
                            ".ruff_cache", "build", "dist"})
# Lines too generic to count as solution text on their own (they neither match nor break a run).
_TRIVIAL = frozenset({"else:", "try:", "finally:", "pass", "return", "break", "continue",
                      "returnNone", "returnself"})
_COMMENT = re.compile(r"(^|\s)#.*$")
_PROMPT = re.compile(r"^(>>>|\.\.\.)(\s|$)")


@dataclass(frozen=True)
class Finding:
    """One leak (or broken link): where it is and which function it gives away."""

    kind: str
    path: str
    line: int
    name: str
    detail: str

    def describe(self) -> str:
        """``docs/stage3.md:440: solution-text: examples/train_spirals.py:train_step: ...``."""
        return f"{self.path}:{self.line}: {self.kind}: {self.name}: {self.detail}"


class LeakError(InstructorError):
    """An artifact failed the leak check; nothing of it was left in place."""

    def __init__(self, what: str, findings: list[Finding]) -> None:
        self.findings = findings
        shown = "\n".join(f"  {finding.describe()}" for finding in findings[:40])
        more = f"\n  ... and {len(findings) - 40} more" if len(findings) > 40 else ""
        super().__init__(
            f"refused to write {what}: the leak check found {len(findings)} problem(s):\n"
            f"{shown}{more}\nMove the code named into the solution markers (or out of the text "
            "that prints it) and run the command again."
        )


@dataclass(frozen=True)
class StubSite:
    """One stub of an artifact: its stage, file, line and qualified name."""

    stage: int
    path: str
    line: int
    name: str


@dataclass
class LeakReport:
    """The findings of :func:`check_artifact` and what it looked at."""

    artifact: Path
    stubs: list[StubSite] = field(default_factory=list)
    files: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        return (
            f"leak check of {self.artifact}: {len(self.stubs)} protected stubs, {self.files} "
            f"files, {len(self.findings)} finding(s)"
        )


# ------------------------------------------------------------------------------ the artifact


def artifact_files(artifact: Path) -> list[PurePosixPath]:
    """Every file of the artifact (tool state such as ``.git`` and ``.nox`` left out), sorted."""
    files = []
    for path in artifact.rglob("*"):
        relative = PurePosixPath(path.relative_to(artifact).as_posix())
        if any(part in _SKIPPED_PARTS or part.endswith(".egg-info") for part in relative.parts):
            continue
        if path.is_file() and not is_build_artifact(relative):
            files.append(relative)
    return sorted(files)


def _stage_of(relative: PurePosixPath) -> int | None:
    parts = relative.parts
    if len(parts) > 1 and parts[0] == "stages" and re.fullmatch(r"stage\d+", parts[1]):
        return int(parts[1].removeprefix("stage"))
    return None


def find_stubs(artifact: Path, files: Iterable[PurePosixPath] | None = None) -> list[StubSite]:
    """Every stub line in the ``.py`` files of ``stages/stageK`` of the artifact."""
    sites = []
    for relative in files if files is not None else artifact_files(artifact):
        stage = _stage_of(relative)
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


def _text_findings(
    artifact: Path, files: list[PurePosixPath], solutions: dict[str, list[str]],
    stub_names: set[str],
) -> list[Finding]:
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


def _copy_findings(
    artifact: Path, files: list[PurePosixPath], stubs: list[StubSite]
) -> list[Finding]:
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


def _outside_findings(artifact: Path, stubs: list[StubSite]) -> list[Finding]:
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


def _marker_findings(artifact: Path, files: list[PurePosixPath]) -> list[Finding]:
    findings = []
    for relative in files:
        if relative.suffix != ".py" or _stage_of(relative) is None:
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


def _session_findings(artifact: Path, files: list[PurePosixPath]) -> list[Finding]:
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


def _maintainer_findings(artifact: Path, files: list[PurePosixPath]) -> list[Finding]:
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


def _material_findings(files: list[PurePosixPath]) -> list[Finding]:
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


# ----------------------------------------------------------------------------------- links

_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`]*`")
_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target><[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+(?P<target>\S+)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(?P<text>.*?)\s*#*\s*$")


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (before de-duplication)."""
    text = _INLINE_CODE.sub(lambda m: m.group(0).strip("`"), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps its text
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in "-_ ")
    return text.replace(" ", "-")


def markdown_anchors(text: str) -> set[str]:
    """Every heading anchor of a Markdown text, duplicates numbered as GitHub numbers them."""
    anchors: set[str] = set()
    counts: dict[str, int] = {}
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(line)
        if match:
            slug = github_slug(match["text"])
            seen = counts.get(slug, 0)
            anchors.add(slug if seen == 0 else f"{slug}-{seen}")
            counts[slug] = seen + 1
    for match in re.finditer(r"<a\s+(?:name|id)=\"([^\"]+)\"", text):
        anchors.add(match.group(1))
    return anchors


def markdown_links(text: str) -> list[tuple[int, str]]:
    """The ``(line, target)`` of every link and image of a Markdown text, code left out."""
    links = []
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        definition = _REFERENCE_DEF.match(line)
        if definition:
            links.append((number, definition["target"]))
            continue
        for match in _LINK.finditer(_INLINE_CODE.sub("", line)):
            links.append((number, match["target"].strip("<>")))
    return links


def resolve_link(artifact: Path, source: PurePosixPath, target: str) -> str | None:
    """Why a relative link of ``source`` does not resolve in the artifact (None: it does)."""
    if _SCHEME.match(target) or target.startswith("//"):
        return None
    path_part, _, anchor = target.partition("#")
    if path_part:
        resolved = (artifact / source.parent / path_part).resolve()
        if not resolved.is_relative_to(artifact.resolve()):
            return f"{target} points outside the artifact"
        if not resolved.exists():
            return f"{target}: no such file in the artifact"
    else:
        resolved = (artifact / source).resolve()
    if anchor and resolved.is_file() and resolved.suffix == ".md":
        if anchor not in markdown_anchors(resolved.read_text(encoding="utf-8")):
            return f"{target}: no heading #{anchor} in {resolved.name}"
    return None


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


# ------------------------------------------------------------------------------ the check


def check_artifact(
    artifact: Path,
    root: Path,
    *,
    stages: Iterable[int] | None = None,
    only: Iterable[str | PurePosixPath] | None = None,
) -> LeakReport:
    """Scan a student artifact; nothing is changed.

    Args:
        artifact: the folder a student receives.
        root: the monorepo, whose reference solutions the text comparison uses.
        stages: the stages still open in the artifact (their stubs are protected); default: every
            stage that has stubs in it.
        only: the files to scan (relative to ``artifact``; a folder stands for everything in it),
            e.g. what ``open-stage`` wrote into a student's repository; default: every file.
    """
    artifact = artifact.resolve()
    every = artifact_files(artifact)
    files = every
    if only is not None:
        wanted = [PurePosixPath(str(item)) for item in only]
        files = [f for f in every if any(f == w or f.is_relative_to(w) for w in wanted)]
    stubs = find_stubs(artifact, every)
    if stages is not None:
        open_stages = set(stages)
        stubs = [stub for stub in stubs if stub.stage in open_stages]
    names = {stub.name for stub in stubs}
    report = LeakReport(artifact=artifact, stubs=stubs, files=len(files))
    solutions = reference_solutions(root, stubs)
    report.findings += _copy_findings(artifact, files, stubs)
    report.findings += _text_findings(artifact, files, solutions, names)
    report.findings += _outside_findings(artifact, stubs)
    report.findings += _marker_findings(artifact, files)
    report.findings += _material_findings(files)
    report.findings += _session_findings(artifact, files)
    report.findings += _maintainer_findings(artifact, files)
    report.findings += check_links(artifact, files)
    return report


def refuse_leaks(
    artifact: Path,
    root: Path,
    *,
    what: str,
    stages: Iterable[int] | None = None,
    only: Iterable[str | PurePosixPath] | None = None,
) -> LeakReport:
    """:func:`check_artifact`, raising :class:`LeakError` when it finds anything."""
    report = check_artifact(artifact, root, stages=stages, only=only)
    if report.findings:
        raise LeakError(what, report.findings)
    return report


__all__ = [
    "Finding",
    "LeakError",
    "LeakReport",
    "StubSite",
    "check_artifact",
    "check_links",
    "find_stubs",
    "github_slug",
    "markdown_anchors",
    "noxfile_sessions",
    "refuse_leaks",
]
