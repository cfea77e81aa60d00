"""``MultiHeadSelfAttention``: every position mixes the values of the positions it attends to.

Notation of the shape comments: ``N`` sequences per batch, ``T`` positions per sequence, ``D``
features (``embed_dim``), ``H`` heads of ``hd = D / H`` features each.
"""

from __future__ import annotations

import math

import numpy as np

from mini_torch import functional as F
from mini_torch import init
from mini_torch._checks import check_grad_output, check_in_range, check_positive_int
from mini_torch.nn._helpers import accumulate, check_sequence
from mini_torch.nn.dropout import dropout_mask
from mini_torch.nn.module import Module


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """``(N, T, D)`` -> ``(N, H, T, hd)``: head ``h`` takes features ``h*hd .. (h+1)*hd``."""
    batch_size, length, embed_dim = x.shape
    head_dim = embed_dim // num_heads
    return x.reshape(batch_size, length, num_heads, head_dim).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """``(N, H, T, hd)`` -> ``(N, T, D)``, the inverse of :func:`split_heads`."""
    batch_size, num_heads, length, head_dim = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch_size, length, num_heads * head_dim)


def causal_mask(length: int) -> np.ndarray:
    """``(T, T)`` booleans, ``True`` above the diagonal: position ``i`` may not see ``j > i``."""
    return np.triu(np.ones((length, length), dtype=bool), k=1)


def scaled_dot_product_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                                 causal: bool = True, dropout_mask: np.ndarray | None = None
                                 ) -> tuple[np.ndarray, np.ndarray]:
    """``softmax(q @ k^T / sqrt(hd)) @ v`` for every sequence and head.

    Row ``i`` of the attention weights says how much position ``i`` takes from each position
    ``j``; with ``causal=True`` the weights of every ``j > i`` are 0 (the scores there are set
    to ``-inf`` before the softmax), so no position sees the future. With a ``dropout_mask``
    (attention dropout, from :func:`mini_torch.nn.dropout.dropout_mask`) the output is
    ``(attn * dropout_mask) @ v``; the weights returned are those before the dropout.

    Args:
        q, k, v: queries, keys and values, one ``(T, hd)`` matrix per sequence and head.
        causal: mask the future positions.
        dropout_mask: ``None`` (no dropout) or an inverted-dropout mask of the weights' shape.

    Shape:
        - q, k, v: ``(N, H, T, hd)``; dropout_mask: ``(N, H, T, T)``
        - Output: ``(out (N, H, T, hd), attention weights (N, H, T, T))``; every row of the
          weights sums to 1
    """
    # BEGIN SOLUTION
    scale = 1.0 / math.sqrt(q.shape[-1])              # a Python float: float32 stays float32
    scores = (q @ k.swapaxes(-1, -2)) * scale         # (N, H, T, T): q_i . k_j / sqrt(hd)
    if causal:
        scores[..., causal_mask(q.shape[-2])] = -np.inf   # exp(-inf) = 0: no weight on the future
    attn = F.softmax(scores, axis=-1)                 # (N, H, T, T), rows sum to 1
    dropped = attn if dropout_mask is None else attn * dropout_mask
    return dropped @ v, attn                          # (N, H, T, hd)
    # END SOLUTION


def scaled_dot_product_attention_backward(
        grad_output: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray,
        attn: np.ndarray, dropout_mask: np.ndarray | None = None
        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of :func:`scaled_dot_product_attention` with respect to ``q``, ``k``, ``v``.

    ``attn`` is the forward's attention weights (before dropout) and ``dropout_mask`` the
    forward's mask, if any; the causal mask needs no extra care here, because the masked
    weights are 0 and so are their gradients (docs/stage6.md#attention-backward).

    Shape:
        - grad_output: ``(N, H, T, hd)``
        - q, k, v: ``(N, H, T, hd)``; attn, dropout_mask: ``(N, H, T, T)``
        - Output: ``(grad_q, grad_k, grad_v)``, each ``(N, H, T, hd)``
    """
    # BEGIN SOLUTION
    scale = 1.0 / math.sqrt(q.shape[-1])
    dropped = attn if dropout_mask is None else attn * dropout_mask
    # out = dropped @ v: dL/dv = dropped^T @ G, dL/ddropped = G @ v^T
    grad_v = dropped.swapaxes(-1, -2) @ grad_output                  # (N, H, T, hd)
    grad_attn = grad_output @ v.swapaxes(-1, -2)                     # (N, H, T, T)
    if dropout_mask is not None:  # dropped = attn * mask: dL/dattn = dL/ddropped * mask
        grad_attn = grad_attn * dropout_mask
    # softmax along each row: dL/ds_j = a_j * (dL/da_j - sum_l a_l dL/da_l)
    grad_scores = attn * (grad_attn - (grad_attn * attn).sum(axis=-1, keepdims=True))
    # scores = q @ k^T * scale: dL/dq = dS @ k * scale, dL/dk = dS^T @ q * scale
    grad_q = (grad_scores @ k) * scale                               # (N, H, T, hd)
    grad_k = (grad_scores.swapaxes(-1, -2) @ q) * scale              # (N, H, T, hd)
    return grad_q, grad_k, grad_v
    # END SOLUTION


class MultiHeadSelfAttention(Module):
    """Multi-head self-attention on sequences, causal by default (a decoder's attention).

    For each sequence ``x`` of ``T`` positions::

        [q | k | v] = x @ W_qkv + b_qkv                    # (T, 3D), then split into H heads
        head_h      = softmax(q_h @ k_h^T / sqrt(hd) + M) @ v_h    # M: -inf above the diagonal
        y           = [head_1 | ... | head_H] @ W_out + b_out      # (T, D)

    It equals ``torch.nn.MultiheadAttention(D, H, batch_first=True)`` called with
    ``query = key = value = x`` and the causal ``attn_mask``, with ``in_proj_weight = W_qkv.T``,
    ``in_proj_bias = b_qkv.ravel()``, ``out_proj.weight = W_out.T`` and
    ``out_proj.bias = b_out.ravel()``. The initialisation is PyTorch's too: ``W_qkv``
    Xavier-uniform, ``W_out`` uniform in ``+-1/sqrt(D)``, biases zero. :meth:`backward`
    *accumulates* the four gradients until :meth:`zero_grad`.

    Args:
        embed_dim: ``D``, the features per position; must be divisible by ``num_heads``.
        num_heads: ``H``; each head works on ``hd = D / H`` features.
        causal: position ``i`` attends only to positions ``j <= i`` (default ``True``).
        dropout: probability of zeroing an attention weight in training mode (inverted
            dropout of the weights, as ``MultiheadAttention(dropout=...)``; default 0).
        rng: generator for the initial weights (default: the global one).

    Attributes:
        W_qkv: ``(D, 3D)``, columns ``[Q | K | V]``; head ``h`` uses columns
            ``h*hd .. (h+1)*hd`` of each block.
        b_qkv: ``(1, 3D)``.
        W_out: ``(D, D)``; b_out: ``(1, D)``.
        dW_qkv, db_qkv, dW_out, db_out: their gradients, ``None`` until the first backward.

    Shape:
        - Input: ``(N, T, D)``
        - Output: ``(N, T, D)``

    Examples:
        >>> attn = MultiHeadSelfAttention(16, 4)
        >>> attn(np.zeros((2, 5, 16), np.float32)).shape
        (2, 5, 16)
    """

    # what forward keeps for backward, all dropped under no_grad (the mask too: (N, H, T, T))
    _cached_names = ("x", "q", "k", "v", "attn", "context", "dropout_mask")

    def __init__(self, embed_dim: int, num_heads: int, causal: bool = True,
                 dropout: float = 0.0, *, rng: np.random.Generator | None = None) -> None:
        super().__init__()
        where = "MultiHeadSelfAttention"
        self.embed_dim = check_positive_int(embed_dim, "embed_dim", where)
        self.num_heads = check_positive_int(num_heads, "num_heads", where)
        if self.embed_dim % self.num_heads != 0:
            raise ValueError(
                f"{where}: embed_dim ({self.embed_dim}) must be divisible by num_heads "
                f"({self.num_heads}): each head gets embed_dim / num_heads features. Choose, e.g., "
                f"num_heads={_largest_divisor_at_most(self.embed_dim, self.num_heads)}."
            )
        self.head_dim = self.embed_dim // self.num_heads
        self.causal = bool(causal)
        check_in_range(dropout, "dropout", where, low=0.0, high=1.0)
        self.dropout = float(dropout)
        self.dropout_mask: np.ndarray | None = None
        dim = self.embed_dim
        generator = init.get_generator() if rng is None else rng
        self.W_qkv = init.xavier_uniform(dim, 3 * dim, rng=generator)
        dtype = self.W_qkv.dtype
        self.b_qkv = np.zeros((1, 3 * dim), dtype=dtype)
        bound = 1.0 / math.sqrt(dim)  # PyTorch's default for the output projection (a Linear)
        self.W_out = generator.uniform(-bound, bound, size=(dim, dim)).astype(dtype)
        self.b_out = np.zeros((1, dim), dtype=dtype)
        self.dW_qkv: np.ndarray | None = None
        self.db_qkv: np.ndarray | None = None
        self.dW_out: np.ndarray | None = None
        self.db_out: np.ndarray | None = None
        self.x: np.ndarray | None = None
        self.q = self.k = self.v = self.attn = self.context = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = check_sequence(x, self.embed_dim, "MultiHeadSelfAttention.forward",
                           dtype=self.W_qkv.dtype)
        # BEGIN SOLUTION
        batch_size, length, dim = x.shape
        self.x = x
        qkv = F.linear(x.reshape(-1, dim), self.W_qkv, self.b_qkv)   # (N*T, 3D), rows [q | k | v]
        q, k, v = (split_heads(part.reshape(batch_size, length, dim), self.num_heads)
                   for part in np.split(qkv, 3, axis=1))            # each (N, H, T, hd)
        mask = None
        if self.training and self.dropout > 0.0:      # a fresh mask of the weights, (N, H, T, T)
            mask = dropout_mask((batch_size, self.num_heads, length, length), self.dropout,
                                init.get_generator(), x.dtype)
        self.dropout_mask = mask
        heads, attn = scaled_dot_product_attention(q, k, v, self.causal, mask)
        context = merge_heads(heads).reshape(-1, dim)                # (N*T, D)
        self.q, self.k, self.v, self.attn, self.context = q, k, v, attn, context
        return F.linear(context, self.W_out, self.b_out).reshape(batch_size, length, dim)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        x = self._cached_input()
        grad_output = check_grad_output(grad_output, x.shape, x.dtype,
                                        "MultiHeadSelfAttention.backward")
        # BEGIN SOLUTION
        batch_size, length, dim = x.shape
        # y = context @ W_out + b_out, on rows
        grad_context, grad_W_out, grad_b_out = F.linear_backward(
            grad_output.reshape(-1, dim), self._cached("context"), self.W_out)   # (N*T, D)
        grad_heads = split_heads(grad_context.reshape(batch_size, length, dim), self.num_heads)
        grad_q, grad_k, grad_v = scaled_dot_product_attention_backward(
            grad_heads, self._cached("q"), self._cached("k"), self._cached("v"),
            self._cached("attn"), self.dropout_mask)                             # (N, H, T, hd)
        # qkv = x @ W_qkv + b_qkv: the three blocks' gradients side by side, as in the forward
        grad_qkv = np.concatenate([merge_heads(g).reshape(-1, dim)
                                   for g in (grad_q, grad_k, grad_v)], axis=1)  # (N*T, 3D)
        grad_x, grad_W_qkv, grad_b_qkv = F.linear_backward(grad_qkv, x.reshape(-1, dim),
                                                           self.W_qkv)
        self.dW_qkv = accumulate(self.dW_qkv, grad_W_qkv)
        self.db_qkv = accumulate(self.db_qkv, grad_b_qkv)
        self.dW_out = accumulate(self.dW_out, grad_W_out)
        self.db_out = accumulate(self.db_out, grad_b_out)
        return grad_x.reshape(batch_size, length, dim)
        # END SOLUTION

    def parameters(self) -> list[np.ndarray]:
        return [self.W_qkv, self.b_qkv, self.W_out, self.b_out]

    def grads(self) -> list[np.ndarray | None]:
        return [self.dW_qkv, self.db_qkv, self.dW_out, self.db_out]

    def extra_repr(self) -> str:
        dropout = f", dropout={self.dropout}" if self.dropout else ""
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"causal={self.causal}{dropout}")


def _largest_divisor_at_most(number: int, limit: int) -> int:
    return max(d for d in range(1, limit + 1) if number % d == 0)
