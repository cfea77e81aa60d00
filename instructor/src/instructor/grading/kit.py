"""The grading kit: the grader's own copy of everything a grading run needs, prepared once.

A kit is a folder (only the grader reads it; no jail holds it)::

    KIT/kit.json        the stage, its own tasks and files, the names of the checks
    KIT/checks.json     every check: the calls, their inputs, the tolerances (hidden ones too)
    KIT/reference/      the reference stage: src/mini_torch (solution markers kept) and
                        examples/; the oracle the checks are compared with at grading time
    KIT/tests/hidden_tests/stageK/hidden_checks.py
                        the hidden checks' source, when the stage has some
    KIT/weights.json    optional: the points per check (see instructor.grading.scoring)

:func:`build_kit` makes one from the monorepo and runs every check on the reference once, so a
check that the reference itself fails is refused before any student is graded.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from instructor.checks import Check, has_checks, hidden_checks, stage_checks
from instructor.grading.oracle import compute
from instructor.grading.scoring import own_files, own_tasks
from instructor.release import stub_doc
from instructor.repo import InstructorError, private_tree, stage_dir, stage_numbers

KIT_FILE = "kit.json"
CHECKS_FILE = "checks.json"
KIT_FORMAT = 3

#: Where the hidden checks of stage N live in the monorepo.
HIDDEN_TESTS = Path("instructor") / "hidden_tests"
HIDDEN_FILE = "hidden_checks.py"


@dataclass
class Kit:
    """A prepared grading kit (see the module docstring)."""

    path: Path
    stage: int
    tasks: list[str]
    own_files: list[str]
    checks: list[Check] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    guides: dict[str, str] = field(default_factory=dict)  # task -> docs/stageK.md#section

    @property
    def reference_dir(self) -> Path:
        return self.path / "reference"

    @property
    def weights_file(self) -> Path:
        return self.path / "weights.json"

    @property
    def tests(self) -> list[str]:
        """The names of the checks (what the weights patterns match)."""
        return [c.name for c in self.checks]

    def save(self) -> None:
        data = {"format": KIT_FORMAT, "stage": self.stage, "select": self.select,
                "tasks": self.tasks, "own_files": self.own_files, "checks": self.tests,
                "guides": self.guides}
        (self.path / KIT_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        (self.path / CHECKS_FILE).write_text(
            json.dumps([c.to_json() for c in self.checks]) + "\n", encoding="utf-8")


def load_kit(path: Path) -> Kit:
    """Read the kit at ``path``.

    Raises:
        InstructorError: ``path`` holds no readable kit.
    """
    try:
        data = json.loads((path / KIT_FILE).read_text(encoding="utf-8"))
        if data.get("format") != KIT_FORMAT:
            raise ValueError(f"kit format {data.get('format')}, expected {KIT_FORMAT}")
        checks = [Check.from_json(c) for c in
                  json.loads((path / CHECKS_FILE).read_text(encoding="utf-8"))]
        return Kit(path=path.resolve(), stage=int(data["stage"]), tasks=list(data["tasks"]),
                   own_files=list(data["own_files"]), checks=checks,
                   select=list(data.get("select", [])), guides=dict(data.get("guides", {})))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InstructorError(f"{path}: not a grading kit ({error})") from error


def _check_stage(check: Check, default: int) -> int:
    """The stage of the task a check grades: from ``stage3/...`` or ``hidden/stage3/...``."""
    head = check.name.removeprefix("hidden/").split("/", 1)[0]
    number = head.removeprefix("stage")
    return int(number) if head.startswith("stage") and number.isdigit() else default


def guide_sections(root: Path, checks: Sequence[Check], stage: int) -> dict[str, str]:
    """{task: the guide section that teaches it} (``docs/stage3.md#mse-...``), for feedback."""
    finders: dict[int, Callable[[str], str]] = {}
    guides = {}
    for item in checks:
        number = _check_stage(item, stage)
        if number not in finders:
            finders[number] = stub_doc(root, number)
        guides[item.task] = finders[number](item.task)
    return guides


def build_kit(
    root: Path,
    stage: int,
    dest: Path,
    *,
    hidden: bool = True,
    select: Sequence[str] = (),
    weights: Path | None = None,
    validate: bool = True,
) -> Kit:
    """Prepare a grading kit for ``stage`` of the monorepo at ``root`` in the new folder ``dest``.

    Args:
        hidden: include ``instructor/hidden_tests/stage<stage>/hidden_checks.py`` when it exists.
        select: fnmatch patterns of check names; only matching checks are graded (default: all).
        weights: a weights file to ship with the kit.
        validate: run every check on the reference and refuse a check it fails.

    Raises:
        InstructorError: no such stage, no checks for it, or a check the reference fails.
    """
    if stage not in stage_numbers(root):
        known = ", ".join(str(s) for s in stage_numbers(root)) or "none"
        raise InstructorError(f"--stage {stage}: no such stage (existing: {known})")
    if not has_checks(stage):
        raise InstructorError(
            f"stage {stage} has no grading checks: write instructor/src/instructor/checks/"
            f"stage{stage}.py (see instructor/checks/stage3.py)")
    reference = stage_dir(root, stage)
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(reference / "src" / "mini_torch", dest / "reference" / "src" / "mini_torch",
                    ignore=ignore)
    if (reference / "examples").is_dir():
        shutil.copytree(reference / "examples", dest / "reference" / "examples", ignore=ignore)
    checks = stage_checks(stage)
    hidden_source = root / HIDDEN_TESTS / f"stage{stage}" / HIDDEN_FILE
    if hidden and hidden_source.is_file():
        target = dest / "tests" / "hidden_tests" / f"stage{stage}"
        target.mkdir(parents=True)
        shutil.copyfile(hidden_source, target / HIDDEN_FILE)
        checks += hidden_checks(hidden_source)
    if select:
        checks = [c for c in checks if any(fnmatchcase(c.name, p) for p in select)]
        if not checks:
            raise InstructorError(f"no check of stage {stage} matches --select {list(select)}")
    names = [c.name for c in checks]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InstructorError(f"two checks share a name: {', '.join(duplicates)}")
    if weights is not None:
        shutil.copyfile(weights, dest / "weights.json")
    kit = Kit(path=dest.resolve(), stage=stage, tasks=own_tasks(root, stage),
              own_files=own_files(root, stage), checks=checks, select=list(select),
              guides=guide_sections(root, checks, stage))
    kit.save()
    private_tree(dest)
    if validate:
        compute(kit.checks, kit.reference_dir)  # refuses a check the reference fails
    return kit
