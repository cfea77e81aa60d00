"""Carry files forward: copy a file of stage K into the later stages that hold it.

A file of ``src/mini_torch`` that exists in stage K is byte-identical in every later stage (the
``__init__.py`` re-export files excepted). After fixing such a file in one stage, carry it::

    python -m instructor carry functional.py              # from the lowest stage that has it
    python -m instructor carry --from-stage 2 nn/linear.py
    python -m instructor carry stages/stage2/src/mini_torch/nn/linear.py   # the same
    python -m instructor carry --add optim/sgd.py         # also create it where it is missing
    python -m instructor carry --all                      # every file, stage 1 first

Only files whose content differs (or that are missing, where creating them is asked for) are
written. Explicit paths are all checked before anything is copied.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from instructor.stages.repo import (
    PACKAGE_SUBDIR,
    InstructorError,
    display_path,
    is_build_artifact,
    package_dir,
    package_files,
    stage_numbers,
)

INIT_FILE = "__init__.py"

_PATH_HINT = (
    "PATH is relative to src/mini_torch (e.g. functional.py, nn/linear.py) "
    "or a file inside stages/stageK/src/mini_torch"
)


@dataclass(frozen=True)
class CarryAction:
    """One file copied from one stage into a later one."""

    relative: PurePosixPath
    source: int
    target: int
    created: bool

    def describe(self) -> str:
        """``stage1 -> stage2: src/mini_torch/functional.py copied`` (or ``created``)."""
        verb = "created" if self.created else "copied"
        return f"stage{self.source} -> stage{self.target}: {display_path(self.relative)} {verb}"


@dataclass
class CarryResult:
    """What a carry did: the copies made and notes for the files that needed none."""

    actions: list[CarryAction] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The last line the ``carry`` command prints."""
        if not self.actions:
            return "nothing copied: every later copy is already identical"
        return f"carried {len(self.actions)} file copies"


def copy_if_needed(
    root: Path, relative: PurePosixPath, source: int, target: int, *, create: bool
) -> CarryAction | None:
    """Copy ``relative`` from stage ``source`` to stage ``target`` when the two differ.

    Args:
        create: also copy when ``target`` lacks the file (creating its folders).

    Returns:
        The copy made, or None when the target is already identical (or absent and not created).
    """
    source_file = package_dir(root, source) / relative
    target_file = package_dir(root, target) / relative
    exists = target_file.is_file()
    if not exists and not create:
        return None
    if exists and target_file.read_bytes() == source_file.read_bytes():
        return None
    target_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source_file, target_file)
    return CarryAction(relative, source, target, created=not exists)


def _stage_containing(root: Path, path: Path) -> tuple[int, PurePosixPath] | None:
    """If ``path`` lies inside some stage's ``src/mini_torch``: that stage and the relative path."""
    for stage in stage_numbers(root):
        package = package_dir(root, stage).resolve()
        if path == package or package in path.parents:
            return stage, PurePosixPath(path.relative_to(package).as_posix())
    return None


def _package_relative(argument: str) -> PurePosixPath:
    """Read ``argument`` as a path relative to ``src/mini_torch``; refuse one that leaves it."""
    relative = PurePosixPath(argument.replace(os.sep, "/"))
    # Accept the form the check prints: src/mini_torch/functional.py.
    if relative.parts[: len(PACKAGE_SUBDIR.parts)] == PACKAGE_SUBDIR.parts:
        relative = PurePosixPath(*relative.parts[len(PACKAGE_SUBDIR.parts) :])
    if relative.is_absolute() or ".." in relative.parts or relative == PurePosixPath():
        raise InstructorError(f"{argument}: outside src/mini_torch; {_PATH_HINT}")
    return relative


def resolve_package_path(root: Path, argument: str, cwd: Path) -> tuple[PurePosixPath, int | None]:
    """Turn a PATH argument into (path relative to ``src/mini_torch``, stage it names or None).

    ``argument`` is either a file inside ``stages/stageK/src/mini_torch`` (absolute or relative to
    ``cwd``; the stage is then K) or a path relative to ``src/mini_torch`` (no stage implied).

    Raises:
        InstructorError: the path lies outside ``src/mini_torch``, is a compiled file or an
            ``__init__.py``.
    """
    given = Path(argument)
    on_disk = Path(os.path.normpath(given if given.is_absolute() else cwd / given))
    inside = _stage_containing(root, on_disk.resolve())
    if inside is not None:
        stage, relative = inside
    elif given.is_absolute() or on_disk.exists():
        raise InstructorError(f"{argument}: outside src/mini_torch; {_PATH_HINT}")
    else:
        stage, relative = None, _package_relative(argument)

    if is_build_artifact(relative):
        raise InstructorError(f"{argument}: compiled Python files are not carried")
    if relative.name == INIT_FILE:
        raise InstructorError(
            f"{argument}: __init__.py files differ between stages on purpose (each re-exports "
            "more names); edit each stage's copy by hand (`carry --all` creates missing ones)"
        )
    return relative, stage


def _source_stage(
    root: Path, relative: PurePosixPath, argument: str, named: int | None, from_stage: int | None
) -> int:
    """The stage to copy from: the one named, or else the lowest stage that has the file."""
    if named is not None and from_stage is not None and named != from_stage:
        raise InstructorError(
            f"{argument}: is in stage{named}, but --from-stage {from_stage} was given"
        )
    stage = named if named is not None else from_stage
    if stage is not None:
        path = package_dir(root, stage) / relative
        if path.is_dir():
            raise InstructorError(f"{argument}: is a folder; name its files, or use --all")
        if not path.is_file():
            raise InstructorError(
                f"{argument}: {display_path(relative)} does not exist in stage{stage}"
            )
        return stage
    holders = [s for s in stage_numbers(root) if (package_dir(root, s) / relative).is_file()]
    if not holders:
        raise InstructorError(f"{argument}: {display_path(relative)} does not exist in any stage")
    return holders[0]


def _check_stage_exists(root: Path, stage: int | None) -> None:
    """Refuse a ``--from-stage`` that names no existing stage."""
    if stage is not None and stage not in stage_numbers(root):
        known = ", ".join(str(s) for s in stage_numbers(root))
        raise InstructorError(f"--from-stage {stage}: no such stage (existing: {known})")


def carry_paths(
    root: Path,
    arguments: list[str],
    *,
    from_stage: int | None = None,
    add: bool = False,
    cwd: Path | None = None,
) -> CarryResult:
    """Copy each file named in ``arguments`` from its source stage into the later stages.

    Args:
        root: the monorepo root.
        arguments: PATHs as given on the command line (see :func:`resolve_package_path`).
        from_stage: the stage to copy from; default: the lowest stage that has the file.
        add: also create the file in later stages that lack it.
        cwd: the folder relative PATHs on disk are taken from (default: the current folder).

    Raises:
        InstructorError: a PATH is refused; nothing has been copied then.
    """
    _check_stage_exists(root, from_stage)
    cwd = cwd or Path.cwd()
    plan = []
    for argument in arguments:
        relative, named = resolve_package_path(root, argument, cwd)
        plan.append((relative, _source_stage(root, relative, argument, named, from_stage)))

    result = CarryResult()
    for relative, source in plan:
        later = [stage for stage in stage_numbers(root) if stage > source]
        copies = [copy_if_needed(root, relative, source, t, create=add) for t in later]
        result.actions += [copy for copy in copies if copy is not None]
        holders = [t for t in later if (package_dir(root, t) / relative).is_file()]
        if not holders:
            result.notes.append(
                f"{display_path(relative)}: no stage after stage{source} holds it "
                "(pass --add to create it there)"
            )
    return result


def carry_all(root: Path, *, from_stage: int | None = None) -> CarryResult:
    """Carry every file of every stage (from ``from_stage`` on) into all later stages.

    Stage 1's files go first, then stage 2's, and so on, so a file reaches the last stage from the
    lowest stage that has it. Missing files are created. An ``__init__.py`` is copied only where it
    is missing: a later stage's ``__init__.py`` re-exports more names and is never overwritten.
    """
    _check_stage_exists(root, from_stage)
    stages = stage_numbers(root)
    result = CarryResult()
    for source in stages:
        if from_stage is not None and source < from_stage:
            continue
        for relative in package_files(package_dir(root, source)):
            for target in (stage for stage in stages if stage > source):
                if relative.name == INIT_FILE and (package_dir(root, target) / relative).exists():
                    continue
                copy = copy_if_needed(root, relative, source, target, create=True)
                if copy is not None:
                    result.actions.append(copy)
    return result
