"""Stage 3: classify 3-class spirals with a 2 -> 64 -> 3 MLP and a CrossEntropyLoss object.

The loss is an object now, like the model. ``criterion(logits, y)`` computes the loss and caches
the logits and the labels; ``criterion.backward()`` returns ``dL/dlogits``, which is where
backpropagation starts, and ``model.backward`` carries it through every layer in reverse. The
training step no longer names the formula of the loss: swapping ``CrossEntropyLoss`` for another
``Loss`` changes what is optimised without touching the loop (the Strategy pattern). The update
is still written by hand, one parameter at a time (optimizers arrive in stage 4).

The command line of stage 2 still works (``--activation``), and stage 3 adds
``--label-smoothing``.

    python examples/train_spirals.py --epochs 1000 --seed 0 --out outputs/stage3
    python examples/train_spirals.py --label-smoothing 0.1 --activation gelu
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
from mini_torch.datasets import make_spirals

ACTIVATIONS: dict[str, type[nn.Activation]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000, help="full-batch steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate")
    parser.add_argument("--hidden", type=int, default=64, help="hidden units")
    parser.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu",
                        help="the hidden layer's activation")
    parser.add_argument("--label-smoothing", type=float, default=0.0,
                        help="CrossEntropyLoss label_smoothing, in [0, 1]")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage3"), help="plot folder")
    return parser.parse_args()


def build_model(hidden: int, activation: str = "relu") -> nn.Sequential:
    """``Linear(2, hidden) -> activation -> Linear(hidden, 3)``: logits of shape (N, 3)."""
    return nn.Sequential(nn.Linear(2, hidden), ACTIVATIONS[activation](), nn.Linear(hidden, 3))


def train_step(model: nn.Module, X: np.ndarray, y: np.ndarray, lr: float,
               criterion: nn.Loss | None = None) -> float:
    """One full-batch gradient-descent step; updates the parameters in place, returns the loss.

    ``criterion`` defaults to ``CrossEntropyLoss()``, so stage 2's ``train_step(model, X, y, lr)``
    still means the same step.
    """
    if criterion is None:
        criterion = nn.CrossEntropyLoss()
    # BEGIN SOLUTION
    logits = model(X)                     # (N, 3); every layer caches its input
    loss = criterion(logits, y)           # a 0-d scalar; the criterion caches logits and y
    model.backward(criterion.backward())  # dL/dlogits (N, 3), then every layer in reverse
    for p, g in zip(model.parameters(), model.grads()):
        p -= lr * g                       # in place: the layers keep the very same arrays
    model.zero_grad()                     # gradients accumulate, so clear them for the next step
    return loss.item()
    # END SOLUTION


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    model = build_model(args.hidden, args.activation)
    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    print(model)
    print(criterion)

    start = time.perf_counter()
    losses = []
    model.train()
    for epoch in range(1, args.epochs + 1):
        losses.append(train_step(model, X, y, args.lr, criterion))
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0:
            acc = F.accuracy(model(X), y)
            print(f"epoch {epoch:5d}  loss {losses[-1]:.4f}  train accuracy {acc:.2%}", flush=True)
    seconds = time.perf_counter() - start

    model.eval()
    accuracy = F.accuracy(model(X), y)
    loss_png = viz.plot_history(losses, args.out / "spirals_loss.png",
                                title=f"Stage 3: spirals ({args.activation}), {criterion!r}",
                                ylabel="loss")
    boundary_png = viz.plot_decision_boundary(
        model, X, y, args.out / "spirals_boundary.png",
        title=f"Decision boundary, {args.activation} ({accuracy:.1%} train)")
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"plots: {loss_png} {boundary_png}")
    print(f"final train accuracy: {accuracy:.2%}")


if __name__ == "__main__":
    main()
