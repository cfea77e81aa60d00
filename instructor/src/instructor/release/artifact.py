"""A student artifact as the leak check reads it: its files, its stubs' sites, its findings.

An artifact is a folder a student receives (a release, a term repository, a Classroom starter).
:func:`artifact_files` lists what it holds (tool state such as ``.git`` left out), a
:class:`StubSite` is one stub line in it and a :class:`Finding` one problem the check reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from instructor.stages.repo import is_build_artifact

#: Tool state and build output: never part of what the check reads.
_SKIPPED_PARTS = frozenset({".git", ".nox", ".venv", "__pycache__", ".pytest_cache",
                            ".ruff_cache", "build", "dist"})


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


@dataclass(frozen=True)
class StubSite:
    """One stub of an artifact: its stage, file, line and qualified name."""

    stage: int
    path: str
    line: int
    name: str


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


def stage_of(relative: PurePosixPath) -> int | None:
    """K for a file of ``stages/stageK``, else None."""
    parts = relative.parts
    if len(parts) > 1 and parts[0] == "stages" and re.fullmatch(r"stage\d+", parts[1]):
        return int(parts[1].removeprefix("stage"))
    return None


__all__ = ["Finding", "StubSite", "artifact_files", "stage_of"]
