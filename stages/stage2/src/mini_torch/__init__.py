"""Mini-Torch, stage 2: modules.

Stage 1's functional core (:mod:`mini_torch.functional`, :mod:`mini_torch.init`,
:mod:`mini_torch.datasets`, :mod:`mini_torch.viz`, :mod:`mini_torch.testing`) plus
:mod:`mini_torch.nn`: ``Module``, ``Sequential``, ``Linear`` and the activation layers.
"""

from mini_torch import datasets, functional, init, nn, testing
from mini_torch.grad_mode import is_grad_enabled, no_grad
from mini_torch.init import default_dtype, get_default_dtype, manual_seed, set_default_dtype
from mini_torch.nn import (
    GELU,
    Activation,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    Module,
    ModuleList,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
)

__version__ = "0.2.0"
STAGE = 2

__all__ = [
    "GELU",
    "STAGE",
    "Activation",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
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
