"""The activation layers: ``ReLU``, ``Sigmoid``, ``Tanh``, ``GELU``, ``LeakyReLU``, ``Identity``.

Each layer is a thin ``Module`` around a stage-1 function: its forward equals the functional op,
its backward equals the functional backward at the cached input, it has no parameters, and it
keeps its input for the backward. A few closed-form values (computed with ``math``) pin the
formulas down independently of ``mini_torch.functional``.

Inputs are kept at ``0.1 <= |x| <= 2`` where a kink at 0 would make central differences
meaningless (ReLU, LeakyReLU).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from mini_torch import functional as F
from mini_torch.nn import GELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from mini_torch.testing import gradcheck


@dataclass(frozen=True)
class Case:
    """A layer factory and the functional pair it must agree with."""

    make: Callable[[], Activation]
    forward: Callable[..., np.ndarray]
    backward: Callable[..., np.ndarray]
    kwargs: dict = field(default_factory=dict)


def _identity(x):
    return x


def _identity_backward(grad_output, x):
    return grad_output


CASES = {
    "ReLU": Case(ReLU, F.relu, F.relu_backward),
    "Sigmoid": Case(Sigmoid, F.sigmoid, F.sigmoid_backward),
    "Tanh": Case(Tanh, F.tanh, F.tanh_backward),
    "GELU": Case(GELU, F.gelu, F.gelu_backward, {"approximate": "none"}),
    "GELU-tanh": Case(lambda: GELU(approximate="tanh"), F.gelu, F.gelu_backward,
                      {"approximate": "tanh"}),
    "LeakyReLU": Case(LeakyReLU, F.leaky_relu, F.leaky_relu_backward, {"negative_slope": 0.01}),
    "LeakyReLU-0.2": Case(lambda: LeakyReLU(negative_slope=0.2), F.leaky_relu,
                          F.leaky_relu_backward, {"negative_slope": 0.2}),
    "Identity": Case(Identity, _identity, _identity_backward),
}

every_case = pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))


def _inputs(rng: np.random.Generator, shape=(4, 5), dtype=np.float32) -> np.ndarray:
    """Values with ``0.1 <= |x| <= 2`` and random signs: never across the kink at 0."""
    magnitude = rng.uniform(0.1, 2.0, size=shape)
    sign = rng.choice([-1.0, 1.0], size=shape)
    return (magnitude * sign).astype(dtype)


# ------------------------------------------------------------------------ agreement with F

@every_case
def test_activation_forward_equals_the_functional_op(case, rng):
    x = _inputs(rng)
    np.testing.assert_array_equal(case.make().forward(x), case.forward(x, **case.kwargs))


@every_case
def test_activation_call_equals_forward(case, rng):
    x = _inputs(rng)
    np.testing.assert_array_equal(case.make()(x), case.forward(x, **case.kwargs))


@every_case
def test_activation_backward_equals_the_functional_backward(case, rng):
    x, grad_output = _inputs(rng), rng.standard_normal((4, 5)).astype(np.float32)
    layer = case.make()
    layer.forward(x)
    np.testing.assert_array_equal(layer.backward(grad_output),
                                  case.backward(grad_output, x, **case.kwargs))


@every_case
def test_activation_backward_uses_the_latest_input(case, rng):
    first, latest = _inputs(rng), _inputs(rng)
    grad_output = rng.standard_normal((4, 5)).astype(np.float32)
    layer = case.make()
    layer.forward(first)
    layer.forward(latest)
    np.testing.assert_array_equal(layer.backward(grad_output),
                                  case.backward(grad_output, latest, **case.kwargs))


@every_case
def test_activation_gradcheck_passes(case, rng, float64):
    assert gradcheck(case.make(), _inputs(rng, dtype=np.float64))


@every_case
def test_activation_works_on_any_shape(case, rng):
    x = _inputs(rng, shape=(2, 3, 4))
    layer = case.make()
    out = layer(x)
    assert out.shape == x.shape
    assert layer.backward(np.ones_like(out)).shape == x.shape


# --------------------------------------------------------------------------- module behaviour

@every_case
def test_activation_has_no_parameters_and_no_grads(case, rng):
    layer = case.make()
    assert layer.parameters() == []
    assert layer.grads() == []
    layer.forward(_inputs(rng))
    assert layer.parameters() == []
    assert layer.grads() == []


@every_case
def test_activation_input_cache_starts_empty(case):
    assert case.make().x is None


@every_case
def test_activation_forward_caches_its_input(case, rng):
    x = _inputs(rng)
    layer = case.make()
    layer.forward(x)
    np.testing.assert_array_equal(layer.x, x)


@every_case
def test_activation_keeps_float32(case, rng):
    layer = case.make()
    out = layer.forward(_inputs(rng))
    grad_input = layer.backward(np.ones((4, 5), dtype=np.float32))
    assert out.dtype == np.float32
    assert grad_input.dtype == np.float32


@every_case
def test_activation_zero_grad_is_harmless(case, rng):
    layer = case.make()
    layer.zero_grad()
    layer.forward(_inputs(rng))
    layer.zero_grad()
    assert layer.grads() == []


# ------------------------------------------------------------------ closed-form values (math)

def test_relu_values():
    out = ReLU()(np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]]))
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.0, 0.5, 3.0]])


def test_relu_backward_masks_the_non_positive_inputs():
    layer = ReLU()
    layer(np.array([[-2.0, 1.0, -0.5, 3.0]]))
    np.testing.assert_array_equal(layer.backward(np.array([[5.0, 6.0, 7.0, 8.0]])),
                                  [[0.0, 6.0, 0.0, 8.0]])


def test_sigmoid_values():
    values = [-3.0, 0.0, 2.0]
    expected = [[1.0 / (1.0 + math.exp(-v)) for v in values]]
    np.testing.assert_allclose(Sigmoid()(np.array([values])), expected, rtol=1e-12)


def test_sigmoid_backward_is_s_times_one_minus_s():
    layer = Sigmoid()
    layer(np.array([[0.0, 1.0]]))
    s1 = 1.0 / (1.0 + math.exp(-1.0))
    np.testing.assert_allclose(layer.backward(np.array([[1.0, 2.0]])),
                               [[0.25, 2.0 * s1 * (1.0 - s1)]], rtol=1e-12)


def test_tanh_values_and_derivative():
    layer = Tanh()
    np.testing.assert_allclose(layer(np.array([[0.5, -1.5]])),
                               [[math.tanh(0.5), math.tanh(-1.5)]], rtol=1e-12)
    np.testing.assert_allclose(layer.backward(np.array([[1.0, 1.0]])),
                               [[1.0 - math.tanh(0.5) ** 2, 1.0 - math.tanh(-1.5) ** 2]],
                               rtol=1e-12)


def test_gelu_exact_is_x_times_the_normal_cdf():
    values = [-1.0, 0.5, 2.0]
    expected = [[v * 0.5 * (1.0 + math.erf(v / math.sqrt(2.0))) for v in values]]
    np.testing.assert_allclose(GELU()(np.array([values])), expected, rtol=1e-12)


def test_gelu_tanh_is_the_tanh_approximation():
    values = [-1.0, 0.5, 2.0]
    expected = [[0.5 * v * (1.0 + math.tanh(math.sqrt(2.0 / math.pi) * (v + 0.044715 * v ** 3)))
                 for v in values]]
    np.testing.assert_allclose(GELU(approximate="tanh")(np.array([values])), expected,
                               rtol=1e-12)


def test_gelu_forms_differ():
    x = np.array([[1.0]])
    assert GELU()(x)[0, 0] != GELU(approximate="tanh")(x)[0, 0]


def test_leaky_relu_default_slope_values():
    np.testing.assert_allclose(LeakyReLU()(np.array([[-2.0, 3.0]])), [[-0.02, 3.0]],
                               rtol=1e-12)


def test_leaky_relu_custom_slope_values_and_derivative():
    layer = LeakyReLU(negative_slope=0.2)
    np.testing.assert_allclose(layer(np.array([[-2.0, 3.0]])), [[-0.4, 3.0]], rtol=1e-12)
    np.testing.assert_allclose(layer.backward(np.array([[10.0, 10.0]])), [[2.0, 10.0]],
                               rtol=1e-12)


def test_identity_returns_its_input_and_passes_the_gradient(rng):
    x = _inputs(rng)
    grad_output = rng.standard_normal((4, 5)).astype(np.float32)
    layer = Identity()
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer.backward(grad_output), grad_output)


# ------------------------------------------------------------------------ PyTorch's arguments

def test_gelu_default_is_the_exact_form():
    assert GELU().approximate == "none"


def test_gelu_accepts_approximate_positionally_and_by_keyword():
    assert GELU("tanh").approximate == "tanh"
    assert GELU(approximate="tanh").approximate == "tanh"


def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="approximate"):
        GELU(approximate="sigmoid")


def test_leaky_relu_default_slope_is_pytorchs():
    assert LeakyReLU().negative_slope == 0.01


def test_leaky_relu_accepts_negative_slope_positionally_and_by_keyword():
    assert LeakyReLU(0.3).negative_slope == 0.3
    assert LeakyReLU(negative_slope=0.3).negative_slope == 0.3


# ------------------------------------------------------------------------------------------ repr

@pytest.mark.parametrize("layer, name", [(ReLU(), "ReLU"), (Sigmoid(), "Sigmoid"),
                                         (Tanh(), "Tanh"), (Identity(), "Identity")])
def test_parameter_free_activation_repr_is_its_name(layer, name):
    assert repr(layer) == f"{name}()"


def test_gelu_repr_shows_the_approximation():
    assert "tanh" in repr(GELU(approximate="tanh"))
    assert repr(GELU(approximate="tanh")).startswith("GELU(")


def test_leaky_relu_repr_shows_the_slope():
    assert "0.2" in repr(LeakyReLU(negative_slope=0.2))
    assert repr(LeakyReLU(0.2)).startswith("LeakyReLU(")
