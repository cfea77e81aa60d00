"""``Sequential``: a chain of modules that is itself a module (the Composite pattern).

Forward runs the modules in order, backward in reverse; ``parameters()`` / ``grads()`` are those
of the modules, flattened in order and aligned; nested containers behave like their flattened
chain; ``len``, indexing, iteration and ``append`` work as on a list; ``repr`` lists the layers
with their sizes, PyTorch-style.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from mini_torch.nn import GELU, LeakyReLU, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from mini_torch.testing import gradcheck


class Affine(Module):
    """``y = scale * x + shift``; logs ``"<name>.forward"`` / ``"<name>.backward"``."""

    def __init__(self, name: str, log: list[str], scale: float = 2.0, shift: float = 1.0) -> None:
        super().__init__()
        self.name, self.log, self.scale, self.shift = name, log, scale, shift

    def forward(self, x):
        self.log.append(f"{self.name}.forward")
        return self.scale * x + self.shift

    def backward(self, grad_output):
        self.log.append(f"{self.name}.backward")
        return self.scale * grad_output


def _mlp() -> tuple[Sequential, Linear, Linear]:
    first, second = Linear(2, 8), Linear(8, 3)
    return Sequential([first, ReLU(), second]), first, second


# --------------------------------------------------------------------------------- construction

def test_sequential_list_form_keeps_the_modules_in_order():
    modules = [Linear(2, 8), ReLU(), Linear(8, 3)]
    model = Sequential(modules)
    assert len(model.modules) == 3
    assert all(a is b for a, b in zip(model.modules, modules))


def test_sequential_argument_form_keeps_the_modules_in_order():
    modules = [Linear(2, 8), ReLU(), Linear(8, 3)]
    model = Sequential(*modules)
    assert len(model.modules) == 3
    assert all(a is b for a, b in zip(model.modules, modules))


def test_sequential_accepts_a_tuple():
    modules = (Linear(2, 8), ReLU())
    assert Sequential(modules).modules == list(modules)


def test_sequential_with_a_single_module_argument():
    layer = Linear(2, 3)
    assert Sequential(layer).modules == [layer]


def test_sequential_modules_is_a_list():
    assert isinstance(Sequential(Linear(2, 3), ReLU()).modules, list)


def test_sequential_does_not_share_the_callers_list():
    """Appending to the model does not change the list it was built from."""
    modules = [Linear(2, 3)]
    model = Sequential(modules)
    model.append(ReLU())
    assert len(modules) == 1


def test_sequential_is_a_module():
    assert isinstance(Sequential(ReLU()), Module)


# ---------------------------------------------------------------------------- forward / backward

def test_sequential_forward_runs_the_modules_in_order():
    log: list[str] = []
    model = Sequential(Affine("a", log), Affine("b", log), Affine("c", log))
    model.forward(np.zeros((1, 1)))
    assert log == ["a.forward", "b.forward", "c.forward"]


def test_sequential_backward_runs_the_modules_in_reverse_order():
    log: list[str] = []
    model = Sequential(Affine("a", log), Affine("b", log), Affine("c", log))
    model.forward(np.zeros((1, 1)))
    log.clear()
    model.backward(np.ones((1, 1)))
    assert log == ["c.backward", "b.backward", "a.backward"]


def test_sequential_forward_feeds_each_output_to_the_next_module():
    """Order matters for affine maps: (x * 2 + 1) * 3 + 0 at x = 1 is 9, the other order 5."""
    log: list[str] = []
    model = Sequential(Affine("a", log, scale=2.0, shift=1.0), Affine("b", log, 3.0, 0.0))
    np.testing.assert_array_equal(model.forward(np.array([[1.0]])), [[9.0]])


def test_sequential_forward_equals_the_layers_applied_by_hand(rng):
    model, first, second = _mlp()
    x = rng.standard_normal((5, 2)).astype(np.float32)
    hidden = np.maximum(x @ first.W + first.b, 0.0)
    np.testing.assert_allclose(model.forward(x), hidden @ second.W + second.b,
                               rtol=1e-5, atol=1e-6)


def test_sequential_call_equals_forward(rng):
    model, _, _ = _mlp()
    x = rng.standard_normal((5, 2)).astype(np.float32)
    np.testing.assert_array_equal(model(x), model.forward(x))


def test_sequential_backward_equals_the_chain_rule_by_hand(rng):
    """For x -> h = x W1 + b1 -> r = relu(h) -> y = r W2 + b2 and g = dL/dy:
    dL/dW2 = r^T g, dL/dr = g W2^T, dL/dh = dL/dr * 1[h > 0], dL/dW1 = x^T dL/dh,
    dL/dx = dL/dh W1^T."""
    model, first, second = _mlp()
    x = rng.standard_normal((5, 2)).astype(np.float32)
    g = rng.standard_normal((5, 3)).astype(np.float32)
    model.forward(x)
    grad_x = model.backward(g)

    h = x @ first.W + first.b
    r = np.maximum(h, 0.0)
    grad_h = (g @ second.W.T) * (h > 0)
    np.testing.assert_allclose(second.dW, r.T @ g, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(second.db, g.sum(0, keepdims=True), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(first.dW, x.T @ grad_h, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(first.db, grad_h.sum(0, keepdims=True), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_x, grad_h @ first.W.T, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", [Tanh, Sigmoid, GELU, LeakyReLU],
                         ids=["Tanh", "Sigmoid", "GELU", "LeakyReLU"])
def test_sequential_gradcheck_passes(activation, rng, float64):
    model = Sequential(Linear(3, 5), activation(), Linear(5, 4), activation(), Linear(4, 2))
    assert gradcheck(model, rng.standard_normal((6, 3)))


def test_sequential_with_relu_gradcheck_passes(rng, float64):
    """With these seeds no hidden pre-activation lies within eps of ReLU's kink."""
    model = Sequential(Linear(3, 6), ReLU(), Linear(6, 2))
    x = rng.standard_normal((5, 3))
    hidden = x @ model[0].W + model[0].b
    assert np.abs(hidden).min() > 1e-3
    assert gradcheck(model, x)


# --------------------------------------------------------------------- parameters and gradients

def test_sequential_parameters_are_the_layers_parameters_flattened_in_order():
    model, first, second = _mlp()
    params = model.parameters()
    expected = [first.W, first.b, second.W, second.b]
    assert len(params) == len(expected)
    assert all(p is e for p, e in zip(params, expected))


def test_sequential_grads_are_none_before_the_first_backward():
    model, _, _ = _mlp()
    assert model.grads() == [None, None, None, None]


def test_sequential_grads_are_the_layers_grads_flattened_in_order(rng):
    model, first, second = _mlp()
    model.forward(rng.standard_normal((4, 2)).astype(np.float32))
    model.backward(rng.standard_normal((4, 3)).astype(np.float32))
    grads = model.grads()
    expected = [first.dW, first.db, second.dW, second.db]
    assert len(grads) == len(expected)
    assert all(g is e for g, e in zip(grads, expected))


def test_sequential_each_grad_is_shaped_like_its_parameter(rng):
    model, _, _ = _mlp()
    model.forward(rng.standard_normal((4, 2)).astype(np.float32))
    model.backward(rng.standard_normal((4, 3)).astype(np.float32))
    assert len(model.parameters()) == len(model.grads())
    for param, grad in zip(model.parameters(), model.grads()):
        assert grad.shape == param.shape
        assert grad.dtype == param.dtype


def test_sequential_of_activations_has_no_parameters():
    model = Sequential(ReLU(), Tanh())
    assert model.parameters() == []
    assert model.grads() == []


def test_sequential_zero_grad_zeros_every_layer_in_place(rng):
    model, _, _ = _mlp()
    model.forward(rng.standard_normal((4, 2)).astype(np.float32))
    model.backward(rng.standard_normal((4, 3)).astype(np.float32))
    before = model.grads()
    model.zero_grad()
    after = model.grads()
    assert all(a is b for a, b in zip(after, before))
    for grad in after:
        np.testing.assert_array_equal(grad, np.zeros_like(grad))


def test_sequential_update_through_parameters_changes_the_layers(rng):
    model, _, second = _mlp()
    model.forward(rng.standard_normal((4, 2)).astype(np.float32))
    model.backward(rng.standard_normal((4, 3)).astype(np.float32))
    expected_W2 = second.W - 0.1 * second.dW
    for p, g in zip(model.parameters(), model.grads()):
        p -= 0.1 * g
    np.testing.assert_allclose(second.W, expected_W2, rtol=1e-6)


# ------------------------------------------------------------------------------------- nesting

def _nested_and_flat(rng) -> tuple[Sequential, Sequential]:
    """The same network as a nested and as a flat Sequential, sharing the very same layers."""
    layers = [Linear(2, 4), Tanh(), Linear(4, 4), ReLU(), Linear(4, 3)]
    nested = Sequential(layers[0], Sequential(layers[1], layers[2], layers[3]), layers[4])
    return nested, Sequential(layers)


def test_nested_sequential_forward_equals_the_flat_chain(rng):
    nested, flat = _nested_and_flat(rng)
    x = rng.standard_normal((5, 2)).astype(np.float32)
    np.testing.assert_array_equal(nested(x), flat(x))


def test_nested_sequential_backward_equals_the_flat_chain(rng):
    nested, flat = _nested_and_flat(rng)
    x = rng.standard_normal((5, 2)).astype(np.float32)
    g = rng.standard_normal((5, 3)).astype(np.float32)
    flat.forward(x)
    expected = flat.backward(g)
    expected_grads = [grad.copy() for grad in flat.grads()]
    flat.zero_grad()
    nested.forward(x)
    np.testing.assert_array_equal(nested.backward(g), expected)
    for grad, want in zip(nested.grads(), expected_grads):
        np.testing.assert_array_equal(grad, want)


def test_nested_sequential_parameters_are_flattened_in_order(rng):
    nested, flat = _nested_and_flat(rng)
    assert len(nested.parameters()) == 6
    assert all(a is b for a, b in zip(nested.parameters(), flat.parameters()))


def test_nested_sequential_gradcheck_passes(rng, float64):
    model = Sequential(Linear(2, 4), Sequential(Tanh(), Linear(4, 3), GELU()), Linear(3, 2))
    assert gradcheck(model, rng.standard_normal((4, 2)))


# ---------------------------------------------------------------------------- the list protocol

def test_sequential_len_counts_the_modules():
    assert len(Sequential(Linear(2, 8), ReLU(), Linear(8, 3))) == 3


def test_sequential_indexing_returns_the_module():
    model, first, second = _mlp()
    assert model[0] is first
    assert isinstance(model[1], ReLU)
    assert model[2] is second
    assert model[-1] is second


def test_sequential_index_out_of_range_raises_index_error():
    with pytest.raises(IndexError):
        Sequential(ReLU())[1]


def test_sequential_slice_is_a_sequential_of_those_modules():
    model, first, _ = _mlp()
    head = model[:2]
    assert isinstance(head, Sequential)
    assert len(head) == 2
    assert head[0] is first


def test_sequential_iteration_yields_the_modules_in_order():
    model, first, second = _mlp()
    items = list(model)
    assert len(items) == 3
    assert items[0] is first and items[2] is second


def test_sequential_children_are_its_modules():
    model, first, second = _mlp()
    children = model.children()
    assert len(children) == 3
    assert children[0] is first and children[2] is second


def test_sequential_append_adds_a_module_at_the_end(rng):
    model = Sequential(Linear(2, 3))
    extra = Tanh()
    model.append(extra)
    assert len(model) == 2
    assert model[-1] is extra


def test_sequential_appended_module_takes_part_in_forward(rng):
    model = Sequential(Linear(2, 3))
    x = rng.standard_normal((4, 2)).astype(np.float32)
    before = model(x)
    model.append(Tanh())
    np.testing.assert_allclose(model(x), np.tanh(before), rtol=1e-6)


def test_sequential_appended_layer_parameters_join_the_list():
    model = Sequential(Linear(2, 3))
    extra = Linear(3, 1)
    model.append(extra)
    assert len(model.parameters()) == 4
    assert model.parameters()[2] is extra.W


# ------------------------------------------------------------------------------------------ repr

def test_sequential_repr_lists_each_layer_with_its_index_and_sizes():
    lines = repr(Sequential(Linear(2, 8), ReLU(), Linear(8, 3))).splitlines()
    assert lines[0] == "Sequential("
    assert lines[-1] == ")"
    assert len(lines) == 5
    assert re.fullmatch(r"\s+\(0\): Linear\(\D*2\D+8\D*\)", lines[1])
    assert re.fullmatch(r"\s+\(1\): ReLU\(\)", lines[2])
    assert re.fullmatch(r"\s+\(2\): Linear\(\D*8\D+3\D*\)", lines[3])


def test_nested_sequential_repr_indents_the_inner_layers():
    lines = repr(Sequential(Linear(2, 4), Sequential(Tanh(), Linear(4, 3)))).splitlines()
    assert re.fullmatch(r"(\s+)\(1\): Sequential\(", lines[2])
    outer_indent = len(lines[2]) - len(lines[2].lstrip())
    inner = next(line for line in lines if "Tanh()" in line)
    assert len(inner) - len(inner.lstrip()) > outer_indent
    assert "(0): Tanh()" in inner
