"""Mini-Torch, stage 6: generative building blocks (the bridge to generative AI).

Stages 1-5 (:mod:`mini_torch.functional`, :mod:`mini_torch.init`, :mod:`mini_torch.datasets`,
:mod:`mini_torch.viz`, :mod:`mini_torch.testing`, the modules and losses of :mod:`mini_torch.nn`,
the optimizers of :mod:`mini_torch.optim`, :mod:`mini_torch.utils.data`, ``save`` / ``load``) plus
the layers of a transformer in :mod:`mini_torch.nn`, each with a hand-written backward:
``Embedding``, ``LayerNorm``, ``BatchNorm1d``, ``Dropout``, ``MultiHeadSelfAttention`` (causal)
and ``TransformerBlock``, and ``nn.utils.clip_grad_norm_``; and the bundled text of the
character-level language model.
"""

from mini_torch import datasets, functional, init, nn, optim, testing, utils
from mini_torch.datasets import CharDataset, CharVocab, MNISTDataset
from mini_torch.grad_mode import is_grad_enabled, no_grad
from mini_torch.init import default_dtype, get_default_dtype, manual_seed, set_default_dtype
from mini_torch.nn import (
    GELU,
    Activation,
    BatchNorm1d,
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Embedding,
    Flatten,
    Identity,
    LayerNorm,
    LeakyReLU,
    Linear,
    Loss,
    Module,
    ModuleList,
    MSELoss,
    MultiHeadSelfAttention,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    TransformerBlock,
)
from mini_torch.optim import SGD, Adam, AdamW, Optimizer
from mini_torch.serialization import load, save
from mini_torch.utils.data import ArrayDataset, DataLoader, Dataset, TensorDataset

__version__ = "0.6.0"
STAGE = 6

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
    "BatchNorm1d",
    "CharDataset",
    "CharVocab",
    "CrossEntropyLoss",
    "DataLoader",
    "Dataset",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MNISTDataset",
    "MSELoss",
    "Module",
    "ModuleList",
    "MultiHeadSelfAttention",
    "Optimizer",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "TensorDataset",
    "TransformerBlock",
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
