"""Score what stage 6's generative examples wrote: GAN digits and the language model's text.

    python instructor/benchmarks/evaluate_generative.py --gan OUT/gan_samples.npy
    python instructor/benchmarks/evaluate_generative.py --text OUT/char_lm_sample.txt
    python instructor/benchmarks/evaluate_generative.py --gan ... --text ... [--json PATH]

GAN samples ``(1000, 784)`` in ``[0, 1]`` are judged by an independent MNIST classifier: a
784-256-128-10 ReLU MLP trained here on the bundled training split (SGD 0.1, momentum 0.9, cosine
schedule, 15 epochs, seed 0; about 93-95 % test accuracy), never the GAN's discriminator. Reported
against the targets of issue 21 (issue 16's, looser, in brackets):

- ``confident``: the fraction of samples on which the classifier's top probability is >= 0.9
  (target >= 0.75; was 0.5);
- ``class entropy``: the entropy, in nats, of the histogram of predicted classes (target >= 2.0;
  ten equally frequent digits give ln 10 = 2.30; target >= 2.20, was 2.0);
- ``distance ratio``: the samples' mean pairwise Euclidean distance over that of the 1,000 real
  test digits (target 0.7-1.3, was 0.5-1.5; a collapsed generator scores near 0);
- ``ink ratio``: the samples' mean pixel value over that of the real test digits (target
  0.7-1.3, was 0.5-2).

A text sample is split into words (runs of letters, case-folded); the score is the fraction of
them that occur in the bundled corpus (target >= 0.75, was 0.6), and its length in characters
(>= 500).

Run with the installed stage 6 (``mini_torch.datasets.shakespeare_path`` is needed for ``--text``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import time
from pathlib import Path

import numpy as np

import mini_torch
import mini_torch.nn as nn
import mini_torch.optim as optim
from mini_torch import functional as F
from mini_torch.datasets import MNISTDataset, mnist_path
from mini_torch.utils.data import DataLoader

CONFIDENCE = 0.9
WORD = re.compile(r"[a-z]+")


def train_classifier(epochs: int = 15, seed: int = 0) -> tuple[nn.Module, float]:
    """The judge: a 784-256-128-10 MLP trained on the bundled training split; (model, accuracy)."""
    mini_torch.manual_seed(seed)
    train_set = MNISTDataset(mnist_path("train"))
    test_set = MNISTDataset(mnist_path("test"))
    loader = DataLoader(train_set, batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model, lr=0.1, momentum=0.9)
    for epoch in range(epochs):
        optimizer.lr = 0.1 * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))
        model.train()
        for x, y in loader:
            criterion(model(x), y)
            optimizer.zero_grad()
            model.backward(criterion.backward())
            optimizer.step()
    model.eval()
    return model, F.accuracy(model(test_set.features), test_set.labels)


def mean_pairwise_distance(images: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of distinct rows, from the Gram matrix."""
    x = images.astype(np.float64)
    squared = np.sum(x * x, axis=1)
    d2 = squared[:, None] + squared[None, :] - 2.0 * (x @ x.T)
    distances = np.sqrt(np.maximum(d2, 0.0))
    n = x.shape[0]
    return float(distances.sum() / (n * (n - 1)))  # the diagonal is 0


def evaluate_gan(path: Path, epochs: int) -> dict[str, float]:
    samples = np.load(path)
    if samples.ndim != 2 or samples.shape[1] != 784:
        raise ValueError(f"{path}: expected samples of shape (N, 784), got {samples.shape}.")
    if samples.min() < 0.0 or samples.max() > 1.0:
        raise ValueError(f"{path}: values must lie in [0, 1], got "
                         f"{samples.min()}..{samples.max()}.")
    start = time.perf_counter()
    classifier, test_accuracy = train_classifier(epochs)
    print(f"classifier: test accuracy {test_accuracy:.2%} "
          f"(trained in {time.perf_counter() - start:.1f} s)")
    probabilities = F.softmax(classifier(samples.astype(np.float32)), axis=1)
    predicted = probabilities.argmax(axis=1)
    counts = np.bincount(predicted, minlength=10)
    frequencies = counts / counts.sum()
    nonzero = frequencies[frequencies > 0]
    real = MNISTDataset(mnist_path("test")).features
    result = {
        "classifier test accuracy": test_accuracy,
        "confident": float(np.mean(probabilities.max(axis=1) >= CONFIDENCE)),
        "class entropy": float(-np.sum(nonzero * np.log(nonzero))),
        "distance ratio": mean_pairwise_distance(samples) / mean_pairwise_distance(real),
        "ink ratio": float(samples.mean() / real.mean()),
    }
    print(f"GAN samples {samples.shape} {samples.dtype}: predicted classes {counts.tolist()}")
    for name, value in result.items():
        print(f"  {name:26s} {value:.3f}")
    targets = (result["confident"] >= 0.75 and result["class entropy"] >= 2.20
               and 0.7 <= result["distance ratio"] <= 1.3 and 0.7 <= result["ink ratio"] <= 1.3)
    print(f"  targets met: {targets}")
    return result


def evaluate_text(path: Path) -> dict[str, float]:
    from mini_torch.datasets import shakespeare_path

    with gzip.open(shakespeare_path(), "rt", encoding="utf-8") as file:
        vocabulary = set(WORD.findall(file.read().lower()))
    text = path.read_text(encoding="utf-8")
    words = WORD.findall(text.lower())
    known = sum(word in vocabulary for word in words)
    result = {"characters": float(len(text)), "words": float(len(words)),
              "known word fraction": known / max(len(words), 1)}
    print(f"text sample {path}:")
    for name, value in result.items():
        print(f"  {name:26s} {value:.3f}")
    print(f"  targets met: {len(text) >= 500 and result['known word fraction'] >= 0.75}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gan", type=Path, help="gan_samples.npy written by train_gan.py")
    parser.add_argument("--text", type=Path, help="char_lm_sample.txt written by train_char_lm.py")
    parser.add_argument("--classifier-epochs", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    if args.gan is None and args.text is None:
        parser.error("give --gan and/or --text")
    results = {}
    if args.gan is not None:
        results["gan"] = evaluate_gan(args.gan, args.classifier_epochs)
    if args.text is not None:
        results["text"] = evaluate_text(args.text)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
