"""Stage 1: classify 3-class spirals with a 2 -> 64 -> 3 MLP, written inline with functional.

Every step of training is spelled out: forward through two linear layers and a ReLU, the
cross-entropy loss, the backward pass layer by layer in reverse, and a plain gradient-descent
update of each parameter in place.

    python examples/train_spirals.py --epochs 1000 --seed 0 --out outputs/stage1
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import mini_torch
from mini_torch import functional as F
from mini_torch import init, viz
from mini_torch.datasets import make_spirals


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1000, help="full-batch steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1.0, help="learning rate")
    parser.add_argument("--hidden", type=int, default=64, help="hidden units")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage1"), help="plot folder")
    return parser.parse_args()


def init_params(hidden: int) -> dict[str, np.ndarray]:
    """He-normal weights, zero biases, in the default dtype (float32)."""
    dtype = mini_torch.get_default_dtype()
    return {
        "W1": init.he_normal(2, hidden),
        "b1": np.zeros((1, hidden), dtype=dtype),
        "W2": init.he_normal(hidden, 3),
        "b2": np.zeros((1, 3), dtype=dtype),
    }


def predict(params: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Class scores (logits) of shape (N, 3) for inputs X of shape (N, 2)."""
    # BEGIN SOLUTION
    hidden = F.relu(F.linear(X, params["W1"], params["b1"]))
    return F.linear(hidden, params["W2"], params["b2"])
    # END SOLUTION


def train_step(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, lr: float) -> float:
    """One full-batch gradient-descent step; updates ``params`` in place and returns the loss."""
    # BEGIN SOLUTION
    # forward, keeping what the backward needs
    h_pre = F.linear(X, params["W1"], params["b1"])        # (N, hidden)
    h = F.relu(h_pre)                                      # (N, hidden)
    logits = F.linear(h, params["W2"], params["b2"])       # (N, 3)
    loss = F.cross_entropy(logits, y)
    # backward, from the loss to the first layer
    grad_logits = F.cross_entropy_backward(logits, y)      # (N, 3)
    grad_h, grad_W2, grad_b2 = F.linear_backward(grad_logits, h, params["W2"])
    grad_h_pre = F.relu_backward(grad_h, h_pre)
    _, grad_W1, grad_b1 = F.linear_backward(grad_h_pre, X, params["W1"])
    # update in place (p -= ...), so every reference to a parameter sees the new values
    grads = {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2}
    for name, grad in grads.items():
        params[name] -= lr * grad
    return float(loss)
    # END SOLUTION


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    params = init_params(args.hidden)

    start = time.perf_counter()
    losses = []
    for epoch in range(1, args.epochs + 1):
        losses.append(train_step(params, X, y, args.lr))
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0:
            acc = F.accuracy(predict(params, X), y)
            print(f"epoch {epoch:5d}  loss {losses[-1]:.4f}  train accuracy {acc:.2%}", flush=True)
    seconds = time.perf_counter() - start

    accuracy = F.accuracy(predict(params, X), y)
    loss_png = viz.plot_history(losses, args.out / "spirals_loss.png",
                                title="Stage 1: spirals, cross-entropy", ylabel="loss")
    boundary_png = viz.plot_decision_boundary(lambda grid: predict(params, grid), X, y,
                                              args.out / "spirals_boundary.png",
                                              title=f"Decision boundary ({accuracy:.1%} train)")
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"plots: {loss_png} {boundary_png}")
    print(f"final train accuracy: {accuracy:.2%}")


if __name__ == "__main__":
    main()
