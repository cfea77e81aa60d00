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
    "calculate_gain",
    "constant_",
    "default_dtype",
    "get_default_dtype",
    "get_generator",
    "he_normal",
    "kaiming_normal_",
    "kaiming_uniform_",
    "manual_seed",
    "normal_",
    "ones_",
    "set_default_dtype",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform",
    "xavier_uniform_",
    "zeros_",
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


# ---------------------------------------------------------- in-place initialisers, as torch.nn.init
#
# PyTorch's names and arguments: each fills ``tensor`` in place from the global generator and
# returns it. The fans are those of PyTorch for the weight they are given, in either layout:
#
# - a ``Linear``'s stored ``W (in_features, out_features)`` (``y = x @ W``), and any array in
#   numpy's usual C order, is read in this framework's layout: ``fan_in = shape[0]``,
#   ``fan_out = shape[1]`` (times the kernel size, ``prod(shape[2:])``);
# - ``layer.weight`` is ``W.T``, PyTorch's ``(out_features, in_features)`` view of the same
#   memory: a 2-D array whose first axis is the fast one in memory (``strides[0] < strides[1]``,
#   which is what a transpose is) is read in PyTorch's layout: ``fan_in = shape[1]``,
#   ``fan_out = shape[0]``.
#
# Either way the fans are those of the stored ``W``, so ``init.kaiming_normal_(layer.weight)``
# and ``init.kaiming_normal_(layer.W)`` draw from the same distribution, PyTorch's.


def _check_fillable(tensor, where: str) -> None:
    """Refuse, before any draw, what cannot be filled in place: a non-float or non-array."""
    if not isinstance(tensor, np.ndarray) or tensor.dtype.kind != "f":
        got = f"dtype {tensor.dtype}" if isinstance(tensor, np.ndarray) else type(tensor).__name__
        raise TypeError(
            f"init.{where}: tensor must be a floating numpy array to fill in place (a parameter "
            f"such as layer.W or layer.weight), got {got}."
        )


def _fill(tensor: np.ndarray, values, where: str) -> np.ndarray:
    """Copy ``values`` into ``tensor`` in place (keeping its dtype) and return ``tensor``."""
    _check_fillable(tensor, where)
    tensor[...] = values
    return tensor


def _calculate_fan_in_and_fan_out(tensor: np.ndarray, where: str) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight, read in the layout its memory has (see above).

    ``W (in, out, *kernel)``: ``fan_in = shape[0] * prod(shape[2:])``,
    ``fan_out = shape[1] * prod(shape[2:])``; its transpose ``W.T (out, in)`` (``layer.weight``):
    ``fan_in = shape[1]``, ``fan_out = shape[0]``.
    """
    _check_fillable(tensor, where)
    if tensor.ndim < 2:
        raise ValueError(
            f"init.{where}: fan in and fan out cannot be computed for a tensor of shape "
            f"{tensor.shape}; it needs at least 2 dimensions, (in_features, out_features). "
            f"Use normal_ or uniform_ for a bias."
        )
    if tensor.ndim == 2 and tensor.strides[0] < tensor.strides[1]:  # W.T: PyTorch's (out, in)
        return tensor.shape[1], tensor.shape[0]
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[0] * receptive_field, tensor.shape[1] * receptive_field


def _kaiming_std(tensor: np.ndarray, a: float, mode: str, nonlinearity: str, where: str) -> float:
    """``gain / sqrt(fan)``, the standard deviation of both Kaiming initialisers."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init.{where}: mode must be 'fan_in' or 'fan_out', got {mode!r}.")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, where)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity, as ``torch.nn.init.calculate_gain``.

    ``linear``/``sigmoid``: 1, ``tanh``: 5/3, ``relu``: sqrt(2),
    ``leaky_relu``: sqrt(2 / (1 + negative_slope^2)) (``param``, default 0.01), ``selu``: 3/4.
    """
    if nonlinearity in ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope * slope))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(
        f"init.calculate_gain: unsupported nonlinearity {nonlinearity!r}; use one of 'linear', "
        f"'sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu'."
    )


def normal_(tensor: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """Fill ``tensor`` in place with draws from ``N(mean, std^2)``; returns ``tensor``.

    Examples:
        >>> W = np.empty((3, 4), np.float32)
        >>> normal_(W, std=0.02) is W
        True
    """
    _check_fillable(tensor, "normal_")
    draws = get_generator().normal(mean, std, size=tensor.shape)
    return _fill(tensor, draws, "normal_")


def uniform_(tensor: np.ndarray, a: float = 0.0, b: float = 1.0) -> np.ndarray:
    """Fill ``tensor`` in place with draws from ``U(a, b)``; returns ``tensor``."""
    _check_fillable(tensor, "uniform_")
    draws = get_generator().uniform(a, b, size=tensor.shape)
    return _fill(tensor, draws, "uniform_")


def zeros_(tensor: np.ndarray) -> np.ndarray:
    """Fill ``tensor`` with zeros in place; returns ``tensor``."""
    return _fill(tensor, 0.0, "zeros_")


def ones_(tensor: np.ndarray) -> np.ndarray:
    """Fill ``tensor`` with ones in place; returns ``tensor``."""
    return _fill(tensor, 1.0, "ones_")


def constant_(tensor: np.ndarray, val: float) -> np.ndarray:
    """Fill ``tensor`` with ``val`` in place; returns ``tensor``."""
    return _fill(tensor, val, "constant_")


def xavier_uniform_(tensor: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Xavier (Glorot) uniform in place: ``U(-a, a)``, ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    The fans are PyTorch's for ``layer.weight`` and for ``layer.W`` alike (see above).
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_uniform_")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(tensor, get_generator().uniform(-bound, bound, size=tensor.shape),
                 "xavier_uniform_")


def xavier_normal_(tensor: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """Xavier (Glorot) normal in place: ``N(0, std^2)``, ``std = gain * sqrt(2 / (fan_sum))``.

    ``fan_sum = fan_in + fan_out``, PyTorch's fans for ``layer.weight`` and ``layer.W`` alike.
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_normal_")
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(tensor, get_generator().normal(0.0, std, size=tensor.shape), "xavier_normal_")


def kaiming_normal_(tensor: np.ndarray, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> np.ndarray:
    """He (Kaiming) normal in place: ``N(0, std^2)``, ``std = gain / sqrt(fan)``.

    ``gain = calculate_gain(nonlinearity, a)``; ``fan`` is ``fan_in`` (``mode="fan_in"``, keeps
    the forward activations' variance) or ``fan_out`` (``mode="fan_out"``, the backward
    gradients'), PyTorch's fans for ``layer.weight`` and for ``layer.W`` alike (see above).
    With ``nonlinearity="relu"`` this is :func:`he_normal`'s distribution.
    """
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return _fill(tensor, get_generator().normal(0.0, std, size=tensor.shape), "kaiming_normal_")


def kaiming_uniform_(tensor: np.ndarray, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> np.ndarray:
    """He (Kaiming) uniform in place: ``U(-bound, bound)``, ``bound = gain * sqrt(3 / fan)``.

    The uniform distribution of :func:`kaiming_normal_`'s standard deviation ``gain / sqrt(fan)``.
    ``kaiming_uniform_(layer.weight, a=math.sqrt(5))`` is the initialisation of
    ``torch.nn.Linear``'s weight.
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return _fill(tensor, get_generator().uniform(-bound, bound, size=tensor.shape),
                 "kaiming_uniform_")
