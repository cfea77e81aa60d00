"""Static checks of a submission before it is run: prohibited and grader-tampering imports.

The course rule (docs/architecture.md, section 1): ``mini_torch`` is built on numpy; it never
imports a deep-learning or autograd library. The grader reads every ``.py`` file of the
submission's ``src/mini_torch`` and ``examples/`` with :mod:`ast` (nothing is executed) and
refuses to run a submission that imports one: such a submission scores 0 with a message naming
the file, the line and the module.

The package must not import the test framework either: code in ``mini_torch`` runs inside the
grader's pytest process, and an import of ``pytest`` / ``_pytest`` / ``pluggy`` from it can only
serve to change how the tests report. It is refused the same way.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

#: Libraries a submission may not import (top-level package names).
PROHIBITED = frozenset({"torch", "tensorflow", "keras", "jax", "sklearn", "autograd"})

#: The test machinery: importing it from the package under test is tampering.
TEST_MACHINERY = frozenset({"pytest", "_pytest", "pluggy"})

_DYNAMIC_IMPORTERS = frozenset({"__import__", "import_module"})


@dataclass(frozen=True)
class Violation:
    """One refused import: where it is and what it imports."""

    path: str
    line: int
    module: str

    @property
    def tampering(self) -> bool:
        """True for an import of the test machinery, False for a prohibited library."""
        return self.module.split(".")[0] in TEST_MACHINERY

    def describe(self) -> str:
        """``src/mini_torch/nn/linear.py:3: imports torch.nn``."""
        return f"{self.path}:{self.line}: imports {self.module}"


def _literal_dynamic_import(node: ast.Call) -> str | None:
    """The module named by ``__import__("x")`` or ``importlib.import_module("x")``, if literal."""
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    if name not in _DYNAMIC_IMPORTERS or not node.args:
        return None
    first = node.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def imports_of(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """Every absolute module ``source`` imports (statements and literal dynamic imports).

    Raises:
        SyntaxError: ``source`` is not valid Python.
    """
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call):
            module = _literal_dynamic_import(node)
            if module is not None:
                found.append((node.lineno, module))
    return found


def prohibited_imports_in(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """The ``(line, module)`` imports of ``source`` whose top-level package is prohibited."""
    return [(line, module) for line, module in imports_of(source, filename)
            if module.split(".")[0] in PROHIBITED]


def scan_package(package: Path) -> tuple[list[Violation], list[str]]:
    """Scan ``package/src/mini_torch`` and ``package/examples`` for refused imports.

    Returns:
        (violations, notes): a note for each file that could not be read as Python (the run
        reports those as errors of the tests that import them).
    """
    violations: list[Violation] = []
    notes: list[str] = []
    folders = [package / "src" / "mini_torch", package / "examples"]
    for folder in folders:
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            shown = path.relative_to(package).as_posix()
            try:
                source = path.read_text(encoding="utf-8")
                found = imports_of(source, shown)
            except (SyntaxError, UnicodeDecodeError, ValueError) as error:
                notes.append(f"{shown}: not valid Python ({error.__class__.__name__}), not scanned")
                continue
            for line, module in found:
                top = module.split(".")[0]
                if top in PROHIBITED or (top in TEST_MACHINERY and folder.name == "mini_torch"):
                    violations.append(Violation(shown, line, module))
    return violations, notes
