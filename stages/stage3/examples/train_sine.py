"""Stage 3: fit y = sin(x) with a 1 -> 32 -> 32 -> 1 tanh MLP and an MSELoss object.

The same training step as ``train_spirals.py``: only the model and the criterion differ. The
targets of ``make_sine`` have shape (N, 1), exactly like the predictions; ``MSELoss`` refuses a
(N,) target instead of broadcasting the difference to (N, N) (see docs/stage3.md).

    python examples/train_sine.py --epochs 5000 --seed 0 --out outputs/stage3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import mini_torch
import mini_torch.nn as nn
from mini_torch import init, viz
from mini_torch.datasets import make_sine


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5000, help="full-batch steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage3"), help="plot folder")
    return parser.parse_args()


def build_model() -> nn.Sequential:
    """``1 -> 32 -> 32 -> 1`` with tanh between the layers: predictions of shape (N, 1).

    ``Linear`` starts He-normal, which is meant for ReLU. For tanh the weights are redrawn
    Xavier-uniform, as in stage 1: from He's larger weights, full-batch gradient descent at
    lr 0.1 diverges on this task within a few dozen epochs. The new values are written into the
    existing arrays (``W[...] = ...``), never rebinding ``W``.
    """
    model = nn.Sequential(
        nn.Linear(1, 32), nn.Tanh(),
        nn.Linear(32, 32), nn.Tanh(),
        nn.Linear(32, 1),
    )
    for layer in model:
        if isinstance(layer, nn.Linear):
            layer.W[...] = init.xavier_uniform(layer.input_dim, layer.output_dim)
    return model


def train_step(model: nn.Module, X: np.ndarray, y: np.ndarray, lr: float,
               criterion: nn.Loss) -> float:
    """One full-batch gradient-descent step; updates the parameters in place, returns the loss."""
    # BEGIN SOLUTION
    pred = model(X)                       # (N, 1), the same shape as y
    loss = criterion(pred, y)
    model.backward(criterion.backward())  # dL/dpred = 2 (pred - y) / N
    for p, g in zip(model.parameters(), model.grads()):
        p -= lr * g
    model.zero_grad()
    return loss.item()
    # END SOLUTION


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)
    X, y = make_sine(n_samples=200, noise=0.05)
    model = build_model()
    criterion = nn.MSELoss()
    print(model)
    print(criterion)

    start = time.perf_counter()
    losses = []
    model.train()
    for epoch in range(1, args.epochs + 1):
        losses.append(train_step(model, X, y, args.lr, criterion))
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0:
            print(f"epoch {epoch:5d}  mse {losses[-1]:.5f}", flush=True)
    seconds = time.perf_counter() - start

    model.eval()
    mse = criterion(model(X), y)
    loss_png = viz.plot_history(losses, args.out / "sine_loss.png",
                                title="Stage 3: sine regression, MSELoss", ylabel="MSE")
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"plots: {loss_png}")
    print(f"final train mse: {mse:.5f}")


if __name__ == "__main__":
    main()
