"""``Embedding``: a lookup table from integer indices (tokens, positions) to learned vectors."""

from __future__ import annotations

import numpy as np

from mini_torch import init
from mini_torch._checks import check_grad_output, check_positive_int, check_same_view
from mini_torch.nn._helpers import accumulate
from mini_torch.nn.module import Module


def embedding(indices: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Row ``indices[...]`` of the table ``W`` for every index: ``out[..., :] = W[indices[...]]``.

    Args:
        indices: integer array of any shape, each entry in ``0 .. V - 1``.
        W: ``(V, D)`` table, one row per index.

    Shape:
        - indices: ``(*)``, any shape, e.g. ``(N, T)``
        - W: ``(V, D)``
        - Output: ``(*, D)``, e.g. ``(N, T, D)``
    """
    # BEGIN SOLUTION
    return W[indices]  # (*, D): numpy's integer indexing picks one row per index
    # END SOLUTION


def embedding_backward(grad_output: np.ndarray, indices: np.ndarray,
                       num_embeddings: int) -> np.ndarray:
    """``dL/dW`` of :func:`embedding`: the output gradients added into the rows they came from.

    Args:
        grad_output: ``dL/d(output)``, shape ``indices.shape + (D,)``.
        indices: the indices of the forward pass.
        num_embeddings: ``V``, the number of rows of ``W``.

    Shape:
        - grad_output: ``(*, D)``
        - Output: ``(V, D)``, zero in every row no index picked
    """
    # BEGIN SOLUTION
    embedding_dim = grad_output.shape[-1]
    grad_W = np.zeros((num_embeddings, embedding_dim), dtype=grad_output.dtype)  # (V, D)
    # dL/dW[v] = sum over the positions p with indices[p] == v of grad_output[p]. np.add.at adds
    # once per occurrence; grad_W[indices] += ... would keep only one of repeated indices.
    np.add.at(grad_W, indices.reshape(-1), grad_output.reshape(-1, embedding_dim))
    return grad_W
    # END SOLUTION


def _check_indices(indices, num_embeddings: int, where: str) -> np.ndarray:
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(
            f"{where}: indices must be integers, got dtype {indices.dtype}. Token and position "
            f"ids index rows of the table: pass them as integers, e.g. indices.astype(np.int64)."
        )
    if indices.size:
        low, high = int(indices.min()), int(indices.max())
        if low < 0 or high >= num_embeddings:
            bad = low if low < 0 else high
            raise ValueError(
                f"{where}: index {bad} is out of range for a table of {num_embeddings} rows "
                f"(valid indices 0..{num_embeddings - 1}). Check the vocabulary size "
                f"(num_embeddings) or the block size the indices come from."
            )
    return indices


class Embedding(Module):
    """A table of ``num_embeddings`` learned vectors of size ``embedding_dim``, looked up by index.

    ``Embedding(V, D)(indices)`` is ``W[indices]``: the same as a one-hot encoding of the indices
    multiplied by ``W``, without building the one-hot matrix. ``W`` starts N(0, 1), as in PyTorch.
    The indices have no gradient, so :meth:`backward` returns ``None``; it *accumulates* ``dW``
    until :meth:`zero_grad`.

    Args:
        num_embeddings: ``V``, the number of rows (the vocabulary size, or the context length
            for position embeddings).
        embedding_dim: ``D``, the size of each vector.
        rng: generator for the initial table (default: the global one, see ``manual_seed``).

    Attributes:
        W: ``(num_embeddings, embedding_dim)`` table (also readable as ``weight``, PyTorch's
            name: the same array, in the same layout).
        dW: its gradient, ``None`` until the first backward.
        indices: the indices of the last forward, ``None`` until then.

    Shape:
        - Input: ``(*)``, integers in ``0 .. num_embeddings - 1``, e.g. ``(N, T)``
        - Output: ``(*, embedding_dim)``, e.g. ``(N, T, D)``

    Examples:
        >>> emb = Embedding(65, 16)
        >>> emb(np.array([[0, 5, 5], [64, 1, 2]])).shape
        (2, 3, 16)
    """

    _cached_names = ("indices",)

    def __init__(self, num_embeddings: int, embedding_dim: int, *,
                 rng: np.random.Generator | None = None) -> None:
        super().__init__()
        self.num_embeddings = check_positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = check_positive_int(embedding_dim, "embedding_dim", "Embedding")
        generator = init.get_generator() if rng is None else rng
        self.W = generator.standard_normal((self.num_embeddings, self.embedding_dim)).astype(
            init.get_default_dtype())
        self.dW: np.ndarray | None = None
        self.indices: np.ndarray | None = None

    def forward(self, indices: np.ndarray) -> np.ndarray:
        indices = _check_indices(indices, self.num_embeddings, "Embedding.forward")
        # BEGIN SOLUTION
        self.indices = indices
        return embedding(indices, self.W)
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> None:
        indices = self._cached("indices")
        grad_output = check_grad_output(grad_output, (*indices.shape, self.embedding_dim),
                                        self.W.dtype, "Embedding.backward")
        # BEGIN SOLUTION
        self.dW = accumulate(self.dW, embedding_backward(grad_output, indices,
                                                          self.num_embeddings))
        return None  # the indices are integers: there is no gradient to pass further down
        # END SOLUTION

    @property
    def weight(self) -> np.ndarray:
        """``W`` under PyTorch's name (``init.normal_(embedding.weight)`` fills ``W``)."""
        return self.W

    @weight.setter
    def weight(self, value: np.ndarray) -> None:
        # ``embedding.weight *= 0.1`` has scaled W in place and assigns it back
        check_same_view(value, self.W, f"{self!r}.weight",
                        "embedding.weight[...] = value, value of shape "
                        "(num_embeddings, embedding_dim)")

    def parameters(self) -> list[np.ndarray]:
        return [self.W]

    def grads(self) -> list[np.ndarray | None]:
        return [self.dW]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"
