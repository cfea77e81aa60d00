"""A stage's runtime dependencies: the ``[project] dependencies`` of its ``pyproject.toml``.

This is the one list of the third-party packages a stage may use (the monorepo's noxfile loads
this file by path, so it imports nothing of the tools but their error class). The autograder's
``requirements.txt``, the distributions a bubblewrap jail holds, the modules the grader's
interpreter must have and the packages a Gradescope term needs are all read from it, through
:func:`runtime_dependencies` (requirement strings) and :func:`distribution_names` /
:func:`import_names` (what ``pip`` and ``import`` call them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10: the small reader below
    tomllib = None

try:
    from instructor.stages.repo import InstructorError
except ImportError:  # loaded by path by the monorepo's noxfile, before the tools are installed
    class InstructorError(Exception):  # type: ignore[no-redef]
        """A stage's pyproject.toml the dependencies cannot be read from."""

#: Distributions whose module is not their name with ``-`` as ``_`` (none of today's stages
#: needs one; listed so that adding such a dependency needs no other change).
IMPORT_NAMES = {"pyyaml": "yaml", "scikit-learn": "sklearn", "pillow": "PIL"}

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _read_dependencies_310(text: str) -> list[str] | None:
    """``[project] dependencies`` of a pyproject.toml without tomllib: the one-table, one-array
    form (strings in double or single quotes, comments, any line breaks). None if absent."""
    table = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
    if table is None:
        return None
    array = re.search(r"^dependencies\s*=\s*\[(.*?)\]", table.group(1), re.MULTILINE | re.DOTALL)
    if array is None:
        return None
    body = re.sub(r"#[^\n]*", "", array.group(1))
    return [a or b for a, b in re.findall(r'"([^"]*)"|\'([^\']*)\'', body)]


def runtime_dependencies(stage_dir: Path) -> list[str]:
    """The requirement strings of ``stage_dir/pyproject.toml`` (``[project] dependencies``).

    Raises:
        InstructorError: no pyproject.toml there, or it lists no ``[project] dependencies``.
    """
    path = Path(stage_dir) / "pyproject.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InstructorError(f"{path}: cannot read the stage's dependencies ({error})") from None
    if tomllib is not None:
        try:
            found = tomllib.loads(text).get("project", {}).get("dependencies")
        except tomllib.TOMLDecodeError as error:
            raise InstructorError(f"{path}: not valid TOML ({error})") from None
    else:
        found = _read_dependencies_310(text)
    if not isinstance(found, list) or not all(isinstance(item, str) for item in found):
        raise InstructorError(
            f"{path}: expected a [project] table with dependencies = [\"numpy>=...\", ...], "
            f"found {found!r}; list the stage's third-party packages there")
    return list(found)


def distribution_names(requirements: Iterable[str]) -> tuple[str, ...]:
    """The distribution names of requirement strings (``"numpy>=1.24"`` -> ``"numpy"``)."""
    names = []
    for requirement in requirements:
        match = _NAME.match(requirement)
        if match is None:
            raise InstructorError(
                f"{requirement!r} is not a requirement: expected a name such as 'numpy>=1.24'")
        names.append(match.group(1))
    return tuple(names)


def import_names(requirements: Iterable[str]) -> tuple[str, ...]:
    """The top-level modules of requirement strings (``"numpy>=1.24"`` -> ``"numpy"``)."""
    names = []
    for name in distribution_names(requirements):
        normal = re.sub(r"[-_.]+", "-", name).lower()
        names.append(IMPORT_NAMES.get(normal, normal.replace("-", "_")))
    return tuple(names)


def newest_stage_dependencies(root: Path | None = None) -> list[str]:
    """The runtime dependencies of the newest stage of ``root`` (default: the repository these
    tools run from), for a caller that has no stage of its own: a later stage lists every
    dependency of an earlier one.

    Raises:
        InstructorError: no repository there (an installed copy of the tools outside it: pass
            the stage's own list instead).
    """
    from instructor.stages.repo import stage_dir, stage_numbers

    if root is None:
        # instructor/src/instructor/stages/dependencies.py -> the repository four folders up;
        # an installed copy (not editable) finds it from the current folder instead.
        root = Path(__file__).resolve().parents[4]
        if not (root / "stages").is_dir():
            from instructor.stages.repo import find_repo_root

            try:
                root = find_repo_root()
            except InstructorError:
                pass
    stages = stage_numbers(root) if (root / "stages").is_dir() else []
    if not stages:
        raise InstructorError(
            f"{root} holds no stages/stageN: the tools run outside the repository here, so "
            "the stage's dependencies must be given (a kit's reference/pyproject.toml)")
    return runtime_dependencies(stage_dir(root, stages[-1]))
