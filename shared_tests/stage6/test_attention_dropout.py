"""Attention-weight dropout: ``MultiHeadSelfAttention(D, H, dropout=p)``.

In training mode the weights ``softmax(q k^T / sqrt(hd))`` are multiplied by an inverted-dropout
mask before they mix the values (``(attn * mask) @ v``), as in ``torch.nn.MultiheadAttention``;
in evaluation mode, and with ``p = 0``, nothing changes. The backward is checked numerically
with the mask held fixed. See docs/stage6.md#attention-dropout.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
from mini_torch.nn import MultiHeadSelfAttention
from mini_torch.nn.attention import (
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
)
from mini_torch.nn.dropout import dropout_mask
from mini_torch.testing import gradcheck


def test_attention_with_a_mask_mixes_the_masked_weights(rng):
    q, k, v = (rng.normal(size=(2, 2, 4, 3)) for _ in range(3))
    mask = dropout_mask((2, 2, 4, 4), 0.5, rng, np.float64)
    out, weights = scaled_dot_product_attention(q, k, v, causal=True, dropout_mask=mask)
    plain, same_weights = scaled_dot_product_attention(q, k, v, causal=True)
    np.testing.assert_allclose(weights, same_weights)          # the weights before dropout
    np.testing.assert_allclose(out, (weights * mask) @ v, rtol=1e-12)
    assert not np.allclose(out, plain)


def test_attention_backward_with_a_fixed_mask_matches_central_differences(rng):
    q, k, v = (rng.normal(size=(2, 2, 4, 3)) for _ in range(3))
    mask = dropout_mask((2, 2, 4, 4), 0.3, rng, np.float64)

    def forward(q, k, v):
        return scaled_dot_product_attention(q, k, v, True, mask)[0]

    def backward(grad_output, q, k, v):
        _, weights = scaled_dot_product_attention(q, k, v, True, mask)
        return scaled_dot_product_attention_backward(grad_output, q, k, v, weights, mask)

    assert gradcheck(forward, backward, (q, k, v), name="attention backward with dropout")


def test_attention_module_uses_a_fresh_mask_in_training_and_none_in_eval(rng):
    mini_torch.manual_seed(3)
    attn = MultiHeadSelfAttention(8, 2, dropout=0.5)
    x = rng.normal(size=(2, 5, 8)).astype(np.float32)
    y = attn(x)
    mask = attn.dropout_mask
    assert mask.shape == (2, 2, 5, 5) and mask.dtype == np.float32
    assert set(np.unique(mask)) <= {0.0, 2.0}
    attn.eval()
    y_eval = attn(x)
    assert attn.dropout_mask is None
    no_dropout = MultiHeadSelfAttention(8, 2)
    no_dropout.load_state_dict(attn.state_dict())
    np.testing.assert_allclose(y_eval, no_dropout(x), rtol=1e-6, atol=1e-7)
    assert not np.allclose(y, y_eval)


def test_attention_module_gradients_with_a_fixed_mask_match_central_differences(
        rng, float64, monkeypatch):
    """Every forward of the gradcheck draws "its" mask; fixing the draw makes them one mask."""
    import mini_torch.nn.attention as attention
    fixed = dropout_mask((2, 2, 3, 3), 0.4, rng, np.float64)
    monkeypatch.setattr(attention, "dropout_mask", lambda shape, p, generator, dtype: fixed)
    module = MultiHeadSelfAttention(4, 2, dropout=0.4)
    assert gradcheck(module, rng.normal(size=(2, 3, 4)), name="MultiHeadSelfAttention(dropout)")
    assert module.dropout_mask is fixed


def test_attention_refuses_a_dropout_outside_0_1():
    with pytest.raises(ValueError, match="dropout"):
        MultiHeadSelfAttention(8, 2, dropout=1.5)
