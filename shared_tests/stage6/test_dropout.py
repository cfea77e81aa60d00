"""``Dropout(p)``: inverted dropout from the global generator in training mode.

Training mode: each entry is zeroed with probability ``p`` and the others are multiplied by
``1 / (1 - p)``, so ``E[y] = x``; the backward multiplies the gradient by the same mask.
Evaluation mode (and ``p = 0``): the identity. ``p = 1``: zeros. ``p`` outside ``[0, 1]`` is a
``ValueError``.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
from mini_torch.nn import Dropout
from mini_torch.testing import gradcheck

SEE = "see docs/stage6.md#dropout"


# ------------------------------------------------------------------------------- construction

@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_dropout_refuses_a_probability_outside_0_1(p):
    with pytest.raises(ValueError, match="Dropout"):
        Dropout(p)


def test_dropout_has_no_parameters():
    drop = Dropout(0.3)
    assert drop.parameters() == [] and drop.grads() == []


def test_dropout_repr_shows_p():
    assert repr(Dropout(0.25)) == "Dropout(p=0.25)"


# ------------------------------------------------------------------------------ training mode

def test_dropout_keeps_each_entry_with_probability_1_minus_p():
    """200,000 entries: the kept fraction has a standard deviation of sqrt(0.3 * 0.7 / 2e5),
    about 0.001, so 0.7 +- 0.006 is about six standard deviations."""
    y = Dropout(0.3)(np.ones((400, 500), np.float32))
    kept = float(np.count_nonzero(y)) / y.size
    assert abs(kept - 0.7) < 0.006, f"Dropout keeps {kept:.4f} of the entries, expected 0.7; {SEE}"


def test_dropout_scales_kept_entries_by_1_over_1_minus_p(rng):
    x = rng.uniform(1.0, 2.0, size=(50, 40)).astype(np.float32)
    y = Dropout(0.2)(x)
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.8, rtol=1e-6, err_msg=(
        f"Dropout: kept entries are multiplied by 1 / (1 - p) (inverted dropout); {SEE}"))


def test_dropout_preserves_the_mean_of_its_input():
    """E[y] = x: the mean of 200,000 entries of ones is 1 within 5 standard deviations
    (std of one entry sqrt(p / (1 - p)) = 1 for p = 0.5, so 5 / sqrt(2e5) ~ 0.011)."""
    y = Dropout(0.5)(np.ones((400, 500), np.float32))
    assert abs(float(y.mean()) - 1.0) < 0.012, SEE


def test_dropout_draws_a_new_mask_at_every_forward():
    drop = Dropout(0.5)
    x = np.ones((20, 20), np.float32)
    assert not np.array_equal(drop(x), drop(x)), f"Dropout: one mask per forward; {SEE}"


def test_dropout_draws_from_the_global_generator():
    drop = Dropout(0.5)
    x = np.ones((20, 20), np.float32)
    mini_torch.manual_seed(7)
    first = drop(x)
    mini_torch.manual_seed(7)
    np.testing.assert_array_equal(drop(x), first, err_msg=(
        f"Dropout: the same seed must give the same mask (use mini_torch's generator); {SEE}"))


def test_dropout_with_p_1_gives_zeros_and_zero_gradients():
    drop = Dropout(1.0)
    x = np.ones((3, 4), np.float32)
    y = drop(x)
    grad_x = drop.backward(np.ones_like(x))
    assert np.all(np.isfinite(y)) and not y.any(), f"Dropout(p=1) gives zeros; {SEE}"
    assert not grad_x.any(), SEE


def test_dropout_with_p_0_is_the_identity_in_training_mode(rng):
    x = rng.normal(size=(3, 4)).astype(np.float32)
    drop = Dropout(0.0)
    np.testing.assert_array_equal(drop(x), x)


def test_dropout_backward_reuses_the_forward_mask(rng):
    """y = x * mask, so dL/dx = G * mask = G * y / x (x has no zeros here)."""
    x = rng.uniform(1.0, 2.0, size=(6, 7)).astype(np.float32)
    grad_output = rng.normal(size=(6, 7)).astype(np.float32)
    drop = Dropout(0.4)
    y = drop(x)
    grad_x = drop.backward(grad_output)
    np.testing.assert_allclose(grad_x, grad_output * (y / x), rtol=1e-5, err_msg=(
        f"Dropout.backward: the gradient goes through the kept entries, scaled as in forward; "
        f"{SEE}"))


def test_dropout_gradient_matches_central_differences_with_a_fixed_mask(rng):
    """Reseeding before every forward fixes the mask, which makes dropout a smooth function."""
    with mini_torch.default_dtype(np.float64):
        drop = Dropout(0.5)

    def forward(x):
        mini_torch.manual_seed(3)
        return drop(x)

    def backward(grad_output, x):
        forward(x)
        return drop.backward(grad_output)

    assert gradcheck(forward, backward, (rng.normal(size=(4, 5)),), name="Dropout.backward")


def test_dropout_keeps_float32():
    drop = Dropout(0.5)
    y = drop(np.ones((4, 4), np.float32))
    assert y.dtype == drop.backward(np.ones((4, 4), np.float32)).dtype == np.float32, SEE


# ---------------------------------------------------------------------------------- eval mode

def test_dropout_is_the_identity_in_eval_mode(rng):
    x = rng.normal(size=(5, 6)).astype(np.float32)
    grad_output = rng.normal(size=(5, 6)).astype(np.float32)
    drop = Dropout(0.9).eval()
    np.testing.assert_array_equal(drop(x), x, err_msg=f"Dropout in eval mode; {SEE}")
    np.testing.assert_array_equal(drop.backward(grad_output), grad_output)


def test_dropout_in_eval_mode_leaves_the_generator_alone():
    """Evaluation draws nothing, so it does not shift the random stream of training."""
    mini_torch.manual_seed(5)
    expected = mini_torch.init.get_generator().random()
    mini_torch.manual_seed(5)
    Dropout(0.5).eval()(np.ones((3, 3), np.float32))
    assert mini_torch.init.get_generator().random() == expected


# ------------------------------------------------------------------------------------- errors

def test_dropout_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="forward"):
        Dropout(0.5).backward(np.ones((2, 2), np.float32))


def test_dropout_backward_refuses_a_gradient_of_the_wrong_shape():
    drop = Dropout(0.5)
    drop(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="grad_output"):
        drop.backward(np.ones((3, 2), np.float32))


def test_dropout_backward_after_no_grad_forward_raises():
    drop = Dropout(0.5)
    with mini_torch.no_grad():
        drop(np.ones((2, 2), np.float32))
    with pytest.raises(RuntimeError, match="no_grad"):
        drop.backward(np.ones((2, 2), np.float32))

