"""Stage 5: classify handwritten digits (the bundled MNIST subset) with a 784-256-128-10 MLP.

This is the standard training loop, shaped exactly like the PyTorch loop you will meet later:

    for x, y in loader:                        # the DataLoader hands out shuffled mini-batches
        logits = model(x)                      # forward
        loss = criterion(logits, y)            # the loss caches logits and y
        optimizer.zero_grad()                  # gradients add up until cleared
        model.backward(criterion.backward())   # backward (PyTorch: loss.backward())
        optimizer.step()                       # update every parameter in place

The data comes from ``MNISTDataset`` (4,000 training and 1,000 test images that ship with the
package), the batches from a ``DataLoader`` that reshuffles the training set every epoch. The
learning rate follows a cosine schedule: large steps early to make fast progress, small steps at
the end so the weights settle instead of bouncing around a minimum. After every epoch the whole
test set goes through the model in one forward pass, in evaluation mode.

At the end the script writes into ``--out`` the training curves, the confusion matrix of the
test set and a grid of test images with their predicted and true labels (PNG files), and the
trained weights (``mini_torch.save``).

    python examples/train_mnist.py                          # SGD, momentum 0.9, 15 epochs
    python examples/train_mnist.py --optimizer adamw        # AdamW, lr 1e-3
    python examples/train_mnist.py --schedule constant      # compare: no learning-rate decay
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import mini_torch
import mini_torch.nn as nn
import mini_torch.optim as optim
from mini_torch import functional as F
from mini_torch import viz
from mini_torch.datasets import MNISTDataset, mnist_path
from mini_torch.utils.data import DataLoader

DEFAULT_LR = {"sgd": 0.1, "adamw": 1e-3}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15, help="passes over the training set")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="sgd",
                        help="SGD with momentum 0.9, or AdamW")
    parser.add_argument("--lr", type=float, default=None,
                        help="initial learning rate (default: 0.1 for sgd, 1e-3 for adamw)")
    parser.add_argument("--schedule", choices=["cosine", "constant"], default="cosine",
                        help="how the learning rate changes over the epochs")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=Path, default=Path("outputs/stage5"),
                        help="folder for the plots and the weights")
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error(f"--epochs must be at least 1, got {args.epochs}")
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    return args


def build_model() -> nn.Sequential:
    """``784 -> 256 -> 128 -> 10`` with ReLU between the layers; returns logits ``(N, 10)``."""
    return nn.Sequential(
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Linear(256, 128),
        nn.ReLU(),
        nn.Linear(128, 10),
    )


def build_optimizer(name: str, model: nn.Module, lr: float) -> optim.Optimizer:
    """SGD with momentum 0.9 (PyTorch's usual choice), or AdamW with its default settings."""
    if name == "sgd":
        return optim.SGD(model, lr=lr, momentum=0.9)
    return optim.AdamW(model, lr=lr)


def cosine_lr(base_lr: float, epoch: int, epochs: int) -> float:
    """Learning rate of ``epoch`` (0-based): ``base_lr`` at the start, near 0 at the end.

    ``lr = base_lr * (1 + cos(pi * epoch / epochs)) / 2``, the rule of PyTorch's
    ``torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)``.
    """
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def train_one_epoch(model: nn.Module, loader: DataLoader, criterion: nn.Loss,
                    optimizer: optim.Optimizer) -> tuple[float, float]:
    """One pass over ``loader`` (one optimizer step per batch).

    Returns the mean loss and the accuracy over the epoch's batches, each batch weighted by its
    size (the weights change during the epoch, so these describe the model while it learned).
    """
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    for x, y in loader:                        # x: (B, 784) float32, y: (B, 10) one-hot
        logits = model(x)                      # (B, 10)
        loss = criterion(logits, y)            # a 0-d scalar; criterion caches logits and y
        optimizer.zero_grad()                  # clear the gradients of the last batch
        model.backward(criterion.backward())   # dL/dlogits, then through every layer
        optimizer.step()                       # update W and b of every Linear in place
        batch_size = x.shape[0]
        loss_sum += loss.item() * batch_size
        correct += int(np.sum(logits.argmax(axis=1) == y.argmax(axis=1)))
        seen += batch_size
    return loss_sum / seen, correct / seen


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)  # one seed: the initial weights and every shuffle

    train_set = MNISTDataset(mnist_path("train"))
    test_set = MNISTDataset(mnist_path("test"))
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    x_test, y_test = test_set.features, test_set.labels  # (1000, 784), (1000, 10)
    print(f"train: {len(train_set)} images in {len(train_loader)} batches of "
          f"{args.batch_size}; test: {len(test_set)} images")

    model = build_model()
    criterion = nn.CrossEntropyLoss()
    optimizer = build_optimizer(args.optimizer, model, args.lr)
    print(model)
    print(optimizer, f"schedule={args.schedule}")

    history: dict[str, list[float]] = {"train loss": [], "train accuracy": [],
                                       "test accuracy": []}
    start = time.perf_counter()
    for epoch in range(args.epochs):
        epoch_start = time.perf_counter()
        if args.schedule == "cosine":
            # The optimizer reads self.lr at every step, so setting it is all a schedule does.
            optimizer.lr = cosine_lr(args.lr, epoch, args.epochs)
        train_loss, train_accuracy = train_one_epoch(model, train_loader, criterion, optimizer)
        model.eval()
        with mini_torch.no_grad():                 # evaluation: keep nothing for backward
            test_accuracy = F.accuracy(model(x_test), y_test)  # the whole test set in one pass
        history["train loss"].append(train_loss)
        history["train accuracy"].append(train_accuracy)
        history["test accuracy"].append(test_accuracy)
        print(f"epoch {epoch + 1:3d}/{args.epochs}  lr {optimizer.lr:.2e}  "
              f"loss {train_loss:.4f}  train accuracy {train_accuracy:.2%}  "
              f"test accuracy {test_accuracy:.2%}  {time.perf_counter() - epoch_start:.2f} s",
              flush=True)
    seconds = time.perf_counter() - start

    model.eval()
    with mini_torch.no_grad():
        test_logits = model(x_test)
    accuracy = F.accuracy(test_logits, y_test)
    predicted = test_logits.argmax(axis=1)
    true = y_test.argmax(axis=1)
    name = f"{args.optimizer}, batch {args.batch_size}, {args.schedule} lr"
    curves_png = viz.plot_history(history, args.out / "mnist_history.png",
                                  title=f"MNIST MLP 784-256-128-10 ({name})")
    confusion_png = viz.plot_confusion_matrix(
        true, predicted, args.out / "mnist_confusion.png", num_classes=10,
        title=f"Test set: confusion matrix (accuracy {accuracy:.2%})")
    images_png = viz.plot_images(x_test[:32], true[:32], args.out / "mnist_predictions.png",
                                 predictions=predicted[:32],
                                 title="First 32 test images: predicted / true digit")
    weights = mini_torch.save(model.state_dict(), args.out / "mnist_mlp.npz")

    print(f"trained {args.epochs} epochs in {seconds:.2f} s")
    print(f"plots: {curves_png} {confusion_png} {images_png}")
    print(f"weights: {weights} (reload with model.load_state_dict(mini_torch.load(path)))")
    print(f"final train accuracy: {F.accuracy(model(train_set.features), train_set.labels):.2%}")
    print(f"final test accuracy: {accuracy:.2%}")


if __name__ == "__main__":
    main()
