"""Stage 2: fit y = sin(x) with a 1 -> 32 -> 32 -> 1 tanh MLP built from nn modules, MSE loss.

The model is a ``Sequential``; the MSE loss and its gradient still come from
``mini_torch.functional`` and the update is written by hand.

    python examples/train_sine.py --epochs 5000 --seed 0 --out outputs/stage2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import mini_torch
import mini_torch.nn as nn
from mini_torch import functional as F
from mini_torch import viz
from mini_torch.datasets import make_sine


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5000, help="full-batch steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage2"), help="plot folder")
    return parser.parse_args()


def build_model() -> nn.Sequential:
    """``Linear(1, 32) -> Tanh -> Linear(32, 32) -> Tanh -> Linear(32, 1)``."""
    # BEGIN SOLUTION
    return nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 1))
    # END SOLUTION


def train_step(model: nn.Module, X: np.ndarray, y: np.ndarray, lr: float) -> float:
    """One full-batch gradient-descent step on the MSE; updates in place, returns the loss."""
    # BEGIN SOLUTION
    prediction = model(X)                                   # (N, 1)
    loss = F.mse_loss(prediction, y)
    model.backward(F.mse_loss_backward(prediction, y))
    for p, g in zip(model.parameters(), model.grads()):
        p -= lr * g
    model.zero_grad()
    return float(loss)
    # END SOLUTION


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)
    X, y = make_sine(n_samples=200, noise=0.05)
    model = build_model()

    start = time.perf_counter()
    losses = []
    for epoch in range(1, args.epochs + 1):
        losses.append(train_step(model, X, y, args.lr))
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0:
            print(f"epoch {epoch:5d}  mse {losses[-1]:.5f}", flush=True)
    seconds = time.perf_counter() - start

    mse = float(F.mse_loss(model(X), y))
    loss_png = viz.plot_history(losses, args.out / "sine_loss.png",
                                title="Stage 2: sine regression", ylabel="MSE")
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"plots: {loss_png}")
    print(f"final train mse: {mse:.5f}")


if __name__ == "__main__":
    main()
