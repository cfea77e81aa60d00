"""Seeded training runs with loss objects, driven by the ``train_step`` of the stage-3 examples.

Every stage-3 example has the same ``train_step(model, X, y, lr, criterion)`` (the Strategy
pattern: the criterion is a parameter). These tests call the examples' own ``train_step`` (the
package's examples at stage 3, the reference ones later; see ``stage_examples`` in conftest.py)
and check what it does, never how: the value it returns, that it asks the criterion for the value
and for the gradient, that it updates in place and clears the gradients, and that repeated steps
reach the bars.

The bars and why they are fair:

* spirals (300 points, 3 classes, noise 0.2), 2 -> 64 -> 3 ReLU, lr 1.0, 300 full-batch steps:
  train accuracy >= 95 %. Chance is 33 %; a linear model stays near 50 %.
* sine (200 points, noise 0.05), 1 -> 32 -> 32 -> 1 tanh with Xavier-uniform weights, lr 0.1,
  2000 steps: train MSE < 0.02. Predicting the mean scores about 0.5 (the variance of sin on
  [-pi, pi]) and the noise alone contributes 0.05^2 = 0.0025.
* moons (200 points, noise 0.1), 2 -> 32 -> 1 ReLU with BCEWithLogitsLoss, lr 1.0, 300 steps:
  train accuracy >= 95 %.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import mini_torch
import mini_torch.nn as nn
from mini_torch import functional as F
from mini_torch import init
from mini_torch.datasets import make_moons, make_sine, make_spirals


def _load(folder: Path, name: str) -> ModuleType:
    script = folder / name
    assert script.is_file(), f"{script} is missing: every stage from 3 on ships {name}"
    spec = importlib.util.spec_from_file_location(f"stage3_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def examples(stage_examples) -> Path:
    return stage_examples(3)


class CountingLoss(nn.Loss):
    """A criterion that delegates to another and counts the calls it gets."""

    def __init__(self, inner: nn.Loss) -> None:
        super().__init__()
        self.inner = inner
        self.forward_calls = 0
        self.backward_calls = 0

    def forward(self, predictions, targets):
        self.forward_calls += 1
        return self.inner(predictions, targets)

    def backward(self):
        self.backward_calls += 1
        return self.inner.backward()


def _spirals_model() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 3))


@pytest.mark.parametrize("script", ["train_spirals.py", "train_sine.py", "train_moons.py"])
def test_train_step_returns_the_loss_before_its_update(examples, script):
    example = _load(examples, script)
    mini_torch.manual_seed(0)
    X, y = make_spirals(n_samples=60, n_classes=3, noise=0.2)
    model = _spirals_model()
    expected = float(nn.CrossEntropyLoss()(model(X), y))
    returned = example.train_step(model, X, y, 0.5, nn.CrossEntropyLoss())
    assert float(returned) == pytest.approx(expected, rel=1e-6)
    assert float(nn.CrossEntropyLoss()(model(X), y)) < expected, "the step did not descend"


@pytest.mark.parametrize("script", ["train_spirals.py", "train_sine.py", "train_moons.py"])
def test_train_step_uses_the_criterion_it_is_given(examples, script):
    example = _load(examples, script)
    mini_torch.manual_seed(0)
    X, y = make_sine(n_samples=40, noise=0.05)
    model = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    criterion = CountingLoss(nn.MSELoss())
    example.train_step(model, X, y, 0.1, criterion)
    assert (criterion.forward_calls, criterion.backward_calls) == (1, 1)


@pytest.mark.parametrize("script", ["train_spirals.py", "train_sine.py", "train_moons.py"])
def test_train_step_updates_in_place_and_clears_the_gradients(examples, script):
    example = _load(examples, script)
    mini_torch.manual_seed(0)
    X, y = make_spirals(n_samples=60, n_classes=3, noise=0.2)
    model = _spirals_model()
    arrays = model.parameters()
    before = [array.copy() for array in arrays]
    example.train_step(model, X, y, 0.5, nn.CrossEntropyLoss())
    assert all(a is b for a, b in zip(model.parameters(), arrays)), "parameters were rebound"
    assert any(not np.array_equal(a, b) for a, b in zip(arrays, before)), "nothing was updated"
    for grad in model.grads():
        np.testing.assert_array_equal(grad, np.zeros_like(grad))


def test_train_step_with_cross_entropy_loss_learns_the_spirals(examples):
    example = _load(examples, "train_spirals.py")
    mini_torch.manual_seed(0)
    X, y = make_spirals(n_samples=300, n_classes=3, noise=0.2)
    model = _spirals_model()
    criterion = nn.CrossEntropyLoss()
    losses = [float(example.train_step(model, X, y, 1.0, criterion)) for _ in range(300)]
    assert losses[-1] < 0.8 * losses[0]
    assert F.accuracy(model(X), y) >= 0.95


def test_train_step_with_mse_loss_fits_the_sine(examples):
    example = _load(examples, "train_sine.py")
    mini_torch.manual_seed(0)
    X, y = make_sine(n_samples=200, noise=0.05)
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 1))
    for layer in model:
        if isinstance(layer, nn.Linear):
            layer.W[...] = init.xavier_uniform(layer.input_dim, layer.output_dim)
    criterion = nn.MSELoss()
    for _ in range(2000):
        example.train_step(model, X, y, 0.1, criterion)
    assert criterion(model(X), y) < 0.02


def test_train_step_with_bce_with_logits_loss_learns_the_moons(examples):
    example = _load(examples, "train_moons.py")
    mini_torch.manual_seed(0)
    X, y = make_moons(n_samples=200, noise=0.1)
    targets = y.reshape(-1, 1).astype(X.dtype)
    model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 1))
    criterion = nn.BCEWithLogitsLoss()
    for _ in range(300):
        example.train_step(model, X, targets, 1.0, criterion)
    assert F.accuracy(model(X), y) >= 0.95
