"""Parity with PyTorch of what the GPT and GAN ports of docs/pytorch.md need, in float64.

``Linear`` on ``(N, T, in)`` with and without a bias, ``BatchNorm1d`` (training: output,
gradients and running statistics over two steps; evaluation), ``BCELoss``,
``CrossEntropyLoss(ignore_index=...)``, ``clip_grad_norm_``, ``TransformerBlock`` with a ReLU
MLP, and attention-weight dropout under PyTorch's mask. The errors are recorded in the table
printed at the end of ``nox -s parity``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mini_torch.nn import (
    BatchNorm1d,
    BCELoss,
    CrossEntropyLoss,
    Linear,
    Sequential,
    Tanh,
    TransformerBlock,
)
from mini_torch.nn.utils import clip_grad_norm_

from .test_parity import (
    _causal_mask,
    _check,
    _copy,
    _randomise,
    _run_torch,
    _t,
    _transformer_mapping,
)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(2026)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_on_a_sequence_matches_torch_linear(record, bias, rng):
    ours = Linear(6, 4, bias=bias)
    if bias:
        ours.b[...] = rng.normal(size=ours.b.shape)
    theirs = torch.nn.Linear(6, 4, bias=bias, dtype=torch.float64)
    _copy(theirs.weight, ours.W.T)
    if bias:
        _copy(theirs.bias, ours.b.ravel())
    x, grad_output = rng.normal(size=(3, 5, 6)), rng.normal(size=(3, 5, 4))
    y = ours(x)
    grad_x = ours.backward(grad_output)
    x_t = _t(x, grad=True)
    out = _run_torch(theirs, x_t, grad_output)
    pairs = [("forward", y, out.detach()), ("grad x", grad_x, x_t.grad),
             ("grad W / weight", ours.dW.T, theirs.weight.grad)]
    if bias:
        pairs.append(("grad b / bias", ours.db.ravel(), theirs.bias.grad))
    _check(record, f"Linear (3, 5, 6) bias={bias}", pairs)


def _torch_batch_norm(ours: BatchNorm1d) -> torch.nn.BatchNorm1d:
    theirs = torch.nn.BatchNorm1d(ours.num_features, eps=ours.eps, momentum=ours.momentum,
                                  affine=ours.affine, dtype=torch.float64)
    if ours.affine:
        _copy(theirs.weight, ours.gamma)
        _copy(theirs.bias, ours.beta)
    return theirs


@pytest.mark.parametrize("shape, eps, affine, momentum", [
    ((8, 5), 1e-5, True, 0.1), ((8, 5), 0.8, True, 0.1), ((4, 5, 3), 1e-5, True, 0.3),
    ((6, 5), 1e-5, False, None)])
def test_batch_norm_training_matches_torch_over_two_steps(record, shape, eps, affine, momentum,
                                                         rng):
    ours = BatchNorm1d(5, eps, momentum=momentum, affine=affine)
    if affine:
        _randomise(ours, rng)
    theirs = _torch_batch_norm(ours)
    label = f"BatchNorm1d train {shape} eps={eps} affine={affine} momentum={momentum}"
    for step in range(2):
        x, grad_output = rng.normal(size=shape) * 2 + 1, rng.normal(size=shape)
        y = ours(x)
        grad_x = ours.backward(grad_output)
        x_t = _t(x, grad=True)
        out = _run_torch(theirs, x_t, grad_output)
        pairs = [("forward", y, out.detach()), ("grad x", grad_x, x_t.grad),
                 ("running_mean", ours.running_mean, theirs.running_mean),
                 ("running_var", ours.running_var, theirs.running_var),
                 ("num_batches_tracked", ours.num_batches_tracked, theirs.num_batches_tracked)]
        if affine:
            pairs += [("grad gamma / weight", ours.dgamma, theirs.weight.grad),
                      ("grad beta / bias", ours.dbeta, theirs.bias.grad)]
        _check(record, f"{label} step {step + 1}", pairs)


def test_batch_norm_eval_matches_torch(record, rng):
    ours = BatchNorm1d(5)
    _randomise(ours, rng)
    theirs = _torch_batch_norm(ours)
    for _ in range(3):  # running statistics from three training batches, in both
        x = rng.normal(size=(6, 5)) * 3 - 1
        ours(x)
        theirs(_t(x))
    ours.eval()
    theirs.eval()
    x, grad_output = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    y = ours(x)
    grad_x = ours.backward(grad_output)
    x_t = _t(x, grad=True)
    out = _run_torch(theirs, x_t, grad_output)
    _check(record, "BatchNorm1d eval", [
        ("forward", y, out.detach()), ("grad x", grad_x, x_t.grad),
        ("grad gamma / weight", ours.dgamma, theirs.weight.grad),
        ("grad beta / bias", ours.dbeta, theirs.bias.grad)])


def test_batch_norm_state_dict_names_match_torch():
    ours = {name.replace("gamma", "weight").replace("beta", "bias")
            for name in BatchNorm1d(3).state_dict()}
    assert ours == set(torch.nn.BatchNorm1d(3).state_dict())


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_bce_loss_matches_torch(record, reduction, rng):
    p = rng.uniform(0.01, 0.99, size=(7, 3))
    p[0, 0], p[1, 1] = 0.0, 1.0  # torch clamps the logs at -100; so do we
    t = rng.uniform(0, 1, size=(7, 3))
    criterion = BCELoss(reduction)
    value = criterion(p, t)
    grad = criterion.backward()
    p_t = _t(p, grad=True)
    theirs = torch.nn.BCELoss(reduction=reduction)(p_t, _t(t))
    theirs.backward()
    inside = (p > 0) & (p < 1)
    _check(record, f"BCELoss {reduction}", [
        ("forward", value, theirs.detach()),
        ("grad predictions", grad[inside], p_t.grad.numpy()[inside])])
    # At p = 0 or 1 both divide by max(p (1 - p), 1e-12), about 1e12 times (p - t): torch
    # holds that 1e-12 in float32 (9.99999996e-13), so only the relative error is small there.
    saturated = p_t.grad.numpy()[~inside]
    relative = np.abs(grad[~inside] - saturated) / np.abs(saturated)
    assert relative.max() < 1e-7, relative


@pytest.mark.parametrize("reduction, label_smoothing, ignore_index", [
    ("mean", 0.0, -100), ("sum", 0.0, -100), ("mean", 0.1, -100), ("mean", 0.0, 2)])
def test_cross_entropy_ignore_index_matches_torch(record, reduction, label_smoothing,
                                                  ignore_index, rng):
    logits = rng.normal(size=(9, 4)) * 2
    targets = np.array([0, -100, 3, 2, -100, 1, 2, 0, 3])
    if ignore_index != -100:
        targets[targets == -100] = 1
    criterion = CrossEntropyLoss(reduction, label_smoothing, ignore_index=ignore_index)
    value = criterion(logits, targets)
    grad = criterion.backward()
    logits_t = _t(logits, grad=True)
    theirs = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=label_smoothing,
                                       ignore_index=ignore_index)(logits_t, torch.tensor(targets))
    theirs.backward()
    _check(record, f"CrossEntropyLoss {reduction} ls={label_smoothing} ignore={ignore_index}",
           [("forward", value, theirs.detach()), ("grad logits", grad, logits_t.grad)])


@pytest.mark.parametrize("max_norm, norm_type", [(0.5, 2.0), (100.0, 2.0), (0.1, float("inf"))])
def test_clip_grad_norm_matches_torch(record, max_norm, norm_type, rng):
    ours = Sequential(Linear(3, 4), Tanh(), Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    theirs = theirs.double()
    for index in (0, 2):
        _copy(theirs[index].weight, ours[index].W.T)
        _copy(theirs[index].bias, ours[index].b.ravel())
    x, grad_output = rng.normal(size=(5, 3)), 5 * rng.normal(size=(5, 2))
    ours(x)
    ours.backward(grad_output)
    _run_torch(theirs, _t(x), grad_output)
    total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type=norm_type)
    _check(record, f"clip_grad_norm_ max_norm={max_norm} p={norm_type}", [
        ("total norm", total, total_t),
        ("grad W (layer 0)", ours[0].dW.T, theirs[0].weight.grad),
        ("grad b (layer 2)", ours[2].db.ravel(), theirs[2].bias.grad)])


def test_transformer_block_with_relu_matches_torch(record, rng):
    dim, heads = 8, 2
    ours = TransformerBlock(dim, heads, mlp_ratio=2, activation="relu")
    _randomise(ours, rng)
    theirs = torch.nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout=0.0,
                                              activation="relu", batch_first=True,
                                              norm_first=True, dtype=torch.float64)
    _transformer_mapping(ours, theirs)
    x, grad_output = rng.normal(size=(2, 5, dim)), rng.normal(size=(2, 5, dim))
    y = ours(x)
    grad_x = ours.backward(grad_output)
    x_t = _t(x, grad=True)
    out = _run_torch(theirs, x_t, grad_output, src_mask=_causal_mask(5))
    _check(record, "TransformerBlock activation=relu", [
        ("forward", y, out.detach()), ("grad x", grad_x, x_t.grad),
        ("grad mlp.0.W", ours.mlp[0].dW.T, theirs.linear1.weight.grad)])


def test_attention_dropout_with_torchs_mask_imposed_matches_torch(record, rng, monkeypatch):
    """PyTorch drops attention weights inside ``MultiheadAttention`` (the ``need_weights`` path
    draws one ``dropout`` of the ``(N * H, T, T)`` weights); reseeding and drawing the same
    dropout of ones recovers its mask, which is imposed on ours."""
    import mini_torch.nn.attention as attention
    from mini_torch.nn import MultiHeadSelfAttention

    from .test_parity import _torch_attention

    p, (batch, length, dim, heads) = 0.3, (2, 5, 8, 2)
    ours = MultiHeadSelfAttention(dim, heads, causal=True, dropout=p)
    _randomise(ours, rng)
    theirs = _torch_attention(ours)
    theirs.dropout = p
    theirs.train()
    x, grad_output = rng.normal(size=(batch, length, dim)), rng.normal(size=(batch, length, dim))
    x_t = _t(x, grad=True)
    torch.manual_seed(7)
    out = theirs(x_t, x_t, x_t, need_weights=True, attn_mask=_causal_mask(length))[0]
    (out * _t(grad_output)).sum().backward()
    torch.manual_seed(7)
    mask = torch.nn.functional.dropout(torch.ones(batch * heads, length, length,
                                                  dtype=torch.float64), p)
    mask = mask.numpy().reshape(batch, heads, length, length)
    monkeypatch.setattr(attention, "dropout_mask", lambda shape, p, generator, dtype: mask)
    y = ours(x)
    grad_x = ours.backward(grad_output)
    _check(record, "MultiHeadSelfAttention dropout=0.3 (torch's mask)", [
        ("forward", y, out.detach()), ("grad x", grad_x, x_t.grad),
        ("grad W_qkv", ours.dW_qkv.T, theirs.in_proj_weight.grad),
        ("grad W_out", ours.dW_out.T, theirs.out_proj.weight.grad)])
