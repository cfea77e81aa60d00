"""Seeded training runs: the optimizers train real models to stated bars.

Each run is the seven-step loop of stage 4 with mini-batches of 32 sliced from a permutation drawn
every epoch from Mini-Torch's global generator (the autouse fixture seeds it with 0)::

    for epoch ...: for batch ...: forward, loss, zero_grad, backward, step

Bars:
- spirals (300 points, 3 classes, noise 0.2) with a 2 -> 64 -> 3 ReLU network: at least 95 % of
  the training points classified correctly (chance is 33 %).
- sine (200 points on [-pi, pi], noise 0.05) with a 1 -> 32 -> 32 -> 1 tanh network: a training
  MSE below 0.02. The noise alone costs 0.05^2 = 0.0025; the best straight line costs about 0.2
  (Var(sin x) = 1/2, of which a line explains 1 / (2 Var(x)) = 3 / pi^2, about 61 %).
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
from mini_torch import functional as F
from mini_torch.datasets import make_sine, make_spirals
from mini_torch.nn import CrossEntropyLoss, Linear, Loss, Module, MSELoss, ReLU, Sequential, Tanh
from mini_torch.optim import SGD, Adam, AdamW, Optimizer

BATCH_SIZE = 32


def fit(model: Module, criterion: Loss, optimizer: Optimizer, X: np.ndarray, y: np.ndarray,
        epochs: int) -> list[float]:
    """Train in shuffled mini-batches; returns the mean loss of each epoch."""
    history = []
    for _ in range(epochs):
        order = mini_torch.init.get_generator().permutation(len(X))
        total = 0.0
        for start in range(0, len(X), BATCH_SIZE):
            batch = order[start:start + BATCH_SIZE]
            loss = criterion(model(X[batch]), y[batch])
            optimizer.zero_grad()
            model.backward(criterion.backward())
            optimizer.step()
            total += loss * len(batch)
        history.append(total / len(X))
    return history


def spirals_model() -> Sequential:
    return Sequential(Linear(2, 64), ReLU(), Linear(64, 3))


@pytest.mark.parametrize("make_optimizer", [
    pytest.param(lambda model: SGD(model, lr=0.1, momentum=0.9), id="sgd-momentum0.9"),
    pytest.param(lambda model: AdamW(model, lr=0.01), id="adamw"),
    pytest.param(lambda model: Adam(model, lr=0.01), id="adam"),
])
def test_spirals_reach_95_percent_train_accuracy(make_optimizer):
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    model = spirals_model()
    fit(model, CrossEntropyLoss(), make_optimizer(model), X, y, epochs=100)
    assert F.accuracy(model(X), y) >= 0.95


def test_sine_regression_with_adam_reaches_mse_below_0_02():
    X, y = make_sine(n_samples=200, noise=0.05)
    model = Sequential(Linear(1, 32), Tanh(), Linear(32, 32), Tanh(), Linear(32, 1))
    fit(model, MSELoss(), Adam(model, lr=0.003), X, y, epochs=150)
    assert float(F.mse_loss(model(X), y)) < 0.02


def test_training_lowers_the_loss_with_every_optimizer():
    """Same seed, same data and initial weights: each optimizer ends well below where it began."""
    for make_optimizer in (lambda m: SGD(m, lr=0.1, momentum=0.9),
                           lambda m: Adam(m, lr=0.01), lambda m: AdamW(m, lr=0.01)):
        mini_torch.manual_seed(0)
        X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
        model = spirals_model()
        history = fit(model, CrossEntropyLoss(), make_optimizer(model), X, y, epochs=20)
        assert history[-1] < 0.5 * history[0]


def test_two_runs_from_the_same_seed_end_with_identical_parameters():
    finals = []
    for _ in range(2):
        mini_torch.manual_seed(7)
        X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
        model = spirals_model()
        fit(model, CrossEntropyLoss(), Adam(model, lr=0.01), X, y, epochs=5)
        finals.append([p.copy() for p in model.parameters()])
    for first, second in zip(*finals):
        np.testing.assert_array_equal(first, second)


def test_lr_zero_leaves_the_model_unchanged():
    """With lr = 0 every rule's step is zero: the loop runs, the weights stay put."""
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    for optimizer_class in (SGD, Adam, AdamW):
        model = spirals_model()
        before = [p.copy() for p in model.parameters()]
        fit(model, CrossEntropyLoss(), optimizer_class(model, lr=0.0), X, y, epochs=2)
        for param, start in zip(model.parameters(), before):
            np.testing.assert_array_equal(param, start)
