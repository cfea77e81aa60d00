"""The contract every loss object keeps: ``Loss`` is abstract, ``forward`` caches and returns a
Python float, ``__call__`` is ``forward``, ``backward`` needs a forward first.

Each behaviour is checked for all three concrete losses, with inputs each of them accepts:
``MSELoss`` on regression outputs, ``CrossEntropyLoss`` on logits with class indices,
``BCEWithLogitsLoss`` on one logit per sample with 0/1 targets.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
import mini_torch.nn as nn
from mini_torch.nn import BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss


def _regression_batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((5, 2)), rng.standard_normal((5, 2))


def _classification_batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return 2.0 * rng.standard_normal((5, 3)), np.array([0, 2, 1, 1, 0])


def _binary_batch(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return 2.0 * rng.standard_normal((5, 1)), np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])


LOSSES = pytest.mark.parametrize("make_loss, make_batch", [
    pytest.param(MSELoss, _regression_batch, id="MSELoss"),
    pytest.param(CrossEntropyLoss, _classification_batch, id="CrossEntropyLoss"),
    pytest.param(BCEWithLogitsLoss, _binary_batch, id="BCEWithLogitsLoss"),
])


# ------------------------------------------------------------------------------- abstract base

def test_loss_itself_cannot_be_instantiated():
    with pytest.raises(TypeError):
        Loss()


def test_subclass_without_forward_cannot_be_instantiated():
    class OnlyBackward(Loss):
        def backward(self):
            return np.zeros(1)

    with pytest.raises(TypeError):
        OnlyBackward()


def test_subclass_without_backward_cannot_be_instantiated():
    class OnlyForward(Loss):
        def forward(self, predictions, targets):
            return 0.0

    with pytest.raises(TypeError):
        OnlyForward()


def test_subclass_with_forward_and_backward_starts_with_empty_cache():
    class AbsoluteError(Loss):
        def forward(self, predictions, targets):
            self.predictions, self.targets = predictions, targets
            return float(np.abs(predictions - targets).sum())

        def backward(self):
            return np.sign(self.predictions - self.targets)

    criterion = AbsoluteError()
    assert criterion.predictions is None
    assert criterion.targets is None
    assert criterion(np.array([[1.0, -2.0]]), np.array([[0.0, 0.0]])) == 3.0


def test_loss_is_not_a_module():
    # A loss has no parameters and its backward takes no grad_output: it is where backprop starts.
    assert not isinstance(MSELoss(), nn.Module)


@pytest.mark.parametrize("name", ["Loss", "MSELoss", "CrossEntropyLoss", "BCEWithLogitsLoss"])
def test_losses_are_exported_from_nn_and_from_the_top_level(name):
    assert getattr(mini_torch, name) is getattr(nn, name)


# ---------------------------------------------------------------------------------- the cache

@LOSSES
def test_predictions_and_targets_are_none_after_construction(make_loss, make_batch):
    criterion = make_loss()
    assert criterion.predictions is None
    assert criterion.targets is None


@LOSSES
def test_forward_caches_the_given_predictions_and_targets(make_loss, make_batch, rng):
    predictions, targets = make_batch(rng)
    criterion = make_loss()
    criterion.forward(predictions, targets)
    assert criterion.predictions is predictions
    assert criterion.targets is targets


@LOSSES
def test_forward_returns_a_0d_numpy_scalar_of_the_predictions_dtype(make_loss, make_batch, rng):
    predictions, targets = make_batch(rng)
    value = make_loss().forward(predictions, targets)
    assert isinstance(value, np.floating), (
        f"{make_loss.__name__}.forward must return a 0-d numpy floating scalar (as a PyTorch "
        f"loss is a 0-d tensor), got {type(value).__name__}"
    )
    assert np.ndim(value) == 0
    assert value.dtype == predictions.dtype


@LOSSES
def test_loss_value_works_like_a_pytorch_loss(make_loss, make_batch, rng):
    value = make_loss().forward(*make_batch(rng))
    assert type(value.item()) is float
    assert float(value) == value.item()
    assert f"{value:.3f}" == f"{value.item():.3f}"


@LOSSES
def test_calling_the_loss_returns_what_forward_returns(make_loss, make_batch, rng):
    predictions, targets = make_batch(rng)
    criterion = make_loss()
    assert criterion(predictions, targets) == criterion.forward(predictions, targets)


@LOSSES
def test_calling_the_loss_goes_through_forward(make_loss, make_batch, rng):
    calls = []

    class Recording(make_loss):
        def forward(self, predictions, targets):
            calls.append((predictions, targets))
            return super().forward(predictions, targets)

    predictions, targets = make_batch(rng)
    Recording()(predictions, targets)
    assert len(calls) == 1
    assert calls[0][0] is predictions and calls[0][1] is targets


# ------------------------------------------------------------------------------------ backward

@LOSSES
def test_backward_before_forward_raises_runtime_error(make_loss, make_batch):
    with pytest.raises(RuntimeError, match="forward"):
        make_loss().backward()


@LOSSES
def test_backward_returns_an_array_shaped_like_the_predictions(make_loss, make_batch, rng):
    predictions, targets = make_batch(rng)
    criterion = make_loss()
    criterion(predictions, targets)
    grad = criterion.backward()
    assert isinstance(grad, np.ndarray)
    assert grad.shape == predictions.shape


@LOSSES
def test_backward_differentiates_the_most_recent_forward(make_loss, make_batch, rng):
    first, second = make_batch(rng), make_batch(rng)
    reference = make_loss()
    reference(*second)
    expected = reference.backward()

    criterion = make_loss()
    criterion(*first)
    criterion(*second)
    np.testing.assert_array_equal(criterion.backward(), expected)


@LOSSES
def test_backward_can_be_called_twice_with_the_same_result(make_loss, make_batch, rng):
    criterion = make_loss()
    criterion(*make_batch(rng))
    np.testing.assert_array_equal(criterion.backward(), criterion.backward())


# ----------------------------------------------------------------------------------- reduction

@LOSSES
def test_reduction_defaults_to_mean(make_loss, make_batch):
    assert make_loss().reduction == "mean"


@LOSSES
@pytest.mark.parametrize("reduction", ["average", "none", "MEAN"])
def test_unknown_reduction_is_rejected_at_construction(make_loss, make_batch, reduction):
    with pytest.raises(ValueError, match=reduction):
        make_loss(reduction=reduction)


@LOSSES
def test_sum_reduction_is_the_mean_times_the_number_of_terms(make_loss, make_batch, rng):
    # Cross-entropy has one term per row (N); the element-wise losses have one per element.
    predictions, targets = make_batch(rng)
    count = predictions.shape[0] if make_loss is CrossEntropyLoss else predictions.size
    mean = make_loss(reduction="mean")(predictions, targets)
    total = make_loss(reduction="sum")(predictions, targets)
    assert total == pytest.approx(count * mean, rel=1e-12)
