"""Common mistakes raise a ValueError / TypeError whose message says what was wrong.

Each test checks the exception type and that the message carries the numbers or words a student
needs to find the mistake (the shapes involved, the bad value, the fix).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from mini_torch import functional as F


def _message(excinfo: pytest.ExceptionInfo) -> str:
    return str(excinfo.value)


# -------------------------------------------------------------------------------------- linear

def test_linear_feature_mismatch_names_both_sizes():
    x, W, b = np.ones((2, 5)), np.ones((3, 4)), np.zeros(4)
    with pytest.raises(ValueError, match=r"\b5\b") as excinfo:
        F.linear(x, W, b)
    assert re.search(r"\b3\b", _message(excinfo))


def test_linear_backward_rejects_grad_output_of_another_dtype():
    # x and W were checked by the forward; grad_output is the one input the backward checks
    x, W = np.ones((2, 3), dtype=np.float32), np.ones((3, 4), dtype=np.float32)
    with pytest.raises(TypeError, match="float64") as excinfo:
        F.linear_backward(np.ones((2, 4), dtype=np.float64), x, W)
    assert "float32" in _message(excinfo)


def test_linear_rejects_one_dimensional_input_and_suggests_a_reshape():
    with pytest.raises(ValueError, match=r"\(5,\)") as excinfo:
        F.linear(np.ones(5), np.ones((5, 2)), np.zeros(2))
    assert "reshape" in _message(excinfo)


def test_linear_rejects_bias_of_wrong_length():
    with pytest.raises(ValueError, match=r"\(3,\)"):
        F.linear(np.ones((2, 4)), np.ones((4, 2)), np.zeros(3))


def test_linear_rejects_mixed_x_and_W_dtypes():
    x = np.ones((2, 3), dtype=np.float32)
    W = np.ones((3, 2), dtype=np.float64)
    with pytest.raises(TypeError, match="float32") as excinfo:
        F.linear(x, W, np.zeros(2, dtype=np.float32))
    assert "float64" in _message(excinfo)


def test_linear_rejects_an_empty_batch():
    with pytest.raises(ValueError, match="empty"):
        F.linear(np.ones((0, 3)), np.ones((3, 2)), np.zeros(2))


def test_linear_backward_rejects_grad_output_of_wrong_shape():
    with pytest.raises(ValueError, match=r"\(4, 2\)") as excinfo:
        F.linear_backward(np.ones((4, 3)), np.ones((4, 5)), np.ones((5, 2)))
    assert "(4, 3)" in _message(excinfo)


# ------------------------------------------------------------------------------- activations

@pytest.mark.parametrize(
    "backward",
    [F.relu_backward, F.leaky_relu_backward, F.sigmoid_backward, F.tanh_backward,
     F.gelu_backward],
    ids=["relu", "leaky_relu", "sigmoid", "tanh", "gelu"])
def test_activation_backward_rejects_grad_output_of_wrong_shape(backward):
    with pytest.raises(ValueError, match=r"\(2, 3\)") as excinfo:
        backward(np.ones((2, 3)), np.ones((3, 2)))
    assert "(3, 2)" in _message(excinfo)


@pytest.mark.parametrize(
    "backward",
    [F.relu_backward, F.leaky_relu_backward, F.sigmoid_backward, F.tanh_backward,
     F.gelu_backward],
    ids=["relu", "leaky_relu", "sigmoid", "tanh", "gelu"])
def test_activation_backward_rejects_grad_output_of_another_dtype(backward):
    # a float64 grad_output would silently turn the float32 gradient into float64
    x = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(TypeError, match="float64") as excinfo:
        backward(np.ones((2, 3), dtype=np.float64), x)
    assert "float32" in _message(excinfo)


@pytest.mark.parametrize("function", [F.gelu, lambda x, approximate: F.gelu_backward(
    np.ones_like(x), x, approximate=approximate)], ids=["gelu", "gelu_backward"])
def test_gelu_rejects_unknown_approximation(function):
    with pytest.raises(ValueError, match="tanhh") as excinfo:
        function(np.ones((2, 2)), approximate="tanhh")
    assert "'none'" in _message(excinfo) and "'tanh'" in _message(excinfo)


def test_activation_rejects_string_input():
    with pytest.raises(TypeError, match="numeric"):
        F.relu(np.array(["a", "b"]))


# ------------------------------------------------------------------------------------ losses

def test_mse_rejects_flat_target_against_column_predictions():
    pred, target = np.ones((4, 1)), np.ones(4)
    with pytest.raises(ValueError, match=r"\(4, 1\)") as excinfo:
        F.mse_loss(pred, target)
    assert "(4,)" in _message(excinfo)
    assert "reshape" in _message(excinfo)


def test_mse_backward_rejects_flat_target_against_column_predictions():
    with pytest.raises(ValueError, match="reshape"):
        F.mse_loss_backward(np.ones((4, 1)), np.ones(4))


def test_mse_rejects_an_empty_batch():
    with pytest.raises(ValueError, match="empty"):
        F.mse_loss(np.ones((0, 2)), np.ones((0, 2)))


LOSSES_WITH_REDUCTION = {
    "mse_loss": lambda r: F.mse_loss(np.ones((2, 1)), np.ones((2, 1)), reduction=r),
    "mse_loss_backward": lambda r: F.mse_loss_backward(np.ones((2, 1)), np.ones((2, 1)),
                                                       reduction=r),
    "cross_entropy": lambda r: F.cross_entropy(np.ones((2, 3)), np.array([0, 1]), reduction=r),
    "cross_entropy_backward": lambda r: F.cross_entropy_backward(np.ones((2, 3)),
                                                                 np.array([0, 1]), reduction=r),
    "bce_with_logits": lambda r: F.binary_cross_entropy_with_logits(
        np.ones((2, 1)), np.ones((2, 1)), reduction=r),
    "bce_with_logits_backward": lambda r: F.binary_cross_entropy_with_logits_backward(
        np.ones((2, 1)), np.ones((2, 1)), reduction=r),
}


@pytest.mark.parametrize("loss", LOSSES_WITH_REDUCTION.values(), ids=LOSSES_WITH_REDUCTION.keys())
def test_unknown_reduction_is_rejected_with_the_valid_choices(loss):
    with pytest.raises(ValueError, match="average") as excinfo:
        loss("average")
    assert "'mean'" in _message(excinfo) and "'sum'" in _message(excinfo)


@pytest.mark.parametrize("function", [F.cross_entropy, F.cross_entropy_backward],
                         ids=["cross_entropy", "cross_entropy_backward"])
def test_class_index_equal_to_class_count_is_rejected(function):
    with pytest.raises(ValueError, match=r"\b3\b") as excinfo:
        function(np.zeros((2, 3)), np.array([0, 3]))
    assert "class" in _message(excinfo)


def test_class_index_far_above_class_count_names_it_and_the_class_count():
    with pytest.raises(ValueError, match=r"\b7\b") as excinfo:
        F.cross_entropy(np.zeros((2, 3)), np.array([7, 0]))
    assert re.search(r"\b3 classes\b|\b0\.\.2\b", _message(excinfo))


def test_negative_class_index_is_rejected():
    with pytest.raises(ValueError, match="-1"):
        F.cross_entropy(np.zeros((2, 3)), np.array([0, -1]))


def test_float_class_indices_are_a_type_error():
    with pytest.raises(TypeError, match="int"):
        F.cross_entropy(np.zeros((3, 4)), np.array([0.0, 1.0, 2.0]))


def test_boolean_class_indices_are_a_type_error():
    with pytest.raises(TypeError, match="int"):
        F.cross_entropy(np.zeros((2, 2)), np.array([True, False]))


def test_accuracy_names_a_negative_label():
    with pytest.raises(ValueError, match="-1"):
        F.accuracy(np.zeros((2, 3)), np.array([0, -1]))


def test_cross_entropy_rejects_an_empty_batch():
    with pytest.raises(ValueError, match="empty"):
        F.cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))


def test_cross_entropy_rejects_one_label_too_few():
    with pytest.raises(ValueError, match=r"\b4\b") as excinfo:
        F.cross_entropy(np.zeros((4, 3)), np.array([0, 1, 2]))
    assert re.search(r"\b3\b", _message(excinfo))


def test_cross_entropy_rejects_probability_rows_that_do_not_sum_to_one():
    with pytest.raises(ValueError, match="sum to 1"):
        F.cross_entropy(np.zeros((2, 3)), np.array([[0.5, 0.5, 0.5], [1.0, 0.0, 0.0]]))


def test_cross_entropy_rejects_one_dimensional_logits():
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        F.cross_entropy(np.zeros(3), np.array([0]))


def test_cross_entropy_rejects_label_smoothing_outside_unit_interval():
    with pytest.raises(ValueError, match=r"1\.5"):
        F.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), label_smoothing=1.5)


def test_bce_with_logits_rejects_target_of_different_shape():
    with pytest.raises(ValueError, match=r"\(3, 1\)") as excinfo:
        F.binary_cross_entropy_with_logits(np.zeros((3, 1)), np.zeros(3))
    assert "(3,)" in _message(excinfo)


# ---------------------------------------------------------------------------------- accuracy

def test_accuracy_rejects_mismatched_row_counts():
    with pytest.raises(ValueError, match=r"\b4\b") as excinfo:
        F.accuracy(np.zeros((4, 3)), np.array([0, 1, 2]))
    assert re.search(r"\b3\b", _message(excinfo))


def test_accuracy_rejects_an_empty_batch():
    with pytest.raises(ValueError, match="empty"):
        F.accuracy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))
