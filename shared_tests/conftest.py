"""Shared set-up of the cumulative suite: which mini_torch is under test, and common fixtures.

The suite must test the package that nox installed into the session's virtualenv. A stray folder
named ``mini_torch`` earlier on ``sys.path`` (a student's working copy, a PYTHONPATH entry) would
silently test the wrong code, so the run stops before collecting anything when the imported package
does not live in this interpreter's site-packages or in ``MINI_TORCH_EXPECT_PATH`` (the
package's ``src`` folder when nox installs it editable, so that a traceback names the file to
edit; where a grader installs a submission). Set ``MINI_TORCH_ALLOW_SOURCE=1`` to accept any
copy.

In a student release, ``shared_tests/tasks.json`` (written by the release tool) lists each
stage's tasks in the order its guide teaches them, with the guide section of each. The tests then
run in that order (a test module at the rank of its first task; inside a module, its tests by
task, unless a parametrized fixture shared by the module ties them together), so the first
failure is the guide's first unfinished task, and every failure of a task's test names its
section (``docs/stage1.md#linear``).
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import mini_torch


def _package_dir() -> Path:
    return Path(mini_torch.__file__).resolve().parent


def _site_packages() -> set[Path]:
    paths = sysconfig.get_paths()
    return {Path(paths[key]).resolve() for key in ("purelib", "platlib")}


def pytest_report_header(config) -> list[str]:
    version = getattr(mini_torch, "__version__", "unknown")
    stage = getattr(mini_torch, "STAGE", "unknown")
    return [f"mini_torch {version} (stage {stage}) imported from {_package_dir()}"]


def _editable_install() -> bool:
    """Whether the installed distribution mini-torch is an editable install (PEP 660)."""
    try:
        text = importlib.metadata.distribution("mini-torch").read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:
        return False
    try:
        return bool(json.loads(text or "{}").get("dir_info", {}).get("editable", False))
    except ValueError:
        return False


def _allowed_locations() -> set[Path]:
    """Where the package under test may live: site-packages, or where a grader installed it."""
    expected = os.environ.get("MINI_TORCH_EXPECT_PATH")
    return {Path(expected).resolve()} if expected else _site_packages()


def pytest_configure(config) -> None:
    package_dir = _package_dir()
    allowed = _allowed_locations()
    if os.environ.get("MINI_TORCH_ALLOW_SOURCE") != "1" and not any(
        package_dir.is_relative_to(location) for location in allowed
    ):
        if _editable_install():
            pytest.exit(
                f"mini_torch is an editable install (pip install -e) of {package_dir}, but "
                f"nothing told the tests that this is the package under test. Run them through "
                f"nox (nox -s stageN), which installs the stage editable and says where it is, "
                f"or set MINI_TORCH_EXPECT_PATH to the folder holding mini_torch (or "
                f"MINI_TORCH_ALLOW_SOURCE=1 to accept any copy).",
                returncode=4,
            )
        pytest.exit(
            f"mini_torch was imported from {package_dir}, which is not where the package under "
            f"test is installed ({', '.join(map(str, sorted(allowed)))}). "
            f"Another folder named "
            f"mini_torch is shadowing the installed package (check PYTHONPATH and the current "
            f"folder). Run the tests through nox (nox -s stageN), or set "
            f"MINI_TORCH_ALLOW_SOURCE=1 to test an editable install on purpose.",
            returncode=4,
        )
    expected = os.environ.get("MINI_TORCH_EXPECT_VERSION")
    found = getattr(mini_torch, "__version__", None)
    if expected and found != expected:
        pytest.exit(
            f"mini_torch {found} is installed, but this session tests version {expected}; "
            f"the wrong stage was installed.",
            returncode=4,
        )


@pytest.fixture(scope="session")
def install_locations() -> set[Path]:
    """Where the package under test may be installed (the same rule as the check above)."""
    return _allowed_locations()


@pytest.fixture(autouse=True)
def _fresh_global_state():
    """Every test starts from the same seed and the float32 default, whatever ran before."""
    mini_torch.manual_seed(0)
    mini_torch.set_default_dtype(np.float32)
    yield
    mini_torch.set_default_dtype(np.float32)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator for test data, independent of mini_torch's global one."""
    return np.random.default_rng(12345)


@pytest.fixture
def float64():
    """Run the test with float64 as mini_torch's default dtype (what gradient checks need)."""
    with mini_torch.default_dtype(np.float64):
        yield np.float64


# The reference stages: this checkout's stages/, or MINI_TORCH_REPO/stages when a grader copied the
# tests elsewhere.
REPO = Path(os.environ.get("MINI_TORCH_REPO", Path(__file__).resolve().parents[1]))


@pytest.fixture(scope="session")
def stage_examples() -> Callable[[int], Path]:
    """``stage_examples(K)``: the folder holding the examples written the stage-K way.

    For the stage under test (``mini_torch.STAGE == K``) these are the package's own examples,
    ``$MINI_TORCH_SOURCE/examples`` (nox sets it to the package folder, a student's included).
    For an earlier stage K they are the reference ``stages/stageK/examples``, run against the
    newer package: each stage keeps every interface an earlier one fixed, so they must still
    work. When this checkout has no such folder (a student release of a later stage) the test
    is skipped, and reported as skipped.
    """

    def examples_of(stage: int) -> Path:
        if stage == mini_torch.STAGE:
            source = os.environ.get("MINI_TORCH_SOURCE")
            package = Path(source) if source else REPO / "stages" / f"stage{stage}"
            return package / "examples"
        folder = REPO / "stages" / f"stage{stage}" / "examples"
        if not folder.is_dir():
            pytest.skip(f"the reference examples of stage {stage} are not in this checkout")
        return folder

    return examples_of


@pytest.fixture(scope="session")
def load_example() -> Callable[[Path, str], ModuleType]:
    """``load_example(folder, name)``: the example script ``folder/name.py`` imported as a module,
    without running its ``main``; its folder is on ``sys.path`` while it is imported, as when it
    runs (the scripts import their sibling ``progress.py``)."""

    def load(folder: Path, name: str) -> ModuleType:
        script = folder / f"{name}.py"
        assert script.is_file(), f"{script} is missing: this stage ships {name}.py"
        with pytest.MonkeyPatch.context() as patch:
            patch.syspath_prepend(str(folder))
            spec = importlib.util.spec_from_file_location(f"example_{name}", script)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture(scope="session")
def run_example() -> Callable[..., subprocess.CompletedProcess]:
    """``run_example(folder, script, *args, cwd=...)``: run ``folder/script``; it must succeed.

    BLAS runs single-threaded: the examples' small batches gain nothing from threads, and on a
    busy 2-core machine threads that compete with other processes make every step several times
    slower.
    """

    def run(folder: Path, script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
        path = folder / script
        assert path.is_file(), f"{path} does not exist"
        env = {**os.environ,
               "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
        result = subprocess.run([sys.executable, str(path), *args], cwd=cwd, env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, (
            f"{script} {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result

    return run


# ----------------------------------------------------------------------- the guide's task order

TASKS_FILE = Path(__file__).with_name("tasks.json")


@functools.lru_cache(maxsize=1)
def _read_tasks() -> tuple[tuple[int, str, str], ...]:
    """``(stage, match key, guide section)`` of every task of the release, in the guide's order."""
    if not TASKS_FILE.is_file():
        return ()
    try:
        stages = json.loads(TASKS_FILE.read_text(encoding="utf-8"))
    except ValueError:
        return ()
    tasks = []
    for stage in sorted(stages, key=int):
        for task in stages[stage]:
            name = str(task.get("name", ""))
            # ``Linear.forward`` is found as ``linear`` (test_linear.py, [Linear]); a function
            # as itself (``linear_backward``, ``train_step``).
            key = name.split(".")[0] if "." in name else name
            tasks.append((int(stage), key.lower(), str(task.get("guide", ""))))
    return tuple(tasks)


def _task_index(nodeid: str, tasks: tuple[tuple[int, str, str], ...]) -> int | None:
    """The first task (in guide order) a test exercises, by the longest task name it contains."""
    text = nodeid.lower()
    best: tuple[int, int] | None = None
    for index, (_, key, _) in enumerate(tasks):
        if key and re.search(rf"(?<![a-z0-9]){re.escape(key)}(?![a-z0-9])", text):
            candidate = (-len(key), index)
            if best is None or candidate < best:
                best = candidate
    return None if best is None else best[1]


def _stage_of_item(item) -> int:
    match = re.search(r"(?:^|/)stage(\d+)/", item.nodeid)
    return int(match.group(1)) if match else 0


def _module_is_tied(items) -> bool:
    """Whether tests of a module share a parametrized module- or session-scoped fixture."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        for definitions in getattr(info, "name2fixturedefs", {}).values():
            for definition in definitions:
                if definition.scope != "function" and definition.params is not None:
                    return True
    return False


def pytest_collection_modifyitems(session, config, items) -> None:
    tasks = _read_tasks()
    if not tasks:
        return
    unranked = len(tasks)
    modules: dict[str, list] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)
    ranked_modules = []
    for position, module_items in enumerate(modules.values()):
        ranks = [_task_index(item.nodeid, tasks) for item in module_items]
        ranks = [unranked if rank is None else rank for rank in ranks]
        if not _module_is_tied(module_items):
            order = sorted(range(len(module_items)), key=lambda i: (ranks[i], i))
            module_items = [module_items[i] for i in order]
        stage = _stage_of_item(module_items[0])
        ranked_modules.append(((stage, min(ranks), position), module_items))
    items[:] = [item for _, group in sorted(ranked_modules, key=lambda g: g[0]) for item in group]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    tasks = _read_tasks()
    index = _task_index(item.nodeid, tasks)
    if index is not None and tasks[index][2]:
        report.sections.append(("guide", f"this test checks a task of {tasks[index][2]}"))
