"""Specification of ``Dataset`` (the abstract base) and ``ArrayDataset`` / ``TensorDataset``.

A dataset answers two questions: how many samples (``len(dataset)``) and which is sample ``i``
(``dataset[i] -> (x, y)``). ``Dataset`` is abstract; a subclass that defines only those two
methods is complete, and gets ``features`` / ``labels`` stored by the base ``__init__``.
"""

from __future__ import annotations

import abc

import numpy as np
import pytest

import mini_torch
from mini_torch.utils.data import ArrayDataset, Dataset, TensorDataset


class PairsDataset(Dataset):
    """The smallest complete dataset: ``__len__`` and ``__getitem__``, nothing else."""

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> tuple:
        return self.features[index], self.labels[index]


# --------------------------------------------------------------------------- Dataset

def test_dataset_is_an_abstract_base_class():
    assert issubclass(Dataset, abc.ABC)


def test_dataset_itself_cannot_be_instantiated():
    with pytest.raises(TypeError):
        Dataset()


def test_a_subclass_without_getitem_cannot_be_instantiated():
    class OnlyLen(Dataset):
        def __len__(self) -> int:
            return 0

    with pytest.raises(TypeError):
        OnlyLen()


def test_a_subclass_without_len_cannot_be_instantiated():
    class OnlyGetitem(Dataset):
        def __getitem__(self, index: int) -> tuple:
            return 0, 0

    with pytest.raises(TypeError):
        OnlyGetitem()


def test_a_subclass_with_len_and_getitem_is_built_from_features_and_labels():
    features = np.arange(12, dtype=np.float32).reshape(6, 2)
    labels = np.array([0, 1, 0, 1, 1, 0])
    dataset = PairsDataset(features, labels)
    assert dataset.features is features
    assert dataset.labels is labels
    assert len(dataset) == 6
    x, y = dataset[4]
    np.testing.assert_array_equal(x, features[4])
    assert y == labels[4]


def test_a_subclass_accepts_features_and_labels_as_keywords():
    features, labels = np.zeros((3, 2)), np.ones(3)
    dataset = PairsDataset(features=features, labels=labels)
    assert dataset.features is features and dataset.labels is labels


def test_features_and_labels_default_to_none():
    class Generated(Dataset):
        def __len__(self) -> int:
            return 3

        def __getitem__(self, index: int) -> tuple:
            return np.full(2, float(index)), index

    dataset = Generated()
    assert dataset.features is None and dataset.labels is None
    assert dataset[2][1] == 2


# --------------------------------------------------------------------------- ArrayDataset

def test_array_dataset_is_a_dataset_and_tensor_dataset_is_its_alias():
    assert issubclass(ArrayDataset, Dataset)
    assert TensorDataset is ArrayDataset


def test_array_dataset_length_is_the_number_of_rows():
    dataset = ArrayDataset(np.zeros((7, 3), np.float32), np.zeros(7, np.int64))
    assert len(dataset) == 7


def test_array_dataset_item_is_the_pair_of_rows_at_that_index(rng):
    X = rng.normal(size=(5, 3)).astype(np.float32)
    y = np.array([3, 1, 4, 1, 5])
    dataset = ArrayDataset(X, y)
    for index in range(5):
        x_i, y_i = dataset[index]
        np.testing.assert_array_equal(x_i, X[index])
        assert y_i == y[index]


def test_array_dataset_stores_the_arrays_as_features_and_labels():
    X, y = np.ones((4, 2), np.float32), np.arange(4)
    dataset = ArrayDataset(X, y)
    np.testing.assert_array_equal(dataset.features, X)
    np.testing.assert_array_equal(dataset.labels, y)


def test_array_dataset_keeps_the_dtype_of_its_arrays():
    dataset = ArrayDataset(np.ones((4, 2), np.float32), np.eye(4, dtype=np.float32))
    x, y = dataset[0]
    assert x.dtype == np.float32 and y.dtype == np.float32


def test_array_dataset_getitems_returns_the_rows_of_a_whole_batch(rng):
    X = rng.normal(size=(8, 3)).astype(np.float32)
    y = np.arange(8) * 10
    indices = [6, 0, 3]
    batch_x, batch_y = ArrayDataset(X, y).__getitems__(indices)
    np.testing.assert_array_equal(batch_x, X[indices])
    np.testing.assert_array_equal(batch_y, y[indices])


def test_array_dataset_getitems_accepts_an_index_array():
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    batch_x, batch_y = ArrayDataset(X, y).__getitems__(np.array([4, 1]))
    np.testing.assert_array_equal(batch_x, [[8.0, 9.0], [2.0, 3.0]])
    np.testing.assert_array_equal(batch_y, [4, 1])


def test_array_dataset_of_arrays_of_different_lengths_names_both_lengths():
    with pytest.raises(ValueError) as error:
        ArrayDataset(np.zeros((5, 2)), np.zeros(4))
    assert "X has 5 samples but y has 4" in str(error.value)


def test_array_dataset_of_a_scalar_is_refused():
    with pytest.raises(ValueError, match="ArrayDataset"):
        ArrayDataset(np.float32(1.0), np.zeros(1))


# --------------------------------------------------------------------------- import paths

def test_dataset_classes_are_importable_the_pytorch_way_and_from_the_top_level():
    import mini_torch.utils.data as data

    assert data.Dataset is mini_torch.Dataset is Dataset
    assert data.ArrayDataset is mini_torch.ArrayDataset
    assert data.TensorDataset is mini_torch.TensorDataset
    assert data.DataLoader is mini_torch.DataLoader
