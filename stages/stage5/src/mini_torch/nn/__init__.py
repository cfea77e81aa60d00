"""Layers, models and losses: ``import mini_torch.nn as nn``."""

from mini_torch import init  # torch.nn.init's functions as mini_torch.nn.init too
from mini_torch.nn import functional  # torch.nn.functional's spelling: import ... as F
from mini_torch.nn.activation import GELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from mini_torch.nn.container import ModuleList, Sequential
from mini_torch.nn.flatten import Flatten
from mini_torch.nn.linear import Linear
from mini_torch.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from mini_torch.nn.module import Module

__all__ = [
    "GELU",
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
    "functional",
    "init",
]
