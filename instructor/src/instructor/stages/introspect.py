"""Print the public API of one stage's ``mini_torch`` package as a JSON object.

Usage (run as a script, in a fresh interpreter)::

    PYTHONPATH=stages/stageN/src python introspect.py stages/stageN/src

:mod:`instructor.stages.consistency` runs this file in a subprocess per stage, so that every
stage is imported on its own and two stages never meet in one interpreter. The script uses the
standard library only and does not import :mod:`instructor`.

The output maps qualified names to descriptions::

    {"mini_torch.functional.relu": "(x: 'np.ndarray') -> 'np.ndarray'",
     "mini_torch.nn.Linear": "<class>",
     "mini_torch.nn.Linear.forward": "(self, x)",
     "mini_torch.nn": "<module>",
     "mini_torch.STAGE": "<value>"}

Public names are those in a module's ``__all__`` or, without ``__all__``, the names that do not
start with ``_`` (leaving out imported third-party modules and ``from __future__`` features).
Modules are the package and every submodule and subpackage whose name does not start with ``_``.
For classes, their public methods are listed too, plus the special methods in
:data:`CLASS_DUNDERS`.

If a module fails to import, the error goes to stderr and the exit status is 1.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import re
import sys
import traceback
from pathlib import Path
from types import ModuleType

PACKAGE = "mini_torch"

#: Special methods that belong to a class's public interface.
CLASS_DUNDERS = ("__init__", "__call__", "__len__", "__getitem__", "__iter__", "__getitems__")

# Default values such as ``object()`` sentinels print their address, which differs between runs.
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def module_names(package_dir: Path) -> list[str]:
    """Dotted names of the package and of its public submodules, found from the files on disk.

    A module or package whose name starts with ``_`` is private and skipped, with everything in it.
    """
    names = []
    for path in sorted(package_dir.rglob("*.py")):
        folders = path.relative_to(package_dir).parent.parts
        parts = folders if path.stem == "__init__" else (*folders, path.stem)
        if any(part.startswith("_") for part in parts):
            continue
        if not _inside_packages(package_dir, folders):
            continue
        names.append(".".join((PACKAGE, *parts)))
    return names


def _inside_packages(package_dir: Path, folders: tuple[str, ...]) -> bool:
    """Whether each folder on the way to a module is a regular package (has an ``__init__.py``)."""
    current = package_dir
    for folder in folders:
        current = current / folder
        if not (current / "__init__.py").is_file():
            return False
    return True


def public_names(module: ModuleType) -> list[str]:
    """The names ``from module import *`` would give, less imported foreign modules."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not _is_foreign_import(value)
    ]


def _is_foreign_import(value: object) -> bool:
    """Whether ``value`` is an imported module outside the package, or a ``__future__`` feature."""
    if type(value).__module__ == "__future__":
        return True
    if inspect.ismodule(value):
        return value.__name__ != PACKAGE and not value.__name__.startswith(PACKAGE + ".")
    return False


def describe(value: object) -> str:
    """``"<module>"``, ``"<class>"``, a callable's signature, or ``"<value>"`` for anything else."""
    if inspect.ismodule(value):
        return "<module>"
    if inspect.isclass(value):
        return "<class>"
    if callable(value):
        try:
            return _ADDRESS.sub("", str(inspect.signature(value)))
        except (TypeError, ValueError):
            return "<callable>"
    return "<value>"


def _defining_class(cls: type, name: str) -> type | None:
    """The class along ``cls.__mro__`` whose own dictionary holds ``name``, or None.

    Looking in the class dictionaries skips the metaclass: ``type.__call__`` would otherwise make
    every class look as if it defined ``__call__``.
    """
    for klass in cls.__mro__:
        if name in vars(klass):
            return klass
    return None


def class_members(cls: type) -> dict[str, str]:
    """Public methods (and properties) of ``cls`` mapped to their descriptions.

    Public methods inherited from built-in classes (``Exception.with_traceback``) are left out:
    they belong to Python, not to the course.
    """
    members = {}
    for name in dir(cls):
        if name.startswith("_") and name not in CLASS_DUNDERS:
            continue
        owner = _defining_class(cls, name)
        if owner is None or (owner.__module__ == "builtins" and name not in CLASS_DUNDERS):
            continue
        if isinstance(vars(owner)[name], property):
            members[name] = "<property>"
        elif callable(getattr(cls, name)):
            members[name] = describe(getattr(cls, name))
    return members


def module_api(module: ModuleType) -> dict[str, str]:
    """Every public name of ``module`` (and of its public classes) mapped to its description."""
    api = {}
    for name in public_names(module):
        qualified = f"{module.__name__}.{name}"
        if not hasattr(module, name):
            api[qualified] = "<missing: listed in __all__ but not defined>"
            continue
        value = getattr(module, name)
        api[qualified] = describe(value)
        if inspect.isclass(value):
            for member, description in class_members(value).items():
                api[f"{qualified}.{member}"] = description
    return api


def _import(name: str) -> ModuleType:
    """Import ``name``; a module that prints while importing must not spoil the JSON on stdout."""
    with contextlib.redirect_stdout(sys.stderr):
        return importlib.import_module(name)


def _error_line(error: BaseException) -> str:
    """The last line of a traceback: ``ModuleNotFoundError: No module named 'numpy'``."""
    return traceback.format_exception_only(type(error), error)[-1].strip()


def collect(src_dir: Path) -> tuple[dict[str, str], list[str]]:
    """Import every public module of the package under ``src_dir``; return (api, errors)."""
    expected = (src_dir / PACKAGE).resolve()
    try:
        package = _import(PACKAGE)
    except Exception as error:
        return {}, [f"cannot import {PACKAGE}: {_error_line(error)}"]
    found = Path(package.__file__).resolve().parent
    if found != expected:
        return {}, [f"imported {PACKAGE} from {found}, expected {expected}"]

    api: dict[str, str] = {}
    errors: list[str] = []
    for name in module_names(expected):
        try:
            module = _import(name)
        except Exception as error:
            errors.append(f"cannot import {name}: {_error_line(error)}")
            continue
        api[name] = "<module>"
        api.update(module_api(module))
    return api, errors


def main(argv: list[str]) -> int:
    """Print the API of the package under ``argv[1]`` as JSON; 1 if something failed to import."""
    if len(argv) != 2:
        print(f"usage: python {Path(argv[0]).name} SRC_DIR", file=sys.stderr)
        return 2
    # Running a file puts its own folder first on sys.path: drop it, only the stage belongs there.
    script_dir = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if entry and Path(entry).resolve() != script_dir]
    api, errors = collect(Path(argv[1]))
    for error in errors:
        print(error, file=sys.stderr)
    print(json.dumps(api, indent=1, sort_keys=True))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
