"""Layers, models and losses: ``import mini_torch.nn as nn``."""

from mini_torch import init  # torch.nn.init's functions as mini_torch.nn.init too
from mini_torch.nn import (
    functional,  # torch.nn.functional's spelling: import ... as F
    utils,
)
from mini_torch.nn.activation import GELU, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
from mini_torch.nn.attention import MultiHeadSelfAttention
from mini_torch.nn.batchnorm import BatchNorm1d
from mini_torch.nn.container import ModuleList, Sequential
from mini_torch.nn.dropout import Dropout
from mini_torch.nn.embedding import Embedding
from mini_torch.nn.flatten import Flatten
from mini_torch.nn.linear import Linear
from mini_torch.nn.loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from mini_torch.nn.module import Module
from mini_torch.nn.normalization import LayerNorm
from mini_torch.nn.transformer import TransformerBlock

__all__ = [
    "GELU",
    "Activation",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "Identity",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "Module",
    "ModuleList",
    "MultiHeadSelfAttention",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "TransformerBlock",
    "functional",
    "init",
    "utils",
]
