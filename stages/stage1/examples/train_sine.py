"""Stage 1: fit y = sin(x) with a 1 -> 32 -> 32 -> 1 tanh MLP and the MSE loss, inline.

    python examples/train_sine.py --epochs 5000 --seed 0 --out outputs/stage1
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import mini_torch
from mini_torch import functional as F
from mini_torch import init, viz
from mini_torch.datasets import make_sine

SIZES = (1, 32, 32, 1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5000, help="full-batch steps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage1"), help="plot folder")
    return parser.parse_args()


def init_params() -> list[tuple[np.ndarray, np.ndarray]]:
    """(W, b) per layer: Xavier-uniform weights (suited to tanh), zero biases."""
    dtype = mini_torch.get_default_dtype()
    return [(init.xavier_uniform(n_in, n_out), np.zeros((1, n_out), dtype=dtype))
            for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]


def predict(layers: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray) -> np.ndarray:
    """Predictions (N, 1) for inputs (N, 1): tanh after every layer but the last."""
    # BEGIN SOLUTION
    out = X
    for index, (W, b) in enumerate(layers):
        out = F.linear(out, W, b)
        if index < len(layers) - 1:
            out = F.tanh(out)
    return out
    # END SOLUTION


def train_step(layers: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, y: np.ndarray,
               lr: float) -> float:
    """One full-batch gradient-descent step on the MSE; updates in place, returns the loss."""
    # BEGIN SOLUTION
    inputs, pre_activations = [], []   # what each layer's backward needs
    out = X
    for index, (W, b) in enumerate(layers):
        inputs.append(out)
        out = F.linear(out, W, b)
        if index < len(layers) - 1:
            pre_activations.append(out)
            out = F.tanh(out)
    loss = F.mse_loss(out, y)
    grad = F.mse_loss_backward(out, y)
    for index in reversed(range(len(layers))):
        if index < len(layers) - 1:
            grad = F.tanh_backward(grad, pre_activations[index])
        W, b = layers[index]
        grad, grad_W, grad_b = F.linear_backward(grad, inputs[index], W)
        W -= lr * grad_W
        b -= lr * grad_b
    return float(loss)
    # END SOLUTION


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)
    X, y = make_sine(n_samples=200, noise=0.05)
    layers = init_params()

    start = time.perf_counter()
    losses = []
    for epoch in range(1, args.epochs + 1):
        losses.append(train_step(layers, X, y, args.lr))
        if epoch == 1 or epoch % max(1, args.epochs // 10) == 0:
            print(f"epoch {epoch:5d}  mse {losses[-1]:.5f}", flush=True)
    seconds = time.perf_counter() - start

    mse = float(F.mse_loss(predict(layers, X), y))
    loss_png = viz.plot_history(losses, args.out / "sine_loss.png",
                                title="Stage 1: sine regression", ylabel="MSE")
    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"plots: {loss_png}")
    print(f"final train mse: {mse:.5f}")


if __name__ == "__main__":
    main()
