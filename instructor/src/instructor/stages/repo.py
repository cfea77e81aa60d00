"""Where things live in the Mini-Torch monorepo: its root, its stages and their package files.

Layout (see docs/architecture.md, section 1)::

    <root>/noxfile.py
    <root>/stages/stage1/src/mini_torch/...
    <root>/stages/stage2/src/mini_torch/...

Every command of the instructor tools finds its way around the repository through this module.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

#: The package folder inside a stage, relative to the stage folder.
PACKAGE_SUBDIR = PurePosixPath("src/mini_torch")

_STAGE_DIR_NAME = re.compile(r"stage(\d+)")


class InstructorError(Exception):
    """A problem with how a command was called (bad path, no repository): the CLI exits with 2."""


def is_repo_root(path: Path) -> bool:
    """Whether ``path`` is the monorepo root: it holds ``noxfile.py`` and a ``stages/`` folder."""
    return (path / "noxfile.py").is_file() and (path / "stages").is_dir()


def find_repo_root(start: Path | None = None) -> Path:
    """Walk up from ``start`` (default: the current folder) to the monorepo root.

    Raises:
        InstructorError: no folder on the way up holds ``noxfile.py`` and ``stages/``.
    """
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if is_repo_root(folder):
            return folder
    raise InstructorError(
        f"no Mini-Torch repository above {start}: expected a folder holding noxfile.py and "
        "stages/; run the command inside the repository or pass --root REPO"
    )


def resolve_root(root: Path | None) -> Path:
    """The root a command works on: ``root`` if given (checked), else found by walking up."""
    if root is None:
        return find_repo_root()
    root = root.resolve()
    if not is_repo_root(root):
        raise InstructorError(
            f"--root {root}: not a Mini-Torch repository (expected noxfile.py and stages/ in it)"
        )
    return root


def stage_dir(root: Path, stage: int) -> Path:
    """The folder of stage ``stage``: ``<root>/stages/stage<stage>``."""
    return root / "stages" / f"stage{stage}"


def package_dir(root: Path, stage: int) -> Path:
    """The ``mini_torch`` package folder of stage ``stage``: ``stages/stageN/src/mini_torch``."""
    return stage_dir(root, stage) / PACKAGE_SUBDIR


def stage_numbers(root: Path) -> list[int]:
    """The stages that exist (``stages/stageN`` folders holding ``src/mini_torch``), ascending."""
    stages = []
    for folder in (root / "stages").iterdir():
        match = _STAGE_DIR_NAME.fullmatch(folder.name)
        if match and (folder / PACKAGE_SUBDIR).is_dir():
            stages.append(int(match.group(1)))
    return sorted(stages)


def is_build_artifact(relative: PurePosixPath) -> bool:
    """Whether a file is compiled Python rather than source: inside ``__pycache__`` or ``*.pyc``."""
    return "__pycache__" in relative.parts or relative.suffix == ".pyc"


def package_files(package: Path) -> list[PurePosixPath]:
    """Every source file under ``package``, as paths relative to it, sorted.

    Compiled files (``__pycache__`` folders, ``*.pyc``) are left out: they are not part of a stage.
    """
    files = []
    for path in package.rglob("*"):
        relative = PurePosixPath(path.relative_to(package).as_posix())
        if path.is_file() and not is_build_artifact(relative):
            files.append(relative)
    return sorted(files)


def display_path(relative: PurePosixPath) -> str:
    """How messages show a package file: relative to the stage folder, ``src/mini_torch/...``."""
    return str(PACKAGE_SUBDIR / relative)


def private_tree(folder: Path) -> None:
    """Make ``folder`` and everything under it the owner's alone (folders 0700, files 0600):
    staff material (a grading kit, answer keys) that no other user may read."""
    folder.chmod(0o700)
    for current, dirs, files in os.walk(folder):
        for name in dirs:
            os.chmod(os.path.join(current, name), 0o700)
        for name in files:
            path = os.path.join(current, name)
            if not os.path.islink(path):
                os.chmod(path, 0o600 | (0o100 if os.stat(path).st_mode & 0o100 else 0))
