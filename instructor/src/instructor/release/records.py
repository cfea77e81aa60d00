"""What a release records for the tools that read it back.

- ``stages/stageK/.release.json`` (:func:`write_manifest`): the sha256 of each package file of
  the released stage and the files that hold its tasks, for the students' ``carry_forward.py``;
- ``shared_tests/tasks.json`` (:func:`task_order`): each stage's stubs in the order its guide
  teaches them, with the section of each, for the shared tests' conftest.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath

from instructor.release.markdown import guide_sections, section_bodies
from instructor.release.stubs import Stub, short_name
from instructor.stages.guides import guide_section_of, implement_section
from instructor.stages.repo import PACKAGE_SUBDIR

#: What a released stage folder held, for carry_forward.py: stages/stageK/.release.json.
MANIFEST_FILE = ".release.json"


def write_manifest(
    target: Path, files: dict[PurePosixPath, bytes], stubs: list[Stub], stage: int
) -> None:
    """Record the sha256 of every package file of a released stage and which hold tasks."""
    package = {}
    for relative, data in files.items():
        parts = relative.parts[: len(PACKAGE_SUBDIR.parts)]
        if parts == PACKAGE_SUBDIR.parts:
            inner = PurePosixPath(*relative.parts[len(PACKAGE_SUBDIR.parts):]).as_posix()
            package[inner] = hashlib.sha256(data).hexdigest()
    prefix = f"stages/stage{stage}/{PACKAGE_SUBDIR}/"
    tasks = sorted({stub.path.removeprefix(prefix) for stub in stubs
                    if stub.path.startswith(prefix)})
    manifest = {"stage": stage, "files": dict(sorted(package.items())), "tasks": tasks}
    (target / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


#: The task order of each stage in a release, read by shared_tests/conftest.py.
TASKS_FILE = "tasks.json"


def task_order(root: Path, stage: int, stubs: list[Stub]) -> list[dict[str, str]]:
    """The stubs of ``stage`` in the order its guide teaches them, with the section of each.

    ``[{"name": "linear", "qualified": "mini_torch.functional.linear",
    "guide": "docs/stage1.md#linear"}, ...]``: sorted by where the guide's "What you implement"
    section first names each (or its file), then by their order in the files. The shared
    conftest runs the tests in this order and
    names the section of each failure.
    """
    guide = root / "docs" / f"stage{stage}.md"
    text = guide.read_text(encoding="utf-8") if guide.is_file() else ""
    ranked = []
    for index, stub in enumerate(stubs):
        found = guide_section_of(text, stub.name)
        where = f"docs/stage{stage}.md" + (f"#{found[1]}" if found else "")
        ranked.append(((_task_rank(text, stub), index),
                       {"name": short_name(stub), "qualified": stub.name, "guide": where}))
    return [entry for _, entry in sorted(ranked, key=lambda item: item[0])]


def _task_rank(text: str, stub: Stub) -> int:
    """Where the guide's "What you implement" section first names the stub or its file."""
    sections = guide_sections(text)
    implement = implement_section(sections)
    if implement is None:
        return 0
    body = section_bodies(text, sections)[sections.index(implement)]
    short = short_name(stub)
    file_name = PurePosixPath(stub.path).name
    candidates = [body.find(short), body.find(short.split(".")[0]), body.find(file_name)]
    found = [index for index in candidates if index >= 0]
    return min(found) if found else len(body) + 1


__all__ = ["MANIFEST_FILE", "TASKS_FILE", "task_order", "write_manifest"]
