"""float32 parameters stay float32 through every optimizer, and so does the optimizer's state.

numpy 2 promotes ``float32_array * np.float64(...)`` to float64, so one careless scalar (a
``np.sqrt`` of a Python float, a hyper-parameter handed in as a numpy scalar) would turn a
float32 model into float64 after its first step, or keep float64 moments beside it.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch.nn import CrossEntropyLoss, Linear, Module, ReLU, Sequential
from mini_torch.optim import SGD, Adam, AdamW

OPTIMIZERS = [
    pytest.param(SGD, {"lr": 0.1}, id="sgd"),
    pytest.param(SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
                 id="sgd-momentum-dampening-weight_decay"),
    pytest.param(SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
                 id="sgd-nesterov-weight_decay"),
    pytest.param(Adam, {"lr": 0.01}, id="adam"),
    pytest.param(Adam, {"lr": 0.01, "weight_decay": 0.01, "amsgrad": True},
                 id="adam-amsgrad-weight_decay"),
    pytest.param(AdamW, {"lr": 0.01}, id="adamw"),
    pytest.param(AdamW, {"lr": 0.01, "amsgrad": True}, id="adamw-amsgrad"),
]

# The same hyper-parameters handed in as numpy float64 scalars.
NUMPY_SCALARS = [
    pytest.param(SGD, {"lr": np.float64(0.1), "momentum": np.float64(0.9),
                       "weight_decay": np.float64(0.01)}, id="sgd"),
    pytest.param(Adam, {"lr": np.float64(0.01), "betas": (np.float64(0.9), np.float64(0.99)),
                        "eps": np.float64(1e-8), "weight_decay": np.float64(0.01)}, id="adam"),
    pytest.param(AdamW, {"lr": np.float64(0.01), "weight_decay": np.float64(0.1)}, id="adamw"),
]


def arrays_reachable_from(obj, seen: set[int] | None = None) -> list[np.ndarray]:
    """Every numpy array held by ``obj``, through dicts, lists, tuples and plain objects.

    Modules are not entered: their parameters are checked on their own.
    """
    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, Module):
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [obj]
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple, set)):
        children = list(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        children = list(vars(obj).values())
    else:
        return []
    return [array for child in children for array in arrays_reachable_from(child, seen)]


def train_a_few_steps(model: Module, optimizer, rng: np.random.Generator, steps: int = 3):
    criterion = CrossEntropyLoss()
    dtype = model.parameters()[0].dtype
    for _ in range(steps):
        X = rng.standard_normal((8, 2)).astype(dtype)
        y = rng.integers(0, 3, size=8)
        criterion(model(X), y)
        optimizer.zero_grad()
        model.backward(criterion.backward())
        optimizer.step()


def float32_model() -> Sequential:
    model = Sequential(Linear(2, 8), ReLU(), Linear(8, 3))
    assert all(p.dtype == np.float32 for p in model.parameters())
    return model


@pytest.mark.parametrize(("optimizer_class", "hyper"), OPTIMIZERS)
def test_float32_parameters_stay_float32(optimizer_class, hyper, rng):
    model = float32_model()
    before = [p.copy() for p in model.parameters()]
    train_a_few_steps(model, optimizer_class(model, **hyper), rng)
    assert [p.dtype for p in model.parameters()] == [np.dtype(np.float32)] * 4
    assert any(not np.array_equal(p, q) for p, q in zip(model.parameters(), before))
    assert all(np.all(np.isfinite(p)) for p in model.parameters())


@pytest.mark.parametrize(("optimizer_class", "hyper"), OPTIMIZERS)
def test_optimizer_state_is_float32_for_float32_parameters(optimizer_class, hyper, rng):
    model = float32_model()
    optimizer = optimizer_class(model, **hyper)
    train_a_few_steps(model, optimizer, rng)
    state = [array for array in arrays_reachable_from(optimizer)
             if np.issubdtype(array.dtype, np.floating)]
    if optimizer_class is not SGD or hyper.get("momentum", 0) != 0:
        assert state, "found no state arrays (momentum buffers or moments) in the optimizer"
    assert [array.dtype for array in state] == [np.dtype(np.float32)] * len(state)


@pytest.mark.parametrize(("optimizer_class", "hyper"), NUMPY_SCALARS)
def test_numpy_float64_hyper_parameters_keep_float32_parameters(optimizer_class, hyper, rng):
    model = float32_model()
    optimizer = optimizer_class(model, **hyper)
    train_a_few_steps(model, optimizer, rng)
    assert [p.dtype for p in model.parameters()] == [np.dtype(np.float32)] * 4
    state = [array for array in arrays_reachable_from(optimizer)
             if np.issubdtype(array.dtype, np.floating)]
    assert [array.dtype for array in state] == [np.dtype(np.float32)] * len(state)


@pytest.mark.parametrize(("optimizer_class", "hyper"), OPTIMIZERS)
def test_float64_parameters_stay_float64(optimizer_class, hyper, rng, float64):
    model = Sequential(Linear(2, 8), ReLU(), Linear(8, 3))
    train_a_few_steps(model, optimizer_class(model, **hyper), rng)
    assert [p.dtype for p in model.parameters()] == [np.dtype(np.float64)] * 4
