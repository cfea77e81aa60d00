"""The mistakes students make most often with modules fail early with a message that helps.

docs/architecture.md#3-adding-to-a-stage: an error names the object, the expected and the actual
value or shape, and the likely fix. Only the parts of the message that carry information are
checked (the numbers, the key, the position), never its exact wording.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from mini_torch.nn import GELU, Identity, LeakyReLU, Linear, ReLU, Sequential, Sigmoid, Tanh


def _mentions(message: str, number: int) -> bool:
    """True if ``number`` appears in ``message`` as a whole number (so 3 is not found in 30)."""
    return re.search(rf"(?<!\d){number}(?!\d)", message) is not None


# --------------------------------------------------------------------------------- Linear sizes

def test_linear_fed_the_wrong_number_of_features_names_both_sizes():
    layer = Linear(3, 4)
    with pytest.raises(ValueError) as excinfo:
        layer(np.ones((7, 5), dtype=np.float32))
    message = str(excinfo.value)
    assert _mentions(message, 3)
    assert _mentions(message, 5)


def test_linear_wrong_feature_count_leaves_the_cache_empty():
    layer = Linear(3, 4)
    with pytest.raises(ValueError):
        layer(np.ones((7, 5), dtype=np.float32))
    assert layer.x is None


def test_linear_fed_a_single_1d_sample_is_a_value_error():
    with pytest.raises(ValueError, match="2-D"):
        Linear(3, 4)(np.ones(3, dtype=np.float32))


@pytest.mark.parametrize("sizes, bad", [((0, 4), 0), ((4, 0), 0), ((-1, 4), -1), ((4, -3), -3)])
def test_linear_refuses_a_size_below_one_and_names_it(sizes, bad):
    with pytest.raises(ValueError) as excinfo:
        Linear(*sizes)
    message = str(excinfo.value)
    assert "Linear" in message
    assert re.search(rf"(?<![\d-]){bad}(?!\d)", message), message


@pytest.mark.parametrize("sizes", [(2.5, 4), (4, "3"), (True, 4)])
def test_linear_refuses_a_size_that_is_not_an_integer(sizes):
    with pytest.raises(TypeError):
        Linear(*sizes)


# ------------------------------------------------------------------------ backward before forward

def test_linear_backward_before_forward_is_a_runtime_error_about_forward():
    with pytest.raises(RuntimeError, match=r"(?i)forward"):
        Linear(3, 4).backward(np.ones((2, 4), dtype=np.float32))


@pytest.mark.parametrize("make", [ReLU, Sigmoid, Tanh, GELU, LeakyReLU, Identity],
                         ids=["ReLU", "Sigmoid", "Tanh", "GELU", "LeakyReLU", "Identity"])
def test_activation_backward_before_forward_is_a_runtime_error_about_forward(make):
    with pytest.raises(RuntimeError, match=r"(?i)forward"):
        make().backward(np.ones((2, 4), dtype=np.float32))


def test_sequential_backward_before_forward_is_a_runtime_error_about_forward():
    model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))
    with pytest.raises(RuntimeError, match=r"(?i)forward"):
        model.backward(np.ones((2, 1), dtype=np.float32))


# ---------------------------------------------------------------------- non-modules in Sequential

def test_sequential_argument_that_is_not_a_module_names_it_and_its_position():
    with pytest.raises(TypeError) as excinfo:
        Sequential(Linear(2, 8), "relu", Linear(8, 3))
    message = str(excinfo.value)
    assert "relu" in message
    assert _mentions(message, 1)


def test_sequential_list_item_that_is_not_a_module_names_it_and_its_position():
    with pytest.raises(TypeError) as excinfo:
        Sequential([Linear(2, 8), ReLU(), np.tanh])
    message = str(excinfo.value)
    assert "tanh" in message
    assert _mentions(message, 2)


def test_sequential_given_a_class_instead_of_an_instance_is_a_type_error():
    with pytest.raises(TypeError) as excinfo:
        Sequential(Linear(2, 8), ReLU, Linear(8, 3))
    assert "ReLU" in str(excinfo.value)
    assert _mentions(str(excinfo.value), 1)


def test_sequential_append_of_a_non_module_is_a_type_error():
    model = Sequential(Linear(2, 8))
    with pytest.raises(TypeError) as excinfo:
        model.append(42)
    assert "42" in str(excinfo.value)
    assert len(model) == 1
