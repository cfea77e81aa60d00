"""``mini_torch.testing.gradcheck`` accepts right gradients and reports wrong ones clearly.

The broken backwards below are the mistakes students make: a transposed or doubled weight
gradient, a ReLU that forgets its mask, a missing or misshapen gradient. A checker that passes
them would let every other gradient test in the suite pass vacuously.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import mini_torch
from mini_torch import functional as F
from mini_torch.testing import GradcheckError, gradcheck


@pytest.fixture
def linear_inputs(rng):
    # square W (3, 3) so that a transposed grad_W still has the right shape
    return rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), rng.standard_normal((1, 3))


def correct_linear_backward(grad_output, x, W, b):
    return F.linear_backward(grad_output, x, W)


# -------------------------------------------------------------------------- function form: right

def test_gradcheck_is_an_assertion_error_subclass():
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_returns_true_for_correct_linear(linear_inputs):
    assert gradcheck(F.linear, correct_linear_backward, linear_inputs) is True


def test_gradcheck_returns_true_for_correct_loss_with_integer_target(rng):
    logits, target = rng.standard_normal((3, 4)), np.array([0, 3, 1])

    def backward(logits, target):
        return F.cross_entropy_backward(logits, target), None

    assert gradcheck(F.cross_entropy, backward, (logits, target)) is True


def test_gradcheck_accepts_float32_inputs_by_checking_in_float64(rng):
    x = rng.standard_normal((3, 2)).astype(np.float32)
    W = rng.standard_normal((2, 2)).astype(np.float32)
    b = np.zeros((1, 2), dtype=np.float32)
    assert gradcheck(F.linear, correct_linear_backward, (x, W, b)) is True


def test_gradcheck_does_not_modify_the_callers_arrays(linear_inputs):
    copies = [array.copy() for array in linear_inputs]
    gradcheck(F.linear, correct_linear_backward, linear_inputs)
    for original, copy in zip(linear_inputs, copies):
        np.testing.assert_array_equal(original, copy)


# -------------------------------------------------------------------------- function form: wrong

def test_transposed_weight_gradient_is_reported_for_W(linear_inputs):
    def backward(grad_output, x, W, b):
        grad_x, grad_W, grad_b = F.linear_backward(grad_output, x, W)
        return grad_x, grad_W.T, grad_b

    with pytest.raises(GradcheckError, match="'W'") as excinfo:
        gradcheck(F.linear, backward, linear_inputs)
    message = str(excinfo.value)
    assert "linear" in message
    assert "'x'" not in message and "'b'" not in message


def test_doubled_weight_gradient_is_reported_for_W(linear_inputs):
    def backward(grad_output, x, W, b):
        grad_x, grad_W, grad_b = F.linear_backward(grad_output, x, W)
        return grad_x, 2.0 * grad_W, grad_b

    with pytest.raises(GradcheckError, match="'W'"):
        gradcheck(F.linear, backward, linear_inputs)


def test_halved_bias_gradient_is_reported_for_b(linear_inputs):
    def backward(grad_output, x, W, b):
        grad_x, grad_W, grad_b = F.linear_backward(grad_output, x, W)
        return grad_x, grad_W, 0.5 * grad_b

    with pytest.raises(GradcheckError, match="'b'"):
        gradcheck(F.linear, backward, linear_inputs)


def test_wrong_input_gradient_is_reported_for_x(linear_inputs):
    def backward(grad_output, x, W, b):
        _, grad_W, grad_b = F.linear_backward(grad_output, x, W)
        return grad_output @ W, grad_W, grad_b  # W instead of W^T

    with pytest.raises(GradcheckError, match="'x'"):
        gradcheck(F.linear, backward, linear_inputs)


def test_relu_backward_that_ignores_the_mask_is_reported(rng):
    x = rng.choice([-1.0, 1.0], size=(3, 4)) * rng.uniform(0.5, 2.0, size=(3, 4))

    def relu_backward_without_mask(grad_output, x):
        return grad_output

    with pytest.raises(GradcheckError, match="relu") as excinfo:
        gradcheck(F.relu, relu_backward_without_mask, (x,))
    assert "'x'" in str(excinfo.value)


def test_failure_message_gives_error_index_and_both_values(linear_inputs):
    def backward(grad_output, x, W, b):
        grad_x, grad_W, grad_b = F.linear_backward(grad_output, x, W)
        return grad_x, grad_W + 1.0, grad_b

    with pytest.raises(GradcheckError) as excinfo:
        gradcheck(F.linear, backward, linear_inputs)
    message = str(excinfo.value).lower()
    assert "relative error" in message
    assert "index" in message
    assert "analytic" in message and "numerical" in message


def test_explicit_name_appears_in_the_message(linear_inputs):
    def backward(grad_output, x, W, b):
        grad_x, grad_W, grad_b = F.linear_backward(grad_output, x, W)
        return grad_x, 2.0 * grad_W, grad_b

    with pytest.raises(GradcheckError, match="my_dense_layer"):
        gradcheck(F.linear, backward, linear_inputs, name="my_dense_layer")


def test_small_relative_error_above_tolerance_is_caught(rng):
    x = rng.standard_normal((2, 3))

    def slightly_wrong_tanh_backward(grad_output, x):
        return F.tanh_backward(grad_output, x) * (1.0 + 1e-3)

    with pytest.raises(GradcheckError):
        gradcheck(F.tanh, slightly_wrong_tanh_backward, (x,))


def test_backward_that_ignores_grad_output_is_reported(rng):
    # right only when grad_output is all ones: a checker must use a random grad_output
    x = rng.choice([-1.0, 1.0], size=(3, 4)) * rng.uniform(0.5, 2.0, size=(3, 4))

    def relu_backward_returning_the_mask(grad_output, x):
        return (x > 0).astype(x.dtype)

    with pytest.raises(GradcheckError, match="'x'"):
        gradcheck(F.relu, relu_backward_returning_the_mask, (x,))


def test_backward_returning_too_few_gradients_is_reported(linear_inputs):
    def backward(grad_output, x, W, b):
        grad_x, grad_W, _ = F.linear_backward(grad_output, x, W)
        return grad_x, grad_W

    with pytest.raises(GradcheckError, match=r"\b2\b") as excinfo:
        gradcheck(F.linear, backward, linear_inputs)
    assert "3" in str(excinfo.value)


def test_backward_returning_gradient_of_wrong_shape_is_reported(rng):
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((1, 2))

    def backward(grad_output, x, W, b):
        grad_x, grad_W, grad_b = F.linear_backward(grad_output, x, W)
        return grad_x, grad_W.T, grad_b

    with pytest.raises(GradcheckError, match="shape") as excinfo:
        gradcheck(F.linear, backward, (x, W, b))
    message = str(excinfo.value)
    assert "'W'" in message
    assert "(2, 3)" in message and "(3, 2)" in message


def test_backward_returning_nan_is_reported(rng):
    x = rng.standard_normal((2, 2))

    def backward(grad_output, x):
        return np.full_like(x, np.nan)

    with pytest.raises(GradcheckError, match="'x'"):
        gradcheck(F.sigmoid, backward, (x,))


# --------------------------------------------------------------------------------- module form

class Scale:
    """A tiny duck-typed module: ``y = x * a`` with a learnable row ``a`` of shape (1, D)."""

    def __init__(self, features: int, wrong: str = ""):
        self.a = np.linspace(0.5, 1.5, features, dtype=mini_torch.get_default_dtype())
        self.a = self.a.reshape(1, features)
        self.grad_a = np.zeros_like(self.a)
        self.wrong = wrong
        self.x = None

    def forward(self, x):
        self.x = x
        return x * self.a

    def backward(self, grad_output):
        grad_a = (grad_output * self.x).sum(axis=0, keepdims=True)  # dL/da = sum_n dL/dy * x
        if self.wrong == "grad_a":
            grad_a = 2.0 * grad_a
        self.grad_a += grad_a
        if self.wrong == "grad_x":
            return grad_output  # forgets the factor a
        return grad_output * self.a  # dL/dx = dL/dy * a

    def parameters(self):
        return [self.a]

    def grads(self):
        return [self.grad_a]


class ScaleShift(Scale):
    """``y = x * a + c``: two parameters, so a message must say which one is wrong."""

    def __init__(self, features: int, wrong: str = ""):
        super().__init__(features, wrong)
        self.c = np.zeros((1, features), dtype=self.a.dtype)
        self.grad_c = np.zeros_like(self.c)

    def forward(self, x):
        return super().forward(x) + self.c

    def backward(self, grad_output):
        grad_x = super().backward(grad_output)
        grad_c = grad_output.sum(axis=0, keepdims=True)
        self.grad_c += 3.0 * grad_c if self.wrong == "grad_c" else grad_c
        return grad_x

    def parameters(self):
        return [self.a, self.c]

    def grads(self):
        return [self.grad_a, self.grad_c]

    def named_parameters(self):
        return [("a", self.a), ("c", self.c)]


def test_module_form_passes_for_a_correct_module(float64, rng):
    assert gradcheck(Scale(3), rng.standard_normal((4, 3))) is True


def test_module_form_passes_for_a_correct_two_parameter_module(float64, rng):
    assert gradcheck(ScaleShift(3), rng.standard_normal((4, 3))) is True


def test_module_form_passes_with_stale_gradients_left_from_an_earlier_backward(float64, rng):
    module = Scale(3)
    module.grad_a += 100.0  # gradients accumulate; gradcheck must start from zero
    assert gradcheck(module, rng.standard_normal((2, 3))) is True


def test_module_form_names_the_wrong_parameter(float64, rng):
    with pytest.raises(GradcheckError, match="parameter") as excinfo:
        gradcheck(Scale(3, wrong="grad_a"), rng.standard_normal((4, 3)))
    assert "Scale" in str(excinfo.value)


def test_module_form_names_the_wrong_one_of_two_named_parameters(float64, rng):
    with pytest.raises(GradcheckError, match="'c'") as excinfo:
        gradcheck(ScaleShift(3, wrong="grad_c"), rng.standard_normal((4, 3)))
    assert "'a'" not in str(excinfo.value)


def test_module_form_reports_a_wrong_input_gradient(float64, rng):
    with pytest.raises(GradcheckError, match=r"\binput\b"):
        gradcheck(Scale(3, wrong="grad_x"), rng.standard_normal((4, 3)))


def test_module_form_rejects_float32_parameters_pointing_at_default_dtype(rng):
    module = Scale(3)  # built under the float32 default
    assert module.a.dtype == np.float32
    with pytest.raises(TypeError, match="default_dtype") as excinfo:
        gradcheck(module, rng.standard_normal((2, 3)))
    assert "float32" in str(excinfo.value)


def test_module_form_reports_misaligned_parameters_and_grads(float64, rng):
    module = ScaleShift(3)
    module.grads = lambda: [module.grad_a]  # one gradient for two parameters

    with pytest.raises(GradcheckError, match=r"\b2\b") as excinfo:
        gradcheck(module, rng.standard_normal((2, 3)))
    assert re.search(r"\b1\b", str(excinfo.value))

