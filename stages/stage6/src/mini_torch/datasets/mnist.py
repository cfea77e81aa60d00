"""MNIST in the course's CSV format, and the bundled 4,000 / 1,000-image subset."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from mini_torch._checks import check_positive_int
from mini_torch.utils.data.dataset import ArrayDataset

N_PIXELS = 784
_DATA_DIR = Path(__file__).resolve().parent / "data"
_SPLITS = {"train": "mnist_5k_train.csv.gz", "test": "mnist_5k_test.csv.gz"}


def mnist_path(split: str = "train") -> Path:
    """Path of the bundled MNIST subset: ``"train"`` (4,000 images) or ``"test"`` (1,000).

    The files ship inside the package, so they work offline.
    """
    if split not in _SPLITS:
        raise ValueError(f"mnist_path: split must be 'train' or 'test', got {split!r}.")
    return _DATA_DIR / _SPLITS[split]


def _open_text(path: Path):
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


class MNISTDataset(ArrayDataset):
    """MNIST digits read from a CSV file (``.csv`` or ``.csv.gz``).

    Training files have the header ``Id,Label,Pixel0,...,Pixel783``; test files may leave out
    the ``Label`` column (``Id,Pixel0,...,Pixel783``), and then every label is all zeros.

    Args:
        filepath: the CSV file; ``mnist_path("train")`` / ``mnist_path("test")`` for the bundled
            subset.
        is_train: the file must hold labels (a ``Label`` column). With ``False`` labels are read
            when present and are zeros otherwise.
        num_classes: length of the one-hot label vectors.

    Shape:
        - ``x``: ``(784,)`` float32 in ``[0, 1]`` (a 28 x 28 image, row-major)
        - ``y``: ``(num_classes,)`` float32 one-hot (all zeros for unlabeled files)

    Examples:
        >>> train = MNISTDataset(mnist_path("train"))
        >>> len(train), train[0][0].shape, train[0][1].shape
        (4000, (784,), (10,))
    """

    def __init__(self, filepath: str | os.PathLike, is_train: bool = True,
                 num_classes: int = 10) -> None:
        path = Path(filepath)
        if not path.is_file():
            raise FileNotFoundError(
                f"MNISTDataset: no file at {path}. For the bundled subset use "
                f"mini_torch.datasets.mnist_path('train') or mnist_path('test')."
            )
        num_classes = check_positive_int(num_classes, "num_classes", "MNISTDataset", minimum=2)
        with _open_text(path) as file:
            header = [name.strip() for name in file.readline().split(",")]
            has_labels = len(header) > 1 and header[1] == "Label"
            self._check_header(path, header, has_labels, is_train)
            try:
                # numpy's C parser reads the whole table at once; never a Python loop per pixel.
                table = np.loadtxt(file, delimiter=",", dtype=np.int64, ndmin=2)
            except ValueError as error:
                raise ValueError(
                    f"MNISTDataset: {path} is not a well-formed MNIST CSV ({error}); every row "
                    f"needs {len(header)} comma-separated integers like the header."
                ) from error
        if table.shape[0] and table.shape[1] != len(header):
            raise ValueError(
                f"MNISTDataset: {path} has rows of {table.shape[1]} values but a header of "
                f"{len(header)} columns."
            )
        first_pixel = 2 if has_labels else 1
        # x / 255 with a Python float keeps float32: pixels 0..255 become 0..1.
        features = table[:, first_pixel:].astype(np.float32) / 255.0
        labels = np.zeros((table.shape[0], num_classes), dtype=np.float32)
        if has_labels:
            digits = table[:, 1]
            if digits.size and (digits.min() < 0 or digits.max() >= num_classes):
                raise ValueError(
                    f"MNISTDataset: {path} has labels from {digits.min()} to {digits.max()}, "
                    f"outside 0..{num_classes - 1} for num_classes={num_classes}."
                )
            labels[np.arange(table.shape[0]), digits] = 1.0
        super().__init__(features, labels)
        self.filepath = path
        self.is_train = is_train
        self.num_classes = num_classes
        self.has_labels = has_labels
        self.ids = table[:, 0]

    @staticmethod
    def _check_header(path: Path, header: list[str], has_labels: bool, is_train: bool) -> None:
        expected = (2 if has_labels else 1) + N_PIXELS
        layout = "Id,Label,Pixel0..Pixel783" if has_labels else "Id,Pixel0..Pixel783"
        if header[0] != "Id" or len(header) != expected:
            raise ValueError(
                f"MNISTDataset: {path} has {len(header)} columns starting with {header[:2]}; "
                f"expected {2 + N_PIXELS} columns (Id,Label,Pixel0..Pixel783) for a training "
                f"file or {1 + N_PIXELS} (Id,Pixel0..Pixel783) for a test file (read as "
                f"{layout})."
            )
        if is_train and not has_labels:
            raise ValueError(
                f"MNISTDataset: {path} has no Label column, so it cannot be a training file; "
                f"load it with is_train=False (its labels are then all zeros)."
            )

    def __repr__(self) -> str:
        return (f"MNISTDataset({self.filepath.name}, samples={len(self)}, "
                f"labeled={self.has_labels})")
