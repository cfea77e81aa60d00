"""``save`` / ``load``: write a ``state_dict`` to an ``.npz`` file and read it back.

:func:`from_pytorch_state_dict` turns a PyTorch state dict (names and layouts of ``torch.nn``)
into this framework's, for a given model.
"""

from __future__ import annotations

import copy
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np


def save(state_dict: dict[str, np.ndarray], path: str | os.PathLike) -> Path:
    """Save a ``state_dict`` (name -> array) as an uncompressed ``.npz`` file; returns its path.

    ``.npz`` is appended when ``path`` has another suffix, as ``numpy.savez`` does.

    Examples:
        >>> save(model.state_dict(), "model.npz")      # doctest: +SKIP
        >>> model.load_state_dict(load("model.npz"))   # doctest: +SKIP
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str):
            raise TypeError(f"save: state_dict keys must be strings, got {name!r}.")
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"save: '{name}' is not a numeric array (got {type(value).__name__}).")
        arrays[name] = array
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def load(path: str | os.PathLike) -> OrderedDict[str, np.ndarray]:
    """Read a file written by :func:`save` back into an ordered ``state_dict``."""
    path = Path(path)
    if not path.exists() and path.with_name(path.name + ".npz").exists():
        path = path.with_name(path.name + ".npz")
    if not path.is_file():
        raise FileNotFoundError(f"load: no file at {path}; save one with mini_torch.save first.")
    with np.load(path, allow_pickle=False) as archive:
        return OrderedDict((name, archive[name]) for name in archive.files)


#: PyTorch's names of the affine parameters of LayerNorm / BatchNorm, here ``gamma`` / ``beta``.
_PYTORCH_ALIASES = {"weight": "gamma", "bias": "beta"}


def from_pytorch_state_dict(state_dict: dict, model) -> OrderedDict[str, np.ndarray]:
    """A PyTorch ``state_dict`` converted to ``model``'s names and layouts; ``model`` unchanged.

    PyTorch names a ``Linear``'s arrays ``weight (out, in)`` and ``bias (out,)``; here they are
    ``W (in, out)`` and ``b (1, out)``. Each PyTorch key ``prefix.name`` is written through
    ``model``'s module ``prefix`` under PyTorch's name, on a copy of the model: ``layer.weight``
    is the view ``W.T``, so the transpose happens by itself; ``Embedding.weight`` is ``W``;
    LayerNorm's and BatchNorm's ``weight`` / ``bias`` are ``gamma`` / ``beta``; buffers
    (``running_mean``, ...) keep their names. Modules with no PyTorch-named array (such as
    ``MultiHeadSelfAttention``, whose PyTorch twin has ``in_proj_weight = W_qkv.T``) are refused
    with the key. Every array of the model must be given, as PyTorch's ``strict=True``.

    Args:
        state_dict: PyTorch's names -> arrays (``{k: v.numpy() for k, v in sd.items()}``).
        model: a Mini-Torch model of the same architecture.

    Examples:
        >>> model.load_state_dict(from_pytorch_state_dict(torch_sd, model))   # doctest: +SKIP
    """
    scratch = copy.deepcopy(model)  # written through its PyTorch-named views, then read back
    modules = dict(scratch.named_modules())
    own = OrderedDict(scratch.named_parameters() + scratch.named_buffers())
    filled: set[str] = set()
    for key, value in state_dict.items():
        prefix, _, name = key.rpartition(".")
        module = modules.get(prefix)
        if module is not None and not isinstance(getattr(module, name, None), np.ndarray):
            name = _PYTORCH_ALIASES.get(name, name)
        target = getattr(module, name, None) if module is not None else None
        owners = [n for n, array in own.items()
                  if isinstance(target, np.ndarray) and np.shares_memory(array, target)]
        if not owners:
            raise KeyError(
                f"from_pytorch_state_dict: '{key}' has no counterpart in {type(model).__name__} "
                f"(module '{prefix}' is {type(module).__name__ if module else 'missing'}). The "
                f"model must have PyTorch's structure; convert such an array by hand (Linear: "
                f"W = weight.T, b = bias.reshape(1, -1)). The model's names: {list(own)}."
            )
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(
                f"from_pytorch_state_dict: '{key}' has shape {value.shape} but the model's "
                f"{owners[0]} holds {target.shape} in PyTorch's layout; the weights come from a "
                f"model of another size."
            )
        target[...] = value
        filled.update(owners)
    missing = [name for name in own if name not in filled]
    if missing:
        raise KeyError(f"from_pytorch_state_dict: the PyTorch state dict has nothing for "
                       f"{missing}; it must come from a model of the same architecture.")
    return scratch.state_dict()
