"""The stage-5 examples run, learn and write their plots.

``train_mnist.py`` (the main demo) prints one line per epoch with the test accuracy and ends with
``final test accuracy: XX.XX%``; ``train_spirals.py`` ends with ``final train accuracy: XX.XX%``.
The scripts are run as a student would run them, with a few epochs; they come from the folder
``stage_examples(5)`` names (see conftest.py): the package's own examples while stage 5 is under
test, the reference ones when a later stage is.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEST_ACCURACY_LINE = re.compile(r"final test accuracy: (\d+(?:\.\d+)?)%")
TRAIN_ACCURACY_LINE = re.compile(r"final train accuracy: (\d+(?:\.\d+)?)%")


@pytest.fixture(scope="session")
def examples(stage_examples) -> Path:
    """The folder of the stage-5 examples (see ``stage_examples`` in conftest.py)."""
    return stage_examples(5)


def final_accuracy(stdout: str, pattern: re.Pattern = TEST_ACCURACY_LINE) -> float:
    """The percentage of the last line, which must match ``pattern`` exactly."""
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    assert lines, "the example printed nothing"
    match = pattern.fullmatch(lines[-1])
    assert match, f"the last line should match {pattern.pattern!r}, got {lines[-1]!r}"
    return float(match.group(1))


@pytest.fixture(scope="module")
def sgd_run(examples, run_example, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """``train_mnist.py`` with the default optimizer for 3 epochs, plots into a fresh folder."""
    work = tmp_path_factory.mktemp("train_mnist")
    out = work / "plots"
    result = run_example(examples, "train_mnist.py", "--epochs", "3", "--seed", "0",
                         "--out", str(out), cwd=work)
    return result, out


def test_train_mnist_reaches_90_percent_test_accuracy_in_three_epochs(sgd_run):
    result, _ = sgd_run
    assert final_accuracy(result.stdout) >= 90.0, result.stdout


def test_train_mnist_prints_one_progress_line_per_epoch_with_the_test_accuracy(sgd_run):
    result, _ = sgd_run
    epoch_lines = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert len(epoch_lines) == 3, result.stdout
    for line in epoch_lines:
        assert "loss" in line and "train accuracy" in line and "test accuracy" in line, line


def test_train_mnist_writes_curves_confusion_matrix_and_image_grid_as_pngs(sgd_run):
    result, out = sgd_run
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= 3, f"expected at least 3 PNG files in {out}, found {pngs}"
    for png in pngs:
        assert png.read_bytes()[: len(PNG_SIGNATURE)] == PNG_SIGNATURE, png
        assert str(png) in result.stdout, f"{png.name} is written but its path is not printed"


def test_train_mnist_writes_only_into_the_out_folder(sgd_run):
    _, out = sgd_run
    assert sorted(path.name for path in out.parent.iterdir()) == [out.name]


def test_train_mnist_trains_with_adamw_too(examples, run_example, tmp_path):
    result = run_example(examples, "train_mnist.py", "--optimizer", "adamw", "--epochs", "2",
                         "--seed", "1", "--out", str(tmp_path / "plots"), cwd=tmp_path)
    assert "AdamW" in result.stdout
    assert final_accuracy(result.stdout) >= 85.0, result.stdout


def test_train_spirals_reaches_95_percent_with_data_loader_batches(examples, run_example, tmp_path):
    out = tmp_path / "plots"
    result = run_example(examples, "train_spirals.py", "--epochs", "100", "--seed", "0",
                         "--out", str(out), cwd=tmp_path)
    assert final_accuracy(result.stdout, TRAIN_ACCURACY_LINE) >= 95.0, result.stdout
    assert len(sorted(out.glob("*.png"))) >= 2, "expected a loss curve and a decision boundary"
