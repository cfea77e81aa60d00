"""The code a student wrote for a stage, read as text with :mod:`ast` (never imported or run).

A stage's tasks are its solution regions: in the reference stage, each ``# BEGIN SOLUTION`` /
``# END SOLUTION`` pair of the stage's own files (the files new in it, and its examples) sits in
the body of one function or method, named by :func:`~instructor.release.solutions.enclosing_names`
(``Linear.forward`` in ``src/mini_torch/nn/linear.py``). What a student wrote for a task is the
body of the function of that qualified name in the same file of the submission, found in the
file's syntax tree:

- the body after the docstring, dedented, comments kept (they are shown to staff; the
  comparison ignores them), without the statements the starter code's function gives around
  the stub (its argument checks) where the body starts or ends with them;
- empty when the function still holds the release's stub (a top-level
  ``raise NotImplementedError("Stage N: implement ...")``: it cannot return), or is missing;
- a function of the student's own in one of those files (a helper: a name the starter code
  does not define, outside the tasks' bodies) is taken whole, in the file's order;
- a file that is not valid Python is taken whole (its tasks cannot be told apart; the starter
  code is subtracted all the same), and a file over :data:`MAX_FILE_BYTES` is left out, with a
  note either way.

The starter code (:class:`Starter`) is what the release hands out in those files: the reference
text with every region replaced by its stub
(:func:`~instructor.release.solutions.stub_solutions`). The comparison subtracts it as
boilerplate: the given lines of a function (its argument checks), the helpers a file holds, the
stub lines.

A body is taken in the order of the reference's tasks, whatever the order of the functions in the
student's file: moving functions around changes nothing.
"""

from __future__ import annotations

import ast
import os
import stat
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading.scoring import own_files
from instructor.stages.markers import STUB_LINE, enclosing_names, find_regions, stub_solutions
from instructor.stages.repo import stage_dir

#: Bytes of one student file that are read; a larger file is left out (with a note). The
#: reference's largest file holds about 40 KB.
MAX_FILE_BYTES = 512 * 1024

#: Characters of one submission's document (all its bodies): the rest is cut, with a note.
MAX_DOCUMENT_CHARS = 256 * 1024


@dataclass(frozen=True)
class Task:
    """One function a student writes.

    ``file`` is relative to the stage folder (``src/mini_torch/nn/linear.py``,
    ``examples/train_sine.py``), ``scope`` the qualified name inside it (``Linear.forward``),
    ``name`` the name the release's stub gives it (``mini_torch.nn.linear.Linear.forward``).
    """

    file: str
    scope: str
    name: str


def module_owner(file: str) -> str:
    """How a stub names the scope of ``file``: ``src/mini_torch/nn/linear.py`` ->
    ``mini_torch.nn.linear``, ``examples/train.py`` -> ``examples/train.py:``."""
    if file.startswith("examples/"):
        return f"{file}:"
    parts = file[len("src/"):-len(".py")].split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@dataclass
class Starter:
    """The tasks of a stage and the starter code of its own files (what the release holds)."""

    stage: int
    tasks: list[Task]
    files: dict[str, str]  # file (relative to the stage folder) -> its released text
    _defined: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _given: dict[str, set[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_reference(cls, reference: Path, stage: int, files: list[str]) -> Starter:
        """From a reference stage folder (``stages/stageN``, or a grading kit's ``reference``)
        and the stage's own files (:func:`instructor.grading.scoring.own_files`).

        Raises:
            MarkerError: malformed markers in the reference.
        """
        tasks: list[Task] = []
        released: dict[str, str] = {}
        for file in files:
            path = Path(reference, file)
            if not path.is_file():
                continue
            text = path.read_text(encoding="utf-8")
            owner = module_owner(file)
            regions = find_regions(text, file)
            if regions:
                names = enclosing_names(text, file)
                scopes = dict.fromkeys(names[r.begin] for r in regions if r.begin in names)
                tasks += [Task(file, scope, f"{owner}{scope}" if owner.endswith(":")
                               else f"{owner}.{scope}") for scope in scopes]
            # The doc a stub links is a string: the comparison reads every string as one token.
            released[file] = stub_solutions(text, owner=owner, stage=stage,
                                            doc=f"docs/stage{stage}.md", filename=file)[0]
        return cls(stage, tasks, released)

    @classmethod
    def from_kit(cls, kit) -> Starter:
        """From a grading kit (:class:`instructor.grading.kit.Kit`: its reference copy and its
        stage's own files), for ``grade --kit``."""
        return cls.from_reference(kit.reference_dir, kit.stage, list(kit.own_files))

    @classmethod
    def from_repo(cls, root: Path, stage: int) -> Starter:
        """The starter code of ``stage`` of the monorepo at ``root``."""
        return cls.from_reference(stage_dir(root, stage), stage, own_files(root, stage))

    def defined(self, file: str) -> set[str]:
        """The qualified names of the functions the starter code of ``file`` defines."""
        if file not in self._defined:
            text = self.files.get(file, "")
            self._defined[file] = set(definitions(ast.parse(text))) if text else set()
        return self._defined[file]

    def given(self, task: Task) -> set[str]:
        """The given statements of ``task``'s function in the starter code."""
        if task.name not in self._given:
            text = self.files.get(task.file, "")
            function = definitions(ast.parse(text)).get(task.scope) if text else None
            self._given[task.name] = (given_statements(function, text.splitlines())
                                      if function is not None else set())
        return self._given[task.name]

    def boilerplate(self) -> str:
        """All the starter code, one file after another."""
        return "\n\n".join(self.files[file] for file in sorted(self.files))


@dataclass
class Extracted:
    """What one submission wrote: the body of each task (empty: a stub, or missing)."""

    bodies: dict[str, str] = field(default_factory=dict)  # task name -> body text
    helpers: dict[str, str] = field(default_factory=dict)  # file:scope -> a function of its own
    whole_files: dict[str, str] = field(default_factory=dict)  # file -> text (did not parse)
    notes: list[str] = field(default_factory=list)

    @property
    def written(self) -> int:
        """How many tasks hold code."""
        return sum(1 for body in self.bodies.values() if body.strip())

    def document(self, starter: Starter) -> str:
        """The text compared: every task's body under a comment line naming it, in the
        reference's order (the comparison skips comments, so the names never match)."""
        parts = []
        for task in starter.tasks:
            if task.file in self.whole_files:
                continue
            body = self.bodies.get(task.name, "")
            if body.strip():
                parts.append(f"# --- {task.name}\n{body.rstrip()}\n")
            else:
                parts.append(f"# --- {task.name}: not written\n")
        for where, text in self.helpers.items():
            parts.append(f"# --- {where} (a function of the student's own)\n{text.rstrip()}\n")
        for file in sorted(self.whole_files):
            parts.append(f"# --- {file} (not valid Python: the whole file)\n"
                         f"{self.whole_files[file].rstrip()}\n")
        text = "\n".join(parts)
        if len(text) > MAX_DOCUMENT_CHARS:
            text = text[:MAX_DOCUMENT_CHARS]
        return text


def read_bounded(path: Path, bound: int = MAX_FILE_BYTES) -> str | None:
    """The text of the regular file ``path`` (not a link), or None when it is missing, not a
    regular file or larger than ``bound``; bytes that are not UTF-8 are replaced."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
                             | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > bound:
            return None
        data = handle.read(bound + 1)
    if len(data) > bound:
        return None
    return data.decode("utf-8", "replace")


Function = ast.FunctionDef | ast.AsyncFunctionDef


def definitions(tree: ast.AST) -> dict[str, Function]:
    """Every function of ``tree`` by qualified name (``Linear.forward``), the way
    :func:`~instructor.release.solutions.enclosing_names` names them; the last definition of a
    name wins, as it does when Python runs the file."""
    found: dict[str, Function] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualified = f"{prefix}.{child.name}" if prefix else child.name
                if not isinstance(child, ast.ClassDef):
                    found[qualified] = child
                visit(child, qualified)
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def _is_stub(statement: ast.stmt, lines: list[str]) -> bool:
    """Whether ``statement`` is the release's ``raise NotImplementedError("Stage N: ...")``."""
    if not isinstance(statement, ast.Raise) or statement.lineno != statement.end_lineno:
        return False
    return bool(STUB_LINE.match(lines[statement.lineno - 1]))


def _split_docstring(function: Function) -> tuple[ast.stmt | None, list[ast.stmt]]:
    body = list(function.body)
    if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)):
        return body[0], body[1:]
    return None, body


def given_statements(function: Function, lines: list[str]) -> set[str]:
    """The statements of a starter function around its stub (its argument checks), as
    position-free :func:`ast.dump` texts."""
    _, body = _split_docstring(function)
    return {ast.dump(statement) for statement in body if not _is_stub(statement, lines)}


def function_body(function: Function, lines: list[str], text: str,
                  given: set[str] | frozenset[str] = frozenset()) -> str:
    """The body of ``function`` after its docstring, dedented, without the ``given``
    statements it starts or ends with (the starter code's); empty for a stub."""
    docstring, body = _split_docstring(function)
    if not body or any(_is_stub(statement, lines) for statement in body):
        return ""
    first, last = 0, len(body)
    while first < last and ast.dump(body[first]) in given:
        first += 1
    while last > first and ast.dump(body[last - 1]) in given:
        last -= 1
    kept = body[first:last]
    if not kept:
        return ""
    if lines[kept[0].lineno - 1][:kept[0].col_offset].strip():  # ``def f(x): return x``
        return "\n".join(ast.get_source_segment(text, s) or "" for s in kept)
    before = body[first - 1] if first else docstring
    start = before.end_lineno + 1 if before is not None else kept[0].lineno
    stop = body[last].lineno - 1 if last < len(body) else kept[-1].end_lineno
    return textwrap.dedent("\n".join(lines[start - 1:stop])).strip("\n")


def extract(package: Path, starter: Starter) -> Extracted:
    """The bodies a submission's package (the folder holding ``src/mini_torch``) wrote for
    the tasks of ``starter``. Reads files as text only; never fails on what a file holds."""
    result = Extracted()
    by_file: dict[str, list[Task]] = {}
    for task in starter.tasks:
        by_file.setdefault(task.file, []).append(task)
    for file, tasks in by_file.items():
        text = read_bounded(Path(package, file))
        if text is None:
            what = "missing" if not Path(package, file).exists() else (
                f"not a regular file of at most {MAX_FILE_BYTES} bytes")
            result.notes.append(f"{file}: {what}; its tasks count as not written")
            result.bodies.update((task.name, "") for task in tasks)
            continue
        try:
            tree = ast.parse(text, filename=file)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            result.notes.append(f"{file}: not valid Python; the whole file is compared")
            result.whole_files[file] = text
            continue
        found = definitions(tree)
        lines = text.splitlines()
        for task in tasks:
            function = found.get(task.scope)
            if function is None:
                result.notes.append(f"{file}: no function {task.scope}")
                result.bodies[task.name] = ""
                continue
            result.bodies[task.name] = function_body(function, lines, text,
                                                     starter.given(task))
        given = starter.defined(file)
        taken = {task.scope for task in tasks}
        for scope, function in sorted(found.items(), key=lambda item: item[1].lineno):
            if scope in given or any(scope.startswith(f"{outer}.") for outer in taken):
                continue
            taken.add(scope)
            start = min([function.lineno] + [d.lineno for d in function.decorator_list])
            result.helpers[f"{file}:{scope}"] = textwrap.dedent(
                "\n".join(lines[start - 1:function.end_lineno]))
    return result
