"""Stage 3: separate two moons with a 2 -> 32 -> 1 MLP and BCEWithLogitsLoss.

A binary task needs only one output: a logit ``z`` per sample, with ``sigmoid(z)`` the probability
of class 1. The model stops at the logit (no ``Sigmoid`` layer): ``BCEWithLogitsLoss`` applies the
sigmoid inside the loss, in a form that stays finite for any logit, and its gradient is simply
``(sigmoid(z) - y) / N``. The labels become float targets of shape (N, 1), the predictions' shape.
A logit > 0 predicts class 1.

    python examples/train_moons.py --epochs 1000 --seed 0 --out outputs/stage3
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
from mini_torch.datasets import make_moons


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000, help="full-batch steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage3"), help="plot folder")
    return parser.parse_args()


def build_model(hidden: int) -> nn.Sequential:
    """``Linear(2, hidden) -> ReLU -> Linear(hidden, 1)``: one logit per sample, (N, 1)."""
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 1))


def train_step(model: nn.Module, X: np.ndarray, targets: np.ndarray, lr: float,
               criterion: nn.Loss) -> float:
    """One full-batch gradient-descent step; updates the parameters in place, returns the loss."""
    # BEGIN SOLUTION
    logits = model(X)                     # (N, 1)
    loss = criterion(logits, targets)     # targets: (N, 1) floats in {0, 1}
    model.backward(criterion.backward())  # dL/dlogits = (sigmoid(logits) - targets) / N
    for p, g in zip(model.parameters(), model.grads()):
        p -= lr * g
    model.zero_grad()
    return loss.item()
    # END SOLUTION


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)
    X, y = make_moons(n_samples=200, noise=0.1)
    # BCEWithLogitsLoss compares like with like: float targets shaped like the (N, 1) logits.
    targets = y.reshape(-1, 1).astype(X.dtype)
    model = build_model(args.hidden)
    criterion = nn.BCEWithLogitsLoss()
    print(model)
    print(criterion)

    start = time.perf_counter()
    losses = []
    model.train()
    for epoch in range(1, args.epochs + 1):
        losses.append(train_step(model, X, targets, args.lr, criterion))
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0:
            acc = F.accuracy(model(X), y)
            print(f"epoch {epoch:5d}  loss {losses[-1]:.4f}  train accuracy {acc:.2%}", flush=True)
    seconds = time.perf_counter() - start

    model.eval()
    accuracy = F.accuracy(model(X), y)
    loss_png = viz.plot_history(losses, args.out / "moons_loss.png",
                                title="Stage 3: moons, BCEWithLogitsLoss", ylabel="loss")
    boundary_png = viz.plot_decision_boundary(
        model, X, y, args.out / "moons_boundary.png",
        title=f"Decision boundary ({accuracy:.1%} train)")
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"plots: {loss_png} {boundary_png}")
    print(f"final train accuracy: {accuracy:.2%}")


if __name__ == "__main__":
    main()
