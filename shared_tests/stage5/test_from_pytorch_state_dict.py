"""``serialization.from_pytorch_state_dict``: PyTorch's names and layouts into a Mini-Torch model.

The PyTorch state dict is written here by hand, as ``torch.nn.Linear`` lays it out:
``weight (out, in)``, ``bias (out,)``, and PyTorch's forward ``x @ weight.T + bias`` gives the
expected outputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch import nn
from mini_torch.serialization import from_pytorch_state_dict


def _model():
    return nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))


def _pytorch_state_dict(rng):
    return {"0.weight": rng.standard_normal((5, 4)), "0.bias": rng.standard_normal(5),
            "2.weight": rng.standard_normal((3, 5)), "2.bias": rng.standard_normal(3)}


def test_converted_weights_give_pytorchs_outputs(rng):
    sd = _pytorch_state_dict(rng)
    model = _model()
    model.load_state_dict(from_pytorch_state_dict(sd, model))
    x = rng.standard_normal((6, 4)).astype(np.float32)
    hidden = np.maximum(x @ sd["0.weight"].T + sd["0.bias"], 0.0)
    expected = hidden @ sd["2.weight"].T + sd["2.bias"]
    np.testing.assert_allclose(model(x), expected, rtol=1e-5, atol=1e-5)
    assert model[0].W.dtype == np.float32


def test_conversion_names_and_layouts_and_leaves_the_model_alone(rng):
    sd = _pytorch_state_dict(rng)
    model = _model()
    before = model.state_dict()
    converted = from_pytorch_state_dict(sd, model)
    assert list(converted) == ["0.W", "0.b", "2.W", "2.b"]
    np.testing.assert_allclose(converted["0.W"], sd["0.weight"].T, rtol=1e-6)
    np.testing.assert_allclose(converted["2.b"], sd["2.bias"].reshape(1, -1), rtol=1e-6)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_a_missing_or_unknown_key_or_a_wrong_shape_is_refused(rng):
    sd = _pytorch_state_dict(rng)
    model = _model()
    with pytest.raises(KeyError, match="nothing for"):
        from_pytorch_state_dict({k: v for k, v in sd.items() if k != "2.bias"}, model)
    with pytest.raises(KeyError, match="no counterpart"):
        from_pytorch_state_dict({**sd, "1.weight": np.ones((5, 5))}, model)
    with pytest.raises(ValueError, match=r"\(5, 4\)"):
        from_pytorch_state_dict({**sd, "0.weight": np.ones((4, 5))}, model)


def test_loading_pytorch_names_directly_names_the_converter(rng):
    with pytest.raises(KeyError, match="from_pytorch_state_dict"):
        _model().load_state_dict(_pytorch_state_dict(rng))
