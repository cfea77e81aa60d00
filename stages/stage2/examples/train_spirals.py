"""Stage 2: classify 3-class spirals with a 2 -> 64 -> 3 MLP built from nn modules.

The network is one object, ``nn.Sequential(nn.Linear(2, 64), activation, nn.Linear(64, 3))``:
``model(X)`` runs the forward pass through every layer and ``model.backward(grad)`` runs the
backward pass through them in reverse. The loss and its gradient still come from
``mini_torch.functional``, and the update is still written by hand, one parameter at a time.

Swapping the activation is a one-word change (``--activation gelu``) because a ``Sequential`` is
itself a ``Module`` made of ``Module`` objects (the Composite pattern): the training code never
looks inside the model.

    python examples/train_spirals.py --epochs 1000 --seed 0 --out outputs/stage2
    python examples/train_spirals.py --activation tanh
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
    parser.add_argument("--out", type=Path, default=Path("outputs/stage2"), help="plot folder")
    return parser.parse_args()


def build_model(hidden: int, activation: str) -> nn.Sequential:
    """``Linear(2, hidden) -> activation -> Linear(hidden, 3)``: logits of shape (N, 3)."""
    # BEGIN SOLUTION
    return nn.Sequential(
        nn.Linear(2, hidden),
        ACTIVATIONS[activation](),
        nn.Linear(hidden, 3),
    )
    # END SOLUTION


def train_step(model: nn.Module, X: np.ndarray, y: np.ndarray, lr: float) -> float:
    """One full-batch gradient-descent step; updates the parameters in place, returns the loss."""
    # BEGIN SOLUTION
    logits = model(X)                                  # (N, 3); every layer caches its input
    loss = F.cross_entropy(logits, y)
    grad_logits = F.cross_entropy_backward(logits, y)  # (N, 3)
    model.backward(grad_logits)                        # fills dW / db of both Linear layers
    # update in place (p -= ...): the layers still hold the very same arrays afterwards
    for p, g in zip(model.parameters(), model.grads()):
        p -= lr * g
    model.zero_grad()  # gradients accumulate, so clear them before the next backward
    return float(loss)
    # END SOLUTION


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    model = build_model(args.hidden, args.activation)
    print(model)

    start = time.perf_counter()
    losses = []
    model.train()
    for epoch in range(1, args.epochs + 1):
        losses.append(train_step(model, X, y, args.lr))
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0:
            acc = F.accuracy(model(X), y)
            print(f"epoch {epoch:5d}  loss {losses[-1]:.4f}  train accuracy {acc:.2%}", flush=True)
    seconds = time.perf_counter() - start

    model.eval()
    accuracy = F.accuracy(model(X), y)
    loss_png = viz.plot_history(losses, args.out / "spirals_loss.png",
                                title=f"Stage 2: spirals ({args.activation}), cross-entropy",
                                ylabel="loss")
    boundary_png = viz.plot_decision_boundary(
        model, X, y, args.out / "spirals_boundary.png",
        title=f"Decision boundary, {args.activation} ({accuracy:.1%} train)")
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"plots: {loss_png} {boundary_png}")
    print(f"final train accuracy: {accuracy:.2%}")


if __name__ == "__main__":
    main()
