"""``MultiHeadSelfAttention(D, H, causal=True)`` on ``(N, T, D)``.

``[q | k | v] = x @ W_qkv + b_qkv``; head ``h`` takes columns ``h*hd .. (h+1)*hd`` of each
block (``hd = D / H``); ``head_h = softmax(q_h k_h^T / sqrt(hd) + M) v_h`` with ``M`` = -inf above
the diagonal when causal; ``y = [head_1 | ... | head_H] @ W_out + b_out``. The reference in
these tests is an independent loop over sequences, heads and positions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mini_torch
from mini_torch.nn import MultiHeadSelfAttention
from mini_torch.nn.attention import (
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
)
from mini_torch.testing import gradcheck

SEE = "see docs/stage6.md#multi-head-self-attention"
SEE_BACKWARD = "see docs/stage6.md#attention-backward"


def _reference(attn: MultiHeadSelfAttention, x: np.ndarray) -> np.ndarray:
    """Attention written position by position, head by head, in float64."""
    W_qkv, b_qkv = attn.W_qkv.astype(np.float64), attn.b_qkv.astype(np.float64)
    W_out, b_out = attn.W_out.astype(np.float64), attn.b_out.astype(np.float64)
    n_seq, length, dim = x.shape
    hd = dim // attn.num_heads
    out = np.zeros((n_seq, length, dim))
    for n in range(n_seq):
        qkv = x[n].astype(np.float64) @ W_qkv + b_qkv               # (T, 3D)
        heads = []
        for h in range(attn.num_heads):
            q = qkv[:, h * hd:(h + 1) * hd]
            k = qkv[:, dim + h * hd:dim + (h + 1) * hd]
            v = qkv[:, 2 * dim + h * hd:2 * dim + (h + 1) * hd]
            head = np.zeros((length, hd))
            for i in range(length):
                visible = range(i + 1) if attn.causal else range(length)
                scores = np.array([q[i] @ k[j] / math.sqrt(hd) for j in visible])
                weights = np.exp(scores - scores.max())
                weights /= weights.sum()
                head[i] = sum(w * v[j] for w, j in zip(weights, visible))
            heads.append(head)
        out[n] = np.concatenate(heads, axis=1) @ W_out + b_out
    return out


def _with_random_biases(attn: MultiHeadSelfAttention, rng) -> MultiHeadSelfAttention:
    attn.b_qkv[...] = rng.normal(size=attn.b_qkv.shape)
    attn.b_out[...] = rng.normal(size=attn.b_out.shape)
    return attn


# ------------------------------------------------------------------------------ shapes and init

def test_attention_parameters_have_the_documented_shapes():
    attn = MultiHeadSelfAttention(12, 3)
    assert [(name, p.shape) for name, p in attn.named_parameters()] == [
        ("W_qkv", (12, 36)), ("b_qkv", (1, 36)), ("W_out", (12, 12)), ("b_out", (1, 12))], SEE
    assert attn.head_dim == 4
    assert all(p.dtype == np.float32 for p in attn.parameters())


def test_attention_parameters_follow_the_default_dtype(float64):
    assert all(p.dtype == np.float64 for p in MultiHeadSelfAttention(4, 2).parameters())


def test_attention_initialisation_is_pytorchs():
    """W_qkv: Xavier-uniform of a (3D, D) matrix, bound sqrt(6 / (D + 3D)); W_out: uniform in
    +-1/sqrt(D) (nn.Linear's default); biases 0. With 3 * 64 * 64 and 64 * 64 draws the largest
    magnitude lies within 2 % of the bound."""
    dim = 64
    attn = MultiHeadSelfAttention(dim, 4)
    qkv_bound, out_bound = math.sqrt(6 / (4 * dim)), 1 / math.sqrt(dim)
    assert 0.98 * qkv_bound < float(np.abs(attn.W_qkv).max()) <= qkv_bound
    assert 0.98 * out_bound < float(np.abs(attn.W_out).max()) <= out_bound
    assert not attn.b_qkv.any() and not attn.b_out.any()


def test_attention_repr_shows_its_configuration():
    assert repr(MultiHeadSelfAttention(8, 2)) == (
        "MultiHeadSelfAttention(embed_dim=8, num_heads=2, causal=True)")


# ------------------------------------------------------------------------------------ forward
# The forward tests of the function come first: a student release runs the tests of
# scaled_dot_product_attention before those of its backward, so a wrong forward (a softmax over
# the wrong axis) is reported here and not first by the backward's gradient check.

@pytest.mark.parametrize("causal", [True, False])
def test_scaled_dot_product_attention_equals_a_loop_over_rows(causal, rng):
    """Row i of head (n, h): weights softmax_j(q_i . k_j / sqrt(hd)) over the visible j (j <= i
    when causal), output sum_j w_j v_j; the weights of hidden positions are 0."""
    q, k, v = (rng.normal(size=(2, 3, 5, 4)) for _ in range(3))
    out, weights = scaled_dot_product_attention(q, k, v, causal=causal)
    expected_out, expected_weights = np.zeros_like(q), np.zeros((2, 3, 5, 5))
    for n in range(2):
        for h in range(3):
            for i in range(5):
                visible = list(range(i + 1) if causal else range(5))
                scores = np.array([q[n, h, i] @ k[n, h, j] / 2.0 for j in visible])  # sqrt(4)
                row = np.exp(scores - scores.max())
                expected_weights[n, h, i, visible] = row / row.sum()
                expected_out[n, h, i] = expected_weights[n, h, i] @ v[n, h]
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-10, atol=1e-12, err_msg=(
        f"scaled_dot_product_attention weights: a softmax over the last axis (each query's "
        f"row); {SEE}"))
    np.testing.assert_allclose(out, expected_out, rtol=1e-10, atol=1e-12,
                               err_msg=f"scaled_dot_product_attention output; {SEE}")


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("num_heads", [1, 3])
def test_attention_equals_a_loop_over_heads_and_positions(causal, num_heads, rng):
    attn = _with_random_biases(MultiHeadSelfAttention(6, num_heads, causal=causal), rng)
    x = rng.normal(size=(2, 5, 6)).astype(np.float32)
    np.testing.assert_allclose(attn(x), _reference(attn, x), rtol=1e-4, atol=1e-5, err_msg=(
        f"MultiHeadSelfAttention.forward (causal={causal}, heads={num_heads}); {SEE}"))


def test_attention_output_keeps_the_input_shape_and_float32(rng):
    attn = MultiHeadSelfAttention(8, 2)
    x = rng.normal(size=(3, 4, 8)).astype(np.float32)
    y = attn(x)
    grad_x = attn.backward(np.ones_like(y))
    assert y.shape == x.shape
    assert y.dtype == grad_x.dtype == np.float32
    assert all(g.dtype == np.float32 for g in attn.grads()), f"keep float32; {SEE}"


def test_causal_attention_does_not_look_ahead(rng):
    """Changing the token at position 3 leaves the outputs at positions 0-2 exactly as they
    were, and changes position 3 itself."""
    attn = MultiHeadSelfAttention(8, 2)
    x = rng.normal(size=(2, 6, 8)).astype(np.float32)
    before = attn(x)
    x[:, 3] += rng.normal(size=(2, 8)).astype(np.float32)
    after = attn(x)
    np.testing.assert_array_equal(after[:, :3], before[:, :3], err_msg=(
        f"MultiHeadSelfAttention: an earlier position must not see a later one; {SEE}"))
    assert not np.allclose(after[:, 3], before[:, 3])


def test_non_causal_attention_sees_the_whole_sequence(rng):
    attn = MultiHeadSelfAttention(8, 2, causal=False)
    x = rng.normal(size=(1, 4, 8)).astype(np.float32)
    before = attn(x)
    x[:, -1] += 1.0
    assert not np.allclose(attn(x)[:, 0], before[:, 0])


def test_scaled_dot_product_attention_weights_are_zero_above_the_diagonal_and_rows_sum_to_one(
        rng):
    q, k, v = (rng.normal(size=(2, 3, 5, 4)) for _ in range(3))
    _, weights = scaled_dot_product_attention(q, k, v, causal=True)
    assert weights.shape == (2, 3, 5, 5)
    assert not weights[..., np.triu(np.ones((5, 5), bool), k=1)].any(), SEE
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)


def test_attention_over_one_position_returns_the_projected_value(rng):
    """With T = 1 every softmax is over one score: weight 1, so each head returns v itself and
    y = (x W_v + b_v) W_out + b_out, with W_v the last D columns of W_qkv."""
    attn = _with_random_biases(MultiHeadSelfAttention(6, 2), rng)
    x = rng.normal(size=(4, 1, 6)).astype(np.float32)
    value = x[:, 0] @ attn.W_qkv[:, 12:] + attn.b_qkv[:, 12:]
    np.testing.assert_allclose(attn(x)[:, 0], value @ attn.W_out + attn.b_out, rtol=1e-5,
                               atol=1e-6, err_msg=SEE)


def test_attention_is_stable_for_large_scores():
    attn = MultiHeadSelfAttention(4, 1)
    y = attn(np.full((1, 3, 4), 1e4, np.float32) * np.arange(1, 5, dtype=np.float32))
    assert np.all(np.isfinite(y)), f"subtract the row maximum before exp; {SEE}"


# ----------------------------------------------------------------------------------- backward

@pytest.mark.parametrize("causal", [True, False])
def test_attention_gradients_match_central_differences(causal, float64, rng):
    attn = _with_random_biases(MultiHeadSelfAttention(6, 2, causal=causal), rng)
    assert gradcheck(attn, rng.normal(size=(2, 4, 6)), name="MultiHeadSelfAttention")


def test_scaled_dot_product_attention_backward_matches_central_differences(rng):
    q, k, v = (rng.normal(size=(2, 2, 4, 3)) for _ in range(3))

    def forward(q, k, v):
        return scaled_dot_product_attention(q, k, v, causal=True)[0]

    def backward(grad_output, q, k, v):
        _, weights = scaled_dot_product_attention(q, k, v, causal=True)
        return scaled_dot_product_attention_backward(grad_output, q, k, v, weights)

    assert gradcheck(forward, backward, (q, k, v),
                     name=f"scaled_dot_product_attention_backward ({SEE_BACKWARD})")


def test_attention_input_gradient_of_an_early_position_ignores_later_losses(rng):
    """Causality backwards: a loss on position 0 only has no gradient on positions 1.."""
    attn = MultiHeadSelfAttention(4, 2)
    attn(rng.normal(size=(1, 5, 4)).astype(np.float32))
    grad_output = np.zeros((1, 5, 4), np.float32)
    grad_output[0, 0] = 1.0
    grad_x = attn.backward(grad_output)
    assert not grad_x[0, 1:].any(), SEE_BACKWARD
    assert grad_x[0, 0].any()


def test_attention_backward_accumulates_until_zero_grad(rng):
    attn = MultiHeadSelfAttention(4, 2)
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    grad_output = rng.normal(size=(2, 3, 4)).astype(np.float32)
    attn(x)
    attn.backward(grad_output)
    once = [g.copy() for g in attn.grads()]
    attn(x)
    attn.backward(grad_output)
    for (name, _), grad, first in zip(attn.named_parameters(), attn.grads(), once):
        np.testing.assert_allclose(grad, 2 * first, rtol=1e-5, atol=1e-7, err_msg=(
            f"MultiHeadSelfAttention.backward must add to d{name} until zero_grad; "
            f"{SEE_BACKWARD}"))
    attn.zero_grad()
    assert all(not g.any() for g in attn.grads())


# ------------------------------------------------------------------------------------- errors

def test_attention_refuses_embed_dim_not_divisible_by_num_heads():
    with pytest.raises(ValueError, match=r"embed_dim \(10\).*num_heads \(3\)"):
        MultiHeadSelfAttention(10, 3)


@pytest.mark.parametrize("shape", [(4, 8), (2, 3, 6)])
def test_attention_refuses_an_input_that_is_not_n_t_d(shape):
    with pytest.raises(ValueError, match=r"MultiHeadSelfAttention\.forward"):
        MultiHeadSelfAttention(8, 2)(np.ones(shape, np.float32))


def test_attention_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="forward"):
        MultiHeadSelfAttention(4, 2).backward(np.ones((1, 2, 4), np.float32))


def test_attention_backward_refuses_a_gradient_of_the_wrong_shape():
    attn = MultiHeadSelfAttention(4, 2)
    attn(np.ones((1, 3, 4), np.float32))
    with pytest.raises(ValueError, match="grad_output"):
        attn.backward(np.ones((1, 4, 4), np.float32))


def test_attention_under_no_grad_keeps_no_cache_and_backward_raises(rng):
    attn = MultiHeadSelfAttention(4, 2)
    x = rng.normal(size=(1, 3, 4)).astype(np.float32)
    with mini_torch.no_grad():
        y = attn(x)
    np.testing.assert_array_equal(y, attn(x))
    with mini_torch.no_grad():
        attn(x)
    assert attn.attn is None, "under no_grad the attention weights are not kept"
    with pytest.raises(RuntimeError, match="no_grad"):
        attn.backward(np.ones_like(y))


def _arrays_kept_for_backward(model) -> list[str]:
    """The array attributes of the tree that are neither parameters, gradients nor buffers."""
    state = {id(array) for array in model.parameters() + model.buffers()}
    state |= {id(grad) for grad in model.grads() if grad is not None}
    return [f"{name}.{attr}" if name else attr
            for name, module in model.named_modules()
            for attr, value in vars(module).items()
            if isinstance(value, np.ndarray) and id(value) not in state]


def test_attention_in_training_mode_under_no_grad_keeps_no_array_for_backward(rng):
    """Not its input, q, k, v, weights or context, nor its attention dropout mask (N, H, T, T)."""
    attn = MultiHeadSelfAttention(8, 2, dropout=0.5)      # training mode: a mask is drawn
    x = rng.normal(size=(2, 5, 8)).astype(np.float32)
    attn(x)
    assert {"x", "q", "k", "v", "attn", "context", "dropout_mask"} <= set(
        _arrays_kept_for_backward(attn))
    with mini_torch.no_grad():
        attn(x)
    assert _arrays_kept_for_backward(attn) == [], "under no_grad nothing is kept for backward"
