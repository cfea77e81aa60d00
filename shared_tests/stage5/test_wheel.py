"""The bundled MNIST files are package data: in the wheel, and installed with the package.

A stage must work offline right after ``pip install``. Files that sit in the source folder but
are left out of the wheel would pass every test run from a checkout and fail for everyone who
installs the package, so the wheel itself is built and opened here.

The package under test is ``$MINI_TORCH_SOURCE`` (set by nox), or ``stages/stage<N>`` of this
repository for the stage that is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import mini_torch
from mini_torch.datasets import mnist_path

# This checkout, or MINI_TORCH_REPO when a grader copied the tests elsewhere (as in conftest.py).
REPO = Path(os.environ.get("MINI_TORCH_REPO", Path(__file__).resolve().parents[2]))
BUNDLED = {"train": "mnist_5k_train.csv.gz", "test": "mnist_5k_test.csv.gz"}


def package_source() -> Path:
    source = os.environ.get("MINI_TORCH_SOURCE")
    if source:
        return Path(source)
    return REPO / "stages" / f"stage{mini_torch.STAGE}"


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory) -> dict[str, bytes]:
    """Build the wheel of the package under test; return its files' contents by path."""
    source = package_source()
    assert (source / "pyproject.toml").is_file(), f"no package to build at {source}"
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
         str(source)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    assert result.returncode == 0, f"pip wheel {source} failed:\n{result.stderr[-3000:]}"
    wheels = sorted(out.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {out}, found {wheels}"
    with zipfile.ZipFile(wheels[0]) as archive:
        return {name: archive.read(name) for name in archive.namelist()
                if name.startswith("mini_torch/")}


@pytest.mark.parametrize("split", sorted(BUNDLED))
def test_the_wheel_contains_the_bundled_mnist_file(wheel_files, split):
    name = f"mini_torch/datasets/data/{BUNDLED[split]}"
    assert name in wheel_files, (
        f"{name} is missing from the wheel; declare the data files as package data "
        f"(with hatchling, files inside src/mini_torch are included unless excluded)"
    )


@pytest.mark.parametrize("split", sorted(BUNDLED))
def test_the_wheel_holds_the_same_bytes_as_the_installed_file(wheel_files, split):
    name = f"mini_torch/datasets/data/{BUNDLED[split]}"
    assert wheel_files.get(name) == Path(mnist_path(split)).read_bytes()


def test_the_wheel_contains_the_data_loading_modules(wheel_files):
    for module in ("utils/data/dataset.py", "utils/data/dataloader.py", "datasets/mnist.py",
                   "serialization.py"):
        assert f"mini_torch/{module}" in wheel_files


@pytest.mark.parametrize("split", sorted(BUNDLED))
def test_mnist_path_of_the_installed_package_exists(split):
    path = Path(mnist_path(split))
    assert path.is_file(), f"mnist_path({split!r}) = {path} does not exist"
    assert path.name == BUNDLED[split]


def test_mnist_path_points_into_the_installed_package_not_the_source_folder(install_locations):
    path = Path(mnist_path("train")).resolve()
    assert path.is_relative_to(Path(mini_torch.__file__).resolve().parent)
    if os.environ.get("MINI_TORCH_ALLOW_SOURCE") != "1":
        assert any(path.is_relative_to(folder) for folder in install_locations), path
