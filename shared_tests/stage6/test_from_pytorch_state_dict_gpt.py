"""``from_pytorch_state_dict`` on the stage-6 layers: PyTorch's ``Embedding.weight (num, dim)``
is ``W`` as it is; ``LayerNorm.weight`` / ``bias`` are ``gamma`` / ``beta``; an attention layer
(PyTorch's ``in_proj_weight``) is refused with its key."""

from __future__ import annotations

import numpy as np
import pytest

from mini_torch import nn
from mini_torch.serialization import from_pytorch_state_dict


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(7, 4)
        self.ln = nn.LayerNorm(4)
        self.head = nn.Linear(4, 7, bias=False)

    def forward(self, idx):
        return self.head(self.ln(self.tok(idx)))

    def backward(self, grad_output):
        return self.tok.backward(self.ln.backward(self.head.backward(grad_output)))


def test_embedding_layer_norm_and_linear_convert_as_pytorch_lays_them_out(rng):
    sd = {"tok.weight": rng.standard_normal((7, 4)), "ln.weight": rng.standard_normal(4),
          "ln.bias": rng.standard_normal(4), "head.weight": rng.standard_normal((7, 4))}
    model = TinyLM()
    model.load_state_dict(from_pytorch_state_dict(sd, model))
    np.testing.assert_allclose(model.tok.W, sd["tok.weight"], rtol=1e-6)
    np.testing.assert_allclose(model.ln.gamma, sd["ln.weight"], rtol=1e-6)
    np.testing.assert_allclose(model.ln.beta, sd["ln.bias"], rtol=1e-6)
    np.testing.assert_allclose(model.head.W, sd["head.weight"].T, rtol=1e-6)


def test_an_attention_layer_is_refused_with_its_key(rng):
    model = nn.Sequential(nn.MultiHeadSelfAttention(4, 2))
    sd = {"0.in_proj_weight": rng.standard_normal((12, 4))}
    with pytest.raises(KeyError, match=r"0\.in_proj_weight"):
        from_pytorch_state_dict(sd, model)
