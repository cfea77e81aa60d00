"""Mini-Torch, stage 4: optimizers.

Stages 1-3 (:mod:`mini_torch.functional`, :mod:`mini_torch.init`, :mod:`mini_torch.datasets`,
:mod:`mini_torch.viz`, :mod:`mini_torch.testing`, the modules and losses of
:mod:`mini_torch.nn`) plus :mod:`mini_torch.optim`: ``Optimizer``, ``SGD``, ``Adam`` and ``AdamW``.
"""

from mini_torch import datasets, functional, init, nn, optim, testing
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
from mini_torch.optim import SGD, Adam, AdamW, Optimizer

__version__ = "0.4.0"
STAGE = 4

__all__ = [
    "GELU",
    "SGD",
    "STAGE",
    "Activation",
    "Adam",
    "AdamW",
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
    "Optimizer",
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
    "optim",
    "set_default_dtype",
    "testing",
]
