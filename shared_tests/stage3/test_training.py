"""Seeded training runs: a ``Sequential`` model and a loss object reach the stated bars.

One training step serves every run (the Strategy pattern: the criterion is a parameter):

    loss = criterion(model(X), y)
    model.backward(criterion.backward())
    for p, g in zip(model.parameters(), model.grads()): p -= lr * g
    model.zero_grad()

The bars and why they are fair:

* spirals (300 points, 3 classes, noise 0.2), 2 -> 64 -> 3 ReLU, lr 1.0, 300 full-batch epochs:
  train accuracy >= 95 %. Chance is 33 %; a linear model stays near 50 %.
* sine (200 points, noise 0.05), 1 -> 32 -> 32 -> 1 tanh with Xavier-uniform weights, lr 0.1,
  2000 epochs: train MSE < 0.02. Predicting the mean scores about 0.5 (the variance of sin on
  [-pi, pi]) and the noise alone contributes 0.05^2 = 0.0025.
* moons (200 points, noise 0.1), 2 -> 32 -> 1 ReLU with BCEWithLogitsLoss, lr 1.0, 300 epochs:
  train accuracy >= 95 %.
"""

from __future__ import annotations

import numpy as np

import mini_torch
import mini_torch.nn as nn
from mini_torch import functional as F
from mini_torch import init
from mini_torch.datasets import make_moons, make_sine, make_spirals


def fit(model: nn.Module, criterion: nn.Loss, X: np.ndarray, y: np.ndarray, *, epochs: int,
        lr: float) -> list[float]:
    """Full-batch gradient descent; returns the loss of every epoch."""
    losses = []
    for _ in range(epochs):
        losses.append(criterion(model(X), y))
        model.backward(criterion.backward())
        for p, g in zip(model.parameters(), model.grads()):
            p -= lr * g
        model.zero_grad()
    return losses


def test_sequential_with_cross_entropy_loss_learns_the_spirals():
    mini_torch.manual_seed(0)
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3))
    fit(model, nn.CrossEntropyLoss(), X, y, epochs=300, lr=1.0)
    assert F.accuracy(model(X), y) >= 0.95


def test_sequential_with_mse_loss_fits_the_sine():
    mini_torch.manual_seed(0)
    X, y = make_sine(n_samples=200, noise=0.05)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 1))
    for layer in model:
        if isinstance(layer, nn.Linear):
            layer.W[...] = init.xavier_uniform(layer.input_dim, layer.output_dim)
    criterion = nn.MSELoss()
    fit(model, criterion, X, y, epochs=2000, lr=0.1)
    assert criterion(model(X), y) < 0.02


def test_sequential_with_bce_with_logits_loss_learns_the_moons():
    mini_torch.manual_seed(0)
    X, y = make_moons(n_samples=200, noise=0.1)
    targets = y.reshape(-1, 1).astype(X.dtype)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 1))
    fit(model, nn.BCEWithLogitsLoss(), X, targets, epochs=300, lr=1.0)
    assert F.accuracy(model(X), y) >= 0.95


def test_training_with_a_loss_object_reduces_the_loss():
    mini_torch.manual_seed(0)
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3))
    losses = fit(model, nn.CrossEntropyLoss(), X, y, epochs=50, lr=1.0)
    assert losses[-1] < 0.8 * losses[0]


def test_training_keeps_float32_parameters_float32():
    mini_torch.manual_seed(0)
    X, y = make_spirals(n_samples=60, n_classes=3, noise=0.2)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    fit(model, nn.CrossEntropyLoss(label_smoothing=0.1), X, y, epochs=5, lr=1.0)
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_the_same_seed_gives_the_same_run_bit_for_bit():
    def run() -> list[float]:
        mini_torch.manual_seed(3)
        X, y = make_spirals(n_samples=90, n_classes=3, noise=0.2)
        model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))
        return fit(model, nn.CrossEntropyLoss(), X, y, epochs=20, lr=1.0)

    assert run() == run()
