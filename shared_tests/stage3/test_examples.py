"""The stage-3 examples run as scripts and reach their bars.

Each example takes ``--epochs``, ``--seed``, ``--lr`` and ``--out``, writes its plots into
``--out`` and ends with ``final train accuracy: XX.XX%`` or ``final train mse: X``. The examples
are those of the package under test: ``$MINI_TORCH_SOURCE/examples`` (set by nox), or the
repository's ``stages/stage<STAGE>/examples`` when the variable is unset.

Bars (seed 0, each script's default learning rate; see test_training.py for why they are fair):

* train_spirals.py, 300 epochs: train accuracy >= 95 % (stage 3: full batch, lr 1.0);
* train_sine.py, 2000 epochs: train MSE < 0.02 (stage 3: full batch, lr 0.1);
* train_moons.py, 300 epochs: train accuracy >= 95 % (stage 3: full batch, lr 1.0).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ACCURACY_LINE = re.compile(r"final train accuracy: (\d+\.\d{2})%")
MSE_LINE = re.compile(r"final train mse: ([0-9.eE+-]+)")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="session")
def examples(stage_examples) -> Path:
    """The folder of the stage-3 examples (see ``stage_examples`` in conftest.py)."""
    return stage_examples(3)


def run_example(folder: Path, name: str, out: Path, *, epochs: int, seed: int = 0) -> str:
    """Run an example with the test's interpreter; return its stdout (fail on a crash).

    The learning rate is left at the script's default: in later stages the same script trains
    with an optimizer and mini-batches, where a different rate is right.
    """
    script = folder / name
    out.mkdir(parents=True, exist_ok=True)
    assert script.is_file(), f"{script} is missing: every stage from 3 on ships {name}."
    result = subprocess.run(
        [sys.executable, str(script), "--epochs", str(epochs), "--seed", str(seed),
         "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=out,
    )
    assert result.returncode == 0, (
        f"{name} exited with {result.returncode}\nstdout:\n{result.stdout}\n"
        f"stderr:\n{result.stderr}"
    )
    assert "RuntimeWarning" not in result.stderr, (
        f"{name} hit a numerical warning (overflow / NaN?):\n{result.stderr}"
    )
    return result.stdout


def final_line(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.strip()]
    assert lines, "the example printed nothing"
    return lines[-1]


def final_accuracy(stdout: str) -> float:
    line = final_line(stdout)
    match = ACCURACY_LINE.fullmatch(line)
    assert match, f"the last line must be 'final train accuracy: XX.XX%', got {line!r}"
    return float(match.group(1)) / 100.0


def final_mse(stdout: str) -> float:
    line = final_line(stdout)
    match = MSE_LINE.fullmatch(line)
    assert match, f"the last line must be 'final train mse: X', got {line!r}"
    return float(match.group(1))


def assert_pngs(folder: Path, at_least: int) -> None:
    """At least ``at_least`` files under ``folder`` that are PNG images (by their signature)."""
    found = sorted(folder.rglob("*.png"))
    assert len(found) >= at_least, f"expected >= {at_least} PNG plots in {folder}, found {found}"
    for path in found:
        assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{path} is not a PNG file"


def test_train_spirals_reaches_95_percent_in_300_epochs(tmp_path, examples):
    stdout = run_example(examples, "train_spirals.py", tmp_path, epochs=300)
    assert final_accuracy(stdout) >= 0.95
    assert_pngs(tmp_path, at_least=2)  # loss curve and decision boundary


def test_train_sine_reaches_mse_below_0_02_in_2000_epochs(tmp_path, examples):
    stdout = run_example(examples, "train_sine.py", tmp_path, epochs=2000)
    assert final_mse(stdout) < 0.02
    assert_pngs(tmp_path, at_least=1)  # loss curve


def test_train_moons_reaches_95_percent_in_300_epochs(tmp_path, examples):
    stdout = run_example(examples, "train_moons.py", tmp_path, epochs=300)
    assert final_accuracy(stdout) >= 0.95
    assert_pngs(tmp_path, at_least=2)  # loss curve and decision boundary

