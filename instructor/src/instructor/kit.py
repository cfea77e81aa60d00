"""The grading kit: the grader's own copy of everything a grading run needs, prepared once.

A kit is a folder::

    KIT/kit.json                   the stage, the node ids of every test to grade, the selection
    KIT/tests/pytest.ini           the grader's pytest configuration (nothing else is read)
    KIT/tests/conftest.py          shared_tests/conftest.py, moved up so hidden tests get it too
    KIT/tests/shared_tests/stageK  the public tests of stages 1 .. N
    KIT/tests/hidden_tests/stageN  instructor/hidden_tests/stageN, when it exists
    KIT/tests/reference/stages/stageK/examples
                                   the reference examples of the earlier stages K < N, which
                                   the cumulative suite runs against the newer package (the
                                   tests find them through MINI_TORCH_REPO)
    KIT/build/                     pyproject.toml and README.md of the reference stage N: every
                                   submission's src/mini_torch is built with these
    KIT/weights.json               optional: the points per test (see instructor.weights)

:func:`build_kit` makes one from the monorepo and records the test node ids by collecting the
suite against the reference stage, so that a submission whose test modules fail to import still
has every test it missed listed (and scored 0). ``grade`` builds a kit in a temporary folder;
``autograder`` ships one inside the Gradescope zip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from instructor.repo import InstructorError, stage_dir, stage_numbers

KIT_FILE = "kit.json"
KIT_FORMAT = 1

#: The pytest configuration of a grading run; the command line passes everything else.
PYTEST_INI = """\
# The grader's own pytest configuration: a submission's pytest.ini, conftest.py or pyproject.toml
# is never read.
[pytest]
"""

#: Where the hidden tests of stage N live in the monorepo.
HIDDEN_TESTS = Path("instructor") / "hidden_tests"

#: Seconds the reference stage may take to collect the suite.
COLLECT_TIMEOUT = 300


@dataclass
class Kit:
    """A prepared grading kit (see the module docstring)."""

    path: Path
    stage: int
    tests: list[str]
    select: list[str] = field(default_factory=list)

    @property
    def tests_dir(self) -> Path:
        return self.path / "tests"

    @property
    def reference_dir(self) -> Path:
        """What ``MINI_TORCH_REPO`` names in a run: holds ``stages/stageK/examples``."""
        return self.tests_dir / "reference"

    @property
    def build_dir(self) -> Path:
        return self.path / "build"

    @property
    def weights_file(self) -> Path:
        return self.path / "weights.json"

    def test_folders(self) -> list[str]:
        """The folders pytest is pointed at, relative to :attr:`tests_dir`."""
        folders = [f"shared_tests/stage{k}" for k in range(1, self.stage + 1)]
        folders = [f for f in folders if (self.tests_dir / f).is_dir()]
        hidden = f"hidden_tests/stage{self.stage}"
        if (self.tests_dir / hidden).is_dir():
            folders.append(hidden)
        return folders

    def save(self) -> None:
        data = {"format": KIT_FORMAT, "stage": self.stage, "select": self.select,
                "tests": self.tests}
        (self.path / KIT_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def load_kit(path: Path) -> Kit:
    """Read the kit at ``path``.

    Raises:
        InstructorError: ``path`` holds no readable kit.
    """
    try:
        data = json.loads((path / KIT_FILE).read_text(encoding="utf-8"))
        return Kit(path=path.resolve(), stage=int(data["stage"]), tests=list(data["tests"]),
                   select=list(data.get("select", [])))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InstructorError(f"{path}: not a grading kit ({error})") from error


def _copy_tests(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def build_kit(
    root: Path,
    stage: int,
    dest: Path,
    *,
    hidden: bool = True,
    select: Sequence[str] = (),
    weights: Path | None = None,
) -> Kit:
    """Prepare a grading kit for ``stage`` of the monorepo at ``root`` in the new folder ``dest``.

    Args:
        hidden: include ``instructor/hidden_tests/stage<stage>`` when it exists.
        select: fnmatch patterns of node ids; only matching tests are graded (default: all).
        weights: a weights file to ship with the kit.

    Raises:
        InstructorError: no such stage, or the reference stage fails to collect its own suite.
    """
    if stage not in stage_numbers(root):
        known = ", ".join(str(s) for s in stage_numbers(root)) or "none"
        raise InstructorError(f"--stage {stage}: no such stage (existing: {known})")
    reference = stage_dir(root, stage)
    tests = dest / "tests"
    tests.mkdir(parents=True)
    (tests / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")
    shutil.copyfile(root / "shared_tests" / "conftest.py", tests / "conftest.py")
    for k in range(1, stage + 1):
        folder = root / "shared_tests" / f"stage{k}"
        if folder.is_dir():
            _copy_tests(folder, tests / "shared_tests" / f"stage{k}")
    for k in range(1, stage):
        examples = stage_dir(root, k) / "examples"
        if examples.is_dir():
            _copy_tests(examples, tests / "reference" / "stages" / f"stage{k}" / "examples")
    hidden_source = root / HIDDEN_TESTS / f"stage{stage}"
    if hidden and hidden_source.is_dir():
        _copy_tests(hidden_source, tests / "hidden_tests" / f"stage{stage}")
    build = dest / "build"
    build.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(reference / name, build / name)
    if weights is not None:
        shutil.copyfile(weights, dest / "weights.json")

    kit = Kit(path=dest.resolve(), stage=stage, tests=[], select=list(select))
    kit.tests = collect_reference(kit, reference)
    kit.save()
    return kit


def collect_reference(kit: Kit, reference: Path) -> list[str]:
    """The node ids of the kit's tests, collected against the reference stage's source.

    Raises:
        InstructorError: the reference stage cannot collect the suite (a broken test module).
    """
    # Imported here: grading imports this module, and this function needs grading's runner.
    from instructor.grading import pytest_command, read_log, run_environment

    with tempfile.TemporaryDirectory(prefix="kit-collect-") as work:
        log = Path(work) / "log.jsonl"
        command = pytest_command(kit, Path(work), log, timeout=60, collect_only=True)
        env = run_environment(reference / "src", reference, kit.stage, kit.reference_dir)
        done = subprocess.run(
            command, cwd=kit.tests_dir, env=env, capture_output=True, text=True,
            timeout=COLLECT_TIMEOUT, check=False,
        )
        events = read_log(log)
    errors = [f"{e['nodeid']}: {e['message']}" for e in events if e["event"] == "collect_error"]
    collected = [e["nodeids"] for e in events if e["event"] == "collected"]
    if errors or not collected or done.returncode not in (0, 5):
        output = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise InstructorError(
            f"the reference stage {kit.stage} does not collect its own tests cleanly:\n"
            + "\n".join(errors or [output])
        )
    if not collected[-1]:
        raise InstructorError(f"no test of stage {kit.stage} matches --select {kit.select}")
    return collected[-1]
