"""``Module``: the abstract base class, its defaults, ``__call__``, ``zero_grad`` and train / eval.

The contract (docs/architecture.md#5-the-module-tree-rules, docs/stage2.md#2-the-module-contract):
``forward`` and ``backward`` are abstract, so ``Module`` and a subclass missing either cannot be
instantiated; ``parameters()`` / ``grads()`` / ``children()`` default to ``[]``; ``model(x)`` is
``model.forward(x)``; ``zero_grad()`` zeros every existing gradient in place and leaves ``None``
alone; ``train()`` / ``eval()`` set ``.training`` on the whole tree and return the module.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
import mini_torch.nn as nn
from mini_torch.nn import Activation, Linear, Module, ReLU, Sequential, Tanh


class Scale(Module):
    """A complete, parameter-free module: ``y = 3 x``; counts its forward calls."""

    def __init__(self) -> None:
        super().__init__()
        self.forward_calls = 0

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.forward_calls += 1
        return 3.0 * x

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        return 3.0 * grad_output


def _trained_linear(rng: np.random.Generator) -> Linear:
    """A Linear(3, 2) after one forward and backward, so dW and db exist and are non-zero."""
    layer = Linear(3, 2)
    layer.forward(rng.standard_normal((4, 3)).astype(np.float32))
    layer.backward(rng.standard_normal((4, 2)).astype(np.float32))
    return layer


# ---------------------------------------------------------------------------------- abstractness

def test_module_itself_cannot_be_instantiated():
    with pytest.raises(TypeError):
        Module()


def test_activation_itself_cannot_be_instantiated():
    with pytest.raises(TypeError):
        Activation()


def test_module_subclass_without_forward_cannot_be_instantiated():
    class NoForward(Module):
        def backward(self, grad_output):
            return grad_output

    with pytest.raises(TypeError):
        NoForward()


def test_module_subclass_without_backward_cannot_be_instantiated():
    class NoBackward(Module):
        def forward(self, x):
            return x

    with pytest.raises(TypeError):
        NoBackward()


def test_activation_subclass_without_backward_cannot_be_instantiated():
    class Square(Activation):
        def forward(self, x):
            self.x = x
            return x * x

    with pytest.raises(TypeError):
        Square()


def test_module_subclass_with_forward_and_backward_can_be_instantiated():
    assert isinstance(Scale(), Module)


# ------------------------------------------------------------------------------------- defaults

def test_module_parameters_grads_and_children_default_to_empty_lists():
    module = Scale()
    assert module.parameters() == []
    assert module.grads() == []
    assert module.children() == []


def test_module_starts_in_training_mode():
    assert Scale().training is True
    assert Linear(2, 3).training is True
    assert ReLU().training is True


def test_every_stage2_layer_is_a_module_and_activations_are_activations():
    for layer in (Linear(2, 3), Sequential(ReLU()), ReLU(), nn.Sigmoid(), Tanh(), nn.GELU(),
                  nn.LeakyReLU(), nn.Identity()):
        assert isinstance(layer, Module)
    for activation in (ReLU(), nn.Sigmoid(), Tanh(), nn.GELU(), nn.LeakyReLU(), nn.Identity()):
        assert isinstance(activation, Activation)
    assert not isinstance(Linear(2, 3), Activation)


def test_top_level_reexports_the_nn_classes():
    for name in ("Module", "Sequential", "Linear", "Activation", "ReLU", "Sigmoid", "Tanh",
                 "GELU", "LeakyReLU", "Identity"):
        assert getattr(mini_torch, name) is getattr(nn, name), name


# ------------------------------------------------------------------------------------ __call__

def test_calling_a_module_runs_forward_once_and_returns_its_output():
    module = Scale()
    x = np.array([[1.0, -2.0]], dtype=np.float32)
    out = module(x)
    np.testing.assert_array_equal(out, 3.0 * x)
    assert module.forward_calls == 1


def test_calling_a_linear_layer_equals_its_forward(rng):
    layer = Linear(3, 2)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_array_equal(layer(x), layer.forward(x))


# ----------------------------------------------------------------------------------- zero_grad

def test_zero_grad_sets_every_gradient_to_zero(rng):
    layer = _trained_linear(rng)
    assert np.any(layer.dW != 0) and np.any(layer.db != 0)
    layer.zero_grad()
    np.testing.assert_array_equal(layer.dW, np.zeros((3, 2)))
    np.testing.assert_array_equal(layer.db, np.zeros((1, 2)))


def test_zero_grad_keeps_the_same_gradient_arrays(rng):
    layer = _trained_linear(rng)
    dW, db = layer.dW, layer.db
    layer.zero_grad()
    assert layer.dW is dW
    assert layer.db is db
    assert layer.grads()[0] is dW and layer.grads()[1] is db


def test_zero_grad_keeps_the_gradient_dtype(rng):
    layer = _trained_linear(rng)
    layer.zero_grad()
    assert layer.dW.dtype == np.float32
    assert layer.db.dtype == np.float32


def test_zero_grad_before_the_first_backward_leaves_none():
    layer = Linear(3, 2)
    layer.zero_grad()
    assert layer.dW is None
    assert layer.db is None


def test_zero_grad_on_a_parameter_free_module_does_nothing():
    module = Scale()
    module.zero_grad()
    assert module.grads() == []


def test_zero_grad_does_not_touch_the_parameters(rng):
    layer = _trained_linear(rng)
    W, b = layer.W.copy(), layer.b.copy()
    layer.zero_grad()
    np.testing.assert_array_equal(layer.W, W)
    np.testing.assert_array_equal(layer.b, b)


# --------------------------------------------------------------------------------- train / eval

def test_eval_sets_training_false_and_returns_the_module():
    module = Scale()
    assert module.eval() is module
    assert module.training is False


def test_train_sets_training_true_and_returns_the_module():
    module = Scale().eval()
    assert module.train() is module
    assert module.training is True


def test_train_false_is_eval():
    module = Scale()
    module.train(False)
    assert module.training is False


def _tree() -> tuple[Sequential, list[Module]]:
    """A nested model and every module in it (the model included)."""
    inner = Sequential(Linear(4, 4), Tanh())
    model = Sequential(Linear(2, 4), ReLU(), inner, Linear(4, 1))
    return model, [model, *model.modules, *inner.modules]


def test_eval_sets_training_false_on_the_whole_tree():
    model, everything = _tree()
    model.eval()
    assert [module.training for module in everything] == [False] * len(everything)


def test_train_sets_training_true_on_the_whole_tree_again():
    model, everything = _tree()
    model.eval()
    model.train()
    assert [module.training for module in everything] == [True] * len(everything)


def test_eval_on_a_child_does_not_change_its_parent():
    model, _ = _tree()
    model[2].eval()
    assert model.training is True
    assert model[2].training is False
    assert model[2][0].training is False
