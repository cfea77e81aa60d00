"""The ``Optimizer`` base class: abstract, holds the modules and the learning rate, zeroes grads.

Every optimizer shares this part: it keeps the modules (a list; one module is wrapped), reads
their ``parameters()`` / ``grads()`` at each step, and ``zero_grad()`` clears the gradients of
every module that knows how to.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch.nn import CrossEntropyLoss, Linear, ReLU, Sequential
from mini_torch.optim import SGD, Adam, AdamW, Optimizer


class DoNothing(Optimizer):
    """The smallest concrete optimizer: a step that leaves the parameters alone."""

    def step(self) -> None:
        pass


class GradientsOnly:
    """Parameters and gradients, but no ``zero_grad``: the optimizer must cope with it."""

    def __init__(self) -> None:
        self.param = np.ones((2, 2))
        self.grad = np.full((2, 2), 3.0)

    def parameters(self) -> list[np.ndarray]:
        return [self.param]

    def grads(self) -> list[np.ndarray]:
        return [self.grad]


class CountsZeroGrad(GradientsOnly):
    """Records how often ``zero_grad`` was called."""

    def __init__(self) -> None:
        super().__init__()
        self.zero_grad_calls = 0

    def zero_grad(self) -> None:
        self.zero_grad_calls += 1
        self.grad.fill(0.0)


def backward_once(model, rng: np.random.Generator) -> None:
    """Forward a random batch through ``model`` and backpropagate a cross-entropy loss."""
    criterion = CrossEntropyLoss()
    criterion(model(rng.standard_normal((6, 3)).astype(np.float32)), np.arange(6) % 2)
    model.backward(criterion.backward())


# --------------------------------------------------------------------- abstract base class


def test_optimizer_itself_cannot_be_instantiated():
    with pytest.raises(TypeError):
        Optimizer(modules=[])


def test_subclass_without_step_cannot_be_instantiated():
    class NoStep(Optimizer):
        pass

    with pytest.raises(TypeError):
        NoStep([Linear(2, 2)])


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
def test_every_optimizer_is_an_optimizer(optimizer_class):
    assert issubclass(optimizer_class, Optimizer)


# --------------------------------------------------------------------- what it stores


def test_modules_are_stored_as_a_list_of_the_same_objects():
    first, second = Linear(2, 3), Linear(3, 1)
    optimizer = DoNothing((first, second))
    assert isinstance(optimizer.modules, list)
    assert len(optimizer.modules) == 2
    assert optimizer.modules[0] is first and optimizer.modules[1] is second


@pytest.mark.parametrize("lr", [0.123, 1, np.float32(0.5)], ids=["float", "int", "float32"])
def test_lr_is_stored_exactly_as_given(lr):
    """No conversion: the very object passed in (PyTorch keeps it as given too)."""
    assert DoNothing([Linear(2, 2)], lr=lr).lr is lr


def test_lr_defaults_to_0_01():
    assert DoNothing([Linear(2, 2)]).lr == 0.01


def test_a_single_module_is_wrapped_in_a_list():
    layer = Linear(2, 2)
    optimizer = DoNothing(layer)
    assert isinstance(optimizer.modules, list)
    assert len(optimizer.modules) == 1 and optimizer.modules[0] is layer


def test_a_single_sequential_is_wrapped_not_unpacked():
    """A Sequential can be iterated, but it is one module: the list holds the model itself."""
    model = Sequential(Linear(2, 4), ReLU(), Linear(4, 2))
    optimizer = DoNothing(model)
    assert len(optimizer.modules) == 1 and optimizer.modules[0] is model


def test_parameter_arrays_instead_of_modules_raise_type_error():
    """PyTorch's habit SGD(model.parameters()) does not work here: the message says so."""
    model = Sequential(Linear(2, 4), ReLU(), Linear(4, 2))
    with pytest.raises(TypeError, match="module"):
        SGD(model.parameters(), lr=0.1)


def test_repr_names_the_optimizer_and_its_hyper_parameters():
    text = repr(SGD(Linear(2, 2), lr=0.5, momentum=0.25))
    assert text.startswith("SGD(")
    assert "lr=0.5" in text and "momentum=0.25" in text


# --------------------------------------------------------------------- zero_grad


def test_zero_grad_zeroes_every_gradient_of_every_module_in_place(rng):
    first, second = Linear(3, 4), Linear(4, 2)
    model = Sequential(first, ReLU(), second)
    backward_once(model, rng)
    grads_before = [first.dW, first.db, second.dW, second.db]
    assert all(np.any(grad != 0) for grad in grads_before)
    DoNothing([first, second]).zero_grad()
    for before, after in zip(grads_before, [first.dW, first.db, second.dW, second.db]):
        assert after is before
        np.testing.assert_array_equal(after, 0.0)


def test_zero_grad_calls_zero_grad_once_on_each_module():
    modules = [CountsZeroGrad(), CountsZeroGrad(), CountsZeroGrad()]
    DoNothing(modules).zero_grad()
    assert [module.zero_grad_calls for module in modules] == [1, 1, 1]


def test_zero_grad_skips_objects_without_zero_grad():
    no_zero_grad, layer_like = GradientsOnly(), CountsZeroGrad()
    DoNothing([no_zero_grad, layer_like]).zero_grad()  # no AttributeError
    np.testing.assert_array_equal(no_zero_grad.grad, 3.0)
    assert layer_like.zero_grad_calls == 1


def test_zero_grad_before_any_backward_keeps_the_gradients_none():
    layer = Linear(2, 3)
    DoNothing(layer).zero_grad()
    assert layer.dW is None and layer.db is None


class ZeroGradOnly:
    """What the seed course's optimizer test passes: an object with only ``zero_grad``."""

    def __init__(self) -> None:
        self.zero_grad_calls = 0

    def zero_grad(self) -> None:
        self.zero_grad_calls += 1


def test_objects_with_only_zero_grad_are_accepted_at_construction():
    modules = [ZeroGradOnly(), ZeroGradOnly()]
    optimizer = DoNothing(modules)
    optimizer.zero_grad()
    assert [module.zero_grad_calls for module in modules] == [1, 1]


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
def test_step_on_an_object_without_parameters_is_a_clear_type_error(optimizer_class):
    optimizer = optimizer_class([ZeroGradOnly()])
    with pytest.raises(TypeError, match=r"parameters\(\) / grads\(\)"):
        optimizer.step()


@pytest.mark.parametrize("optimizer_class", [SGD, Adam, AdamW])
@pytest.mark.parametrize("modules", [[], [ReLU()], [Sequential(ReLU(), ReLU())]],
                         ids=["empty list", "a ReLU", "a Sequential of ReLUs"])
def test_a_model_with_no_parameters_is_refused_as_in_pytorch(optimizer_class, modules):
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optimizer_class(modules)


# --------------------------------------------------------------------- reading the modules


def test_optimizer_built_before_the_first_backward_sees_the_new_gradients(rng):
    """Linear's dW / db only exist after a backward; step() must read them then, not earlier."""
    layer = Linear(3, 2)
    optimizer = SGD(layer, lr=0.1)
    W0 = layer.W.copy()
    backward_once(layer, rng)
    optimizer.step()
    np.testing.assert_allclose(layer.W, W0 - 0.1 * layer.dW, rtol=1e-6)


def test_a_parameter_shared_by_two_modules_is_updated_once_per_step(rng):
    """The same layer twice in a Sequential lists W twice; the update must not apply twice.

    The gradient comes from one forward and backward of the layer itself: a backward through
    both uses of one module would differentiate its second forward twice, which Module refuses
    (docs/stage2.md#the-module-tree)."""
    shared = Linear(3, 3)
    model = Sequential(shared, ReLU(), shared)
    shared(rng.standard_normal((6, 3)).astype(np.float32))
    shared.backward(rng.standard_normal((6, 3)).astype(np.float32))
    W0, dW = shared.W.copy(), shared.dW.copy()
    SGD(model, lr=0.1).step()
    np.testing.assert_allclose(shared.W, W0 - 0.1 * dW, rtol=1e-6)
