"""``Dataset``: indexed access to samples; ``ArrayDataset``: a dataset over in-memory arrays."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class Dataset(ABC):
    """Base class of datasets: ``len(dataset)`` samples, ``dataset[i] -> (x, y)``.

    A subclass implements :meth:`__len__` and :meth:`__getitem__`. It may also implement
    ``__getitems__(indices) -> (batch_x, batch_y)`` to hand out a whole batch at once, which the
    ``DataLoader`` then uses instead of one ``__getitem__`` call per sample.

    Args:
        features: the inputs, stored as ``self.features``.
        labels: the targets, stored as ``self.labels``.
    """

    def __init__(self, features=None, labels=None, *args, **kwargs) -> None:
        self.features = features
        self.labels = labels

    @abstractmethod
    def __len__(self) -> int:
        """The number of samples."""

    @abstractmethod
    def __getitem__(self, index: int) -> tuple:
        """The sample at ``index`` as a pair ``(x, y)``."""


class ArrayDataset(Dataset):
    """A dataset over two arrays whose first axis indexes the samples (``TensorDataset``).

    Args:
        X: inputs, ``(N, ...)``.
        y: targets, ``(N, ...)``, e.g. class indices ``(N,)`` or one-hot rows ``(N, C)``.

    Shape:
        - ``dataset[i]``: ``(X[i], y[i])``
        - ``dataset.__getitems__(indices)``: ``(X[indices], y[indices])``, a batch in one call

    Examples:
        >>> dataset = ArrayDataset(np.zeros((5, 2)), np.arange(5))
        >>> len(dataset), dataset[3][1]
        (5, 3)
    """

    def __init__(self, X, y) -> None:
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim == 0 or y.ndim == 0:
            raise ValueError(
                f"ArrayDataset: X and y need a first axis that indexes samples, got shapes "
                f"{X.shape} and {y.shape}."
            )
        if len(X) != len(y):
            raise ValueError(
                f"ArrayDataset: X has {len(X)} samples but y has {len(y)}; both must have one "
                f"entry per sample along the first axis."
            )
        super().__init__(X, y)

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        # BEGIN SOLUTION
        return self.features[index], self.labels[index]
        # END SOLUTION

    def __getitems__(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """A whole batch with one fancy-indexing operation per array (the fast path)."""
        # BEGIN SOLUTION
        indices = np.asarray(indices, dtype=np.intp)
        return self.features[indices], self.labels[indices]
        # END SOLUTION


TensorDataset = ArrayDataset
"""PyTorch's name for a dataset over in-memory arrays."""
