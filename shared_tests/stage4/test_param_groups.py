"""Parameter groups, as in PyTorch: ``AdamW([{"params": ..., "lr": ...}, ...])``.

A group's ``params`` are modules (Mini-Torch optimizers read ``parameters()`` / ``grads()``);
each group's options override the constructor's, which are the defaults. The expected
parameters are the documented update rules written out here in float64, one step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mini_torch.nn import Linear
from mini_torch.optim import SGD, Adam, AdamW


def _layers_with_gradients(float_dtype=np.float64):
    """Two Linear layers with fixed gradients set by hand (as a backward would)."""
    rng = np.random.default_rng(0)
    layers = [Linear(3, 2), Linear(2, 4)]
    for layer in layers:
        layer.W = layer.W.astype(float_dtype)
        layer.b = layer.b.astype(float_dtype)
        layer.dW = rng.standard_normal(layer.W.shape)
        layer.db = rng.standard_normal(layer.b.shape)
    return layers


def _sgd_one_step(p, g, lr, momentum=0.0, weight_decay=0.0):
    """torch.optim.SGD, first step: g += wd p; b = g; p -= lr * b (momentum or not)."""
    return p - lr * (g + weight_decay * p)


def _adamw_one_step(p, g, lr, betas, eps, weight_decay):
    """torch.optim.AdamW, step 1: p *= 1 - lr wd; m_hat = g; v_hat = g^2; p -= lr m_hat / (...)."""
    p = p * (1 - lr * weight_decay)
    m_hat = (1 - betas[0]) * g / (1 - betas[0])
    v_hat = (1 - betas[1]) * g * g / (1 - betas[1])
    return p - lr * m_hat / (np.sqrt(v_hat) + eps)


def test_adamw_groups_use_their_own_options_and_fall_back_to_the_defaults():
    body, head = _layers_with_gradients()
    expected = {
        "body": [_adamw_one_step(p, g, 0.1, (0.9, 0.999), 1e-8, 0.01)
                 for p, g in zip(body.parameters(), body.grads())],
        "head": [_adamw_one_step(p, g, 1e-3, (0.5, 0.9), 1e-8, 0.0)
                 for p, g in zip(head.parameters(), head.grads())],
    }
    optimizer = AdamW([{"params": body, "lr": 0.1},
                       {"params": [head], "weight_decay": 0.0, "betas": (0.5, 0.9)}])
    optimizer.step()
    for name, layer in (("body", body), ("head", head)):
        for param, want in zip(layer.parameters(), expected[name]):
            np.testing.assert_allclose(param, want, rtol=1e-10, atol=1e-12)


def test_sgd_groups_and_a_schedule_written_the_pytorch_way():
    body, head = _layers_with_gradients()
    optimizer = SGD([{"params": body}, {"params": head, "lr": 0.5}], lr=0.1, weight_decay=0.2)
    for group in optimizer.param_groups:  # the schedule loop of PyTorch programs
        group["lr"] = group["lr"] / 10
    expected = [_sgd_one_step(p, g, 0.01, weight_decay=0.2)
                for p, g in zip(body.parameters(), body.grads())]
    expected += [_sgd_one_step(p, g, 0.05, weight_decay=0.2)
                 for p, g in zip(head.parameters(), head.grads())]
    optimizer.step()
    for param, want in zip(body.parameters() + head.parameters(), expected):
        np.testing.assert_allclose(param, want, rtol=1e-10, atol=1e-12)


def test_a_group_without_its_own_lr_reads_the_optimizers_lr():
    layer = Linear(2, 2)
    optimizer = Adam([{"params": layer}], lr=0.3)
    assert optimizer.param_groups[0]["lr"] == 0.3
    optimizer.lr = 0.05
    assert optimizer.param_groups[0]["lr"] == 0.05
    assert optimizer.param_groups[0]["betas"] == (0.9, 0.999)


def test_an_optimizer_of_modules_has_one_group_of_them():
    layer = Linear(2, 2)
    optimizer = SGD(layer, lr=0.2)
    assert len(optimizer.param_groups) == 1
    assert optimizer.param_groups[0]["params"] == [layer]
    assert optimizer.param_groups[0]["lr"] == 0.2
    assert optimizer.modules == [layer]


def test_modules_of_every_group_are_zeroed():
    body, head = _layers_with_gradients()
    optimizer = SGD([{"params": body}, {"params": head}])
    assert optimizer.modules == [body, head]
    optimizer.zero_grad()
    assert not any(np.any(g) for g in body.grads() + head.grads())


@pytest.mark.parametrize("optimizer_class, group, name", [
    (SGD, {"lr": -1.0}, "lr"),
    (SGD, {"momentum": -0.5}, "momentum"),
    (SGD, {"nesterov": True}, "nesterov"),
    (Adam, {"betas": (0.9, 1.0)}, "beta2"),
    (AdamW, {"eps": math.nan}, "eps"),
    (AdamW, {"momentum": 0.9}, "unknown option"),
])
def test_a_bad_group_option_is_refused_at_construction(optimizer_class, group, name):
    with pytest.raises(ValueError, match=name):
        optimizer_class([{"params": Linear(2, 2)}, {"params": Linear(2, 2), **group}])


def test_pytorch_parameter_arrays_in_a_group_are_refused_naming_modules():
    layer = Linear(2, 2)
    with pytest.raises(TypeError, match="modules in groups"):
        AdamW([{"params": layer.parameters(), "lr": 0.1}])


def test_a_dict_without_params_or_mixed_with_modules_is_refused():
    with pytest.raises(TypeError, match="'params'"):
        AdamW([{"lr": 0.1}])
    with pytest.raises(TypeError, match="'params'"):
        AdamW([Linear(2, 2), {"params": Linear(2, 2)}])


def test_a_module_in_two_groups_is_refused():
    layer = Linear(2, 2)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": layer}, {"params": [layer], "lr": 0.1}])
