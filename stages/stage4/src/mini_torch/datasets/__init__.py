"""Synthetic data sets for first experiments: xor, spirals, moons (classification) and sine."""

from mini_torch.datasets.synthetic import make_moons, make_sine, make_spirals, make_xor

__all__ = ["make_moons", "make_sine", "make_spirals", "make_xor"]
