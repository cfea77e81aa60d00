"""Data sets: synthetic toy problems (stage 1), the bundled MNIST subset (stage 5) and the bundled
Shakespeare text with a character vocabulary and next-character windows (stage 6)."""

from mini_torch.datasets.mnist import MNISTDataset, mnist_path
from mini_torch.datasets.synthetic import make_moons, make_sine, make_spirals, make_xor
from mini_torch.datasets.text import CharDataset, CharVocab, load_text, shakespeare_path

__all__ = [
    "CharDataset",
    "CharVocab",
    "MNISTDataset",
    "load_text",
    "make_moons",
    "make_sine",
    "make_spirals",
    "make_xor",
    "mnist_path",
    "shakespeare_path",
]
