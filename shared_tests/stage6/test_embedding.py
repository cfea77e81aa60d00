"""``Embedding(V, D)``: ``W (V, D)`` drawn N(0, 1); ``forward(indices) = W[indices]``.

The backward adds each output gradient into the row its index picked (a scatter-add, so a
repeated index collects every one of its gradients), accumulates ``dW`` until ``zero_grad()``
and returns ``None``: integer indices have no gradient. Expected values are built in each test
with plain Python loops over the indices.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
from mini_torch.nn import Embedding
from mini_torch.nn.embedding import embedding, embedding_backward
from mini_torch.testing import gradcheck

SEE = "see docs/stage6.md#embedding"


# ------------------------------------------------------------------------------ shapes and init

def test_embedding_table_has_shape_num_embeddings_by_embedding_dim():
    emb = Embedding(11, 4)
    assert emb.W.shape == (11, 4), SEE
    assert (emb.num_embeddings, emb.embedding_dim) == (11, 4)


def test_embedding_table_follows_the_default_dtype(float64):
    assert Embedding(3, 2).W.dtype == np.float64
    with mini_torch.default_dtype(np.float32):
        assert Embedding(3, 2).W.dtype == np.float32


def test_embedding_table_is_drawn_from_a_standard_normal():
    """N(0, 1) as in PyTorch: 200,000 draws put the mean within 0.01 and the std within 2 %."""
    emb = Embedding(2000, 100)
    assert abs(float(emb.W.mean())) < 0.01, SEE
    assert abs(float(emb.W.std()) - 1.0) < 0.02, SEE


def test_embedding_gradient_is_none_before_the_first_backward():
    assert Embedding(3, 2).grads() == [None]


def test_embedding_repr_shows_its_sizes():
    assert repr(Embedding(65, 16)) == "Embedding(65, 16)"


# ------------------------------------------------------------------------------------ forward

def test_embedding_forward_returns_the_row_of_each_index():
    emb = Embedding(7, 3)
    indices = np.array([[0, 6, 2], [2, 2, 5]])
    out = emb(indices)
    assert out.shape == (2, 3, 3), f"Embedding.forward: output shape; {SEE}"
    for n in range(2):
        for t in range(3):
            np.testing.assert_array_equal(out[n, t], emb.W[indices[n, t]],
                                          err_msg=f"Embedding.forward at ({n}, {t}); {SEE}")


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 2, 2)])
def test_embedding_forward_accepts_indices_of_any_shape(shape, rng):
    emb = Embedding(9, 4)
    indices = rng.integers(0, 9, size=shape)
    assert emb(indices).shape == (*shape, 4), f"Embedding.forward: indices.shape + (D,); {SEE}"


def test_embedding_forward_keeps_the_table_dtype():
    emb = Embedding(5, 3)
    assert emb(np.array([[1, 4]])).dtype == np.float32


def test_embedding_function_pair_matches_a_loop(rng):
    W = rng.normal(size=(6, 3))
    indices = rng.integers(0, 6, size=(4, 5))
    grad_output = rng.normal(size=(4, 5, 3))
    expected = np.zeros_like(W)
    for n in range(4):
        for t in range(5):
            expected[indices[n, t]] += grad_output[n, t]
    np.testing.assert_allclose(embedding(indices, W), W[indices.reshape(-1)].reshape(4, 5, 3))
    np.testing.assert_allclose(embedding_backward(grad_output, indices, 6), expected,
                               err_msg=f"embedding_backward; {SEE}")


# ----------------------------------------------------------------------------------- backward

def test_embedding_backward_returns_none():
    emb = Embedding(4, 2)
    emb(np.array([[1, 2]]))
    assert emb.backward(np.ones((1, 2, 2), np.float32)) is None, (
        f"Embedding.backward must return None: integer indices have no gradient; {SEE}")


def test_embedding_backward_adds_the_gradients_of_a_repeated_index():
    """Index 3 appears three times: its row of dW is the sum of the three output gradients."""
    emb = Embedding(5, 2)
    indices = np.array([[3, 1, 3, 3]])
    grad_output = np.array([[[1.0, 2.0], [10.0, 20.0], [100.0, 200.0], [1000.0, 2000.0]]],
                           dtype=np.float32)
    emb(indices)
    emb.backward(grad_output)
    expected = np.zeros((5, 2), np.float32)
    expected[3] = [1.0 + 100.0 + 1000.0, 2.0 + 200.0 + 2000.0]
    expected[1] = [10.0, 20.0]
    np.testing.assert_array_equal(emb.dW, expected, err_msg=(
        f"Embedding.backward: a repeated index must collect every gradient (np.add.at, not "
        f"dW[indices] += ...); rows never picked stay 0; {SEE}"))


def test_embedding_weight_gradient_matches_central_differences(float64):
    """The module's dW against central differences, with fixed indices (some repeated)."""
    emb = Embedding(7, 4)
    indices = np.array([[0, 3, 3, 6], [6, 0, 1, 3]])

    def forward(W):
        emb.W = W
        return emb(indices)

    def backward(grad_output, W):
        emb.W, emb.dW = W, None
        emb(indices)
        emb.backward(grad_output)
        return emb.dW

    assert gradcheck(forward, backward, (emb.W,), name="Embedding.backward")


def test_embedding_backward_accumulates_until_zero_grad(rng):
    emb = Embedding(6, 3)
    indices = rng.integers(0, 6, size=(2, 4))
    grad_output = rng.normal(size=(2, 4, 3)).astype(np.float32)
    emb(indices)
    emb.backward(grad_output)
    once = emb.dW.copy()
    emb(indices)
    emb.backward(grad_output)
    np.testing.assert_allclose(emb.dW, 2 * once, rtol=1e-6, err_msg=(
        f"Embedding.backward must add to dW (gradients accumulate until zero_grad); {SEE}"))
    emb.zero_grad()
    np.testing.assert_array_equal(emb.dW, np.zeros_like(once))


def test_embedding_gradient_is_float32_for_a_float32_table(rng):
    emb = Embedding(6, 3)
    emb(np.array([[1, 2]]))
    emb.backward(np.ones((1, 2, 3), np.float32))
    assert emb.dW.dtype == np.float32, f"Embedding.backward: keep float32; {SEE}"


# ------------------------------------------------------------------------------------- errors

def test_embedding_refuses_float_indices():
    with pytest.raises(TypeError, match="integer"):
        Embedding(5, 2)(np.array([[0.0, 1.0]]))


@pytest.mark.parametrize("bad", [5, -1])
def test_embedding_refuses_an_index_out_of_range(bad):
    with pytest.raises(ValueError, match=r"out of range.*0\.\.4"):
        Embedding(5, 2)(np.array([[0, bad]]))


def test_embedding_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="forward"):
        Embedding(5, 2).backward(np.ones((1, 1, 2), np.float32))


def test_embedding_backward_refuses_a_gradient_of_the_wrong_shape():
    emb = Embedding(5, 2)
    emb(np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match=r"grad_output has shape \(1, 3\)"):
        emb.backward(np.ones((1, 3), np.float32))


def test_embedding_refuses_a_non_integer_size():
    with pytest.raises(TypeError, match="num_embeddings"):
        Embedding(5.0, 2)


def test_embedding_backward_after_no_grad_forward_raises():
    emb = Embedding(5, 2)
    with mini_torch.no_grad():
        out = emb(np.array([[0, 1]]))
    assert out.shape == (1, 2, 2)
    with pytest.raises(RuntimeError, match="no_grad"):
        emb.backward(np.ones((1, 2, 2), np.float32))


def test_embedding_weight_scaled_in_place_scales_W_and_assignment_is_refused():
    """``embedding.weight *= 0.1`` (PyTorch code) scales ``W`` in place; a new array is refused."""
    layer = Embedding(5, 3)
    W, before = layer.W, layer.W.copy()
    layer.weight *= 0.1
    assert layer.W is W
    np.testing.assert_allclose(layer.W, 0.1 * before, rtol=1e-6)
    with pytest.raises(TypeError, match=r"embedding\.weight\[\.\.\.\] = value"):
        layer.weight = np.zeros((5, 3), np.float32)
    np.testing.assert_allclose(layer.W, 0.1 * before, rtol=1e-6)
