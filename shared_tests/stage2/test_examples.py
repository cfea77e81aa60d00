"""Stage 2's ``examples/train_spirals.py``: a ``Sequential`` model trained the stage-2 way.

The script is run as a student would run it (a subprocess with this interpreter), once per
activation, with few full-batch epochs; it must reach the stage's accuracy bar on the seeded
spirals and write its plots. Its two solution functions are also imported and checked directly:
``build_model`` composes the layers, ``train_step`` runs forward, backward, an in-place update and
``zero_grad``.

The examples are found in ``$MINI_TORCH_SOURCE/examples`` (set by nox to the package under test),
or in ``stages/stage{mini_torch.STAGE}/examples`` of this repository when it is unset.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from mini_torch import functional as F
from mini_torch.nn import GELU, Linear, ReLU, Sequential, Tanh

FINAL_LINE = re.compile(r"final train accuracy: (\d+\.\d{2})%")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Epochs per activation: each reaches the bar with a margin of >= 2 points on seeds 0..7
# (full batch, lr 1.0, 2-64-3, 300 spirals points, noise 0.2). GELU learns slowest early on.
EPOCHS = {"relu": 300, "gelu": 600, "tanh": 400}
ACCURACY_BAR = 95.0


@pytest.fixture(scope="session")
def script(stage_examples) -> Path:
    """Stage 2's train_spirals.py: the package's own in stage 2, the reference one later."""
    return stage_examples(2) / "train_spirals.py"


def _run(script: Path, *args: str, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), *args, "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=out,
    )


def _load_example(script: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("stage2_train_spirals", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=sorted(EPOCHS))
def finished_run(request, tmp_path_factory, script):
    """One training run per activation, shared by the tests that read its output."""
    activation = request.param
    out = tmp_path_factory.mktemp(f"spirals_{activation}")
    result = _run(script, "--activation", activation, "--epochs", str(EPOCHS[activation]),
                  "--seed", "0", out=out)
    return activation, out, result


def _stdout(finished_run) -> str:
    """The run's output; a crashed run fails here, showing the script's own error."""
    activation, _, result = finished_run
    assert result.returncode == 0, f"--activation {activation} failed:\n{result.stderr}"
    return result.stdout


# ------------------------------------------------------------------------------- running it

def test_example_script_exists(script):
    assert script.is_file(), f"missing {script}"


def test_example_runs_without_error(finished_run):
    activation, _, result = finished_run
    assert result.returncode == 0, f"--activation {activation} failed:\n{result.stderr}"


def test_example_ends_with_the_final_accuracy_line(finished_run):
    last_line = _stdout(finished_run).strip().splitlines()[-1]
    assert FINAL_LINE.fullmatch(last_line), last_line


def test_example_reaches_the_accuracy_bar(finished_run):
    activation = finished_run[0]
    accuracy = float(FINAL_LINE.search(_stdout(finished_run)).group(1))
    assert accuracy >= ACCURACY_BAR, (
        f"--activation {activation}, {EPOCHS[activation]} epochs: {accuracy}% < {ACCURACY_BAR}%"
    )


def test_example_prints_progress_before_the_result(finished_run):
    assert len(re.findall(r"(?i)epoch\s+\d+", _stdout(finished_run))) >= 2


def test_example_writes_png_plots_into_out(finished_run):
    _stdout(finished_run)
    _, out, _ = finished_run
    pngs = sorted(out.glob("*.png"))
    assert len(pngs) >= 2, f"expected a loss curve and a decision boundary in {out}"
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_SIGNATURE, png


def test_example_rejects_an_unknown_activation(tmp_path, script):
    result = _run(script, "--activation", "softplus", "--epochs", "1", out=tmp_path)
    assert result.returncode != 0
    assert "activation" in result.stderr


# ---------------------------------------------------------------- its solution functions

@pytest.mark.parametrize("flag, layer_type", [("relu", ReLU), ("gelu", GELU), ("tanh", Tanh)])
def test_example_build_model_is_linear_activation_linear(flag, layer_type, script):
    model = _load_example(script).build_model(16, flag)
    assert isinstance(model, Sequential)
    assert [type(m) for m in model] == [Linear, layer_type, Linear]
    assert (model[0].input_dim, model[0].output_dim) == (2, 16)
    assert (model[2].input_dim, model[2].output_dim) == (16, 3)


def _step_setup(rng, script):
    example = _load_example(script)
    model = example.build_model(8, "tanh")
    X = rng.standard_normal((12, 2)).astype(np.float32)
    y = rng.integers(0, 3, size=12)
    return example, model, X, y


def test_example_train_step_is_one_gradient_descent_step(rng, script):
    """Expected: the same forward / backward written with F, then p - lr * dL/dp."""
    example, model, X, y = _step_setup(rng, script)
    lr = 0.5
    first, second = model[0], model[2]
    h_pre = F.linear(X, first.W, first.b)
    h = F.tanh(h_pre)
    logits = F.linear(h, second.W, second.b)
    grad_logits = F.cross_entropy_backward(logits, y)
    grad_h, grad_W2, grad_b2 = F.linear_backward(grad_logits, h, second.W)
    _, grad_W1, grad_b1 = F.linear_backward(F.tanh_backward(grad_h, h_pre), X, first.W)
    expected = [first.W - lr * grad_W1, first.b - lr * grad_b1,
                second.W - lr * grad_W2, second.b - lr * grad_b2]
    expected_loss = float(F.cross_entropy(logits, y))

    loss = example.train_step(model, X, y, lr)

    assert loss == pytest.approx(expected_loss, rel=1e-5)
    for param, want in zip(model.parameters(), expected):
        np.testing.assert_allclose(param, want, rtol=1e-5, atol=1e-6)


def test_example_train_step_updates_the_parameters_in_place(rng, script):
    example, model, X, y = _step_setup(rng, script)
    before = model.parameters()
    example.train_step(model, X, y, 0.5)
    assert all(a is b for a, b in zip(model.parameters(), before))


def test_example_train_step_leaves_the_gradients_zeroed(rng, script):
    example, model, X, y = _step_setup(rng, script)
    example.train_step(model, X, y, 0.5)
    for grad in model.grads():
        np.testing.assert_array_equal(grad, np.zeros_like(grad))


def test_example_train_steps_lower_the_loss(rng, script):
    example, model, X, y = _step_setup(rng, script)
    losses = [example.train_step(model, X, y, 0.5) for _ in range(20)]
    assert losses[-1] < losses[0]
