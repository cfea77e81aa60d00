"""``TransformerBlock``: a pre-norm transformer block built from the layers of stage 6.

Nothing new is computed here: the block is a composite of child modules (the same idea as
``Sequential``), and its backward only adds the residual gradients.
"""

from __future__ import annotations

import math

import numpy as np

from mini_torch import init
from mini_torch._checks import as_float_array, check_in_range, check_positive_int
from mini_torch.nn._helpers import check_sequence
from mini_torch.nn.activation import GELU, ReLU
from mini_torch.nn.attention import MultiHeadSelfAttention
from mini_torch.nn.container import Sequential
from mini_torch.nn.dropout import Dropout
from mini_torch.nn.linear import Linear
from mini_torch.nn.module import Module
from mini_torch.nn.normalization import LayerNorm


def _activation(activation: str | Module) -> Module:
    """The MLP's activation from PyTorch's ``activation`` argument: a name or a module."""
    if isinstance(activation, Module):
        return activation
    if activation == "gelu":
        return GELU()
    if activation == "relu":
        return ReLU()
    raise ValueError(
        f"TransformerBlock: activation must be 'gelu', 'relu' or a Module such as "
        f"GELU(approximate='tanh'), got {activation!r}."
    )


def _pytorch_linear_init(layer: Linear, generator: np.random.Generator) -> Linear:
    """Re-draw ``W`` and ``b`` uniform in ``+-1/sqrt(input_dim)``, ``torch.nn.Linear``'s default.

    In a residual block this keeps each branch's output small next to the residual stream.
    """
    bound = 1.0 / math.sqrt(layer.in_features)
    layer.W[...] = generator.uniform(-bound, bound, size=layer.W.shape)
    layer.b[...] = generator.uniform(-bound, bound, size=layer.b.shape)
    return layer


class TransformerBlock(Module):
    """A pre-norm transformer block (GPT-2's layout), causal::

        h = x + drop(attn(ln1(x)))          # every position gathers from the earlier ones
        y = h + drop(mlp(ln2(h)))           # then each position is transformed on its own

    ``mlp`` is ``Sequential(Linear(D, mlp_ratio * D), activation, Linear(mlp_ratio * D, D))``;
    ``Linear`` acts on the last axis, so it transforms every position on its own. The block
    equals ``torch.nn.TransformerEncoderLayer(D, H, mlp_ratio * D, dropout, activation,
    batch_first=True, norm_first=True)`` called with a causal mask. The linear layers of the MLP
    start as PyTorch's do (uniform in ``+-1/sqrt(fan_in)``).

    Args:
        embed_dim: ``D``, the features per position.
        num_heads: ``H``, the attention heads (``D`` must be divisible by ``H``).
        mlp_ratio: the hidden width of the MLP is ``mlp_ratio * D``.
        dropout: dropout probability of the attention weights, after the attention and after
            the MLP (where ``TransformerEncoderLayer`` applies it, except inside its MLP).
        activation: the MLP's nonlinearity, ``"gelu"`` (default), ``"relu"``, or a module such
            as ``GELU(approximate="tanh")``.
        rng: generator for the initial weights (default: the global one).

    Attributes:
        ln1, attn, drop1, ln2, mlp, drop2: the child modules, in this order.

    Shape:
        - Input: ``(N, T, D)``
        - Output: ``(N, T, D)``

    Examples:
        >>> block = TransformerBlock(16, 4)
        >>> block(np.zeros((2, 5, 16), np.float32)).shape
        (2, 5, 16)
    """

    def __init__(self, embed_dim: int, num_heads: int, mlp_ratio: int = 4,
                 dropout: float = 0.0, activation: str | Module = "gelu", *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.embed_dim = check_positive_int(embed_dim, "embed_dim", "TransformerBlock")
        self.mlp_ratio = check_positive_int(mlp_ratio, "mlp_ratio", "TransformerBlock")
        check_in_range(dropout, "dropout", "TransformerBlock", low=0.0, high=1.0)
        generator = init.get_generator() if rng is None else rng
        hidden = self.mlp_ratio * self.embed_dim
        self.ln1 = LayerNorm(self.embed_dim)
        self.attn = MultiHeadSelfAttention(self.embed_dim, num_heads, causal=True,
                                           dropout=dropout, rng=generator)
        self.drop1 = Dropout(dropout)
        self.ln2 = LayerNorm(self.embed_dim)
        self.mlp = Sequential(
            _pytorch_linear_init(Linear(self.embed_dim, hidden, rng=generator), generator),
            _activation(activation),
            _pytorch_linear_init(Linear(hidden, self.embed_dim, rng=generator), generator),
        )
        self.drop2 = Dropout(dropout)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = check_sequence(x, self.embed_dim, "TransformerBlock.forward",
                           dtype=self.ln1.gamma.dtype)
        h = x + self.drop1(self.attn(self.ln1(x)))                  # (N, T, D)
        return h + self.drop2(self.mlp(self.ln2(h)))                # (N, T, D)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        grad_output = as_float_array(grad_output, "grad_output", "TransformerBlock.backward")
        # y = h + f(h): dL/dh = G + (dL/dh through f); the residual passes G on unchanged
        grad_h = grad_output + self.ln2.backward(
            self.mlp.backward(self.drop2.backward(grad_output)))    # (N, T, D)
        # h = x + g(x): the same rule once more
        return grad_h + self.ln1.backward(self.attn.backward(self.drop1.backward(grad_h)))
