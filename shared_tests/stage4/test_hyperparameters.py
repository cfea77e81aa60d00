"""Hyper-parameters: PyTorch's defaults, and a ValueError at construction for bad values.

The defaults (from the PyTorch documentation; Mini-Torch's SGD keeps lr=0.01)::

    SGD(lr=0.01, momentum=0, dampening=0, weight_decay=0, nesterov=False)
    Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)
    AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)
"""

from __future__ import annotations

import inspect
import math
import re

import pytest

from mini_torch.nn import Linear
from mini_torch.optim import SGD, Adam, AdamW

DEFAULTS = [
    pytest.param(SGD, {"lr": 0.01, "momentum": 0, "dampening": 0, "weight_decay": 0,
                       "nesterov": False}, id="SGD"),
    pytest.param(Adam, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0,
                        "amsgrad": False}, id="Adam"),
    pytest.param(AdamW, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2,
                         "amsgrad": False}, id="AdamW"),
]


@pytest.mark.parametrize(("optimizer_class", "defaults"), DEFAULTS)
def test_signature_defaults_are_pytorchs(optimizer_class, defaults):
    parameters = inspect.signature(optimizer_class).parameters
    found = {name: parameters[name].default for name in defaults if name in parameters}
    assert found == defaults


@pytest.mark.parametrize(("optimizer_class", "defaults"), DEFAULTS)
def test_hyper_parameters_come_in_pytorchs_order(optimizer_class, defaults):
    """``SGD(model, 0.1, 0.9)`` means lr=0.1, momentum=0.9, as in PyTorch."""
    names = list(inspect.signature(optimizer_class).parameters)
    assert names[:len(defaults) + 1] == ["modules", *defaults]


@pytest.mark.parametrize(("optimizer_class", "defaults"), DEFAULTS)
def test_an_optimizer_built_with_the_defaults_stores_them(optimizer_class, defaults):
    optimizer = optimizer_class(Linear(2, 2))
    stored = {name: getattr(optimizer, name) for name in defaults}
    assert stored == defaults


BAD_VALUES = [
    pytest.param(SGD, {"lr": -0.1}, "lr", id="SGD-negative-lr"),
    pytest.param(SGD, {"momentum": -0.5}, "momentum", id="SGD-negative-momentum"),
    pytest.param(SGD, {"weight_decay": -1e-4}, "weight_decay", id="SGD-negative-weight_decay"),
    pytest.param(SGD, {"nesterov": True}, "nesterov", id="SGD-nesterov-without-momentum"),
    pytest.param(SGD, {"momentum": 0.9, "dampening": 0.1, "nesterov": True}, "nesterov",
                 id="SGD-nesterov-with-dampening"),
    pytest.param(Adam, {"lr": -1e-3}, "lr", id="Adam-negative-lr"),
    pytest.param(Adam, {"eps": -1e-8}, "eps", id="Adam-negative-eps"),
    pytest.param(Adam, {"weight_decay": -0.1}, "weight_decay", id="Adam-negative-weight_decay"),
    pytest.param(Adam, {"betas": (1.0, 0.999)}, "beta", id="Adam-beta1-is-1"),
    pytest.param(Adam, {"betas": (0.9, 1.0)}, "beta", id="Adam-beta2-is-1"),
    pytest.param(Adam, {"betas": (-0.1, 0.999)}, "beta", id="Adam-negative-beta1"),
    pytest.param(Adam, {"betas": (0.9, -0.5)}, "beta", id="Adam-negative-beta2"),
    pytest.param(Adam, {"betas": (0.9, 1.5)}, "beta", id="Adam-beta2-above-1"),
    pytest.param(AdamW, {"lr": -1e-3}, "lr", id="AdamW-negative-lr"),
    pytest.param(AdamW, {"eps": -1.0}, "eps", id="AdamW-negative-eps"),
    pytest.param(AdamW, {"weight_decay": -1e-2}, "weight_decay", id="AdamW-negative-weight_decay"),
    pytest.param(AdamW, {"betas": (0.9, 1.0)}, "beta", id="AdamW-beta2-is-1"),
    pytest.param(AdamW, {"betas": (-0.9, 0.999)}, "beta", id="AdamW-negative-beta1"),
]


@pytest.mark.parametrize(("optimizer_class", "kwargs", "name"), BAD_VALUES)
def test_bad_hyper_parameter_raises_value_error_naming_it(optimizer_class, kwargs, name):
    with pytest.raises(ValueError, match=re.escape(name)):
        optimizer_class(Linear(2, 2), **kwargs)


NAN_VALUES = [
    pytest.param(Adam, {"betas": (math.nan, 0.999)}, "beta", id="Adam-nan-beta1"),
    pytest.param(Adam, {"betas": (0.9, math.nan)}, "beta", id="Adam-nan-beta2"),
    pytest.param(AdamW, {"betas": (math.nan, 0.999)}, "beta", id="AdamW-nan-beta1"),
    pytest.param(Adam, {"lr": math.nan}, "lr", id="Adam-nan-lr"),
    pytest.param(Adam, {"eps": math.nan}, "eps", id="Adam-nan-eps"),
    pytest.param(AdamW, {"weight_decay": math.nan}, "weight_decay", id="AdamW-nan-weight_decay"),
]


@pytest.mark.parametrize(("optimizer_class", "kwargs", "name"), NAN_VALUES)
def test_nan_hyper_parameter_raises_value_error_naming_it(optimizer_class, kwargs, name):
    """NaN is not in [0, 1) and not >= 0; PyTorch's Adam checks ``not 0.0 <= value`` and
    rejects it. Accepted, it would turn every parameter into NaN at the first step."""
    with pytest.raises(ValueError, match=re.escape(name)):
        optimizer_class(Linear(2, 2), **kwargs)


def test_error_message_names_the_optimizer_and_the_bad_value():
    with pytest.raises(ValueError) as error:
        Adam(Linear(2, 2), lr=-0.25)
    assert "Adam" in str(error.value) and "-0.25" in str(error.value)


EDGE_VALUES = [
    pytest.param(SGD, {"lr": 0.0, "momentum": 0.0, "weight_decay": 0.0}, id="SGD-zeros"),
    pytest.param(SGD, {"momentum": 0.9, "nesterov": True}, id="SGD-nesterov"),
    pytest.param(SGD, {"momentum": 0.9, "dampening": 0.9}, id="SGD-dampening"),
    pytest.param(Adam, {"lr": 0.0, "betas": (0.0, 0.0), "eps": 0.0, "weight_decay": 0.0},
                 id="Adam-zeros"),
    pytest.param(Adam, {"betas": (0.999, 0.9999)}, id="Adam-betas-close-to-1"),
    pytest.param(AdamW, {"weight_decay": 0.0, "amsgrad": True}, id="AdamW-no-decay"),
]


@pytest.mark.parametrize(("optimizer_class", "kwargs"), EDGE_VALUES)
def test_values_on_the_edge_of_the_valid_range_are_accepted(optimizer_class, kwargs):
    optimizer = optimizer_class(Linear(2, 2), **kwargs)
    for name, value in kwargs.items():
        assert getattr(optimizer, name) == value
