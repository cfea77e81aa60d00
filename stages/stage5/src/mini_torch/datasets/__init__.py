"""Data sets: synthetic toy problems (stage 1) and the bundled MNIST subset (stage 5)."""

from mini_torch.datasets.mnist import MNISTDataset, mnist_path
from mini_torch.datasets.synthetic import make_moons, make_sine, make_spirals, make_xor

__all__ = ["MNISTDataset", "make_moons", "make_sine", "make_spirals", "make_xor", "mnist_path"]
