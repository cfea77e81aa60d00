"""House rules that hold for every file of the installed package.

``mini_torch`` is built on numpy alone: it may import the standard library, numpy, scipy, numexpr
and matplotlib, and never a deep-learning or autograd library. The scan reads every ``.py`` file
of the package under test with ``ast`` (no import is executed), so it also covers files that no
other test imports, and a graded submission cannot hide a ``torch`` import in a helper module.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import mini_torch

PROHIBITED = frozenset({"torch", "tensorflow", "keras", "jax", "sklearn", "autograd"})
ALLOWED_THIRD_PARTY = frozenset({"numpy", "scipy", "numexpr", "matplotlib", "mini_torch"})
PACKAGE_DIR = Path(mini_torch.__file__).resolve().parent


def _dynamic_import_target(call: ast.Call) -> str | None:
    """The literal module name of ``__import__("x")`` / ``importlib.import_module("x")``."""
    func = call.func
    is_dynamic = (
        (isinstance(func, ast.Name) and func.id in ("__import__", "import_module"))
        or (isinstance(func, ast.Attribute) and func.attr == "import_module")
    )
    if not is_dynamic or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def imported_modules(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """Every absolute module name ``source`` imports, with its line number.

    Relative imports (``from . import x``) stay inside the package and are left out.
    """
    found = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call):
            target = _dynamic_import_target(node)
            if target is not None:
                found.append((node.lineno, target))
    return found


def prohibited_imports(source: str, filename: str = "<source>") -> list[tuple[int, str]]:
    """The ``(line, module)`` pairs whose top-level package is in :data:`PROHIBITED`."""
    return [(line, module) for line, module in imported_modules(source, filename)
            if module.split(".")[0] in PROHIBITED]


def package_sources() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def _report(violations: list[str]) -> str:
    return "\n  ".join(["forbidden imports in the installed mini_torch:", *violations])


# ------------------------------------------------------------------------------ the rule itself

def test_package_has_python_files_to_scan():
    files = package_sources()
    assert PACKAGE_DIR / "__init__.py" in files
    assert PACKAGE_DIR / "functional.py" in files


def test_package_imports_no_deep_learning_or_autograd_library():
    violations = []
    for path in package_sources():
        source = path.read_text(encoding="utf-8")
        for line, module in prohibited_imports(source, str(path)):
            violations.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{line}: {module}")
    assert not violations, _report(violations)


def test_package_imports_only_stdlib_numpy_scipy_numexpr_matplotlib():
    allowed = ALLOWED_THIRD_PARTY | set(sys.stdlib_module_names) | {"__future__"}
    violations = []
    for path in package_sources():
        source = path.read_text(encoding="utf-8")
        for line, module in imported_modules(source, str(path)):
            if module.split(".")[0] not in allowed:
                violations.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{line}: {module}")
    assert not violations, _report(violations)


# ------------------------------------------------------------------- the scanner flags what it must

def test_scanner_flags_every_form_of_a_prohibited_import():
    source = "\n".join([
        "import numpy as np",              # 1: fine
        "import torch",                    # 2
        "import torch.nn as nn",           # 3
        "from tensorflow import keras",    # 4
        "from jax.numpy import array",     # 5
        "import os, sklearn",              # 6
        "__import__('autograd')",          # 7
        "import importlib",                # 8: fine
        "importlib.import_module('keras')",  # 9
        "def f():",                        # 10
        "    import torch.optim",          # 11: nested imports count too
    ])
    assert [line for line, _ in prohibited_imports(source)] == [2, 3, 4, 5, 6, 7, 9, 11]


def test_scanner_flags_import_module_imported_by_name():
    source = "from importlib import import_module\nimport_module('torch.nn')\n"
    assert prohibited_imports(source) == [(2, "torch.nn")]


def test_scanner_does_not_flag_lookalike_names():
    source = "\n".join([
        "import numpy as torchlike",
        "from numpy import linalg as jax",
        "from . import torch",              # a relative import inside the package
        "import torchlike_helpers",
        "name = 'torch'",
        "print('import torch')",
    ])
    assert prohibited_imports(source) == []


def test_scanner_ignores_dynamic_imports_of_non_literal_names():
    assert prohibited_imports("name = 'torch'\n__import__(name)\n") == []
