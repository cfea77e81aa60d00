"""What ``module(x)`` does beyond ``forward``: the bookkeeping of the arrays kept for backward.

A layer's ``forward`` keeps what its ``backward`` needs in plain attributes (``self.x = x``).
``Module.__call__`` is the one place that does more, after ``forward`` returns: under
``no_grad`` it sets the cached attributes of the module and of every module below it to
``None``; otherwise it counts the call, so that the second backward of two calls is refused.
Attribute assignment only registers children. A ``forward`` called directly is just the
forward: it caches, and its backward works, but it is not counted and not emptied.

See docs/stage2.md#evaluating-without-a-cache-no_grad and the ``Module`` docstring.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
from mini_torch.nn import Linear, Module, ModuleList, ReLU, Sequential, Tanh


def _batch(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


def _caches(model):
    """``{dotted name: cached attribute}`` for every module of the tree that has one."""
    return {f"{name}.{attr}": getattr(module, attr)
            for name, module in model.named_modules()
            for attr in module._cached_names if hasattr(module, attr)}


class ForwardByHand(Module):
    """A composite whose forward calls its children's ``forward`` directly (not the call)."""

    def __init__(self) -> None:
        super().__init__()
        self.first, self.act, self.second = Linear(3, 4), Tanh(), Linear(4, 2)

    def forward(self, x):
        return self.second.forward(self.act.forward(self.first.forward(x)))

    def backward(self, grad_output):
        return self.first.backward(self.act.backward(self.second.backward(grad_output)))


class CachesTwice(Module):
    """``y = 3 x`` whose forward assigns its cache twice (first the raw, then the checked x)."""

    def __init__(self) -> None:
        super().__init__()
        self.x = None

    def forward(self, x):
        self.x = x
        x = np.asarray(x, dtype=np.float32)
        self.x = x
        return 3 * x

    def backward(self, grad_output):
        self._cached_input()
        return 3 * grad_output


# --------------------------------------------------------------- assignment is only assignment

def test_assigning_a_cached_name_under_no_grad_outside_forward_just_stores_it(rng):
    layer = Linear(3, 2)
    x = _batch(rng, 4, 3)
    with mini_torch.no_grad():
        layer.x = x
    assert layer.x is x, "attribute assignment must store the value; only module(x) drops caches"


def test_assigning_a_cache_twice_in_one_forward_is_one_forward(rng):
    """One call, two backwards: forward, backward, backward is allowed (the gradients add)."""
    layer = CachesTwice()
    layer(_batch(rng, 2, 3))
    grad = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(layer.backward(grad), 3 * grad)
    np.testing.assert_array_equal(layer.backward(grad), 3 * grad)   # not "after 2 forwards"


def test_a_cached_name_is_none_before_the_first_forward():
    assert Linear(3, 2).x is None
    assert ReLU().x is None


# --------------------------------------------------------------------- forward called directly

def test_forward_called_directly_caches_and_its_backward_works(rng):
    layer = Linear(3, 2)
    x, grad = _batch(rng, 4, 3), _batch(rng, 4, 2)
    layer.forward(x)
    assert layer.x is not None
    layer.backward(grad)
    np.testing.assert_allclose(layer.dW, x.T @ grad, rtol=1e-5, atol=1e-6)


def test_forward_called_directly_under_no_grad_is_only_the_forward(rng):
    """The bookkeeping is in __call__: ``forward`` alone keeps its cache, and the backward
    differentiates that forward (call the module, ``layer(x)``, to keep nothing)."""
    layer = Linear(3, 2)
    x, grad = _batch(rng, 4, 3), _batch(rng, 4, 2)
    with mini_torch.no_grad():
        layer.forward(x)
    np.testing.assert_array_equal(layer.x, x)
    layer.backward(grad)
    np.testing.assert_allclose(layer.dW, x.T @ grad, rtol=1e-5, atol=1e-6)


def test_a_call_under_no_grad_empties_children_whose_forward_was_called_directly(rng):
    model = ForwardByHand()
    with mini_torch.no_grad():
        model(_batch(rng, 5, 3))
    caches = _caches(model)
    assert set(caches) == {"first.x", "act.x", "second.x"}
    assert all(value is None for value in caches.values()), caches
    with pytest.raises(RuntimeError, match="no_grad"):
        model.backward(np.ones((5, 2), np.float32))


def test_a_direct_forward_after_a_no_grad_call_trains_again(rng):
    model = ForwardByHand()
    x, grad = _batch(rng, 5, 3), _batch(rng, 5, 2)
    with mini_torch.no_grad():
        model(x)
    model.forward(x)
    model.backward(grad)
    # dL/dW2 = h^T g with h = tanh(x @ W1 + b1), computed here from the parameters
    hidden = np.tanh(x @ model.first.W + model.first.b)
    np.testing.assert_allclose(model.second.dW, hidden.T @ grad, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------ containers, no_grad

def test_a_sequential_under_no_grad_keeps_nothing_in_any_layer(rng):
    model = Sequential(Linear(3, 4), ReLU(), Sequential(Linear(4, 4), Tanh()), Linear(4, 2))
    with mini_torch.no_grad():
        model(_batch(rng, 5, 3))
    caches = _caches(model)
    assert set(caches) == {"0.x", "1.x", "2.0.x", "2.1.x", "3.x"}
    assert all(value is None for value in caches.values()), caches


def test_a_sequential_empties_each_layer_before_the_next_one_runs(rng):
    """The memory no_grad saves: each layer's call drops its cache as soon as it returns."""
    first = Linear(3, 4)
    seen = []

    class Probe(Module):
        def forward(self, x):
            seen.append(first.x)
            return x

        def backward(self, grad_output):
            return grad_output

    with mini_torch.no_grad():
        Sequential(first, Probe())(_batch(rng, 2, 3))
    assert seen == [None], ("Sequential.forward must call each module, x = module(x), not "
                            "module.forward(x): Module.__call__ drops the caches under no_grad")


def test_a_module_list_model_under_no_grad_keeps_nothing_and_trains_after(rng):
    class TwoHeads(Module):
        def __init__(self) -> None:
            super().__init__()
            self.heads = ModuleList([Linear(3, 2), Linear(3, 2)])

        def forward(self, x):
            return self.heads[0](x) + self.heads[1](x)

        def backward(self, grad_output):
            return self.heads[0].backward(grad_output) + self.heads[1].backward(grad_output)

    model = TwoHeads()
    x, grad = _batch(rng, 4, 3), _batch(rng, 4, 2)
    with mini_torch.no_grad():
        model(x)
    assert model.heads[0].x is None and model.heads[1].x is None
    with pytest.raises(RuntimeError, match="no_grad"):
        model.backward(grad)
    model(x)
    model.backward(grad)
    np.testing.assert_allclose(model.heads[1].dW, x.T @ grad, rtol=1e-5, atol=1e-6)


# -------------------------------------------------------- one backward per forward, composites

def test_a_sequential_called_twice_refuses_the_second_backward(rng):
    """A GAN discriminator on the real batch, then on the fake one, then two backwards."""
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 1))
    model(_batch(rng, 4, 3))
    model(_batch(rng, 4, 3))
    model.backward(np.ones((4, 1), np.float32))
    with pytest.raises(RuntimeError, match="right after its own forward"):
        model.backward(np.ones((4, 1), np.float32))


def test_each_call_then_its_backward_stays_allowed_in_a_sequential(rng):
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 1))
    for _ in range(3):
        model(_batch(rng, 4, 3))
        model.backward(np.ones((4, 1), np.float32))
    assert all(grad is not None for grad in model.grads())
