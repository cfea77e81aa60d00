"""``nn.utils.clip_grad_norm_``: rescale the gradients of a model when their norm is too large."""

from __future__ import annotations

import math

import numpy as np


def clip_grad_norm_(modules, max_norm: float, norm_type: float = 2.0) -> np.floating:
    """Scale every gradient in place so that their total norm is at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_``: the total norm is taken over all gradients together,
    as if they were one vector, ``total = (sum_i ||g_i||^p)^(1/p)`` (``p = norm_type``, ``inf``:
    the largest absolute entry); when ``total > max_norm`` every gradient is multiplied by
    ``max_norm / (total + 1e-6)``, which keeps its direction. Gradients that are ``None`` are
    skipped. Call it between the backward and ``optimizer.step()``.

    The gradients live in the modules here (not on the parameters, as in PyTorch), so pass the
    model, or a list of modules, where PyTorch passes ``model.parameters()``.

    Args:
        modules: a ``Module`` (its whole tree) or a list of modules.
        max_norm: the largest total norm allowed, ``> 0``.
        norm_type: ``p`` of the p-norm (default 2), or ``float("inf")``.

    Returns:
        The total norm *before* clipping, a 0-d floating value (``float(norm)``, ``.item()``).

    Examples:
        >>> from mini_torch.nn import Linear
        >>> layer = Linear(1, 1, bias=False)
        >>> _ = layer(np.ones((1, 1), np.float32))
        >>> _ = layer.backward(np.full((1, 1), 10.0, np.float32))   # dW = 10
        >>> float(clip_grad_norm_(layer, 1.0)), round(float(layer.dW[0, 0]), 4)
        (10.0, 1.0)
    """
    grads = _gradients(modules)
    max_norm, norm_type = _check_norms(max_norm, norm_type)
    # BEGIN SOLUTION
    if not grads:
        return np.float32(0.0)
    if math.isinf(norm_type):
        total = max(np.abs(g).max() for g in grads)                   # the largest |entry|
    else:
        total = sum((np.abs(g) ** norm_type).sum() for g in grads) ** (1.0 / norm_type)
    clip_coef = max_norm / (float(total) + 1e-6)
    if clip_coef < 1.0:
        for grad in grads:
            grad *= clip_coef          # in place: the modules and the optimizer see it
    return total
    # END SOLUTION


def _gradients(modules) -> list[np.ndarray]:
    """The non-``None`` gradients of a module or of a list of modules."""
    items = [modules] if hasattr(modules, "grads") else list(modules)
    grads, seen = [], set()
    for item in items:
        if not callable(getattr(item, "grads", None)):
            hint = " (PyTorch passes model.parameters(); here pass the model itself)" \
                if isinstance(item, np.ndarray) else ""
            raise TypeError(
                f"clip_grad_norm_: expected a Module or a list of modules, got an item of type "
                f"{type(item).__name__}{hint}."
            )
        for grad in item.grads():
            if grad is not None and id(grad) not in seen:  # a shared layer is clipped once
                seen.add(id(grad))
                grads.append(grad)
    return grads


def _check_norms(max_norm, norm_type) -> tuple[float, float]:
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not max_norm > 0:
        raise ValueError(
            f"clip_grad_norm_: max_norm must be > 0, got {max_norm}; a typical value is 1.0 "
            f"(max_norm = 0 would zero every gradient)."
        )
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 or inf, got {norm_type}.")
    return max_norm, norm_type
