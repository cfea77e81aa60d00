"""Stage 5: classify 3-class spirals with a 2 -> 64 -> 3 MLP, fed by a DataLoader.

Stage 4 cut the mini-batches by hand (a permutation, then slices of it). Here an
``ArrayDataset`` wraps the arrays and a ``DataLoader`` hands out the batches, reshuffled at every
epoch, so the training loop is the standard one of every PyTorch program::

    for epoch in range(epochs):
        for x, y in loader:                          # the DataLoader is an iterator of batches
            logits = model(x)                        # forward
            loss = criterion(logits, y)              # loss (caches logits and y)
            optimizer.zero_grad()                    # clear the old gradients
            model.backward(criterion.backward())     # backward (fills dW, db)
            optimizer.step()                         # update the parameters in place

``train_epoch`` below is that loop. Compare it with stage 4's: the slicing is gone, and the loop
no longer knows where the data comes from. ``train_mnist.py`` runs the same loop over MNIST
images read from a CSV file.

    python examples/train_spirals.py --epochs 300 --seed 0 --out outputs/stage5
    python examples/train_spirals.py --optimizer adamw
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import mini_torch
import mini_torch.nn as nn
import mini_torch.optim as optim
from mini_torch import functional as F
from mini_torch import viz
from mini_torch.datasets import make_spirals
from mini_torch.utils.data import ArrayDataset, DataLoader

# Learning rates that train this problem well in a few hundred epochs of batches of 32.
DEFAULT_LR = {"sgd": 0.1, "adam": 0.01, "adamw": 0.01}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300, help="passes over the data")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="sgd",
                        help="sgd (momentum 0.9), adam or adamw")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: 0.1 for sgd, 0.01 for adam and adamw)")
    parser.add_argument("--batch-size", type=int, default=32, help="samples per batch")
    parser.add_argument("--hidden", type=int, default=64, help="hidden units")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage5"), help="plot folder")
    args = parser.parse_args()
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be at least 1")
    return args


def build_model(hidden: int) -> nn.Sequential:
    """``Linear(2, hidden) -> ReLU -> Linear(hidden, 3)``: logits of shape (N, 3)."""
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 3))


def make_optimizer(name: str, model: nn.Module, lr: float | None = None) -> optim.Optimizer:
    """The optimizer called ``name`` over ``model``'s parameters (``lr=None``: the default)."""
    lr = DEFAULT_LR[name] if lr is None else lr
    if name == "sgd":
        return optim.SGD(model, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(model, lr=lr)
    return optim.AdamW(model, lr=lr)


def train_epoch(model: nn.Module, loader: DataLoader, criterion: nn.Loss,
                optimizer: optim.Optimizer) -> float:
    """One pass over ``loader``, one optimizer step per batch; returns the mean loss per sample."""
    model.train()
    total_loss, seen = 0.0, 0
    for x, y in loader:                        # x: (B, 2) float32, y: (B,) class indices
        logits = model(x)                      # (B, 3); every layer caches its input
        loss = criterion(logits, y)
        optimizer.zero_grad()                  # gradients accumulate: clear them first
        model.backward(criterion.backward())   # fills dW and db of every Linear
        optimizer.step()                       # p -= ..., in place
        total_loss += loss.item() * x.shape[0]  # the last batch may be smaller
        seen += x.shape[0]
    return total_loss / seen


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    loader = DataLoader(ArrayDataset(X, y), batch_size=args.batch_size, shuffle=True)
    model = build_model(args.hidden)
    criterion = nn.CrossEntropyLoss()
    optimizer = make_optimizer(args.optimizer, model, args.lr)
    print(model)
    print(optimizer)

    start = time.perf_counter()
    losses = []
    for epoch in range(1, args.epochs + 1):
        losses.append(train_epoch(model, loader, criterion, optimizer))
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0:
            model.eval()
            acc = F.accuracy(model(X), y)
            print(f"epoch {epoch:5d}  loss {losses[-1]:.4f}  train accuracy {acc:.2%}", flush=True)
    seconds = time.perf_counter() - start

    model.eval()
    accuracy = F.accuracy(model(X), y)
    loss_png = viz.plot_history({args.optimizer: losses}, args.out / "spirals_loss.png",
                                title=f"Stage 5: spirals, {args.optimizer}, DataLoader batches "
                                      f"of {args.batch_size}",
                                ylabel="cross-entropy (mean over the epoch)")
    boundary_png = viz.plot_decision_boundary(
        model, X, y, args.out / "spirals_boundary.png",
        title=f"Decision boundary, {args.optimizer} ({accuracy:.1%} train)")
    print(f"trained {args.epochs} epochs ({args.epochs * len(loader)} batches) in "
          f"{seconds:.2f} s")
    print(f"plots: {loss_png} {boundary_png}")
    print(f"final train accuracy: {accuracy:.2%}")


if __name__ == "__main__":
    main()
