"""Stage 4: classify 3-class spirals with a 2 -> 64 -> 3 MLP, trained by an optimizer object.

The update rule has moved out of the training loop into ``mini_torch.optim``. The loop is now the
seven steps every PyTorch program follows::

    for epoch in range(epochs):                          # 1. epochs
        for each mini-batch (X_batch, y_batch):          # 2. batches (sliced by hand here)
            logits = model(X_batch)                      # 3. forward
            loss = criterion(logits, y_batch)            # 4. loss
            optimizer.zero_grad()                        # 5. clear the old gradients
            model.backward(criterion.backward())         # 6. backward (fills dW, db)
            optimizer.step()                             # 7. update the parameters

There is no ``DataLoader`` yet (stage 5 adds it), so the batches are slices of a fresh random
permutation drawn every epoch. Changing the optimizer (``--optimizer adamw``) changes one line
and nothing in the loop: each optimizer is a strategy behind the same ``step()``.

    python examples/train_spirals.py --epochs 300 --seed 0 --out outputs/stage4
    python examples/train_spirals.py --optimizer adamw --lr 0.003
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import mini_torch
import mini_torch.nn as nn
import mini_torch.optim as optim
from mini_torch import functional as F
from mini_torch import viz
from mini_torch.datasets import make_spirals

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
    parser.add_argument("--batch-size", type=int, default=32, help="samples per step")
    parser.add_argument("--hidden", type=int, default=64, help="hidden units")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage4"), help="plot folder")
    args = parser.parse_args()
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be at least 1")
    return args


def build_model(hidden: int) -> nn.Sequential:
    """``Linear(2, hidden) -> ReLU -> Linear(hidden, 3)``: logits of shape (N, 3)."""
    # BEGIN SOLUTION
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 3))
    # END SOLUTION


def make_optimizer(name: str, model: nn.Module, lr: float | None = None) -> optim.Optimizer:
    """The optimizer called ``name`` over ``model``'s parameters (``lr=None``: the default)."""
    lr = DEFAULT_LR[name] if lr is None else lr
    if name == "sgd":
        return optim.SGD(model, lr=lr, momentum=0.9)
    if name == "adam":
        return optim.Adam(model, lr=lr)
    return optim.AdamW(model, lr=lr)


def train_epoch(model: nn.Module, criterion: nn.Loss, optimizer: optim.Optimizer,
                X: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    """One pass over ``(X, y)`` in shuffled mini-batches; returns the mean loss per sample.

    The order of the samples comes from ``mini_torch.init.get_generator()``, so a seeded run
    draws the same batches every time.
    """
    order = mini_torch.init.get_generator().permutation(len(X))
    total_loss = 0.0
    for start in range(0, len(X), batch_size):
        batch = order[start:start + batch_size]      # the last batch may be smaller
        X_batch, y_batch = X[batch], y[batch]
        logits = model(X_batch)                      # forward: every layer caches its input
        loss = criterion(logits, y_batch)
        optimizer.zero_grad()                        # gradients accumulate: clear them first
        model.backward(criterion.backward())         # fills dW and db of every Linear
        optimizer.step()                             # p -= ..., in place
        total_loss += loss.item() * len(batch)
    return total_loss / len(X)


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    model = build_model(args.hidden)
    criterion = nn.CrossEntropyLoss()
    optimizer = make_optimizer(args.optimizer, model, args.lr)
    print(model)
    print(optimizer)

    start = time.perf_counter()
    losses = []
    model.train()
    for epoch in range(1, args.epochs + 1):
        losses.append(train_epoch(model, criterion, optimizer, X, y, args.batch_size))
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0:
            acc = F.accuracy(model(X), y)
            print(f"epoch {epoch:5d}  loss {losses[-1]:.4f}  train accuracy {acc:.2%}", flush=True)
    seconds = time.perf_counter() - start

    model.eval()
    accuracy = F.accuracy(model(X), y)
    loss_png = viz.plot_history({args.optimizer: losses}, args.out / "spirals_loss.png",
                                title=f"Stage 4: spirals, {args.optimizer} (lr {optimizer.lr})",
                                ylabel="cross-entropy")
    boundary_png = viz.plot_decision_boundary(
        model, X, y, args.out / "spirals_boundary.png",
        title=f"Decision boundary, {args.optimizer} ({accuracy:.1%} train)")
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"plots: {loss_png} {boundary_png}")
    print(f"final train accuracy: {accuracy:.2%}")


if __name__ == "__main__":
    main()
