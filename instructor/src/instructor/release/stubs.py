"""The stubs of a release: what a student writes, named as the files and the tasks name it.

A :class:`Stub` is one function of a released stage that raises the stub error (see
:data:`instructor.stages.markers.STUB_LINE`); :func:`read_stubs` reads them back from a release
folder, :func:`short_name` names one as its file shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from instructor.stages.markers import STUB_LINE
from instructor.stages.repo import PACKAGE_SUBDIR


@dataclass(frozen=True)
class Stub:
    """One function a student writes: the file (relative to DIR) and its qualified name."""

    path: str
    name: str


def module_name(package_relative: PurePosixPath) -> str:
    """``nn/linear.py`` -> ``mini_torch.nn.linear``; ``nn/__init__.py`` -> ``mini_torch.nn``."""
    parts = list(package_relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(["mini_torch", *parts])


def read_stubs(out: Path) -> dict[int, list[Stub]]:
    """The stubs of every stage released into ``out``, read back from its files."""
    found: dict[int, list[Stub]] = {}
    for folder in sorted((out / "stages").glob("stage[0-9]*")):
        stage = int(folder.name.removeprefix("stage"))
        stubs = []
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(out).as_posix()
            for line in path.read_text(encoding="utf-8").splitlines():
                match = STUB_LINE.match(line)
                if match and int(match["stage"]) == stage:
                    stubs.append(Stub(relative, match["name"]))
        found[stage] = stubs
    return found


def short_name(stub: Stub) -> str:
    """The name as the file shows it: ``Linear.forward`` in nn/linear.py, ``train_step``."""
    if ":" in stub.name:
        return stub.name.split(":", 1)[1]
    marker = f"/{PACKAGE_SUBDIR}/"
    if marker in stub.path:
        module = module_name(PurePosixPath(stub.path.split(marker, 1)[1]))
        return stub.name.removeprefix(module + ".")
    return stub.name


__all__ = ["Stub", "module_name", "read_stubs", "short_name"]
