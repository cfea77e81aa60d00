"""Shared set-up of the cumulative suite: which mini_torch is under test, and common fixtures.

The suite must test the package that nox installed into the session's virtualenv. A stray folder
named ``mini_torch`` earlier on ``sys.path`` (a student's working copy, a PYTHONPATH entry) would
silently test the wrong code, so the run stops before collecting anything when the imported package
does not live in this interpreter's site-packages (or in ``MINI_TORCH_EXPECT_PATH``, where a
grader installs a submission). Set ``MINI_TORCH_ALLOW_SOURCE=1`` to test an editable install on
purpose.
"""

from __future__ import annotations

import os
import sysconfig
from collections.abc import Callable
from pathlib import Path

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
