"""Specification of ``mini_torch.save`` / ``mini_torch.load``: a state dict survives a file.

``save(model.state_dict(), path)`` writes every parameter by name; ``load(path)`` reads them back
in the same order, so ``model.load_state_dict(load(path))`` restores the model exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
import mini_torch.nn as nn


def make_mlp() -> nn.Sequential:
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))


def test_a_saved_and_loaded_state_dict_restores_the_model_outputs_exactly(tmp_path, rng):
    x = rng.normal(size=(6, 5)).astype(np.float32)
    mini_torch.manual_seed(1)
    trained = make_mlp()
    expected = trained(x)
    path = tmp_path / "model.npz"
    mini_torch.save(trained.state_dict(), path)

    mini_torch.manual_seed(2)
    fresh = make_mlp()
    assert not np.array_equal(fresh(x), expected)  # a different initialisation
    fresh.load_state_dict(mini_torch.load(path))
    np.testing.assert_array_equal(fresh(x), expected)


def test_load_returns_every_array_by_name_in_the_saved_order(tmp_path):
    state = make_mlp().state_dict()
    mini_torch.save(state, tmp_path / "model.npz")
    loaded = mini_torch.load(tmp_path / "model.npz")
    assert list(loaded) == list(state)
    for name, array in state.items():
        assert loaded[name].shape == array.shape
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)


def test_float64_parameters_stay_float64(tmp_path, float64):
    mini_torch.save(make_mlp().state_dict(), tmp_path / "model.npz")
    loaded = mini_torch.load(tmp_path / "model.npz")
    assert {array.dtype for array in loaded.values()} == {np.dtype(np.float64)}


def test_loading_a_file_into_a_model_keeps_its_parameter_arrays(tmp_path, rng):
    """The values are copied into the existing arrays, so every reference to them stays valid."""
    x = rng.normal(size=(4, 5)).astype(np.float32)
    mini_torch.manual_seed(1)
    source = make_mlp()
    mini_torch.save(source.state_dict(), tmp_path / "model.npz")
    mini_torch.manual_seed(2)
    model = make_mlp()
    arrays_before = model.parameters()
    model.load_state_dict(mini_torch.load(tmp_path / "model.npz"))
    assert all(after is before for after, before in zip(model.parameters(), arrays_before))
    np.testing.assert_array_equal(model(x), source(x))


def test_the_file_is_a_snapshot_that_later_training_does_not_change(tmp_path):
    model = make_mlp()
    mini_torch.save(model.state_dict(), tmp_path / "model.npz")
    saved = {name: array.copy() for name, array in model.state_dict().items()}
    for param in model.parameters():
        param += 1.0
    for name, array in mini_torch.load(tmp_path / "model.npz").items():
        np.testing.assert_array_equal(array, saved[name])


def test_load_reads_back_what_save_wrote_under_the_same_name(tmp_path):
    state = make_mlp().state_dict()
    mini_torch.save(state, tmp_path / "checkpoint")
    loaded = mini_torch.load(tmp_path / "checkpoint")
    assert list(loaded) == list(state)


def test_save_accepts_a_string_path_and_creates_missing_folders(tmp_path):
    state = make_mlp().state_dict()
    path = tmp_path / "runs" / "1" / "model.npz"
    mini_torch.save(state, str(path))
    assert len(mini_torch.load(str(path))) == len(state)


def test_loading_a_missing_file_raises_file_not_found_naming_the_path(tmp_path):
    missing = tmp_path / "nothing_here.npz"
    with pytest.raises(FileNotFoundError) as error:
        mini_torch.load(missing)
    assert str(missing) in str(error.value)


def test_save_and_load_are_importable_from_the_top_level():
    from mini_torch.serialization import load, save

    assert mini_torch.save is save and mini_torch.load is load
