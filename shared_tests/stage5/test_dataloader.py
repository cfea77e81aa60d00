"""Specification of ``DataLoader``: batches, their order and shapes, shuffling, errors.

Most tests give each sample its index as feature (``X[i] = i``), so the order in which samples
come out of the loader can be read back from the batches.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mini_torch
from mini_torch.utils.data import ArrayDataset, DataLoader, Dataset


class SampleByIndex(Dataset):
    """A dataset with only ``__getitem__`` (no ``__getitems__``): the per-sample path."""

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int) -> tuple:
        return self.features[index], self.labels[index]


class CountingArrayDataset(ArrayDataset):
    """An ``ArrayDataset`` that counts how often each access method is called."""

    def __init__(self, X, y) -> None:
        super().__init__(X, y)
        self.getitem_calls = 0
        self.getitems_calls = 0

    def __getitem__(self, index):
        self.getitem_calls += 1
        return super().__getitem__(index)

    def __getitems__(self, indices):
        self.getitems_calls += 1
        return super().__getitems__(indices)


def indexed_dataset(n: int) -> ArrayDataset:
    """Sample ``i`` is ``x = [i, -i]`` (float32) with label ``i`` (int64)."""
    index = np.arange(n)
    X = np.stack([index, -index], axis=1).astype(np.float32)
    return ArrayDataset(X, index.astype(np.int64))


def epoch_order(loader: DataLoader) -> np.ndarray:
    """The sample indices in the order one epoch of ``loader`` delivers them."""
    batches = [batch_x[:, 0] for batch_x, _ in loader]
    if not batches:
        return np.array([], dtype=np.int64)
    return np.concatenate(batches).astype(np.int64)


# --------------------------------------------------------------------------- batching

def test_ten_samples_in_batches_of_three_give_batches_of_3_3_3_1():
    loader = DataLoader(indexed_dataset(10), batch_size=3)
    assert [batch_x.shape[0] for batch_x, _ in loader] == [3, 3, 3, 1]
    assert len(loader) == 4


def test_drop_last_drops_the_incomplete_last_batch():
    loader = DataLoader(indexed_dataset(10), batch_size=3, drop_last=True)
    assert [batch_x.shape[0] for batch_x, _ in loader] == [3, 3, 3]
    assert len(loader) == 3


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize(("n_samples", "batch_size"),
                         [(1, 1), (9, 3), (10, 1), (10, 4), (10, 10), (10, 32), (64, 5)])
def test_len_is_the_number_of_batches_one_epoch_yields(n_samples, batch_size, drop_last):
    loader = DataLoader(indexed_dataset(n_samples), batch_size=batch_size, drop_last=drop_last)
    rounding = math.floor if drop_last else math.ceil
    expected = rounding(n_samples / batch_size)
    assert len(loader) == expected
    assert sum(1 for _ in loader) == expected


def test_a_batch_size_larger_than_the_dataset_gives_one_batch_of_everything():
    loader = DataLoader(indexed_dataset(5), batch_size=32)
    batches = list(loader)
    assert len(batches) == 1 and batches[0][0].shape == (5, 2)


def test_drop_last_with_a_batch_larger_than_the_dataset_gives_no_batch():
    loader = DataLoader(indexed_dataset(5), batch_size=32, drop_last=True)
    assert len(loader) == 0 and list(loader) == []


def test_batch_size_defaults_to_one():
    loader = DataLoader(indexed_dataset(3))
    assert loader.batch_size == 1
    assert [batch_x.shape for batch_x, _ in loader] == [(1, 2)] * 3


def test_constructor_arguments_are_stored_as_attributes():
    dataset = indexed_dataset(4)
    generator = np.random.default_rng(1)
    loader = DataLoader(dataset, batch_size=2, shuffle=True, drop_last=True, generator=generator)
    assert loader.dataset is dataset
    assert (loader.batch_size, loader.shuffle, loader.drop_last) == (2, True, True)
    assert loader.generator is generator


def test_an_empty_dataset_yields_nothing():
    loader = DataLoader(indexed_dataset(0), batch_size=4)
    assert len(loader) == 0
    assert list(loader) == []


def test_an_empty_dataset_yields_nothing_when_shuffled():
    assert list(DataLoader(indexed_dataset(0), batch_size=4, shuffle=True)) == []


# --------------------------------------------------------------------------- order

def test_without_shuffle_the_samples_come_in_dataset_order():
    loader = DataLoader(indexed_dataset(10), batch_size=3)
    np.testing.assert_array_equal(epoch_order(loader), np.arange(10))


def test_without_shuffle_every_epoch_has_the_same_order():
    loader = DataLoader(indexed_dataset(10), batch_size=4)
    np.testing.assert_array_equal(epoch_order(loader), epoch_order(loader))


def test_each_batch_pairs_every_input_with_its_own_label():
    loader = DataLoader(indexed_dataset(20), batch_size=6, shuffle=True)
    for batch_x, batch_y in loader:
        np.testing.assert_array_equal(batch_x[:, 0], batch_y)
        np.testing.assert_array_equal(batch_x[:, 1], -batch_y)


def test_every_for_loop_over_the_loader_is_a_complete_new_epoch():
    loader = DataLoader(indexed_dataset(7), batch_size=3)
    for _ in range(3):
        np.testing.assert_array_equal(epoch_order(loader), np.arange(7))


# --------------------------------------------------------------------------- shuffling

def test_shuffle_delivers_every_sample_exactly_once_per_epoch():
    loader = DataLoader(indexed_dataset(50), batch_size=8, shuffle=True)
    for _ in range(3):
        np.testing.assert_array_equal(np.sort(epoch_order(loader)), np.arange(50))


def test_shuffle_changes_the_order():
    loader = DataLoader(indexed_dataset(50), batch_size=8, shuffle=True)
    assert not np.array_equal(epoch_order(loader), np.arange(50))


def test_shuffle_draws_a_new_order_every_epoch():
    loader = DataLoader(indexed_dataset(50), batch_size=8, shuffle=True)
    first, second = epoch_order(loader), epoch_order(loader)
    assert not np.array_equal(first, second)


def test_shuffle_with_drop_last_still_yields_distinct_samples():
    loader = DataLoader(indexed_dataset(50), batch_size=8, shuffle=True, drop_last=True)
    order = epoch_order(loader)
    assert order.size == 48
    assert np.unique(order).size == 48


def test_shuffle_is_reproducible_with_manual_seed():
    mini_torch.manual_seed(123)
    first = epoch_order(DataLoader(indexed_dataset(30), batch_size=4, shuffle=True))
    mini_torch.manual_seed(123)
    second = epoch_order(DataLoader(indexed_dataset(30), batch_size=4, shuffle=True))
    np.testing.assert_array_equal(first, second)


def test_several_shuffled_epochs_are_reproducible_with_manual_seed():
    def three_epochs() -> list[np.ndarray]:
        mini_torch.manual_seed(7)
        loader = DataLoader(indexed_dataset(30), batch_size=4, shuffle=True)
        return [epoch_order(loader) for _ in range(3)]

    for first, second in zip(three_epochs(), three_epochs()):
        np.testing.assert_array_equal(first, second)


def test_shuffle_is_reproducible_with_a_generator_whatever_the_global_seed():
    mini_torch.manual_seed(1)
    first = epoch_order(DataLoader(indexed_dataset(30), batch_size=4, shuffle=True,
                                   generator=np.random.default_rng(42)))
    mini_torch.manual_seed(2)
    second = epoch_order(DataLoader(indexed_dataset(30), batch_size=4, shuffle=True,
                                    generator=np.random.default_rng(42)))
    np.testing.assert_array_equal(first, second)


def test_shuffle_with_a_generator_leaves_the_global_generator_untouched():
    before = mini_torch.init.get_generator().bit_generator.state
    loader = DataLoader(indexed_dataset(30), batch_size=4, shuffle=True,
                        generator=np.random.default_rng(0))
    epoch_order(loader)
    assert mini_torch.init.get_generator().bit_generator.state == before


def test_shuffle_without_a_generator_uses_the_global_one_after_a_later_manual_seed():
    loader = DataLoader(indexed_dataset(30), batch_size=4, shuffle=True)
    mini_torch.manual_seed(5)
    first = epoch_order(loader)
    mini_torch.manual_seed(5)
    second = epoch_order(loader)
    np.testing.assert_array_equal(first, second)


# --------------------------------------------------------------------------- batch shapes

@pytest.fixture(params=["fast path (__getitems__)", "per-sample path (__getitem__)"])
def make_dataset(request):
    """Build the dataset as an ``ArrayDataset`` or as a dataset with ``__getitem__`` only."""
    if request.param.startswith("fast"):
        return ArrayDataset
    return SampleByIndex


def test_vector_samples_stack_into_rows(make_dataset, rng):
    X = rng.normal(size=(10, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[np.arange(10) % 3]
    batch_x, batch_y = next(iter(DataLoader(make_dataset(X, y), batch_size=5)))
    assert batch_x.shape == (5, 4) and batch_y.shape == (5, 3)
    np.testing.assert_array_equal(batch_x, X[:5])
    np.testing.assert_array_equal(batch_y, y[:5])


def test_scalar_labels_stack_into_a_vector_as_in_pytorch(make_dataset):
    X = np.zeros((10, 2), np.float32)
    y = np.arange(10, dtype=np.int64)
    batches = list(DataLoader(make_dataset(X, y), batch_size=4))
    assert [batch_y.shape for _, batch_y in batches] == [(4,), (4,), (2,)], (
        "DataLoader: scalar labels must stack to (B,) as PyTorch's default collate does "
        "(see docs/stage5.md#batching-and-drop_last)"
    )
    np.testing.assert_array_equal(batches[0][1], [0, 1, 2, 3])


def test_class_index_batches_compare_elementwise_with_argmax(make_dataset):
    # the PyTorch Quickstart's accuracy line: with (B, 1) labels it would broadcast to (B, B)
    X = np.eye(4, dtype=np.float32)
    y = np.array([0, 1, 2, 0])
    batch_x, batch_y = next(iter(DataLoader(make_dataset(X, y), batch_size=4)))
    assert (batch_x.argmax(1) == batch_y).sum() == 3


def test_scalar_features_stack_into_a_vector(make_dataset):
    X = np.linspace(0.0, 1.0, 6).astype(np.float32)
    y = np.zeros(6, np.float32)
    batch_x, _ = next(iter(DataLoader(make_dataset(X, y), batch_size=6)))
    assert batch_x.shape == (6,)
    np.testing.assert_array_equal(batch_x, X)


def test_image_samples_stack_on_a_new_first_axis(make_dataset, rng):
    X = rng.random((7, 4, 5)).astype(np.float32)
    y = np.arange(7)
    batch_x, batch_y = next(iter(DataLoader(make_dataset(X, y), batch_size=3)))
    assert batch_x.shape == (3, 4, 5)
    np.testing.assert_array_equal(batch_x, X[:3])
    assert batch_y.shape == (3,)


def test_batches_keep_the_dtype_of_the_samples(make_dataset):
    X = np.ones((4, 2), np.float32)
    y = np.arange(4, dtype=np.int64)
    batch_x, batch_y = next(iter(DataLoader(make_dataset(X, y), batch_size=4)))
    assert batch_x.dtype == np.float32
    assert np.issubdtype(batch_y.dtype, np.integer)


# --------------------------------------------------------------------------- fast path

def test_the_fast_path_and_the_per_sample_path_yield_the_same_batches(rng):
    X = rng.normal(size=(23, 3)).astype(np.float32)
    y = rng.integers(0, 4, size=23)
    fast = DataLoader(ArrayDataset(X, y), batch_size=5, shuffle=True,
                      generator=np.random.default_rng(9))
    slow = DataLoader(SampleByIndex(X, y), batch_size=5, shuffle=True,
                      generator=np.random.default_rng(9))
    for _ in range(2):
        fast_batches, slow_batches = list(fast), list(slow)
        assert len(fast_batches) == len(slow_batches) == 5
        for (fast_x, fast_y), (slow_x, slow_y) in zip(fast_batches, slow_batches):
            assert fast_x.shape == slow_x.shape and fast_y.shape == slow_y.shape
            assert fast_x.dtype == slow_x.dtype
            np.testing.assert_array_equal(fast_x, slow_x)
            np.testing.assert_array_equal(fast_y, slow_y)


def test_a_dataset_with_getitems_is_read_one_call_per_batch():
    dataset = CountingArrayDataset(np.zeros((10, 2), np.float32), np.zeros(10))
    batches = list(DataLoader(dataset, batch_size=3))
    assert dataset.getitems_calls == len(batches) == 4
    assert dataset.getitem_calls == 0


def test_a_dataset_without_getitems_is_read_one_call_per_sample():
    class Counting(SampleByIndex):
        calls = 0

        def __getitem__(self, index):
            Counting.calls += 1
            return super().__getitem__(index)

    list(DataLoader(Counting(np.zeros((10, 2)), np.zeros(10)), batch_size=3))
    assert Counting.calls == 10


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("batch_size", [0, -1, -64])
def test_a_batch_size_below_one_is_refused_with_a_clear_message(batch_size):
    with pytest.raises(ValueError, match="batch_size") as error:
        DataLoader(indexed_dataset(10), batch_size=batch_size)
    assert str(batch_size) in str(error.value)


@pytest.mark.parametrize("batch_size", [2.5, 3.0, "3", None])
def test_a_batch_size_that_is_not_an_integer_is_refused_with_a_clear_message(batch_size):
    with pytest.raises((TypeError, ValueError), match="batch_size"):
        DataLoader(indexed_dataset(10), batch_size=batch_size)


def test_a_numpy_integer_batch_size_is_accepted():
    loader = DataLoader(indexed_dataset(10), batch_size=np.int64(5))
    assert [batch_x.shape[0] for batch_x, _ in loader] == [5, 5]


def test_something_that_is_not_a_dataset_is_refused():
    with pytest.raises(TypeError, match="DataLoader"):
        DataLoader(42, batch_size=2)
