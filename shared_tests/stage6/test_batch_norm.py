"""``BatchNorm1d(C, eps=1e-5, momentum=0.1, affine=True)``, as ``torch.nn.BatchNorm1d``.

Training mode normalises each feature with the batch's mean and biased variance and moves the
running statistics towards the batch's (the variance unbiased, times ``M / (M - 1)``);
evaluation mode uses the running statistics. Expected values are those formulas written out in
numpy here; gradients are checked numerically. See docs/stage6.md#batchnorm1d.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch
from mini_torch.nn import BatchNorm1d, Linear, Sequential
from mini_torch.nn.batchnorm import batch_norm, batch_norm_backward
from mini_torch.testing import gradcheck


def _randomise(bn: BatchNorm1d, rng) -> BatchNorm1d:
    bn.gamma[...] = rng.normal(size=bn.gamma.shape)
    bn.beta[...] = rng.normal(size=bn.beta.shape)
    return bn


def test_batch_norm_starts_with_unit_scale_zero_shift_and_unit_running_var():
    bn = BatchNorm1d(4)
    np.testing.assert_array_equal(bn.gamma, np.ones(4))
    np.testing.assert_array_equal(bn.beta, np.zeros(4))
    np.testing.assert_array_equal(bn.running_mean, np.zeros(4))
    np.testing.assert_array_equal(bn.running_var, np.ones(4))
    assert bn.gamma.dtype == bn.running_mean.dtype == np.float32


def test_batch_norm_training_output_uses_the_batch_statistics(rng):
    bn = _randomise(BatchNorm1d(3), rng)
    x = (3.0 * rng.normal(size=(8, 3)) + 2.0).astype(np.float32)
    mean, var = x.mean(0), x.var(0)
    expected = bn.gamma * (x - mean) / np.sqrt(var + 1e-5) + bn.beta
    y = bn(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_batch_norm_running_statistics_use_momentum_and_the_unbiased_variance(rng):
    bn = BatchNorm1d(3, momentum=0.3)
    x1, x2 = rng.normal(size=(5, 3)), 2.0 + rng.normal(size=(5, 3))
    bn(x1.astype(np.float32))
    bn(x2.astype(np.float32))
    mean = 0.7 * (0.7 * 0 + 0.3 * x1.mean(0)) + 0.3 * x2.mean(0)
    var = 0.7 * (0.7 * 1 + 0.3 * x1.var(0, ddof=1)) + 0.3 * x2.var(0, ddof=1)
    np.testing.assert_allclose(bn.running_mean, mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var, var, rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked) == 2


def test_batch_norm_momentum_none_is_the_cumulative_average(rng):
    bn = BatchNorm1d(2, momentum=None)
    batches = [rng.normal(size=(4, 2)).astype(np.float32) for _ in range(3)]
    for batch in batches:
        bn(batch)
    np.testing.assert_allclose(bn.running_mean, np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-5, atol=1e-6)


def test_batch_norm_eval_uses_the_running_statistics_and_leaves_them(rng):
    bn = _randomise(BatchNorm1d(3), rng)
    bn.running_mean[...] = [0.5, -1.0, 2.0]
    bn.running_var[...] = [4.0, 0.25, 1.0]
    bn.eval()
    x = rng.normal(size=(2, 3)).astype(np.float32)
    expected = bn.gamma * (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5) + bn.beta
    np.testing.assert_allclose(bn(x), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(bn.running_mean, [0.5, -1.0, 2.0])
    assert int(bn.num_batches_tracked) == 0


def test_batch_norm_second_argument_is_eps_as_in_pytorch(rng):
    """The PyTorch-GAN spelling BatchNorm1d(out, 0.8) sets eps = 0.8."""
    bn = BatchNorm1d(2, 0.8)
    x = rng.normal(size=(6, 2)).astype(np.float32)
    np.testing.assert_allclose(bn(x), (x - x.mean(0)) / np.sqrt(x.var(0) + 0.8), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training_gradients_match_central_differences(shape, affine, rng, float64):
    bn = BatchNorm1d(3, affine=affine)
    if affine:
        _randomise(bn, rng)
    assert gradcheck(bn, rng.normal(size=shape), name=f"BatchNorm1d{shape}")


def test_batch_norm_eval_gradients_match_central_differences(rng, float64):
    bn = _randomise(BatchNorm1d(3), rng)
    bn.running_mean[...] = rng.normal(size=3)
    bn.running_var[...] = rng.uniform(0.5, 2.0, 3)
    bn.eval()
    assert gradcheck(bn, rng.normal(size=(4, 3)), name="BatchNorm1d (eval)")


def test_batch_norm_functions_are_a_forward_backward_pair(rng):
    x, gamma, beta = rng.normal(size=(5, 4)), rng.normal(size=4), rng.normal(size=4)

    def forward(x, gamma, beta):
        return batch_norm(x, gamma, beta)[0]

    def backward(grad_output, x, gamma, beta):
        return batch_norm_backward(grad_output, x, gamma)

    assert gradcheck(forward, backward, (x, gamma, beta), name="batch_norm_backward")


def test_batch_norm_on_n_c_l_normalises_over_batch_and_length(rng):
    bn = BatchNorm1d(2)
    x = rng.normal(size=(3, 2, 4)).astype(np.float32)
    y = bn(x)
    assert y.shape == x.shape
    np.testing.assert_allclose(y.mean(axis=(0, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2)), 1.0, rtol=1e-3)


def test_batch_norm_running_statistics_are_buffers_in_the_state_dict():
    model = Sequential(Linear(4, 3), BatchNorm1d(3))
    names = list(model.state_dict())
    assert names == ["0.W", "0.b", "1.gamma", "1.beta", "1.running_mean", "1.running_var",
                     "1.num_batches_tracked"]
    assert len(model.parameters()) == 4


def test_batch_norm_state_dict_round_trip_restores_eval_output(rng):
    source = BatchNorm1d(3)
    source(rng.normal(size=(6, 3)).astype(np.float32))
    target = BatchNorm1d(3)
    target.load_state_dict(source.state_dict())
    x = rng.normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_array_equal(target.eval()(x), source.eval()(x))


def test_batch_norm_without_affine_has_no_parameters():
    bn = BatchNorm1d(3, affine=False)
    assert bn.parameters() == [] and bn.gamma is None


def test_batch_norm_backward_accumulates_until_zero_grad(rng):
    bn = BatchNorm1d(3)
    x, grad = rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(4, 3)).astype(
        np.float32)
    bn(x)
    bn.backward(grad)
    once = bn.dgamma.copy()
    bn(x)
    bn.backward(grad)
    np.testing.assert_allclose(bn.dgamma, 2 * once, rtol=1e-5)
    bn.zero_grad()
    np.testing.assert_array_equal(bn.dgamma, 0.0)


def test_batch_norm_refuses_the_wrong_feature_count():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(5\)"):
        BatchNorm1d(3)(np.ones((4, 5), np.float32))


def test_batch_norm_refuses_another_float_dtype():
    with pytest.raises(TypeError, match="float64"):
        BatchNorm1d(3)(np.ones((4, 3)))


def test_batch_norm_refuses_a_training_batch_of_one():
    with pytest.raises(ValueError, match="more than one value per feature"):
        BatchNorm1d(3)(np.ones((1, 3), np.float32))
    assert BatchNorm1d(3).eval()(np.ones((1, 3), np.float32)).shape == (1, 3)


def test_batch_norm_after_a_second_forward_of_another_size_names_the_double_forward(rng):
    bn = BatchNorm1d(3)
    bn(rng.normal(size=(8, 3)).astype(np.float32))
    bn(rng.normal(size=(4, 3)).astype(np.float32))
    with pytest.raises(RuntimeError, match="called it twice before backward"):
        bn.backward(np.ones((8, 3), np.float32))


def test_batch_norm_keeps_float64_under_the_default_dtype(float64, rng):
    bn = BatchNorm1d(2)
    assert bn(rng.normal(size=(3, 2))).dtype == np.float64
    assert mini_torch.get_default_dtype() == np.float64
