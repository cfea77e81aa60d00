"""End to end: the standard training loop learns the bundled MNIST subset.

The loop of the spec, ``DataLoader -> model -> loss -> zero_grad -> backward -> step``, trains a
784-256-128-10 ReLU network with SGD (momentum 0.9) in mini-batches of 64 for a few epochs, then
the whole test split goes through the model in one forward pass. Every stage of the course takes
part: the functional core, the modules, the loss, the optimizer and the data loading.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
import mini_torch.nn as nn
import mini_torch.optim as optim
from mini_torch import functional as F
from mini_torch.datasets import MNISTDataset, mnist_path
from mini_torch.utils.data import DataLoader

EPOCHS = 4


@pytest.fixture(scope="module")
def trained() -> dict:
    """Train once for the module; returns the model, the losses per epoch and the test split."""
    mini_torch.manual_seed(0)
    train_set = MNISTDataset(mnist_path("train"))
    test_set = MNISTDataset(mnist_path("test"))
    loader = DataLoader(train_set, batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                          nn.Linear(128, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model, lr=0.05, momentum=0.9)

    epoch_losses = []
    for _ in range(EPOCHS):
        model.train()
        batch_losses = []
        for x, y in loader:
            pred = model(x)
            loss = criterion(pred, y)
            optimizer.zero_grad()
            model.backward(criterion.backward())
            optimizer.step()
            batch_losses.append(loss)
        epoch_losses.append(float(np.mean(batch_losses)))
    model.eval()
    return {"model": model, "epoch_losses": epoch_losses, "test_set": test_set,
            "train_set": train_set}


def test_the_standard_loop_reaches_90_percent_test_accuracy_on_bundled_mnist(trained):
    test_set = trained["test_set"]
    accuracy = F.accuracy(trained["model"](test_set.features), test_set.labels)
    assert accuracy >= 0.90, f"test accuracy {accuracy:.2%} after {EPOCHS} epochs"


def test_the_mean_training_loss_falls_every_epoch(trained):
    losses = trained["epoch_losses"]
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses
    assert losses[-1] < 0.5 * losses[0], losses


def test_the_trained_model_fits_the_training_split(trained):
    train_set = trained["train_set"]
    accuracy = F.accuracy(trained["model"](train_set.features), train_set.labels)
    assert accuracy >= 0.95, f"training accuracy {accuracy:.2%} after {EPOCHS} epochs"


def test_the_trained_weights_stay_float32(trained):
    assert all(param.dtype == np.float32 for param in trained["model"].parameters())
