"""Stage 4: train the same spirals model with SGD (momentum 0.9), Adam and AdamW and compare.

Every run starts from ``mini_torch.manual_seed(seed)``, so the three runs see the same data, the
same initial weights and the same mini-batches in the same order: the optimizer is the only
difference. The script saves the three loss curves in one plot and prints a table of the final
loss, the training accuracy and the time of each run.

    python examples/compare_optimizers.py --epochs 300 --seed 0 --out outputs/stage4
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from train_spirals import DEFAULT_LR, build_model, make_optimizer, train_epoch

import mini_torch
import mini_torch.nn as nn
from mini_torch import functional as F
from mini_torch import viz
from mini_torch.datasets import make_spirals


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300, help="passes over the data per run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=32, help="samples per step")
    parser.add_argument("--hidden", type=int, default=64, help="hidden units")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage4"), help="plot folder")
    args = parser.parse_args()
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be at least 1")
    return args


def run(name: str, args: argparse.Namespace) -> dict:
    """Train from the seed with optimizer ``name``; the losses per epoch and the final figures."""
    mini_torch.manual_seed(args.seed)  # same data, same weights, same batches for every run
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    model = build_model(args.hidden)
    criterion = nn.CrossEntropyLoss()
    optimizer = make_optimizer(name, model)
    start = time.perf_counter()
    losses = [train_epoch(model, criterion, optimizer, X, y, args.batch_size)
              for _ in range(args.epochs)]
    seconds = time.perf_counter() - start
    model.eval()
    logits = model(X)
    return {"losses": losses, "loss": float(F.cross_entropy(logits, y)),
            "accuracy": F.accuracy(logits, y), "seconds": seconds}


def main() -> None:
    args = parse_args()
    results = {}
    for name in ("sgd", "adam", "adamw"):
        results[name] = run(name, args)
        print(f"{name:6s} done: train accuracy {results[name]['accuracy']:.2%}", flush=True)

    curves_png = viz.plot_history({name: r["losses"] for name, r in results.items()},
                                  args.out / "optimizers_loss.png",
                                  title=f"Stage 4: spirals, {args.epochs} epochs, batch "
                                        f"{args.batch_size}",
                                  ylabel="cross-entropy (mean over the epoch)")
    print()
    print(f"{'optimizer':10s} {'lr':>6s} {'final loss':>11s} {'accuracy':>9s} {'time':>8s}")
    for name, r in results.items():
        print(f"{name:10s} {DEFAULT_LR[name]:6g} {r['loss']:11.4f} {r['accuracy']:9.2%} "
              f"{r['seconds']:7.2f}s")
    print()
    print(f"plot: {curves_png}")
    worst = min(results, key=lambda name: results[name]["accuracy"])
    print(f"lowest of the three runs ({worst}):")
    print(f"final train accuracy: {results[worst]['accuracy']:.2%}")


if __name__ == "__main__":
    main()
