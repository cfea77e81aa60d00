"""The GPT and GAN programs of docs/pytorch.md run and train, in PyTorch and in Mini-Torch.

Each program is read from the guide (the fenced block after its ``<!-- port: NAME -->`` marker),
shortened by replacing its hyperparameter line, and run in a fresh interpreter of this session
(stage 6 and torch installed). The GPT's printed validation losses must fall by more than one
nat from the start (log 65 = 4.2, the uniform guess) within 200 steps; the GAN must finish an epoch
with finite losses. The PyTorch GAN needs torchvision and a download, so it is skipped here.
"""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import mini_torch

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "pytorch.md"
SHORTER = {
    "gpt": ("max_iters, eval_interval, eval_iters, learning_rate = 3000, 500, 20, 1e-3",
            "max_iters, eval_interval, eval_iters, learning_rate = 200, 100, 5, 1e-3"),
    "gan": ("n_epochs, batch_size, lr, b1, b2, latent_dim = 200, 64,",
            "n_epochs, batch_size, lr, b1, b2, latent_dim = 1, 64,"),
}


def program(name: str) -> str:
    match = re.search(rf"<!-- port: {re.escape(name)} -->\n```python\n(.*?)\n```",
                      GUIDE.read_text(encoding="utf-8"), re.S)
    assert match, f"docs/pytorch.md has no block marked <!-- port: {name} -->"
    return match.group(1)


def run(name: str, folder: Path) -> str:
    source = program(name)
    old, new = SHORTER[name.split("-")[0]]
    assert old in source, f"{name}: the hyperparameter line changed; update SHORTER"
    script = folder / f"{name}.py"
    script.write_text(source.replace(old, new), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=folder, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.parametrize("name", ["gpt-mini-torch", "gpt-pytorch"])
def test_the_gpt_programs_train(name, tmp_path):
    (tmp_path / "input.txt").write_text(mini_torch.datasets.load_text()[:300_000],
                                        encoding="utf-8")
    losses = [float(v) for v in re.findall(r"step \d+: loss ([0-9.]+)", run(name, tmp_path))]
    assert len(losses) == 3
    assert losses[0] > math.log(65) - 0.3 and losses[-1] < losses[0] - 1.0, losses


def test_the_mini_torch_gan_runs_an_epoch(tmp_path):
    out = run("gan-mini-torch", tmp_path)
    d_loss, g_loss = map(float, re.search(r"D loss ([0-9.]+), G loss ([0-9.]+)", out).groups())
    assert math.isfinite(d_loss) and math.isfinite(g_loss) and 0 < d_loss < 5, out


def test_the_pytorch_gan_runs_an_epoch(tmp_path):
    pytest.importorskip("torchvision", reason="the PyTorch GAN loads MNIST with torchvision")
    out = run("gan-pytorch", tmp_path)
    assert "D loss" in out
