"""The one rule that finds a submission's package: the grader and both noxfiles use it.

A submission (a student's folder, a zip unpacked, a whole release or term repository) holds its
package somewhere below the folder it arrives in. The package is

    the shallowest folder that holds ``src/mini_torch/__init__.py``; among several at that
    depth (a release of several stages), the one named ``stage<K>`` for the stage graded.

Folders whose name starts with a dot (``.git``, ``.venv``, ``.nox``), ``__MACOSX`` (what macOS
adds to a zip) and ``__pycache__`` are not searched, and no link is followed.

This file needs nothing but the standard library and imports nothing of the instructor tools:
the monorepo's noxfile loads it by path, and every student release ships a copy of it beside
its noxfile (``package_rule.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

#: Folders never searched (besides every name that starts with a dot).
SKIPPED = frozenset({"__MACOSX", "__pycache__", "node_modules"})


class PackageNotFound(LookupError):
    """No package, or several that the rule cannot tell apart; the message says which."""


def _candidates(folder: Path) -> list[Path]:
    found = []
    for current, dirs, _ in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED)
        init = Path(current, "src", "mini_torch", "__init__.py")
        if init.is_file() and not init.is_symlink():
            found.append(Path(current))
    return found


def find_package(folder: Path, stage: int | None = None) -> Path:
    """The package folder under ``folder`` (see the module docstring).

    Raises:
        PackageNotFound: none, or two at the same depth; the message says what was found and
            what to submit instead.
    """
    folder = Path(folder)
    candidates = _candidates(folder)
    if not candidates:
        flat = sorted(p for p in folder.rglob("mini_torch/__init__.py")
                      if not any(part.startswith(".") for part in p.relative_to(folder).parts))
        hint = (f" (found {flat[0].parent.relative_to(folder)} without the src/ folder around "
                "it)" if flat else "")
        raise PackageNotFound(
            f"no src/mini_torch/__init__.py in the submission{hint}: submit the stage folder "
            "that holds pyproject.toml and src/mini_torch")
    depth = min(len(c.parts) for c in candidates)
    shallowest = sorted(c for c in candidates if len(c.parts) == depth)
    if len(shallowest) > 1 and stage is not None:
        shallowest = [c for c in shallowest if c.name == f"stage{stage}"] or shallowest
    if len(shallowest) > 1:
        names = ", ".join(str(c.relative_to(folder)) for c in shallowest)
        raise PackageNotFound(f"several packages in the submission ({names}): submit one")
    return shallowest[0]
