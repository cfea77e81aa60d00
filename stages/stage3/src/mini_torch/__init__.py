"""Mini-Torch, stage 3: loss objects.

Stages 1-2 (:mod:`mini_torch.functional`, :mod:`mini_torch.init`, :mod:`mini_torch.datasets`,
:mod:`mini_torch.viz`, :mod:`mini_torch.testing`, the modules of :mod:`mini_torch.nn`) plus the
losses ``Loss``, ``MSELoss``, ``CrossEntropyLoss``, ``BCELoss`` and ``BCEWithLogitsLoss`` in
``mini_torch.nn``.
"""

from mini_torch import datasets, functional, init, nn, testing
from mini_torch.grad_mode import is_grad_enabled, no_grad
from mini_torch.init import default_dtype, get_default_dtype, manual_seed, set_default_dtype
from mini_torch.nn import (
    GELU,
    Activation,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    Loss,
    Module,
    ModuleList,
    MSELoss,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)

__version__ = "0.3.0"
STAGE = 3

__all__ = [
    "GELU",
    "STAGE",
    "Activation",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "Module",
    "ModuleList",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "datasets",
    "default_dtype",
    "functional",
    "get_default_dtype",
    "init",
    "is_grad_enabled",
    "manual_seed",
    "nn",
    "no_grad",
    "set_default_dtype",
    "testing",
]
