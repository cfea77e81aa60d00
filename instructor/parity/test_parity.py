"""Stage 6's layers against their PyTorch twins, forward and backward, in float64.

Each test copies mini_torch's parameters into the PyTorch module with the mapping of
docs/stage6.md (attention in PyTorch) (mini_torch keeps ``W`` as ``(in, out)`` for ``x @ W``;
PyTorch keeps ``weight`` as ``(out, in)``), runs both on the same input, back-propagates the same
random ``grad_output`` (in PyTorch as ``(y * G).sum().backward()``) and compares the output, the
input gradient and every parameter gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mini_torch
from mini_torch.nn import Dropout, Embedding, LayerNorm, MultiHeadSelfAttention, TransformerBlock

#: Largest absolute difference accepted in float64 (the measured ones are around 1e-15).
TOLERANCE = 1e-10


def _t(array: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=grad)


def _copy(parameter: torch.nn.Parameter, value: np.ndarray) -> None:
    with torch.no_grad():
        parameter.copy_(_t(value).reshape(parameter.shape))


def _causal_mask(length: int) -> torch.Tensor:
    """-inf above the diagonal, 0 elsewhere: the float ``attn_mask`` of
    docs/stage6.md#attention-in-pytorch."""
    return torch.triu(torch.full((length, length), float("-inf"), dtype=torch.float64), 1)


def _check(record, comparison: str, pairs: list[tuple[str, object, object]]) -> None:
    errors = {quantity: record(comparison, quantity, ours, theirs)
              for quantity, ours, theirs in pairs}
    bad = {quantity: error for quantity, error in errors.items() if not error <= TOLERANCE}
    assert not bad, f"{comparison}: max abs errors above {TOLERANCE:g}: {bad}"


def _run_torch(module, x: torch.Tensor, grad_output: np.ndarray, **kwargs) -> torch.Tensor:
    out = module(x, **kwargs) if not isinstance(module, torch.nn.MultiheadAttention) else \
        module(x, x, x, need_weights=False, **kwargs)[0]
    (out * _t(grad_output)).sum().backward()
    return out


def _randomise(module, rng: np.random.Generator) -> None:
    """Move every parameter off its initial value (ones, zeros) so each gradient term counts."""
    for param in module.parameters():
        param += 0.3 * rng.normal(size=param.shape)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(2024)


def test_embedding_matches_torch_embedding(record, rng):
    ours = Embedding(11, 6)
    theirs = torch.nn.Embedding(11, 6, dtype=torch.float64)
    _copy(theirs.weight, ours.W)
    indices = np.array([[0, 3, 3, 10], [7, 3, 0, 1], [2, 2, 2, 2]])  # repeats on purpose
    grad_output = rng.normal(size=(3, 4, 6))
    y = ours(indices)
    ours.backward(grad_output)
    out = theirs(torch.tensor(indices))
    (out * _t(grad_output)).sum().backward()
    _check(record, "Embedding", [("forward", y, out.detach()),
                         ("grad W / weight", ours.dW, theirs.weight.grad)])


@pytest.mark.parametrize("shape", [(5, 8), (2, 4, 8)])
def test_layer_norm_matches_torch_layer_norm(record, shape, rng):
    ours = LayerNorm(8)
    _randomise(ours, rng)
    theirs = torch.nn.LayerNorm(8, dtype=torch.float64)
    _copy(theirs.weight, ours.gamma)
    _copy(theirs.bias, ours.beta)
    x = rng.normal(size=shape) * 3 + 1
    grad_output = rng.normal(size=shape)
    y = ours(x)
    grad_x = ours.backward(grad_output)
    x_t = _t(x, grad=True)
    out = _run_torch(theirs, x_t, grad_output)
    _check(record, f"LayerNorm {shape}", [
        ("forward", y, out.detach()), ("grad x", grad_x, x_t.grad),
        ("grad gamma / weight", ours.dgamma, theirs.weight.grad),
        ("grad beta / bias", ours.dbeta, theirs.bias.grad)])


class _ImposedDraws:
    """Stands in for mini_torch's generator: ``random`` returns 1 - 1e-9 where PyTorch kept an
    entry and 0 where it dropped it, so the reference's ``random(shape) >= p`` draws PyTorch's
    mask."""

    def __init__(self, keep: np.ndarray) -> None:
        self.keep = keep

    def random(self, shape) -> np.ndarray:
        assert tuple(shape) == self.keep.shape
        return np.where(self.keep, 1.0 - 1e-9, 0.0)


def test_dropout_with_torchs_mask_imposed_matches_torch_dropout(record, rng, monkeypatch):
    p = 0.3
    x = rng.normal(size=(4, 5, 6))
    grad_output = rng.normal(size=(4, 5, 6))
    x_t = _t(x, grad=True)
    out = torch.nn.functional.dropout(x_t, p, training=True)
    (out * _t(grad_output)).sum().backward()
    keep = out.detach().numpy() != 0
    imposed = _ImposedDraws(keep)
    monkeypatch.setattr(mini_torch.init, "get_generator", lambda: imposed)  # Dropout asks it
    ours = Dropout(p)
    y = ours(x)
    grad_x = ours.backward(grad_output)
    _check(record, "Dropout (torch's mask)", [("forward", y, out.detach()),
                                               ("grad x", grad_x, x_t.grad)])
    ours.eval()
    _check(record, "Dropout eval", [("forward", ours(x), torch.nn.functional.dropout(
        _t(x), p, training=False))])


def _torch_attention(ours: MultiHeadSelfAttention) -> torch.nn.MultiheadAttention:
    theirs = torch.nn.MultiheadAttention(ours.embed_dim, ours.num_heads, batch_first=True,
                                         dtype=torch.float64)
    _copy(theirs.in_proj_weight, ours.W_qkv.T)
    _copy(theirs.in_proj_bias, ours.b_qkv.ravel())
    _copy(theirs.out_proj.weight, ours.W_out.T)
    _copy(theirs.out_proj.bias, ours.b_out.ravel())
    return theirs


@pytest.mark.parametrize("causal", [True, False])
def test_attention_matches_torch_multihead_attention(record, causal, rng):
    ours = MultiHeadSelfAttention(12, 3, causal=causal)
    _randomise(ours, rng)
    theirs = _torch_attention(ours)
    x = rng.normal(size=(3, 7, 12))
    grad_output = rng.normal(size=(3, 7, 12))
    y = ours(x)
    grad_x = ours.backward(grad_output)
    x_t = _t(x, grad=True)
    out = _run_torch(theirs, x_t, grad_output, attn_mask=_causal_mask(7) if causal else None)
    _check(record, f"MultiHeadSelfAttention causal={causal}", [
        ("forward", y, out.detach()), ("grad x", grad_x, x_t.grad),
        ("grad W_qkv", ours.dW_qkv.T, theirs.in_proj_weight.grad),
        ("grad b_qkv", ours.db_qkv.ravel(), theirs.in_proj_bias.grad),
        ("grad W_out", ours.dW_out.T, theirs.out_proj.weight.grad),
        ("grad b_out", ours.db_out.ravel(), theirs.out_proj.bias.grad)])


def _transformer_mapping(ours: TransformerBlock, theirs) -> list[tuple]:
    """(our array, torch parameter, transposed?) of every parameter of a block, in our
    parameters' order; copies ours into the torch layer."""
    mapping = [
        (ours.ln1.gamma, theirs.norm1.weight, False), (ours.ln1.beta, theirs.norm1.bias, False),
        (ours.attn.W_qkv, theirs.self_attn.in_proj_weight, True),
        (ours.attn.b_qkv, theirs.self_attn.in_proj_bias, False),
        (ours.attn.W_out, theirs.self_attn.out_proj.weight, True),
        (ours.attn.b_out, theirs.self_attn.out_proj.bias, False),
        (ours.ln2.gamma, theirs.norm2.weight, False), (ours.ln2.beta, theirs.norm2.bias, False),
        (ours.mlp[0].W, theirs.linear1.weight, True), (ours.mlp[0].b, theirs.linear1.bias, False),
        (ours.mlp[2].W, theirs.linear2.weight, True), (ours.mlp[2].b, theirs.linear2.bias, False),
    ]
    for mine, torch_param, transpose in mapping:
        _copy(torch_param, mine.T if transpose else mine)
    return mapping


def test_transformer_block_matches_torch_transformer_encoder_layer(record, rng):
    dim, heads, ratio = 16, 4, 4
    ours = TransformerBlock(dim, heads, mlp_ratio=ratio, dropout=0.0)
    _randomise(ours, rng)
    theirs = torch.nn.TransformerEncoderLayer(
        dim, heads, ratio * dim, dropout=0.0, activation="gelu", batch_first=True,
        norm_first=True, dtype=torch.float64)
    mapping = _transformer_mapping(ours, theirs)
    assert len(mapping) == len(ours.parameters())
    x = rng.normal(size=(2, 9, dim))
    grad_output = rng.normal(size=(2, 9, dim))
    y = ours(x)
    grad_x = ours.backward(grad_output)
    x_t = _t(x, grad=True)
    out = _run_torch(theirs, x_t, grad_output, src_mask=_causal_mask(9))
    pairs = [("forward", y, out.detach()), ("grad x", grad_x, x_t.grad)]
    named = dict(ours.named_parameters())
    grads = dict(zip(named, ours.grads()))
    for (name, mine), (_, torch_param, transpose) in zip(named.items(), mapping):
        grad = grads[name]
        pairs.append((f"grad {name}", grad.T if transpose else grad.reshape(mine.shape),
                      torch_param.grad.reshape(grad.T.shape if transpose else mine.shape)))
    _check(record, "TransformerBlock", pairs)
