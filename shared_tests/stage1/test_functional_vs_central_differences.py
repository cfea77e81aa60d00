"""Every backward of ``mini_torch.functional`` agrees with central differences in float64.

Each case is checked twice: once with ``mini_torch.testing.gradcheck`` and once with the small
central-difference loop written in this file, so that a bug in ``gradcheck`` cannot hide a bug
in a backward.

For an op with an array output ``y`` the checked scalar is ``L = sum(y * G)`` for a fixed random
``G``; then ``dL/dy = G`` is the ``grad_output`` handed to the backward. For a loss the scalar is
the loss itself and the backward takes the loss's own arguments.

ReLU and leaky ReLU have a kink at 0, where the two one-sided slopes differ and a central
difference straddling it is meaningless, so their inputs are kept at ``|x| > 0.1``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import pytest

from mini_torch import functional as F
from mini_torch.testing import gradcheck

EPS = 1e-6


# ---------------------------------------------------------------------- an independent checker

def central_difference(scalar_fn: Callable[..., float], inputs: list[np.ndarray],
                       which: int) -> np.ndarray:
    """``d scalar_fn(*inputs) / d inputs[which]`` by central differences, on fresh copies."""
    grad = np.zeros(inputs[which].shape, dtype=np.float64)
    for index in np.ndindex(*inputs[which].shape):
        shifted = []
        for sign in (+1.0, -1.0):
            args = [array.copy() for array in inputs]
            args[which][index] += sign * EPS
            shifted.append(scalar_fn(*args))
        grad[index] = (shifted[0] - shifted[1]) / (2.0 * EPS)
    return grad


# ----------------------------------------------------------------------------- case builders
# A case is (forward, backward, make_inputs, wrt): make_inputs(rng) returns float64 inputs
# (targets may be integers) and wrt lists the positions of the inputs that get a gradient.

def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Values with ``0.1 <= |x| <= 2`` and random signs: never across the kink at 0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, size=shape)


def _normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


def linear_case(batch: int, in_features: int, out_features: int, bias_shape: str):
    def make_inputs(rng):
        bias = (out_features,) if bias_shape == "(out,)" else (1, out_features)
        return [rng.standard_normal((batch, in_features)),
                rng.standard_normal((in_features, out_features)),
                rng.standard_normal(bias)]

    def backward(grad_output, x, W, b):
        grad_x, grad_W, grad_b = F.linear_backward(grad_output, x, W)
        # grad_b is (1, out) by contract; a bias of shape (out,) gets the same numbers.
        return grad_x, grad_W, grad_b.reshape(b.shape)

    return pytest.param(F.linear, backward, make_inputs, (0, 1, 2),
                        id=f"linear-N{batch}-{in_features}to{out_features}-b{bias_shape}")


def elementwise_case(label: str, forward, backward, shape: tuple[int, ...], draw=_normal):
    shape_id = "x".join(map(str, shape))
    return pytest.param(forward, backward, lambda rng: [draw(rng, shape)], (0,),
                        id=f"{label}-{shape_id}")


def mse_case(shape: tuple[int, ...], reduction: str):
    def forward(pred, target):
        return F.mse_loss(pred, target, reduction=reduction)

    def backward(pred, target):
        return F.mse_loss_backward(pred, target, reduction=reduction), None

    return pytest.param(forward, backward,
                        lambda rng: [rng.standard_normal(shape), rng.standard_normal(shape)],
                        (0,), id=f"mse_loss-{reduction}-{'x'.join(map(str, shape))}")


def _probability_rows(rng: np.random.Generator, batch: int, classes: int) -> np.ndarray:
    scores = np.exp(rng.standard_normal((batch, classes)))
    return scores / scores.sum(axis=1, keepdims=True)


def ce_target(rng: np.random.Generator, batch: int, classes: int, form: str) -> np.ndarray:
    labels = rng.integers(0, classes, size=batch)
    if form == "index":
        return labels
    if form == "index(N,1)":
        return labels.reshape(-1, 1)
    if form == "onehot":
        return np.eye(classes)[labels]
    return _probability_rows(rng, batch, classes)


def cross_entropy_case(batch: int, classes: int, form: str, reduction: str, smoothing: float):
    def forward(logits, target):
        return F.cross_entropy(logits, target, reduction=reduction, label_smoothing=smoothing)

    def backward(logits, target):
        grad = F.cross_entropy_backward(logits, target, reduction=reduction,
                                        label_smoothing=smoothing)
        return grad, None

    def make_inputs(rng):
        return [rng.standard_normal((batch, classes)), ce_target(rng, batch, classes, form)]

    return pytest.param(forward, backward, make_inputs, (0,),
                        id=f"cross_entropy-{form}-{reduction}-ls{smoothing}-N{batch}C{classes}")


def bce_case(shape: tuple[int, ...], reduction: str):
    def forward(logits, target):
        return F.binary_cross_entropy_with_logits(logits, target, reduction=reduction)

    def backward(logits, target):
        return F.binary_cross_entropy_with_logits_backward(logits, target,
                                                           reduction=reduction), None

    return pytest.param(forward, backward,
                        lambda rng: [3.0 * rng.standard_normal(shape), rng.uniform(size=shape)],
                        (0,), id=f"bce_with_logits-{reduction}-{'x'.join(map(str, shape))}")


ELEMENTWISE_SHAPES = [(1, 4), (6, 3)]

CASES = [
    *(linear_case(n, fan_in, fan_out, bias)
      for n, fan_in, fan_out in [(1, 3, 2), (5, 4, 3), (7, 2, 6)]
      for bias in ("(out,)", "(1,out)")),
    *(elementwise_case("relu", F.relu, F.relu_backward, shape, _away_from_zero)
      for shape in ELEMENTWISE_SHAPES),
    *(elementwise_case("leaky_relu-default", F.leaky_relu, F.leaky_relu_backward, shape,
                       _away_from_zero)
      for shape in ELEMENTWISE_SHAPES),
    *(elementwise_case("leaky_relu-slope0.2", partial(F.leaky_relu, negative_slope=0.2),
                       partial(F.leaky_relu_backward, negative_slope=0.2), shape,
                       _away_from_zero)
      for shape in ELEMENTWISE_SHAPES),
    *(elementwise_case("sigmoid", F.sigmoid, F.sigmoid_backward, shape)
      for shape in ELEMENTWISE_SHAPES),
    *(elementwise_case("tanh", F.tanh, F.tanh_backward, shape) for shape in ELEMENTWISE_SHAPES),
    *(elementwise_case(f"gelu-{form}", partial(F.gelu, approximate=form),
                       partial(F.gelu_backward, approximate=form), shape)
      for form in ("none", "tanh") for shape in ELEMENTWISE_SHAPES),
    *(mse_case(shape, reduction)
      for shape in [(1, 1), (4, 3)] for reduction in ("mean", "sum")),
    *(cross_entropy_case(n, c, form, reduction, smoothing)
      for n, c in [(1, 3), (5, 4)]
      for form in ("index", "index(N,1)", "onehot", "probs")
      for reduction in ("mean", "sum")
      for smoothing in (0.0, 0.1)),
    *(bce_case(shape, reduction)
      for shape in [(1, 1), (6, 1), (3, 4)] for reduction in ("mean", "sum")),
]


# ------------------------------------------------------------------------------------- tests

@pytest.mark.parametrize(("forward", "backward", "make_inputs", "wrt"), CASES)
def test_backward_passes_gradcheck(forward, backward, make_inputs, wrt, rng):
    assert gradcheck(forward, backward, make_inputs(rng), eps=EPS, tol=1e-5) is True


@pytest.mark.parametrize(("forward", "backward", "make_inputs", "wrt"), CASES)
def test_backward_matches_independent_central_differences(forward, backward, make_inputs, wrt,
                                                          rng):
    inputs = make_inputs(rng)
    output = forward(*inputs)
    if np.ndim(output) == 0:  # a loss: the backward takes the loss's own arguments
        analytic = backward(*inputs)

        def scalar(*args):
            return float(forward(*args))
    else:
        grad_output = rng.standard_normal(np.shape(output))
        analytic = backward(grad_output, *inputs)

        def scalar(*args):
            return float(np.sum(forward(*args) * grad_output))

    if not isinstance(analytic, tuple):
        analytic = (analytic,)
    assert len(analytic) == len(inputs)
    for which in wrt:
        numeric = central_difference(scalar, inputs, which)
        assert analytic[which].shape == inputs[which].shape
        np.testing.assert_allclose(analytic[which], numeric, rtol=1e-5, atol=1e-7,
                                   err_msg=f"gradient with respect to input {which}")


def test_linear_backward_returns_bias_gradient_as_a_row(rng):
    x, W = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    grad_output = rng.standard_normal((4, 2))
    _, _, grad_b = F.linear_backward(grad_output, x, W)
    assert grad_b.shape == (1, 2)
    np.testing.assert_allclose(grad_b[0], grad_output.sum(axis=0))
