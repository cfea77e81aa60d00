"""The PyTorch Quickstart's training code, ported as a student would (see docs/pytorch.md).

Only imports, data, device lines and the manual backward differ from the PyTorch version: the
model class (``Flatten`` + ``Sequential``), ``loss.item()``, ``(pred.argmax(1) == y)`` on class
index batches and ``no_grad()`` evaluation must work unchanged.
"""

from __future__ import annotations

import numpy as np

import mini_torch
from mini_torch import nn
from mini_torch.utils.data import ArrayDataset, DataLoader


class NeuralNetwork(nn.Module):
    def __init__(self, in_features: int, classes: int):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(in_features, 32),
            nn.ReLU(),
            nn.Linear(32, classes),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits

    def backward(self, grad_output):  # the manual backward: no autograd in Mini-Torch
        return self.flatten.backward(self.linear_relu_stack.backward(grad_output))


def train_loop(dataloader, model, loss_fn, optimizer):
    model.train()
    for X, y in dataloader:
        pred = model(X)
        loss = loss_fn(pred, y)
        model.backward(loss_fn.backward())  # PyTorch: loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        assert isinstance(loss.item(), float)


def evaluate_loop(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with mini_torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).astype(np.float32).sum().item()
    return test_loss / num_batches, correct / size


def _images(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Four classes of 6x6 'images': a bright quadrant per class, plus noise."""
    labels = rng.integers(0, 4, size=n)
    images = 0.1 * rng.random((n, 6, 6)).astype(np.float32)
    for index, label in enumerate(labels):
        row, col = divmod(int(label), 2)
        images[index, 3 * row:3 * row + 3, 3 * col:3 * col + 3] += 1.0
    return images, labels


def test_the_ported_quickstart_trains_and_reports_a_true_accuracy(rng):
    train_images, train_labels = _images(rng, 256)
    test_images, test_labels = _images(rng, 128)
    train_dataloader = DataLoader(ArrayDataset(train_images, train_labels), batch_size=32,
                                  shuffle=True)
    test_dataloader = DataLoader(ArrayDataset(test_images, test_labels), batch_size=32)
    model = NeuralNetwork(36, 4)
    assert [name for name, _ in model.named_parameters()] == [
        "linear_relu_stack.0.W", "linear_relu_stack.0.b",
        "linear_relu_stack.2.W", "linear_relu_stack.2.b",
    ]
    loss_fn = nn.CrossEntropyLoss()
    optimizer = mini_torch.optim.SGD(model, lr=0.1)  # PyTorch: SGD(model.parameters(), lr=...)
    first_loss, first_accuracy = evaluate_loop(test_dataloader, model, loss_fn)
    for _ in range(5):
        train_loop(train_dataloader, model, loss_fn, optimizer)
    last_loss, accuracy = evaluate_loop(test_dataloader, model, loss_fn)
    assert 0.0 <= first_accuracy <= 1.0 and 0.0 <= accuracy <= 1.0, (
        "accuracy outside [0, 1]: labels batched as (B, 1) broadcast against (B,) predictions "
        "(see docs/stage5.md#batching-and-drop_last)"
    )
    assert last_loss < first_loss
    assert accuracy > 0.9
