"""``named_parameters()``, ``state_dict()`` and ``load_state_dict()``.

Names follow PyTorch: a layer's parameter is named after its attribute (``"W"``, ``"b"``) and a
container prefixes the position of the child (``"0.W"``, ``"1.0.b"``). ``state_dict()`` is a
snapshot (copies). ``load_state_dict()`` copies the values into the existing arrays, so a reference
taken before the load sees the new values; a missing or unexpected key is a ``KeyError`` that lists
the keys, a wrong shape a ``ValueError`` naming the key and both shapes.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
from mini_torch.nn import Linear, ReLU, Sequential, Tanh


def _model(seed: int) -> Sequential:
    mini_torch.manual_seed(seed)
    return Sequential(Linear(2, 8), ReLU(), Linear(8, 3))


def _error_message(excinfo: pytest.ExceptionInfo) -> str:
    """The message itself (``str(KeyError)`` would add quotes around it)."""
    return str(excinfo.value.args[0])


# ---------------------------------------------------------------------------- named_parameters

def test_linear_named_parameters_are_w_then_b():
    layer = Linear(3, 2)
    named = layer.named_parameters()
    assert [name for name, _ in named] == ["W", "b"]
    assert named[0][1] is layer.W and named[1][1] is layer.b


def test_sequential_named_parameters_are_prefixed_with_the_position():
    names = [name for name, _ in _model(0).named_parameters()]
    assert names == ["0.W", "0.b", "2.W", "2.b"]


def test_nested_sequential_named_parameters_join_the_positions():
    model = Sequential(Linear(2, 4), Sequential(Tanh(), Linear(4, 3)))
    assert [name for name, _ in model.named_parameters()] == ["0.W", "0.b", "1.1.W", "1.1.b"]


def test_named_parameters_follow_the_order_of_parameters():
    model = _model(0)
    arrays = [array for _, array in model.named_parameters()]
    assert all(a is p for a, p in zip(arrays, model.parameters()))
    assert len(arrays) == len(model.parameters())


def test_activation_has_no_named_parameters():
    assert ReLU().named_parameters() == []


# ---------------------------------------------------------------------------------- state_dict

def test_state_dict_keys_are_the_parameter_names_in_order():
    model = _model(0)
    assert list(model.state_dict()) == [name for name, _ in model.named_parameters()]


def test_state_dict_values_equal_the_parameters():
    model = _model(0)
    for (name, param), value in zip(model.named_parameters(), model.state_dict().values()):
        np.testing.assert_array_equal(value, param, err_msg=name)
        assert value.dtype == param.dtype


def test_state_dict_is_a_snapshot_that_later_updates_do_not_change():
    model = _model(0)
    state = model.state_dict()
    saved = state["0.W"].copy()
    for param in model.parameters():
        param += 1.0
    np.testing.assert_array_equal(state["0.W"], saved)


def test_activation_state_dict_is_empty():
    assert len(Tanh().state_dict()) == 0


# ----------------------------------------------------------------------------- load_state_dict

def test_state_dict_round_trip_restores_the_outputs_exactly(rng):
    model = _model(0)
    x = rng.standard_normal((6, 2)).astype(np.float32)
    expected = model(x)
    state = model.state_dict()
    for param in model.parameters():
        param *= 0.5  # training would change them too
    assert not np.array_equal(model(x), expected)
    model.load_state_dict(state)
    np.testing.assert_array_equal(model(x), expected)


def test_load_state_dict_into_a_fresh_model_gives_the_same_outputs(rng):
    source, target = _model(0), _model(1)
    x = rng.standard_normal((6, 2)).astype(np.float32)
    assert not np.array_equal(source(x), target(x))
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(target(x), source(x))


def test_load_state_dict_copies_into_the_existing_arrays():
    source, target = _model(0), _model(1)
    before = target.parameters()
    target.load_state_dict(source.state_dict())
    after = target.parameters()
    assert all(a is b for a, b in zip(after, before))


def test_load_state_dict_is_seen_through_references_taken_before():
    source, target = _model(0), _model(1)
    first_weight = target.parameters()[0]
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(first_weight, source[0].W)


def test_load_state_dict_does_not_alias_the_loaded_arrays():
    """Changing the dict afterwards does not change the model: the values were copied."""
    source, target = _model(0), _model(1)
    state = source.state_dict()
    target.load_state_dict(state)
    state["0.W"] += 100.0
    np.testing.assert_array_equal(target[0].W, source[0].W)


def test_load_state_dict_keeps_the_parameter_dtype():
    model = _model(0)
    state = {name: value.astype(np.float64) for name, value in model.state_dict().items()}
    model.load_state_dict(state)
    assert all(param.dtype == np.float32 for param in model.parameters())


def test_load_state_dict_missing_key_raises_key_error_naming_it():
    model = _model(0)
    state = model.state_dict()
    del state["2.b"]
    with pytest.raises(KeyError) as excinfo:
        model.load_state_dict(state)
    assert "2.b" in _error_message(excinfo)
    assert "missing" in _error_message(excinfo).lower()


def test_load_state_dict_unexpected_key_raises_key_error_naming_it():
    model = _model(0)
    state = model.state_dict()
    state["3.W"] = np.zeros((3, 3), dtype=np.float32)
    with pytest.raises(KeyError) as excinfo:
        model.load_state_dict(state)
    assert "3.W" in _error_message(excinfo)
    assert "unexpected" in _error_message(excinfo).lower()


def test_load_state_dict_wrong_shape_raises_value_error_naming_key_and_both_shapes():
    model = _model(0)
    state = model.state_dict()
    state["2.W"] = np.zeros((8, 4), dtype=np.float32)
    with pytest.raises(ValueError) as excinfo:
        model.load_state_dict(state)
    message = _error_message(excinfo)
    assert "2.W" in message
    assert "(8, 4)" in message
    assert "(8, 3)" in message


def test_load_state_dict_from_a_different_architecture_is_refused():
    model = _model(0)
    other = Sequential(Linear(2, 8), ReLU(), Linear(8, 8), ReLU(), Linear(8, 3))
    with pytest.raises(KeyError):
        model.load_state_dict(other.state_dict())


def test_load_state_dict_that_fails_changes_nothing():
    """The shapes are checked before anything is copied: no half-loaded model."""
    model, source = _model(0), _model(1)
    before = [param.copy() for param in model.parameters()]
    state = source.state_dict()
    state["2.b"] = np.zeros((1, 4), dtype=np.float32)  # the last entry is the bad one
    with pytest.raises(ValueError):
        model.load_state_dict(state)
    for param, saved in zip(model.parameters(), before):
        np.testing.assert_array_equal(param, saved)
