"""Datasets and batching: ``from mini_torch.utils.data import Dataset, DataLoader``."""

from mini_torch.utils.data.dataloader import DataLoader
from mini_torch.utils.data.dataset import ArrayDataset, Dataset, TensorDataset

__all__ = ["ArrayDataset", "DataLoader", "Dataset", "TensorDataset"]
