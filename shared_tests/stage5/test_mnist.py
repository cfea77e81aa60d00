"""Specification of ``MNISTDataset`` and of the MNIST subset bundled with the package.

The course's CSV layout: a header ``Id,Label,Pixel0,...,Pixel783`` (training files) or
``Id,Pixel0,...,Pixel783`` (test files without labels), then one row per image: a running id,
the digit (training files only) and 784 pixel intensities 0..255 of a 28 x 28 image, row-major.
The tests write small files of exactly that layout into ``tmp_path``.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest

import mini_torch
from mini_torch.datasets import MNISTDataset, mnist_path
from mini_torch.utils.data import DataLoader, Dataset

N_PIXELS = 784


def random_images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images of random pixels 0..255, including both extremes, and digits 0..9."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(n, N_PIXELS))
    pixels[:, 0], pixels[:, 1] = 0, 255
    return pixels, rng.integers(0, 10, size=n)


def write_mnist_csv(path: Path, pixels: np.ndarray, labels: np.ndarray | None = None) -> Path:
    """Write a training file (with labels) or a test file (``labels=None``); ``.gz`` zips it."""
    columns = ["Id"] + ([] if labels is None else ["Label"])
    columns += [f"Pixel{k}" for k in range(pixels.shape[1])]
    table = [np.arange(len(pixels))] + ([] if labels is None else [labels])
    rows = np.column_stack([*table, pixels])
    lines = [",".join(columns)] + [",".join(str(value) for value in row) for row in rows]
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as file:
            file.write(text)
    else:
        path.write_text(text)
    return path


# --------------------------------------------------------------------------- training files

def test_a_training_file_gives_one_sample_per_row(tmp_path):
    pixels, labels = random_images(5)
    dataset = MNISTDataset(write_mnist_csv(tmp_path / "train.csv", pixels, labels))
    assert len(dataset) == 5
    x, y = dataset[0]
    assert x.shape == (784,) and y.shape == (10,)


def test_features_are_the_pixels_divided_by_255_as_float32(tmp_path):
    pixels, labels = random_images(4)
    dataset = MNISTDataset(write_mnist_csv(tmp_path / "train.csv", pixels, labels))
    expected = pixels.astype(np.float32) / np.float32(255.0)
    for index in range(4):
        x, _ = dataset[index]
        assert x.dtype == np.float32
        np.testing.assert_allclose(x, expected[index], rtol=1e-6, atol=0.0)


def test_features_span_exactly_zero_to_one(tmp_path):
    pixels, labels = random_images(3)
    x, _ = MNISTDataset(write_mnist_csv(tmp_path / "train.csv", pixels, labels))[2]
    assert x.min() == 0.0 and x.max() == 1.0
    assert x[0] == 0.0 and x[1] == 1.0


def test_labels_are_one_hot_float32_rows(tmp_path):
    pixels, labels = random_images(6)
    dataset = MNISTDataset(write_mnist_csv(tmp_path / "train.csv", pixels, labels))
    for index, digit in enumerate(labels):
        _, y = dataset[index]
        assert y.dtype == np.float32
        np.testing.assert_array_equal(y, np.eye(10, dtype=np.float32)[digit])


def test_the_id_column_is_not_read_as_a_pixel(tmp_path):
    pixels = np.zeros((3, N_PIXELS), dtype=np.int64)
    pixels[:, -1] = 51  # only the last pixel is lit: 51 / 255 = 0.2
    dataset = MNISTDataset(write_mnist_csv(tmp_path / "train.csv", pixels, np.array([7, 8, 9])))
    x, y = dataset[2]  # Id 2 and Label 9 would show up in the pixels if read as such
    np.testing.assert_allclose(x[-1], 0.2, rtol=1e-6)
    assert np.count_nonzero(x) == 1
    assert y.argmax() == 9


def test_num_classes_sets_the_length_of_the_one_hot_rows(tmp_path):
    pixels, _ = random_images(2)
    path = write_mnist_csv(tmp_path / "train.csv", pixels, np.array([3, 11]))
    dataset = MNISTDataset(path, num_classes=12)
    np.testing.assert_array_equal(dataset[1][1], np.eye(12, dtype=np.float32)[11])


def test_a_gzipped_file_reads_the_same_as_the_plain_file(tmp_path):
    pixels, labels = random_images(5)
    plain = MNISTDataset(write_mnist_csv(tmp_path / "train.csv", pixels, labels))
    zipped = MNISTDataset(write_mnist_csv(tmp_path / "train.csv.gz", pixels, labels))
    assert len(zipped) == len(plain) == 5
    for index in range(5):
        np.testing.assert_array_equal(zipped[index][0], plain[index][0])
        np.testing.assert_array_equal(zipped[index][1], plain[index][1])


def test_the_path_may_be_a_string(tmp_path):
    pixels, labels = random_images(2)
    path = write_mnist_csv(tmp_path / "train.csv", pixels, labels)
    assert len(MNISTDataset(str(path))) == 2


# --------------------------------------------------------------------------- test files

def test_a_test_file_without_labels_gives_all_zero_labels(tmp_path):
    pixels, _ = random_images(4)
    dataset = MNISTDataset(write_mnist_csv(tmp_path / "test.csv", pixels), is_train=False)
    assert len(dataset) == 4
    for index in range(4):
        x, y = dataset[index]
        np.testing.assert_allclose(x, pixels[index] / 255.0, rtol=1e-6)
        assert y.shape == (10,) and y.dtype == np.float32
        np.testing.assert_array_equal(y, np.zeros(10, np.float32))


def test_a_gzipped_test_file_reads_the_same_as_the_plain_one(tmp_path):
    pixels, _ = random_images(3)
    plain = MNISTDataset(write_mnist_csv(tmp_path / "test.csv", pixels), is_train=False)
    zipped = MNISTDataset(write_mnist_csv(tmp_path / "test.csv.gz", pixels), is_train=False)
    for index in range(3):
        np.testing.assert_array_equal(zipped[index][0], plain[index][0])
        np.testing.assert_array_equal(zipped[index][1], plain[index][1])


def test_a_labeled_file_read_with_is_train_false_keeps_its_labels(tmp_path):
    pixels, labels = random_images(4)
    dataset = MNISTDataset(write_mnist_csv(tmp_path / "test.csv", pixels, labels), is_train=False)
    for index, digit in enumerate(labels):
        assert dataset[index][1].argmax() == digit and dataset[index][1].sum() == 1.0


# --------------------------------------------------------------------------- errors

def test_a_missing_file_raises_file_not_found_naming_the_path(tmp_path):
    missing = tmp_path / "no_such_folder" / "mnist_train.csv"
    with pytest.raises(FileNotFoundError) as error:
        MNISTDataset(missing)
    assert str(missing) in str(error.value)


def test_a_header_with_the_wrong_number_of_columns_says_what_was_expected(tmp_path):
    pixels, labels = random_images(3)
    path = write_mnist_csv(tmp_path / "small.csv", pixels[:, :100], labels)  # 102 columns
    with pytest.raises(ValueError) as error:
        MNISTDataset(path)
    message = str(error.value)
    assert "102" in message          # what the file has
    assert "786" in message          # what a training file needs: Id, Label and 784 pixels


def test_rows_with_the_wrong_number_of_values_are_refused(tmp_path):
    pixels, labels = random_images(3)
    path = write_mnist_csv(tmp_path / "train.csv", pixels, labels)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0]  # the second image loses its last pixel
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="786"):
        MNISTDataset(path)


def test_a_label_outside_the_classes_is_refused(tmp_path):
    pixels, _ = random_images(2)
    path = write_mnist_csv(tmp_path / "train.csv", pixels, np.array([3, 10]))
    with pytest.raises(ValueError, match="10"):
        MNISTDataset(path, num_classes=10)


# --------------------------------------------------------------------------- how it loads

def count_traced_lines(function) -> int:
    """How many lines of Python code run while ``function()`` runs (numpy's C code is free)."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        function()
    finally:
        sys.settrace(previous)
    return count


def test_loading_parses_with_numpy_not_a_python_loop_per_pixel(tmp_path):
    """A loop over the pixels in Python runs at least one line per pixel (156,800 here).

    numpy's parsers (``np.loadtxt`` and friends) run in C and leave only their Python set-up to
    count, a few thousand lines whatever the size of the file.
    """
    pixels, labels = random_images(200)
    path = write_mnist_csv(tmp_path / "train.csv", pixels, labels)
    lines = count_traced_lines(lambda: MNISTDataset(path))
    assert lines < pixels.size // 10, (
        f"loading {pixels.size} pixels ran {lines} lines of Python: parse the file with numpy "
        f"(e.g. np.loadtxt(file, delimiter=',', dtype=np.int64)), not value by value."
    )


# --------------------------------------------------------------------------- as a dataset

def test_an_mnist_dataset_is_a_dataset_that_a_data_loader_batches(tmp_path):
    pixels, labels = random_images(10)
    dataset = MNISTDataset(write_mnist_csv(tmp_path / "train.csv", pixels, labels))
    assert isinstance(dataset, Dataset)
    batches = list(DataLoader(dataset, batch_size=4))
    assert [(x.shape, y.shape) for x, y in batches] == [
        ((4, 784), (4, 10)), ((4, 784), (4, 10)), ((2, 784), (2, 10))]
    np.testing.assert_array_equal(batches[2][1].argmax(axis=1), labels[8:])


def test_mnist_dataset_is_exported_at_the_top_level():
    assert mini_torch.MNISTDataset is MNISTDataset


# --------------------------------------------------------------------------- bundled subset

@pytest.fixture(scope="module")
def bundled() -> dict[str, MNISTDataset]:
    return {split: MNISTDataset(mnist_path(split)) for split in ("train", "test")}


def test_mnist_path_refuses_an_unknown_split():
    with pytest.raises(ValueError, match="validation"):
        mnist_path("validation")


@pytest.mark.parametrize(("split", "size"), [("train", 4000), ("test", 1000)])
def test_the_bundled_splits_have_4000_and_1000_images(bundled, split, size):
    dataset = bundled[split]
    assert len(dataset) == size
    x, y = dataset[size - 1]
    assert x.shape == (784,) and x.dtype == np.float32
    assert y.shape == (10,) and y.dtype == np.float32


@pytest.mark.parametrize(("split", "per_class"), [("train", 400), ("test", 100)])
def test_the_bundled_splits_are_class_balanced(bundled, split, per_class):
    labels = bundled[split].labels
    np.testing.assert_array_equal(labels.sum(axis=1), 1.0)  # every row is one-hot
    np.testing.assert_array_equal(np.bincount(labels.argmax(axis=1), minlength=10),
                                  [per_class] * 10)


@pytest.mark.parametrize("split", ["train", "test"])
def test_the_bundled_images_are_scaled_to_the_unit_interval(bundled, split):
    features = bundled[split].features
    assert features.min() == 0.0 and features.max() == 1.0
    mean_ink = features.mean()
    assert 0.05 < mean_ink < 0.25  # MNIST digits cover about 13 % of the image
