"""A mistake in a forward pass is first reported by a forward test, not by a gradient check.

A gradient check compares the backward with central differences of the forward, so it fails for a
wrong forward too, and its message sends the student to the backward's section. Each mutant
below breaks one forward (and only the forward) of a reference stage by a text substitution;
the shared tests of that stage run against the broken copy with ``pytest -x``, in the order
``nox -s stageN`` runs them and in the order of a student release (``shared_tests/tasks.json``
ranks the tests by the guide's tasks), and the first failing test must be a forward test: its
name mentions neither "backward" nor "grad".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from instructor.release.release import write_release

REAL_REPO = Path(__file__).resolve().parents[2]

# (stage, file under src/mini_torch, text in the forward, its broken replacement, test files).
MUTANTS = {
    "attention softmax over the query axis": (
        6, "nn/attention.py", "attn = F.softmax(scores, axis=-1)",
        "attn = F.softmax(scores, axis=-2)", ["test_attention.py"]),
    "linear forward scaled": (
        1, "functional.py", "    y = x @ W\n", "    y = 2 * (x @ W)\n", None),
    "Linear layer forward ignores the bias": (
        2, "nn/linear.py", "F.linear(rows, self.W, self.b)", "F.linear(rows, self.W, 0 * self.b)",
        ["test_linear.py"]),
    "mse loss without the mean": (
        3, "nn/loss.py", "value = F.mse_loss(predictions, targets, self.reduction)",
        'value = F.mse_loss(predictions, targets, "sum")', ["test_mse_loss.py"]),
    "layer norm variance over D - 1": (
        6, "nn/normalization.py", "(centered * centered).mean(axis=1, keepdims=True)",
        "(centered * centered).sum(axis=1, keepdims=True) / (x.shape[1] - 1)",
        ["test_layer_norm.py"]),
    "embedding looks up the next row": (
        6, "nn/embedding.py", "return W[indices]", "return W[(indices + 1) % W.shape[0]]",
        ["test_embedding.py"]),
}


@pytest.fixture(scope="module")
def release_tests(tmp_path_factory) -> dict[int, Path]:
    """The shared_tests folder of a release of each mutated stage (with its tasks.json)."""
    base = tmp_path_factory.mktemp("forward-first-releases")
    stages = sorted({stage for stage, *_ in MUTANTS.values()})
    return {stage: write_release(REAL_REPO, stage, base / f"stage{stage}").out / "shared_tests"
            for stage in stages}


def mutated_package(stage: int, relative: str, old: str, new: str, dest: Path) -> Path:
    """A copy of stage ``stage``'s ``src`` with the first ``old`` of ``relative`` replaced."""
    src = dest / "src"
    shutil.copytree(REAL_REPO / "stages" / f"stage{stage}" / "src", src,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    path = src / "mini_torch" / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"the mutant's text {old!r} is no longer in {relative}: update MUTANTS"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return src


def first_failure(tests: Path, stage: int, files: list[str] | None, src: Path,
                  tmp_path: Path, order: str) -> str:
    """The name of the first failing test (``pytest -x``) of ``tests/stageN`` against ``src``."""
    folder = tests / f"stage{stage}"
    targets = [str(folder / name) for name in files] if files else [str(folder)]
    report = tmp_path / f"{order}.xml"
    env = {**os.environ, "PYTHONPATH": str(src), "MINI_TORCH_ALLOW_SOURCE": "1",
           "MPLBACKEND": "Agg"}
    env.pop("MINI_TORCH_EXPECT_PATH", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *targets, "-x", "-q", "-p", "no:cacheprovider",
         "--import-mode=importlib", f"--junitxml={report}", "--rootdir", str(tests.parent)],
        cwd=tests.parent, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1, (
        f"the mutant survived or the run broke ({order} order, exit {result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
    )
    for case in ET.parse(report).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            return case.get("name", "")
    raise AssertionError(f"no failing test case in {report}:\n{result.stdout[-3000:]}")


@pytest.mark.parametrize("order", ["repository", "release"])
@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_a_forward_mistake_fails_a_forward_test_first(mutant, order, release_tests, tmp_path):
    stage, relative, old, new, files = MUTANTS[mutant]
    src = mutated_package(stage, relative, old, new, tmp_path / "package")
    tests = REAL_REPO / "shared_tests" if order == "repository" else release_tests[stage]
    name = first_failure(tests, stage, files, src, tmp_path, order)
    assert not re.search(r"backward|grad", name, re.I), (
        f"{mutant}: the first failing test ({order} order) is {name}, a gradient test; a forward "
        f"test of the same layer must run (and fail) before it"
    )
