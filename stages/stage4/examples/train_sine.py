"""Stage 4: fit y = sin(x) with a 1 -> 32 -> 32 -> 1 tanh MLP, MSELoss and Adam.

The training loop is the very function that trains the spirals classifier
(``train_spirals.train_epoch``): a regression needs a different model and a different loss, but
not a different loop, because the loss and the optimizer are objects the loop only calls.

    python examples/train_sine.py --epochs 300 --seed 0 --out outputs/stage4
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from train_spirals import train_epoch  # the same seven-step loop, imported from its sibling

import mini_torch
import mini_torch.nn as nn
import mini_torch.optim as optim
from mini_torch import functional as F
from mini_torch import viz
from mini_torch.datasets import make_sine


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300, help="passes over the data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.003, help="Adam's learning rate")
    parser.add_argument("--batch-size", type=int, default=32, help="samples per step")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage4"), help="plot folder")
    args = parser.parse_args()
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be at least 1")
    return args


def build_model() -> nn.Sequential:
    """``1 -> 32 -> 32 -> 1`` with tanh between the layers: predictions of shape (N, 1)."""
    # BEGIN SOLUTION
    return nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 1))
    # END SOLUTION


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)
    X, y = make_sine(n_samples=200, noise=0.05)   # the noise alone gives an MSE of 0.0025
    model = build_model()
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model, lr=args.lr)
    print(model)
    print(optimizer)

    start = time.perf_counter()
    losses = []
    model.train()
    for epoch in range(1, args.epochs + 1):
        losses.append(train_epoch(model, criterion, optimizer, X, y, args.batch_size))
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0:
            print(f"epoch {epoch:5d}  mse {losses[-1]:.5f}", flush=True)
    seconds = time.perf_counter() - start

    model.eval()
    mse = float(F.mse_loss(model(X), y))
    loss_png = viz.plot_history({"adam": losses}, args.out / "sine_loss.png",
                                title="Stage 4: sine regression", ylabel="MSE")
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"plots: {loss_png}")
    print(f"final train mse: {mse:.5f}")


if __name__ == "__main__":
    main()
