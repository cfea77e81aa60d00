"""Text for language models: the bundled Shakespeare plays, a character vocabulary, and a dataset
of next-character windows."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from mini_torch._checks import check_positive_int
from mini_torch.utils.data.dataset import Dataset

_DATA_DIR = Path(__file__).resolve().parent / "data"
_SHAKESPEARE = "shakespeare_8_plays.txt.gz"


def shakespeare_path() -> Path:
    """Path of the bundled text: eight plays by Shakespeare, about 1.04 M characters.

    The file ships inside the package (gzip-compressed UTF-8), so it works offline; read it with
    :func:`load_text`. See ``data/SHAKESPEARE.md`` beside it for the plays and their source.
    """
    return _DATA_DIR / _SHAKESPEARE


def load_text(path: str | os.PathLike | None = None) -> str:
    """The whole text of a UTF-8 file, ``.txt`` or gzip-compressed ``.txt.gz``.

    Args:
        path: the file; by default the bundled plays (:func:`shakespeare_path`).

    Examples:
        >>> text = load_text()
        >>> text[:6]
        'HAMLET'
    """
    file = shakespeare_path() if path is None else Path(path)
    if not file.is_file():
        raise FileNotFoundError(
            f"load_text: no file at {file}. For the bundled plays call load_text() with no "
            f"argument, or pass mini_torch.datasets.shakespeare_path()."
        )
    opener = gzip.open if file.suffix == ".gz" else open
    with opener(file, "rt", encoding="utf-8") as handle:
        return handle.read()


class CharVocab:
    """The characters of a text, each mapped to an integer id (its rank in sorted order).

    Args:
        text: the text whose distinct characters make the vocabulary.

    Attributes:
        chars: the characters, sorted; ``chars[i]`` is the character of id ``i``.

    Shape:
        - ``encode(text)``: ``(len(text),)`` int64 ids
        - ``decode(ids)``: ids of any shape, read in row-major order, give a ``str``

    Examples:
        >>> vocab = CharVocab("hello")
        >>> len(vocab), vocab.chars
        (4, ['e', 'h', 'l', 'o'])
        >>> vocab.encode("hole")
        array([1, 3, 2, 0])
        >>> vocab.decode([2, 0])
        'le'
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(
                f"CharVocab: text must be a str, got {type(text).__name__}. Read a file with "
                f"mini_torch.datasets.load_text(path) first."
            )
        if not text:
            raise ValueError("CharVocab: text is empty; a vocabulary needs at least one character.")
        self.chars: list[str] = sorted(set(text))
        self._index = {char: index for index, char in enumerate(self.chars)}
        # A lookup table from Unicode code point to id encodes a whole string in one numpy
        # operation instead of one dictionary lookup per character (-1: not in the vocabulary).
        self._table = np.full(max(map(ord, self.chars)) + 1, -1, dtype=np.int64)
        self._table[[ord(char) for char in self.chars]] = np.arange(len(self.chars))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of ``text``, ``(len(text),)`` int64."""
        if not isinstance(text, str):
            raise TypeError(f"CharVocab.encode: text must be a str, got {type(text).__name__}.")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        ids = np.full(codes.shape, -1, dtype=np.int64)
        known = codes < self._table.size
        ids[known] = self._table[codes[known]]
        if np.any(ids < 0):
            unknown = sorted({text[i] for i in np.flatnonzero(ids < 0)[:1000].tolist()})
            raise ValueError(
                f"CharVocab.encode: the characters {unknown} are not in the vocabulary of "
                f"{len(self)} characters; build the vocabulary from a text that contains them."
            )
        return ids

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """The text of ``ids`` (a sequence or an integer array of any shape)."""
        array = np.asarray(ids)
        if array.size == 0:
            return ""
        if not np.issubdtype(array.dtype, np.integer):
            raise TypeError(
                f"CharVocab.decode: ids must be integers, got dtype {array.dtype}. For model "
                f"outputs take the sampled or argmax indices, not the logits."
            )
        if array.min() < 0 or array.max() >= len(self):
            raise ValueError(
                f"CharVocab.decode: ids run from {array.min()} to {array.max()}, outside "
                f"0..{len(self) - 1} for this vocabulary of {len(self)} characters."
            )
        return "".join([self.chars[index] for index in array.ravel().tolist()])

    def __repr__(self) -> str:
        return f"CharVocab(size={len(self)})"


class CharDataset(Dataset):
    """Every window of ``block_size`` consecutive ids, paired with the window one step later.

    Sample ``i`` is ``x = ids[i : i + T]`` and ``y = ids[i + 1 : i + T + 1]`` with
    ``T = block_size``: at every position ``t`` the target ``y[t]`` is the character that follows
    ``x[:t + 1]``, so one window trains a causal language model on ``T`` predictions at once.
    Windows overlap (they start at every position), so there are ``len(ids) - block_size``.

    Args:
        ids: the encoded text, ``(L,)`` integers (``CharVocab.encode``); ``L > block_size``.
        block_size: ``T``, the context length.

    Shape:
        - ``dataset[i]``: ``(x, y)``, each ``(T,)`` int64
        - ``dataset.__getitems__(indices)``: ``(x, y)``, each ``(B, T)`` int64, in one call

    Examples:
        >>> dataset = CharDataset(np.arange(10), block_size=4)
        >>> len(dataset)
        6
        >>> dataset[2]
        (array([2, 3, 4, 5]), array([3, 4, 5, 6]))
    """

    def __init__(self, ids, block_size: int) -> None:
        array = np.asarray(ids)
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.integer):
            raise ValueError(
                f"CharDataset: ids must be a 1-D array of integer ids, got shape {array.shape} "
                f"and dtype {array.dtype}. Encode the text first: CharVocab(text).encode(text)."
            )
        block_size = check_positive_int(block_size, "block_size", "CharDataset")
        if array.size <= block_size:
            raise ValueError(
                f"CharDataset: a window of block_size={block_size} needs at least "
                f"{block_size + 1} ids (the inputs plus the one next id), got {array.size}. "
                f"Use a longer text or a smaller block_size."
            )
        super().__init__(array.astype(np.int64, copy=False))
        self.block_size = block_size
        self._offsets = np.arange(block_size)

    def __len__(self) -> int:
        return self.features.size - self.block_size

    def _starts(self, indices) -> np.ndarray:
        """Window starts as an int array; negative indices count from the end, as in a list."""
        starts = np.asarray(indices)
        if not np.issubdtype(starts.dtype, np.integer):
            raise TypeError(f"CharDataset: indices must be integers, got dtype {starts.dtype}.")
        n = len(self)
        if starts.size and (starts.min() < -n or starts.max() >= n):
            bad = starts.min() if starts.min() < -n else starts.max()
            raise IndexError(f"CharDataset: index {bad} out of range for {n} windows.")
        return np.where(starts < 0, starts + n, starts)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        start = int(self._starts(index))
        window = self.features[start:start + self.block_size + 1]
        return window[:-1], window[1:]

    def __getitems__(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """A batch of windows with one fancy-indexing operation: ``(B, T)`` inputs and targets."""
        starts = self._starts(indices).reshape(-1)
        positions = starts[:, None] + self._offsets  # (B, T): row b is start_b + 0 .. T - 1
        return self.features[positions], self.features[positions + 1]

    def __repr__(self) -> str:
        return f"CharDataset(windows={len(self)}, block_size={self.block_size})"
