"""Optimizers: ``import mini_torch.optim as optim``."""

from mini_torch.optim.adam import Adam, AdamW
from mini_torch.optim.optimizer import Optimizer
from mini_torch.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]
