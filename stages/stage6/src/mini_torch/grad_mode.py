"""``no_grad``: evaluate a model without keeping what the backward pass needs.

In training, every module's ``forward`` caches its input (and whatever else its ``backward``
needs). For evaluation that memory is wasted. Inside ``with mini_torch.no_grad():`` modules still
compute their outputs, but the caches stay empty, and a ``backward`` afterwards raises a
``RuntimeError`` that says why. ``no_grad`` also works as a decorator, as in PyTorch.

Examples:
    >>> import mini_torch
    >>> with mini_torch.no_grad():
    ...     mini_torch.is_grad_enabled()
    False
    >>> mini_torch.is_grad_enabled()
    True
"""

from __future__ import annotations

import contextlib

_grad_enabled = True


def is_grad_enabled() -> bool:
    """``False`` inside a ``no_grad()`` block, ``True`` otherwise."""
    return _grad_enabled


class no_grad(contextlib.ContextDecorator):  # lower case: PyTorch's name
    """Context manager (and decorator) under which modules keep nothing for ``backward``.

    Examples:
        >>> @no_grad()
        ... def evaluate(model, x):
        ...     return model(x)
    """

    def __init__(self) -> None:
        self._previous: list[bool] = []  # a stack: the same decorator may be entered recursively

    def __enter__(self) -> no_grad:
        global _grad_enabled
        self._previous.append(_grad_enabled)
        _grad_enabled = False
        return self

    def __exit__(self, *exc_info) -> bool:
        global _grad_enabled
        _grad_enabled = self._previous.pop()
        return False
