"""SGD, Adam and AdamW follow the update rules published in the PyTorch documentation.

Each rule is written out below as a plain numpy loop in float64 (``sgd_trajectory``,
``adam_trajectory``), independently of the package. A parameter is then driven by the optimizer
through a fixed sequence of random gradients, and after every step of the sequence it must sit
where the written-out rule puts it. The gradients reach the optimizer two ways: through a tiny
duck-typed module defined here (which rebinds its gradient every step) and through a real
``mini_torch.nn.Linear`` whose ``dW`` / ``db`` are set by hand (accumulated in place after
``zero_grad``, as a backward pass would).
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch.nn import Linear
from mini_torch.optim import SGD, Adam, AdamW

# Gradient sizes shrink over the steps, so Adam's second moment decays part of the way and
# amsgrad's running maximum makes a difference (test_gradient_sequence_makes_amsgrad_matter).
GRADIENT_SCALES = (4.0, 2.0, 1.0, 0.5, 0.25, 0.1, 0.05, 0.02)
STEPS = len(GRADIENT_SCALES)
# The optimizer and the reference do the same float64 arithmetic, up to the order of a few
# operations (p * (1 - lr wd) versus p - lr wd p): agreement to ~1e-15 is expected.
RTOL, ATOL = 1e-10, 1e-12


# --------------------------------------------------------------------- the published rules


def sgd_trajectory(p0, gradients, *, lr=0.01, momentum=0.0, dampening=0.0, weight_decay=0.0,
                   nesterov=False):
    """The parameter after each step of torch.optim.SGD's documented algorithm::

        g = g + weight_decay * p
        if momentum != 0:
            b = g                                         (first step)
            b = momentum * b + (1 - dampening) * g        (later steps)
            g = g + momentum * b  if nesterov  else  b
        p = p - lr * g
    """
    p = np.array(p0, dtype=np.float64)
    b = None
    path = []
    for g in gradients:
        g = g + weight_decay * p
        if momentum != 0:
            b = g if b is None else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        path.append(p)
    return path


def adam_trajectory(p0, gradients, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                    amsgrad=False, decoupled=False):
    """The parameter after each step of torch.optim.Adam (``decoupled=True``: AdamW)::

        AdamW: p = p - lr * weight_decay * p       Adam: g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        m_hat = m / (1 - beta1^t)
        v_hat = max(v_max, v) / (1 - beta2^t)  if amsgrad  else  v / (1 - beta2^t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)
    """
    beta1, beta2 = betas
    p = np.array(p0, dtype=np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    v_max = np.zeros_like(p)
    path = []
    for t, g in enumerate(gradients, start=1):
        if decoupled:
            p = p - lr * weight_decay * p
        else:
            g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_hat = v_max / (1 - beta2**t)
        else:
            v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(p)
    return path


def adamw_trajectory(p0, gradients, *, weight_decay=1e-2, **kwargs):
    """AdamW is Adam with decoupled decay and its own default weight_decay (1e-2)."""
    return adam_trajectory(p0, gradients, weight_decay=weight_decay, decoupled=True, **kwargs)


# --------------------------------------------------------------------- the cases


SGD_CASES = [
    pytest.param({}, id="defaults"),
    pytest.param({"lr": 0.1}, id="plain-lr0.1"),
    pytest.param({"lr": 0.05, "momentum": 0.9}, id="momentum"),
    pytest.param({"lr": 0.05, "momentum": 0.8, "dampening": 0.3}, id="momentum-dampening"),
    pytest.param({"lr": 0.05, "momentum": 0.9, "nesterov": True}, id="nesterov"),
    pytest.param({"lr": 0.1, "weight_decay": 0.1}, id="weight_decay"),
    pytest.param({"lr": 0.05, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.05},
                 id="momentum-dampening-weight_decay"),
    pytest.param({"lr": 0.05, "momentum": 0.7, "nesterov": True, "weight_decay": 0.05},
                 id="nesterov-weight_decay"),
]

ADAM_CASES = [
    pytest.param({}, id="defaults"),
    pytest.param({"lr": 0.01, "betas": (0.8, 0.99)}, id="betas"),
    pytest.param({"lr": 0.01, "betas": (0.0, 0.9)}, id="beta1-zero"),
    pytest.param({"lr": 0.01, "eps": 1e-2}, id="large-eps"),
    pytest.param({"lr": 0.01, "weight_decay": 0.1}, id="l2-weight_decay"),
    pytest.param({"lr": 0.01, "amsgrad": True}, id="amsgrad"),
    pytest.param({"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "betas": (0.5, 0.9)},
                 id="amsgrad-weight_decay-betas"),
]

ADAMW_CASES = [
    pytest.param({}, id="defaults"),
    pytest.param({"lr": 0.05, "weight_decay": 0.5}, id="strong-decay"),
    pytest.param({"lr": 0.01, "weight_decay": 0.0}, id="no-decay"),
    pytest.param({"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}, id="amsgrad"),
    pytest.param({"lr": 0.01, "weight_decay": 0.1, "betas": (0.7, 0.95), "eps": 1e-3},
                 id="betas-eps"),
]

# optimizer class, reference rule, cases: one row per rule family
RULES = {
    "sgd": (SGD, sgd_trajectory, SGD_CASES),
    "adam": (Adam, adam_trajectory, ADAM_CASES),
    "adamw": (AdamW, adamw_trajectory, ADAMW_CASES),
}

# The value that switches each option off (used by the guard test on the cases).
OPTION_OFF = {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
              "nesterov": False, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False}


ALL_CASES = [pytest.param(family, case.values[0], id=f"{family}-{case.id}")
             for family, (_, _, cases) in RULES.items() for case in cases]
# The cases that switch on at least one option besides the learning rate.
CASES_WITH_OPTIONS = [case for case in ALL_CASES
                      if any(name != "lr" and value != OPTION_OFF[name]
                             for name, value in case.values[1].items())]


# --------------------------------------------------------------------- helpers


class ParameterHolder:
    """The smallest object an optimizer takes: parameters, aligned gradients, zero_grad.

    ``gradients[i]`` is rebound by the test before each step, as a fresh array.
    """

    def __init__(self, *params: np.ndarray) -> None:
        self.params = list(params)
        self.gradients: list[np.ndarray | None] = [None] * len(params)

    def parameters(self) -> list[np.ndarray]:
        return list(self.params)

    def grads(self) -> list[np.ndarray | None]:
        return list(self.gradients)

    def zero_grad(self) -> None:
        for grad in self.gradients:
            if grad is not None:
                grad.fill(0.0)


def gradient_sequence(rng: np.random.Generator, shape: tuple[int, ...]) -> list[np.ndarray]:
    """A fixed float64 sequence of random gradients, one per step, shrinking in size."""
    return [scale * rng.standard_normal(shape) for scale in GRADIENT_SCALES]


def set_linear_grads(layer: Linear, grad_W: np.ndarray, grad_b: np.ndarray) -> None:
    """Hand the layer its gradients the way backward does: create, or add after zero_grad."""
    if layer.dW is None:
        layer.dW, layer.db = grad_W.copy(), grad_b.copy()
    else:
        layer.dW += grad_W
        layer.db += grad_b


# --------------------------------------------------------------------- the trajectories


@pytest.mark.parametrize("hyper", SGD_CASES)
def test_sgd_follows_the_published_rule_on_a_duck_typed_module(hyper, rng):
    p0 = rng.standard_normal((3, 4))
    gradients = gradient_sequence(rng, (3, 4))
    holder = ParameterHolder(p0.copy())
    optimizer = SGD(holder, **hyper)
    expected = sgd_trajectory(p0, gradients, **hyper)
    for step, grad in enumerate(gradients):
        holder.gradients[0] = grad.copy()
        optimizer.step()
        np.testing.assert_allclose(holder.params[0], expected[step], rtol=RTOL, atol=ATOL,
                                   err_msg=f"SGD({hyper}) after step {step + 1}")


@pytest.mark.parametrize("hyper", ADAM_CASES)
def test_adam_follows_the_published_rule_on_a_duck_typed_module(hyper, rng):
    p0 = rng.standard_normal((3, 4))
    gradients = gradient_sequence(rng, (3, 4))
    holder = ParameterHolder(p0.copy())
    optimizer = Adam(holder, **hyper)
    expected = adam_trajectory(p0, gradients, **hyper)
    for step, grad in enumerate(gradients):
        holder.gradients[0] = grad.copy()
        optimizer.step()
        np.testing.assert_allclose(holder.params[0], expected[step], rtol=RTOL, atol=ATOL,
                                   err_msg=f"Adam({hyper}) after step {step + 1}")


@pytest.mark.parametrize("hyper", ADAMW_CASES)
def test_adamw_follows_the_published_rule_on_a_duck_typed_module(hyper, rng):
    p0 = rng.standard_normal((3, 4))
    gradients = gradient_sequence(rng, (3, 4))
    holder = ParameterHolder(p0.copy())
    optimizer = AdamW(holder, **hyper)
    expected = adamw_trajectory(p0, gradients, **hyper)
    for step, grad in enumerate(gradients):
        holder.gradients[0] = grad.copy()
        optimizer.step()
        np.testing.assert_allclose(holder.params[0], expected[step], rtol=RTOL, atol=ATOL,
                                   err_msg=f"AdamW({hyper}) after step {step + 1}")


@pytest.mark.parametrize(("family", "hyper"), ALL_CASES)
def test_optimizer_follows_the_published_rule_on_a_linear_layer(family, hyper, rng, float64):
    """The same rules on W (3, 2) and b (1, 2) of a float64 Linear, fed through dW / db."""
    optimizer_class, trajectory, _ = RULES[family]
    layer = Linear(3, 2)
    W0, b0 = layer.W.copy(), layer.b.copy()
    grads_W = gradient_sequence(rng, W0.shape)
    grads_b = gradient_sequence(rng, b0.shape)
    optimizer = optimizer_class([layer], **hyper)
    for grad_W, grad_b in zip(grads_W, grads_b):
        optimizer.zero_grad()
        set_linear_grads(layer, grad_W, grad_b)
        optimizer.step()
    np.testing.assert_allclose(layer.W, trajectory(W0, grads_W, **hyper)[-1],
                               rtol=RTOL, atol=ATOL, err_msg=f"{family} {hyper}: W")
    np.testing.assert_allclose(layer.b, trajectory(b0, grads_b, **hyper)[-1],
                               rtol=RTOL, atol=ATOL, err_msg=f"{family} {hyper}: b")


@pytest.mark.parametrize(("family", "hyper"), CASES_WITH_OPTIONS)
def test_every_option_of_a_case_changes_the_reference_trajectory(family, hyper, rng):
    """Guard: each option a case sets moves the parameter, so ignoring it would fail the test."""
    _, trajectory, _ = RULES[family]
    p0 = rng.standard_normal((3, 4))
    gradients = gradient_sequence(rng, (3, 4))
    final = trajectory(p0, gradients, **hyper)[-1]
    for name in hyper:
        if name == "lr" or hyper[name] == OPTION_OFF[name]:
            continue
        switched_off = dict(hyper, **{name: OPTION_OFF[name]})
        if name == "momentum":
            switched_off["nesterov"] = False
        other = trajectory(p0, gradients, **switched_off)[-1]
        assert not np.allclose(final, other, rtol=100 * RTOL, atol=100 * ATOL), (
            f"{family} {hyper}: option {name} does not change the trajectory")


def test_gradient_sequence_makes_amsgrad_matter(rng):
    """The shrinking gradients lower Adam's second moment, so v_max differs from v."""
    p0 = rng.standard_normal((3, 4))
    gradients = gradient_sequence(rng, (3, 4))
    with_max = adam_trajectory(p0, gradients, amsgrad=True)[-1]
    without = adam_trajectory(p0, gradients, amsgrad=False)[-1]
    assert not np.allclose(with_max, without, rtol=100 * RTOL, atol=100 * ATOL)


def test_adamw_without_weight_decay_is_adam(rng):
    p0 = rng.standard_normal((3, 4))
    gradients = gradient_sequence(rng, (3, 4))
    adam_holder, adamw_holder = ParameterHolder(p0.copy()), ParameterHolder(p0.copy())
    adam = Adam(adam_holder, lr=0.01)
    adamw = AdamW(adamw_holder, lr=0.01, weight_decay=0.0)
    for grad in gradients:
        adam_holder.gradients[0] = grad.copy()
        adamw_holder.gradients[0] = grad.copy()
        adam.step()
        adamw.step()
    np.testing.assert_allclose(adamw_holder.params[0], adam_holder.params[0],
                               rtol=RTOL, atol=ATOL)


def test_adamw_is_adam_with_the_decoupled_weight_decay_flag_set(rng):
    """One algorithm, one branch: an Adam whose flag is set follows AdamW's rule exactly."""
    p0 = rng.standard_normal((3, 4))
    gradients = gradient_sequence(rng, (3, 4))
    holder = ParameterHolder(p0.copy())
    optimizer = Adam(holder, lr=0.05, weight_decay=0.5)
    optimizer.decoupled_weight_decay = True
    for grad in gradients:
        holder.gradients[0] = grad.copy()
        optimizer.step()
    expected = adamw_trajectory(p0, gradients, lr=0.05, weight_decay=0.5)[-1]
    np.testing.assert_allclose(holder.params[0], expected, rtol=RTOL, atol=ATOL)
    assert issubclass(AdamW, Adam)
    assert AdamW.decoupled_weight_decay and not Adam.decoupled_weight_decay


# --------------------------------------------------------------------- state per parameter


STATEFUL = [
    pytest.param(SGD, sgd_trajectory, {"lr": 0.05, "momentum": 0.9}, id="sgd-momentum"),
    pytest.param(SGD, sgd_trajectory, {"lr": 0.05, "momentum": 0.9, "nesterov": True},
                 id="sgd-nesterov"),
    pytest.param(Adam, adam_trajectory, {"lr": 0.01}, id="adam"),
    pytest.param(Adam, adam_trajectory, {"lr": 0.01, "amsgrad": True}, id="adam-amsgrad"),
    pytest.param(AdamW, adamw_trajectory, {"lr": 0.01, "weight_decay": 0.1}, id="adamw"),
]


@pytest.mark.parametrize(("optimizer_class", "trajectory", "hyper"), STATEFUL)
def test_state_is_kept_per_parameter_for_equal_shapes_in_different_modules(
        optimizer_class, trajectory, hyper, rng, float64):
    """Two Linear(3, 3) layers: four parameters, two pairs of equal shape, each its own state."""
    layers = [Linear(3, 3), Linear(3, 3)]
    starts = [(layer.W.copy(), layer.b.copy()) for layer in layers]
    gradients = [(gradient_sequence(rng, (3, 3)), gradient_sequence(rng, (1, 3)))
                 for _ in layers]
    optimizer = optimizer_class(layers, **hyper)
    for step in range(STEPS):
        optimizer.zero_grad()
        for layer, (grads_W, grads_b) in zip(layers, gradients):
            set_linear_grads(layer, grads_W[step], grads_b[step])
        optimizer.step()
    for index, (layer, (W0, b0), (grads_W, grads_b)) in enumerate(
            zip(layers, starts, gradients)):
        np.testing.assert_allclose(layer.W, trajectory(W0, grads_W, **hyper)[-1],
                                   rtol=RTOL, atol=ATOL, err_msg=f"layer {index} W")
        np.testing.assert_allclose(layer.b, trajectory(b0, grads_b, **hyper)[-1],
                                   rtol=RTOL, atol=ATOL, err_msg=f"layer {index} b")


def test_adam_counts_the_steps_of_each_parameter_separately(rng):
    """A parameter that first gets a gradient at step 4 starts its bias correction at t = 1."""
    first, late = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    holder = ParameterHolder(first.copy(), late.copy())
    grads_first = gradient_sequence(rng, (2, 2))
    grads_late = gradient_sequence(rng, (2, 2))[3:]
    optimizer = Adam(holder, lr=0.01)
    for step in range(STEPS):
        holder.gradients[0] = grads_first[step].copy()
        holder.gradients[1] = grads_late[step - 3].copy() if step >= 3 else None
        optimizer.step()
    np.testing.assert_allclose(holder.params[0], adam_trajectory(first, grads_first, lr=0.01)[-1],
                               rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(holder.params[1], adam_trajectory(late, grads_late, lr=0.01)[-1],
                               rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------- in place, None, grads


ALL_OPTIMIZERS = [
    pytest.param(SGD, {"lr": 0.1}, id="sgd"),
    pytest.param(SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True},
                 id="sgd-nesterov-weight_decay"),
    pytest.param(Adam, {"lr": 0.01, "weight_decay": 0.01, "amsgrad": True},
                 id="adam-amsgrad-weight_decay"),
    pytest.param(AdamW, {"lr": 0.01}, id="adamw"),
]


@pytest.mark.parametrize(("optimizer_class", "hyper"), ALL_OPTIMIZERS)
def test_step_updates_the_parameter_arrays_in_place(optimizer_class, hyper, rng):
    layer = Linear(3, 2)
    W_before, b_before = layer.W, layer.b
    W_values = layer.W.copy()
    optimizer = optimizer_class(layer, **hyper)
    for _ in range(3):
        optimizer.zero_grad()
        layer.backward(layer(rng.standard_normal((5, 3)).astype(np.float32)))
        optimizer.step()
    assert layer.W is W_before and layer.b is b_before
    assert all(p is q for p, q in zip(layer.parameters(), (W_before, b_before)))
    assert not np.array_equal(W_before, W_values), "the parameters did not move"


@pytest.mark.parametrize(("optimizer_class", "hyper"), ALL_OPTIMIZERS)
def test_a_parameter_whose_gradient_is_none_is_skipped(optimizer_class, hyper, rng):
    idle, trained = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    holder = ParameterHolder(idle.copy(), trained.copy())
    optimizer = optimizer_class(holder, **hyper)
    for grad in gradient_sequence(rng, (2, 3))[:3]:
        holder.gradients = [None, grad]
        optimizer.step()
    np.testing.assert_array_equal(holder.params[0], idle)
    assert not np.array_equal(holder.params[1], trained)


@pytest.mark.parametrize(("optimizer_class", "hyper"), ALL_OPTIMIZERS)
def test_step_before_any_backward_changes_nothing(optimizer_class, hyper):
    """A fresh Linear has dW = db = None: step() must skip it, not fail."""
    layer = Linear(3, 2)
    W0 = layer.W.copy()
    optimizer_class(layer, **hyper).step()
    np.testing.assert_array_equal(layer.W, W0)
    np.testing.assert_array_equal(layer.b, 0.0)


@pytest.mark.parametrize(("optimizer_class", "hyper"), ALL_OPTIMIZERS)
def test_step_reads_the_gradients_without_changing_them(optimizer_class, hyper, rng):
    holder = ParameterHolder(rng.standard_normal((2, 3)))
    optimizer = optimizer_class(holder, **hyper)
    for grad in gradient_sequence(rng, (2, 3))[:3]:
        holder.gradients[0] = grad.copy()
        optimizer.step()
        np.testing.assert_array_equal(holder.gradients[0], grad)
