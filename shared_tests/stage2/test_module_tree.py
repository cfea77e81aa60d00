"""The module tree as in PyTorch: ``children``, ``modules``, ``named_modules``, ``apply``,
``ModuleList``, buffers, ``__call__`` with any arguments and ``zero_grad(set_to_none=...)``.

See docs/stage2.md#the-module-tree and docs/architecture.md (the module tree rules).
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch import init
from mini_torch.nn import Linear, Module, ModuleList, ReLU, Sequential


class Heads(Module):
    """Karpathy-style: a ModuleList of bias-free heads whose outputs are concatenated."""

    def __init__(self) -> None:
        super().__init__()
        self.heads = ModuleList([Linear(4, 2, bias=False) for _ in range(3)])
        self.proj = Linear(6, 4)
        self.register_buffer("steps", np.zeros(1, np.float32))

    def forward(self, x, scale=1.0):
        return scale * self.proj(np.concatenate([h(x) for h in self.heads], axis=-1))

    def backward(self, grad_output):
        grad = self.proj.backward(grad_output)
        return sum(h.backward(g) for h, g in zip(self.heads, np.split(grad, 3, axis=-1)))


def test_children_are_the_direct_submodules_in_order():
    model = Heads()
    assert model.children() == [model.heads, model.proj]
    assert [name for name, _ in model.named_children()] == ["heads", "proj"]


def test_named_modules_walks_the_tree_depth_first_with_dotted_names():
    model = Heads()
    names = [name for name, _ in model.named_modules()]
    assert names == ["", "heads", "heads.0", "heads.1", "heads.2", "proj"]
    assert model.modules()[0] is model and model.modules()[-1] is model.proj


def test_a_shared_module_is_listed_once():
    shared = Linear(2, 2)
    model = Sequential(shared, ReLU(), shared)
    assert sum(m is shared for _, m in model.named_modules()) == 1
    assert sum(m is shared for m in Module.modules(model)) == 1  # Sequential.modules is a list


def test_apply_visits_every_module_and_returns_self():
    model = Heads()
    seen = []
    assert model.apply(seen.append) is model
    assert len(seen) == 6 and seen[-1] is model


def test_apply_with_init_normal_reinitialises_every_linear():
    model = Heads()

    def init_weights(module):
        if isinstance(module, Linear):
            init.normal_(module.W, std=0.02)
            if module.b is not None:
                init.zeros_(module.b)

    model.apply(init_weights)
    weights = np.concatenate([m.W.ravel() for m in model.modules() if isinstance(m, Linear)])
    assert weights.std() < 0.03  # He-normal for 4 or 6 inputs has std above 0.5


def test_module_list_registers_its_modules_and_indexes_like_a_list():
    heads = ModuleList([Linear(4, 2)])
    heads.append(Linear(4, 2)).extend([Linear(4, 2)])
    assert len(heads) == 3 and isinstance(heads[1], Linear)
    assert list(heads) == heads.children()
    assert len(heads[1:]) == 2
    model = Heads()
    assert [n for n, _ in model.named_parameters()][:3] == ["heads.0.W", "heads.1.W", "heads.2.W"]


def test_module_list_refuses_a_non_module():
    with pytest.raises(TypeError, match="ModuleList: item 0"):
        ModuleList([ReLU])


def test_module_list_has_no_forward():
    with pytest.raises(NotImplementedError, match="for block in"):
        ModuleList([ReLU()])(np.ones((1, 2)))


def test_a_model_with_a_module_list_trains_through_its_backward(rng, float64):
    from mini_torch.testing import gradcheck
    assert gradcheck(Heads(), rng.standard_normal((3, 5, 4)), name="Heads")


def test_call_forwards_every_argument():
    model = Heads()
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(model(x, scale=2.0), 2.0 * model(x), rtol=1e-6)


def test_a_buffer_is_in_the_state_dict_but_not_a_parameter():
    model = Heads()
    assert not any(p is model.steps for p in model.parameters())
    assert "steps" in model.state_dict()
    assert [name for name, _ in model.named_buffers()] == ["steps"]


def test_load_state_dict_copies_buffers_in_place():
    source, target = Heads(), Heads()
    source.steps[...] = 5.0
    buffer = target.steps
    target.load_state_dict(source.state_dict())
    assert target.steps is buffer and float(buffer[0]) == 5.0


def test_buffers_of_children_carry_the_childs_name():
    outer = Sequential(Heads())
    assert "0.steps" in outer.state_dict()


def test_register_buffer_refuses_a_list():
    with pytest.raises(TypeError, match="numpy array"):
        Heads().register_buffer("extra", [1.0, 2.0])


def test_zero_grad_set_to_none_clears_every_gradient(rng):
    model = Sequential(Linear(3, 4), ReLU(), Linear(4, 2))
    model(rng.standard_normal((5, 3)).astype(np.float32))
    model.backward(np.ones((5, 2), np.float32))
    assert all(g is not None for g in model.grads())
    model.zero_grad(set_to_none=True)
    assert model.grads() == [None] * 4
    model(rng.standard_normal((5, 3)).astype(np.float32))
    model.backward(np.ones((5, 2), np.float32))  # starts the gradients anew
    assert all(g is not None for g in model.grads())


def test_zero_grad_default_still_zeros_in_place(rng):
    layer = Linear(3, 2)
    layer(rng.standard_normal((4, 3)).astype(np.float32))
    layer.backward(np.ones((4, 2), np.float32))
    dW = layer.dW
    layer.zero_grad()
    assert layer.dW is dW and not dW.any()


def test_one_layer_used_twice_in_a_model_is_refused_at_its_second_backward(rng):
    """A module keeps one forward's input: reusing it inside one model would give the first
    use the second use's gradients, silently; the second backward through it says so."""
    shared = Linear(3, 3)
    model = Sequential(shared, ReLU(), shared)
    model(rng.standard_normal((2, 3)).astype(np.float32))
    with pytest.raises(RuntimeError, match="second backward after 2 forwards"):
        model.backward(np.ones((2, 3), np.float32))
