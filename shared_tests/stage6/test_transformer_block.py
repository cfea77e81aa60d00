"""``TransformerBlock(D, H, mlp_ratio=4, dropout=0.0)``: pre-norm, causal.

``h = x + drop1(attn(ln1(x)))``, ``y = h + drop2(mlp(ln2(h)))``, with ``mlp`` a
``Sequential(Linear(D, mlp_ratio * D), GELU(), Linear(mlp_ratio * D, D))`` (``Linear`` acts on
the last axis, so on every position). The block is a composite: its parameters are its children's.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
from mini_torch.nn import GELU, ReLU, Sequential, TransformerBlock
from mini_torch.testing import gradcheck

SEE = "see docs/stage6.md#transformerblock"


def test_transformer_block_children_are_registered_in_order():
    block = TransformerBlock(8, 2, mlp_ratio=3)
    assert [name for name, _ in block.named_children()] == [
        "ln1", "attn", "drop1", "ln2", "mlp", "drop2"]
    assert [name for name, _ in block.named_parameters()] == [
        "ln1.gamma", "ln1.beta", "attn.W_qkv", "attn.b_qkv", "attn.W_out", "attn.b_out",
        "ln2.gamma", "ln2.beta", "mlp.0.W", "mlp.0.b", "mlp.2.W", "mlp.2.b"]
    assert block.mlp[0].W.shape == (8, 24) and block.mlp[2].W.shape == (24, 8)


def test_transformer_block_forward_is_the_two_residual_branches(rng):
    block = TransformerBlock(8, 2)
    x = rng.normal(size=(2, 5, 8)).astype(np.float32)
    y = block(x)
    h = x + block.attn(block.ln1(x))
    expected = h + block.mlp(block.ln2(h))
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6, err_msg=SEE)


def test_transformer_block_with_zeroed_branches_is_the_identity(rng):
    """Zero output projections make both branches 0: y = x, and dL/dx = G (the residuals)."""
    block = TransformerBlock(8, 2)
    for array in (block.attn.W_out, block.attn.b_out, block.mlp[2].W, block.mlp[2].b):
        array[...] = 0.0
    x = rng.normal(size=(2, 3, 8)).astype(np.float32)
    grad_output = rng.normal(size=(2, 3, 8)).astype(np.float32)
    np.testing.assert_allclose(block(x), x, atol=1e-7)
    np.testing.assert_allclose(block.backward(grad_output), grad_output, atol=1e-7, err_msg=(
        f"TransformerBlock.backward: the residual passes the gradient through unchanged; {SEE}"))


def test_transformer_block_gradients_match_central_differences(float64, rng):
    block = TransformerBlock(8, 2, mlp_ratio=2)
    for param in block.parameters():  # move every parameter off its initial value
        param += 0.1 * rng.normal(size=param.shape)
    assert len(block.parameters()) == 12
    assert gradcheck(block, rng.normal(size=(2, 3, 8)), name="TransformerBlock")


def test_transformer_block_is_causal(rng):
    block = TransformerBlock(8, 2)
    x = rng.normal(size=(1, 6, 8)).astype(np.float32)
    before = block(x)
    x[0, 4] += 1.0
    np.testing.assert_array_equal(block(x)[0, :4], before[0, :4], err_msg=SEE)


def test_transformer_block_keeps_float32(rng):
    block = TransformerBlock(8, 2)
    y = block(rng.normal(size=(2, 3, 8)).astype(np.float32))
    grad_x = block.backward(np.ones_like(y))
    assert y.dtype == grad_x.dtype == np.float32
    assert all(g.dtype == np.float32 for g in block.grads())


def test_transformer_block_backward_accumulates_until_zero_grad(rng):
    block = TransformerBlock(8, 2)
    x = rng.normal(size=(2, 3, 8)).astype(np.float32)
    grad_output = rng.normal(size=(2, 3, 8)).astype(np.float32)
    block(x)
    block.backward(grad_output)
    once = [g.copy() for g in block.grads()]
    block(x)
    block.backward(grad_output)
    for grad, first in zip(block.grads(), once):
        np.testing.assert_allclose(grad, 2 * first, rtol=1e-4, atol=1e-6)
    block.zero_grad()
    assert all(not g.any() for g in block.grads())


def test_transformer_block_dropout_acts_in_training_and_not_in_eval(rng):
    block = TransformerBlock(8, 2, dropout=0.5)
    x = rng.normal(size=(2, 3, 8)).astype(np.float32)
    assert not np.allclose(block(x), block(x)), "training: a new dropout mask per forward"
    block.eval()
    assert not block.drop1.training and not block.drop2.training
    np.testing.assert_array_equal(block(x), block(x))


def test_transformer_block_refuses_a_wrong_input_shape():
    with pytest.raises(ValueError, match=r"TransformerBlock\.forward"):
        TransformerBlock(8, 2)(np.ones((2, 8), np.float32))


def test_transformer_block_under_no_grad_computes_the_same_output_and_cannot_backward(rng):
    block = TransformerBlock(8, 2)
    x = rng.normal(size=(1, 4, 8)).astype(np.float32)
    expected = block(x)
    with mini_torch.no_grad():
        y = block(x)
    np.testing.assert_array_equal(y, expected)
    with pytest.raises(RuntimeError, match="no_grad"):
        block.backward(np.ones_like(y))


def test_transformer_block_under_no_grad_keeps_no_array_in_any_sub_module(rng):
    """Training mode with dropout: the masks, the attention's arrays and every layer's input."""
    block = TransformerBlock(8, 2, dropout=0.2)
    x = rng.normal(size=(2, 4, 8)).astype(np.float32)
    block(x)
    state = {id(array) for array in block.parameters() + block.buffers()}

    def kept() -> list[str]:
        return [f"{name}.{attr}" for name, module in block.named_modules()
                for attr, value in vars(module).items()
                if isinstance(value, np.ndarray) and id(value) not in state]

    assert {"ln1.x", "attn.attn", "drop1.mask", "mlp.0.x", "mlp.1.x"} <= set(kept())
    with mini_torch.no_grad():
        block(x)
    assert kept() == [], "under no_grad no module of the block keeps an array for backward"


def test_transformer_block_state_dict_round_trips(rng):
    source, target = TransformerBlock(8, 2), TransformerBlock(8, 2)
    target.load_state_dict(source.state_dict())
    x = rng.normal(size=(1, 3, 8)).astype(np.float32)
    np.testing.assert_array_equal(target(x), source(x))


# ------------------------------------------------------------- activation= and the plain MLP

def test_transformer_block_mlp_is_a_plain_sequential_of_linears(rng):
    """Linear acts on the last axis, so the MLP needs no per-position wrapper."""
    block = TransformerBlock(4, 2, mlp_ratio=2)
    assert type(block.mlp) is Sequential
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    y = block.mlp(x)
    first, act, second = block.mlp.modules
    rows = x.reshape(-1, 4)
    expected = second(act(first(rows)))
    np.testing.assert_allclose(y.reshape(-1, 4), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("activation, kind", [("gelu", GELU), ("relu", ReLU)])
def test_transformer_block_activation_by_name(activation, kind):
    assert type(TransformerBlock(8, 2, activation=activation).mlp[1]) is kind


def test_transformer_block_takes_an_activation_module():
    act = GELU(approximate="tanh")
    assert TransformerBlock(8, 2, activation=act).mlp[1] is act


def test_transformer_block_refuses_an_unknown_activation():
    with pytest.raises(ValueError, match="'gelu', 'relu'"):
        TransformerBlock(8, 2, activation="swish")


def test_transformer_block_with_relu_gradients_match_central_differences(float64, rng):
    block = TransformerBlock(4, 2, mlp_ratio=2, activation="relu")
    assert gradcheck(block, rng.normal(size=(2, 3, 4)), name="TransformerBlock(relu)")


def test_transformer_block_passes_its_dropout_to_the_attention_weights():
    assert TransformerBlock(8, 2, dropout=0.25).attn.dropout == 0.25
