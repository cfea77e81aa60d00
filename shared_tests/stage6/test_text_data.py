"""Specification of stage 6's text pipeline: the bundled plays, ``CharVocab``, ``CharDataset``.

A character-level language model sees text as integer ids (``CharVocab.encode``) and learns from
windows: ``x`` is ``block_size`` consecutive ids and ``y`` the same window one character later, so
``y[t]`` is the character that follows ``x[:t + 1]``. ``CharDataset`` serves every such window,
one at a time (``dataset[i]``) or a batch at once (``__getitems__``), for the ``DataLoader``.
"""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np
import pytest

import mini_torch
from mini_torch.datasets import CharDataset, CharVocab, load_text, shakespeare_path
from mini_torch.utils.data import DataLoader, Dataset


@pytest.fixture(scope="module")
def plays() -> str:
    """The bundled text, read with gzip directly (not through ``load_text``)."""
    with gzip.open(shakespeare_path(), "rt", encoding="utf-8") as file:
        return file.read()


# --------------------------------------------------------------------------- the bundled text

def test_shakespeare_path_is_the_gzip_file_inside_the_installed_package():
    path = Path(shakespeare_path())
    package = Path(mini_torch.__file__).resolve().parent
    assert path.is_file(), f"shakespeare_path() = {path} does not exist"
    assert path.name == "shakespeare_8_plays.txt.gz"
    assert path.resolve().parent == package / "datasets" / "data"


def test_the_bundled_text_has_about_1_04_million_characters_of_76_kinds(plays):
    assert round(len(plays) / 1e6, 2) == 1.04
    assert len(set(plays)) == 76
    assert "\r" not in plays
    assert all(ord(char) < 128 for char in set(plays)), "the plays are plain ASCII"


def test_the_bundled_text_holds_the_eight_plays_in_order(plays):
    titles = ["HAMLET", "MACBETH", "KING LEAR", "ROMEO AND JULIET", "THE TEMPEST",
              "JULIUS CAESAR", "OTHELLO", "MIDSUMMER"]
    positions = [plays.find(title) for title in titles]
    assert all(position >= 0 for position in positions), dict(zip(titles, positions))
    assert positions == sorted(positions)
    assert plays.startswith("HAMLET")


def test_load_text_reads_the_bundled_plays_by_default(plays):
    assert load_text() == plays
    assert load_text(shakespeare_path()) == plays


def test_load_text_reads_plain_and_gzip_files(tmp_path):
    text = "To be, or not to be:\nthat is the question.\n"
    plain = tmp_path / "lines.txt"
    plain.write_text(text, encoding="utf-8")
    packed = tmp_path / "lines.txt.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as file:
        file.write(text)
    assert load_text(plain) == text
    assert load_text(str(packed)) == text


def test_load_text_of_a_missing_file_names_the_path_and_the_bundled_text(tmp_path):
    with pytest.raises(FileNotFoundError, match="shakespeare_path"):
        load_text(tmp_path / "nothing.txt")


# --------------------------------------------------------------------------- CharVocab

def test_vocab_holds_each_distinct_character_once_in_sorted_order():
    vocab = CharVocab("banana band")
    assert vocab.chars == [" ", "a", "b", "d", "n"]
    assert len(vocab) == 5


def test_vocab_id_is_the_rank_of_the_character():
    vocab = CharVocab("hello")
    ids = vocab.encode("hello")
    expected = [sorted(set("hello")).index(char) for char in "hello"]
    assert ids.tolist() == expected
    assert ids.dtype == np.int64
    assert ids.shape == (5,)


def test_vocab_round_trip_restores_the_whole_bundled_text(plays):
    vocab = CharVocab(plays)
    ids = vocab.encode(plays)
    assert ids.shape == (len(plays),)
    assert ids.dtype == np.int64
    assert ids.min() == 0 and ids.max() == len(vocab) - 1
    assert vocab.decode(ids) == plays


def test_vocab_encodes_its_own_characters_as_0_to_v_minus_1(plays):
    vocab = CharVocab(plays)
    assert vocab.encode("".join(vocab.chars)).tolist() == list(range(len(vocab)))


def test_vocab_decodes_lists_and_arrays_of_any_shape():
    vocab = CharVocab("abc")
    assert vocab.decode([2, 1, 0]) == "cba"
    assert vocab.decode(np.array([[0, 1], [2, 2]])) == "abcc"
    assert vocab.decode([]) == ""
    assert vocab.encode("").shape == (0,)


def test_vocab_encode_of_an_unknown_character_names_it():
    vocab = CharVocab("abc")
    with pytest.raises(ValueError, match="'z'"):
        vocab.encode("abz")


def test_vocab_decode_of_an_id_out_of_range_is_a_value_error():
    vocab = CharVocab("abc")
    with pytest.raises(ValueError, match=r"0\.\.2"):
        vocab.decode([0, 3])
    with pytest.raises(ValueError, match=r"0\.\.2"):
        vocab.decode([-1])


def test_vocab_decode_of_logits_is_a_type_error_that_says_to_sample_first():
    with pytest.raises(TypeError, match="indices"):
        CharVocab("abc").decode(np.zeros(3, dtype=np.float32))


@pytest.mark.parametrize("text, error", [("", ValueError), (b"abc", TypeError),
                                         (["a", "b"], TypeError)])
def test_vocab_needs_a_non_empty_string(text, error):
    with pytest.raises(error, match="CharVocab"):
        CharVocab(text)


# --------------------------------------------------------------------------- CharDataset

def test_char_dataset_is_a_dataset():
    assert isinstance(CharDataset(np.arange(10), 3), Dataset)


def test_char_dataset_has_one_window_per_start_that_leaves_a_next_id():
    for length, block_size in [(10, 4), (10, 9), (100, 1)]:
        dataset = CharDataset(np.arange(length), block_size)
        # starts 0 .. length - block_size - 1: the target window ends at the last id
        assert len(dataset) == length - block_size


def test_char_dataset_sample_is_a_window_and_the_window_one_step_later(rng):
    ids = rng.integers(0, 50, size=40)
    dataset = CharDataset(ids, block_size=6)
    for i in [0, 7, len(dataset) - 1]:
        x, y = dataset[i]
        assert x.shape == (6,) and y.shape == (6,)
        assert x.dtype == np.int64 and y.dtype == np.int64
        np.testing.assert_array_equal(x, ids[i:i + 6])
        np.testing.assert_array_equal(y[:-1], x[1:])  # y is x shifted by one ...
        assert y[-1] == ids[i + 6]                    # ... plus the id that follows x


def test_char_dataset_negative_index_counts_from_the_end():
    dataset = CharDataset(np.arange(12), 5)
    for got, want in zip(dataset[-1], dataset[len(dataset) - 1]):
        np.testing.assert_array_equal(got, want)


def test_char_dataset_index_out_of_range_is_an_index_error():
    dataset = CharDataset(np.arange(12), 5)
    with pytest.raises(IndexError, match="7 windows"):
        dataset[len(dataset)]
    with pytest.raises(IndexError):
        dataset.__getitems__([0, 7])


def test_char_dataset_getitems_equals_the_stacked_samples(rng):
    dataset = CharDataset(rng.integers(0, 30, size=200), block_size=8)
    indices = np.array([5, 0, 191, 5, 77])
    x, y = dataset.__getitems__(indices)
    assert x.shape == (5, 8) and y.shape == (5, 8)
    assert x.dtype == np.int64 and y.dtype == np.int64
    np.testing.assert_array_equal(x, np.stack([dataset[int(i)][0] for i in indices]))
    np.testing.assert_array_equal(y, np.stack([dataset[int(i)][1] for i in indices]))


def test_char_dataset_does_not_let_a_batch_change_the_text():
    ids = np.arange(20)
    dataset = CharDataset(ids, 4)
    x, _ = dataset.__getitems__([0, 1])
    x[...] = -1
    assert dataset[0][0].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("ids, block_size, error, words", [
    (np.arange(5), 5, ValueError, "at least 6 ids"),
    (np.arange(5), 0, ValueError, "block_size"),
    (np.zeros((3, 4), dtype=np.int64), 2, ValueError, "1-D"),
    (np.linspace(0, 1, 10), 2, ValueError, "integer"),
])
def test_char_dataset_rejects_what_cannot_make_a_window(ids, block_size, error, words):
    with pytest.raises(error, match=words):
        CharDataset(ids, block_size)


# --------------------------------------------------------------------------- with a DataLoader

def test_data_loader_batches_windows_in_order_without_shuffling():
    ids = np.arange(30)
    dataset = CharDataset(ids, block_size=8)
    loader = DataLoader(dataset, batch_size=5)
    batches = list(loader)
    assert len(batches) == math.ceil(len(dataset) / 5)
    x, y = batches[0]
    assert x.shape == (5, 8) and y.shape == (5, 8)
    np.testing.assert_array_equal(x, np.arange(5)[:, None] + np.arange(8))
    np.testing.assert_array_equal(y, x + 1)
    last_x, _ = batches[-1]
    assert last_x.shape == (len(dataset) - 5 * (len(batches) - 1), 8)


def test_data_loader_shuffled_batches_are_still_shifted_windows_of_the_text(rng):
    text = "the quick brown fox jumps over the lazy dog " * 4
    vocab = CharVocab(text)
    dataset = CharDataset(vocab.encode(text), block_size=10)
    loader = DataLoader(dataset, batch_size=16, shuffle=True, drop_last=True)
    starts_seen = []
    for x, y in loader:
        assert x.shape == (16, 10) and y.shape == (16, 10)
        np.testing.assert_array_equal(y[:, :-1], x[:, 1:])
        for row_x, row_y in zip(x, y):
            window = vocab.decode(row_x) + vocab.decode(row_y[-1:])
            assert window in text
        starts_seen.append(x[:, 0])
    assert len(starts_seen) == len(dataset) // 16
