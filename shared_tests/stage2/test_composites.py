"""Composite models as in PyTorch: children register themselves by attribute assignment.

A model written the PyTorch way (``self.body = Sequential(...)``, ``self.head = Linear(...)``)
must train with no hand-written ``parameters()`` / ``grads()``: the base ``Module`` walks its
children. See docs/stage2.md#composite-models.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
from mini_torch import functional as F
from mini_torch.nn import Flatten, Linear, Module, ReLU, Sequential


class TwoPart(Module):
    """The PyTorch Quickstart's shape: a flatten, a body and a head, no plumbing."""

    def __init__(self, in_features: int = 4, hidden: int = 8, classes: int = 3) -> None:
        super().__init__()
        self.flatten = Flatten()
        self.body = Sequential(Linear(in_features, hidden), ReLU())
        self.head = Linear(hidden, classes)

    def forward(self, x):
        return self.head(self.body(self.flatten(x)))

    def backward(self, grad_output):
        grad = self.head.backward(grad_output)
        return self.flatten.backward(self.body.backward(grad))


class WithOwnArray(Module):
    """A composite with an array of its own: it returns it before ``super().parameters()``."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = np.ones((1, 3), np.float32)
        self.dscale = None
        self.inner = Linear(2, 3)

    def forward(self, x):
        return self.inner(x) * self.scale

    def backward(self, grad_output):
        return grad_output

    def parameters(self):
        return [self.scale, *super().parameters()]

    def grads(self):
        return [self.dscale, *super().grads()]


def test_children_are_registered_in_assignment_order():
    model = TwoPart()
    assert [name for name, _ in model.named_children()] == ["flatten", "body", "head"]
    assert model.children() == [model.flatten, model.body, model.head]


def test_parameters_and_grads_walk_the_tree_in_order():
    model = TwoPart()
    expected = [model.body[0].W, model.body[0].b, model.head.W, model.head.b]
    assert [id(p) for p in model.parameters()] == [id(p) for p in expected]
    assert len(model.grads()) == 4


def test_named_parameters_use_dotted_paths():
    names = [name for name, _ in TwoPart().named_parameters()]
    assert names == ["body.0.W", "body.0.b", "head.W", "head.b"]


def test_a_composite_with_its_own_array_lists_it_first():
    model = WithOwnArray()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "inner.W", "inner.b"]


def test_reassigning_a_child_replaces_it_in_place():
    model = TwoPart()
    new_head = Linear(8, 5)
    model.head = new_head
    assert model.children()[-1] is new_head
    model.head = None  # no longer a module: no longer a child
    assert [name for name, _ in model.named_children()] == ["flatten", "body"]


def test_a_module_without_children_or_arrays_has_no_parameters():
    class Holder(Module):
        def __init__(self):
            super().__init__()
            self.dW = np.zeros(3)  # arrays are never discovered by attribute

        def forward(self, x):
            return x

        def backward(self, grad_output):
            return grad_output

    assert Holder().parameters() == [] and Holder().grads() == []


def test_train_and_eval_reach_every_descendant():
    model = TwoPart()
    model.eval()
    assert not model.training and not model.body.training and not model.body[1].training
    model.train()
    assert model.head.training and model.body[0].training


def test_zero_grad_clears_every_descendant(rng):
    model = TwoPart()
    x = rng.normal(size=(5, 4)).astype(np.float32)
    model.backward(np.ones_like(model(x)))
    model.zero_grad()
    assert all(np.all(grad == 0) for grad in model.grads())


def test_repr_shows_the_tree_with_child_names():
    text = repr(TwoPart())
    assert text.splitlines()[0] == "TwoPart("
    assert "(body): Sequential(" in text
    assert "(0): Linear(input_dim=4, output_dim=8)" in text
    assert "(head): Linear(input_dim=8, output_dim=3)" in text


def test_state_dict_of_a_composite_round_trips(rng):
    source, target = TwoPart(), TwoPart()
    for param in source.parameters():
        param[...] = rng.normal(size=param.shape)
    target.load_state_dict(source.state_dict())
    x = rng.normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_array_equal(target(x), source(x))
    assert list(target.state_dict()) == ["body.0.W", "body.0.b", "head.W", "head.b"]


def test_the_two_part_model_trains_with_no_plumbing(rng):
    # three Gaussian blobs; cross-entropy by hand (stage 2: loss and update still by hand)
    centers = np.array([[2.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 2.0, 0]])
    labels = rng.integers(0, 3, size=150)
    x = (centers[labels] + 0.5 * rng.normal(size=(150, 4))).astype(np.float32)
    model = TwoPart()
    first_loss = float(F.cross_entropy(model(x), labels))
    for _ in range(100):
        model.zero_grad()
        logits = model(x)
        model.backward(F.cross_entropy_backward(logits, labels))
        for param, grad in zip(model.parameters(), model.grads()):
            param -= 0.2 * grad
    assert float(F.cross_entropy(model(x), labels)) < 0.5 * first_loss
    assert F.accuracy(model(x), labels) > 0.9


# --------------------------------------------------------------------------- no_grad

def test_no_grad_is_a_context_manager_that_restores_the_mode():
    assert mini_torch.is_grad_enabled()
    with mini_torch.no_grad():
        assert not mini_torch.is_grad_enabled()
        with mini_torch.no_grad():
            assert not mini_torch.is_grad_enabled()
        assert not mini_torch.is_grad_enabled()
    assert mini_torch.is_grad_enabled()


def test_no_grad_is_a_decorator_too(rng):
    @mini_torch.no_grad()
    def evaluate():
        return mini_torch.is_grad_enabled()

    assert evaluate() is False
    assert mini_torch.is_grad_enabled()


def test_no_grad_computes_the_same_output_without_caching(rng):
    model = TwoPart()
    x = rng.normal(size=(3, 4)).astype(np.float32)
    expected = model(x)
    fresh = TwoPart()
    fresh.load_state_dict(model.state_dict())
    with mini_torch.no_grad():
        output = fresh(x)
    np.testing.assert_array_equal(output, expected)
    assert fresh.head.x is None and fresh.body[0].x is None and fresh.body[1].x is None


def test_backward_after_a_no_grad_forward_is_a_clear_error(rng):
    layer = Linear(4, 2)
    with mini_torch.no_grad():
        layer(rng.normal(size=(3, 4)).astype(np.float32))
    with pytest.raises(RuntimeError, match="no_grad"):
        layer.backward(np.ones((3, 2), np.float32))


# --------------------------------------------------------------------------- Flatten

def test_flatten_keeps_the_batch_axis_and_backward_restores_the_shape(rng):
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    flatten = Flatten()
    y = flatten(x)
    assert y.shape == (2, 12)
    np.testing.assert_array_equal(y[1], x[1].ravel())
    grad = flatten.backward(np.arange(24, dtype=np.float32).reshape(2, 12))
    assert grad.shape == (2, 3, 4)
    np.testing.assert_array_equal(grad.ravel(), np.arange(24))


def test_flatten_rejects_dims_the_input_does_not_have():
    with pytest.raises(ValueError, match="start_dim"):
        Flatten(start_dim=3)(np.zeros((2, 3)))


# --------------------------------------------------------------------------- save_weights

def test_save_weights_and_load_weights_round_trip(tmp_path, rng):
    source, target = TwoPart(), TwoPart()
    for param in source.parameters():
        param[...] = rng.normal(size=param.shape)
    source.save_weights(tmp_path / "weights.npz")
    target.load_weights(tmp_path / "weights.npz")
    for saved, loaded in zip(source.parameters(), target.parameters()):
        np.testing.assert_array_equal(loaded, saved)


def test_load_weights_finds_the_file_numpy_named(tmp_path):
    model = TwoPart()
    written = model.save_weights(tmp_path / "weights")
    assert written.name == "weights.npz"
    TwoPart().load_weights(tmp_path / "weights")


@pytest.mark.parametrize("error", [AssertionError, ValueError])
def test_load_weights_of_another_shape_says_shape_mismatch(tmp_path, error):
    TwoPart(hidden=8).save_weights(tmp_path / "weights.npz")
    with pytest.raises(error, match="Shape mismatch"):
        TwoPart(hidden=16).load_weights(tmp_path / "weights.npz")


def test_load_weights_of_a_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="save_weights"):
        TwoPart().load_weights(tmp_path / "missing.npz")
