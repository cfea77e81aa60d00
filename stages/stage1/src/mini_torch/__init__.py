"""Mini-Torch, stage 1: the functional core.

Forward/backward pairs in :mod:`mini_torch.functional`, initialisation and seeding in
:mod:`mini_torch.init`, synthetic data in :mod:`mini_torch.datasets`, plots in
:mod:`mini_torch.viz`, gradient checking in :mod:`mini_torch.testing`.
"""

from mini_torch import datasets, functional, init, testing
from mini_torch.init import default_dtype, get_default_dtype, manual_seed, set_default_dtype

__version__ = "0.1.0"
STAGE = 1

__all__ = [
    "STAGE",
    "datasets",
    "default_dtype",
    "functional",
    "get_default_dtype",
    "init",
    "manual_seed",
    "set_default_dtype",
    "testing",
]
