"""The stage 4 example scripts run, reach their bars and save their plots.

The scripts come from ``$MINI_TORCH_SOURCE/examples`` (the package folder under test, set by
nox), or from ``<repo>/stages/stage<STAGE>/examples`` when the variable is unset. Each runs in a
subprocess with this interpreter, a small ``--epochs`` and ``--out`` in a temporary folder, and
must end with the contract's last line (``final train accuracy: 97.33%`` or
``final train mse: 0.00123``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def examples(stage_examples) -> Path:
    """The folder of the stage-4 examples (see ``stage_examples`` in conftest.py)."""
    return stage_examples(4)


def run_example(folder: Path, script: str, *args: str, cwd: Path) -> str:
    """Run ``examples/<script>`` with ``args``; return its standard output."""
    path = folder / script
    if not path.is_file():
        pytest.fail(f"example {path} is missing")
    done = subprocess.run([sys.executable, str(path), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, (
        f"{script} {' '.join(args)} exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def last_line(stdout: str) -> str:
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    assert lines, "the script printed nothing"
    return lines[-1]


def final_accuracy(stdout: str) -> float:
    """The percentage of the last line ``final train accuracy: XX.XX%``."""
    match = re.fullmatch(r"final train accuracy: (\d+(?:\.\d+)?)%", last_line(stdout))
    assert match, f"the last line is not 'final train accuracy: XX.XX%':\n{stdout}"
    return float(match.group(1))


def final_mse(stdout: str) -> float:
    """The number of the last line ``final train mse: X``."""
    match = re.fullmatch(r"final train mse: ([0-9.eE+-]+)", last_line(stdout))
    assert match, f"the last line is not 'final train mse: X':\n{stdout}"
    return float(match.group(1))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pngs(folder: Path) -> list[Path]:
    """The PNG images the script wrote into ``folder`` (files that really are PNGs)."""
    return sorted(path for path in folder.glob("*.png")
                  if path.read_bytes()[:8] == PNG_SIGNATURE)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_train_spirals_reaches_95_percent_with_each_optimizer(optimizer, tmp_path, examples):
    out = tmp_path / "plots"
    stdout = run_example(examples, "train_spirals.py", "--epochs", "60", "--seed", "0",
                         "--optimizer", optimizer, "--out", str(out), cwd=tmp_path)
    assert final_accuracy(stdout) >= 95.0
    assert len(pngs(out)) >= 2, "expected a loss curve and a decision boundary"


def test_train_spirals_lr_flag_overrides_the_default(tmp_path, examples):
    """``--lr 0`` freezes the network, so it stays near chance on three spirals."""
    stdout = run_example(examples, "train_spirals.py", "--epochs", "5", "--seed", "0", "--lr", "0",
                         "--out", str(tmp_path / "plots"), cwd=tmp_path)
    assert final_accuracy(stdout) < 80.0


def test_train_sine_reaches_mse_below_0_02(tmp_path, examples):
    out = tmp_path / "plots"
    stdout = run_example(examples, "train_sine.py", "--epochs", "100", "--seed", "0",
                         "--out", str(out), cwd=tmp_path)
    assert final_mse(stdout) < 0.02
    assert pngs(out), "expected a loss curve"


def test_compare_optimizers_reports_each_optimizer_and_saves_one_plot(tmp_path, examples):
    out = tmp_path / "plots"
    stdout = run_example(examples, "compare_optimizers.py", "--epochs", "40", "--seed", "0",
                         "--out", str(out), cwd=tmp_path)
    rows = {}
    for line in stdout.splitlines():
        fields = line.split()
        if fields and fields[0] in ("sgd", "adam", "adamw") and fields[-2].endswith("%"):
            rows[fields[0]] = float(fields[-2].rstrip("%"))
    assert sorted(rows) == ["adam", "adamw", "sgd"], f"no table row per optimizer:\n{stdout}"
    assert all(accuracy >= 95.0 for accuracy in rows.values()), rows
    assert final_accuracy(stdout) == min(rows.values())
    assert len(pngs(out)) == 1, "expected one plot with the three loss curves"
