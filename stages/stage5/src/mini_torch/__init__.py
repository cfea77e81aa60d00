"""Mini-Torch, stage 5: data loading.

Stages 1-4 (:mod:`mini_torch.functional`, :mod:`mini_torch.init`, :mod:`mini_torch.datasets`,
:mod:`mini_torch.viz`, :mod:`mini_torch.testing`, the modules and losses of
:mod:`mini_torch.nn`, the optimizers of :mod:`mini_torch.optim`) plus :mod:`mini_torch.utils.data`:
``Dataset``, ``ArrayDataset`` (``TensorDataset``) and ``DataLoader``; ``MNISTDataset`` with the
bundled MNIST subset in :mod:`mini_torch.datasets`; and ``save`` / ``load`` for state dicts.
"""

from mini_torch import datasets, functional, init, nn, optim, testing, utils
from mini_torch.datasets import MNISTDataset
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
from mini_torch.serialization import load, save
from mini_torch.utils.data import ArrayDataset, DataLoader, Dataset, TensorDataset

__version__ = "0.5.0"
STAGE = 5

__all__ = [
    "GELU",
    "SGD",
    "STAGE",
    "Activation",
    "Adam",
    "AdamW",
    "ArrayDataset",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "DataLoader",
    "Dataset",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MNISTDataset",
    "MSELoss",
    "Module",
    "ModuleList",
    "Optimizer",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "TensorDataset",
    "datasets",
    "default_dtype",
    "functional",
    "get_default_dtype",
    "init",
    "is_grad_enabled",
    "load",
    "manual_seed",
    "nn",
    "no_grad",
    "optim",
    "save",
    "set_default_dtype",
    "testing",
    "utils",
]
