"""Parameter initialisation and seeding (the default dtype and the generator live in ``_config``).

One module-level ``numpy.random.Generator`` drives every random draw in Mini-Torch (weight init,
synthetic data, shuffling) unless a function is handed its own ``rng`` / ``generator``.
``manual_seed(seed)`` replaces it, so the same seed gives the same run, bit for bit.

Always fetch the generator with :func:`get_generator` at the moment you need it: ``manual_seed``
swaps in a new one, and a reference kept from before would miss the reseed.
"""

from __future__ import annotations

import math

import numpy as np

from mini_torch import _config
from mini_torch._checks import check_positive_int
from mini_torch._config import default_dtype, get_default_dtype, get_generator, set_default_dtype

__all__ = [
    "default_dtype",
    "get_default_dtype",
    "get_generator",
    "he_normal",
    "manual_seed",
    "set_default_dtype",
    "xavier_uniform",
]


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the global generator, like ``torch.manual_seed``; returns the new generator.

    Examples:
        >>> import mini_torch
        >>> _ = mini_torch.manual_seed(0)
    """
    seed = check_positive_int(seed, "seed", "manual_seed", minimum=0)
    _config.set_generator(np.random.default_rng(seed))
    return get_generator()


def he_normal(fan_in: int, fan_out: int, *, rng: np.random.Generator | None = None,
              dtype=None) -> np.ndarray:
    """He (Kaiming) normal init for ReLU layers: ``W ~ N(0, 2 / fan_in)``.

    The variance ``2 / fan_in`` keeps the variance of the activations constant from layer to
    layer when half of the units are zeroed by a ReLU.

    Args:
        fan_in: number of inputs of the layer.
        fan_out: number of outputs of the layer.
        rng: generator to draw from (default: the global one).
        dtype: dtype of the result (default: :func:`get_default_dtype`).

    Shape:
        Output: ``(fan_in, fan_out)``, ready for ``x @ W``.
    """
    check_positive_int(fan_in, "fan_in", "he_normal")
    check_positive_int(fan_out, "fan_out", "he_normal")
    std = math.sqrt(2.0 / fan_in)
    generator = get_generator() if rng is None else rng
    weights = generator.standard_normal((fan_in, fan_out)) * std
    return weights.astype(dtype or get_default_dtype(), copy=False)


def xavier_uniform(fan_in: int, fan_out: int, *, gain: float = 1.0,
                   rng: np.random.Generator | None = None, dtype=None) -> np.ndarray:
    """Xavier (Glorot) uniform init: ``W ~ U(-a, a)``, ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Suited to tanh and sigmoid layers; it balances the variance of the forward activations and of
    the backward gradients.

    Shape:
        Output: ``(fan_in, fan_out)``.
    """
    check_positive_int(fan_in, "fan_in", "xavier_uniform")
    check_positive_int(fan_out, "fan_out", "xavier_uniform")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    generator = get_generator() if rng is None else rng
    weights = generator.uniform(-bound, bound, size=(fan_in, fan_out))
    return weights.astype(dtype or get_default_dtype(), copy=False)
