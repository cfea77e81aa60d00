"""``DataLoader``: iterate over a dataset in (optionally shuffled) mini-batches."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from mini_torch import init
from mini_torch._checks import check_positive_int


def _stack_samples(samples: list) -> np.ndarray:
    """Stack per-sample arrays on a new first axis, as PyTorch's default collate does.

    Scalar labels give ``(B,)``, ``(D,)`` samples ``(B, D)``, ``(H, W)`` images ``(B, H, W)``.
    """
    return np.stack([np.asarray(sample) for sample in samples])


class DataLoader:
    """Iterates over a dataset in batches of ``(batch_x, batch_y)`` (the Iterator pattern).

    Each ``for`` loop over the loader is one epoch. With ``shuffle=True`` a new permutation of the
    samples is drawn at the start of every epoch, from ``generator`` if given, else from the
    global generator (``mini_torch.manual_seed`` makes it reproducible).

    If the dataset has ``__getitems__(indices)``, a batch is fetched with one call (the fast
    path); otherwise sample by sample with ``dataset[i]`` and stacked.

    Args:
        dataset: a ``Dataset`` (anything with ``__len__`` and ``__getitem__`` returning ``(x, y)``).
        batch_size: samples per batch (a positive int).
        shuffle: reshuffle the order every epoch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        generator: a ``numpy.random.Generator`` for the shuffling.

    Shape (samples stack on a new first axis, as in PyTorch, on both paths):
        - ``(D,)`` samples -> ``batch_x`` of shape ``(B, D)``; scalar labels -> ``(B,)``
        - ``(H, W)`` samples -> ``(B, H, W)``; one-hot ``(C,)`` labels -> ``(B, C)``

    Examples:
        >>> from mini_torch.utils.data import ArrayDataset
        >>> loader = DataLoader(ArrayDataset(np.zeros((10, 2)), np.arange(10)), batch_size=3)
        >>> [x.shape[0] for x, y in loader], len(loader)
        ([3, 3, 3, 1], 4)
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, *, generator: np.random.Generator | None = None) -> None:
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(
                f"DataLoader: dataset must define __len__ and __getitem__ (a Dataset), got "
                f"{type(dataset).__name__}. Wrap arrays with ArrayDataset(X, y)."
            )
        self.dataset = dataset
        self.batch_size = check_positive_int(batch_size, "batch_size", "DataLoader")
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        if self.drop_last:
            return len(self.dataset) // self.batch_size
        return math.ceil(len(self.dataset) / self.batch_size)

    def _epoch_order(self) -> np.ndarray:
        n_samples = len(self.dataset)
        if not self.shuffle:
            return np.arange(n_samples)
        generator = self.generator if self.generator is not None else init.get_generator()
        return generator.permutation(n_samples)

    def _fetch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        get_batch = getattr(self.dataset, "__getitems__", None)
        if callable(get_batch):
            batch_x, batch_y = get_batch(indices)
            return np.asarray(batch_x), np.asarray(batch_y)
        samples = [self.dataset[int(index)] for index in indices]
        if not all(isinstance(sample, tuple) and len(sample) == 2 for sample in samples):
            raise TypeError(
                f"DataLoader: {type(self.dataset).__name__}.__getitem__ must return a pair "
                f"(x, y), got {type(samples[0]).__name__}."
            )
        return (_stack_samples([x for x, _ in samples]),
                _stack_samples([y for _, y in samples]))

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        # BEGIN SOLUTION
        order = self._epoch_order()
        for batch_index in range(len(self)):
            indices = order[batch_index * self.batch_size:(batch_index + 1) * self.batch_size]
            yield self._fetch(indices)
        # END SOLUTION

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
