"""``Optimizer``: the base class that turns gradients into parameter updates."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import numpy as np

from mini_torch._checks import check_in_range


class Optimizer(ABC):
    """Base class of optimizers: holds the modules and the learning rate, zeroes gradients.

    The optimizer reads each module's ``parameters()`` and ``grads()`` afresh at every
    :meth:`step` (so it sees the current arrays) and updates the parameters *in place*, so the
    model and the optimizer always share the same arrays. Per-parameter state (momentum buffers,
    Adam's moments) lives in ``self.state``, keyed by the parameter, and survives between steps.

    Subclasses implement :meth:`step` (the Strategy pattern: the training loop calls ``step()``
    and does not care which rule runs).

    Args:
        modules: a list of modules (anything with ``parameters()`` and ``grads()``; checked at
            :meth:`step`), or a single module, which is wrapped in a list.
        lr: learning rate.
    """

    def __init__(self, modules, lr: float = 0.01) -> None:
        if not isinstance(modules, (list, tuple)):
            modules = [modules]
        for position, module in enumerate(modules):
            if isinstance(module, np.ndarray):
                raise TypeError(
                    f"{type(self).__name__}: item {position} is an array; Mini-Torch optimizers "
                    f"take modules, not parameter arrays (they read parameters() and grads() "
                    f"at each step). Pass the model itself: {type(self).__name__}(model)."
                )
        if all(callable(getattr(module, "parameters", None)) for module in modules) \
                and not any(module.parameters() for module in modules):
            raise ValueError(
                f"{type(self).__name__}: optimizer got an empty parameter list: the model has "
                f"no parameters (got {[type(m).__name__ for m in modules]}). Build the layers "
                f"before the optimizer; a layer with weights of its own declares them in "
                f"parameters() and grads()."
            )
        check_in_range(lr, "lr", type(self).__name__)
        self.modules = list(modules)
        self.lr = lr
        self.state: dict[int, dict] = {}

    @abstractmethod
    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Call ``zero_grad()`` on every module that has one (objects without it are skipped).

        ``set_to_none=True`` is passed on (PyTorch's option: the gradients become ``None``, and
        :meth:`step` skips a parameter without a gradient); the default zeros them in place.
        """
        for module in self.modules:
            zero_grad = getattr(module, "zero_grad", None)
            if callable(zero_grad):
                if set_to_none:
                    zero_grad(set_to_none=True)
                else:
                    zero_grad()  # duck-typed objects may take no argument

    def _parameters_and_grads(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Each ``(parameter, gradient)`` pair once, skipping parameters without a gradient."""
        seen: set[int] = set()
        for module in self.modules:
            if not (callable(getattr(module, "parameters", None))
                    and callable(getattr(module, "grads", None))):
                raise TypeError(
                    f"{type(self).__name__}.step: {module!r} has no parameters() / grads(), so "
                    f"there is nothing to update; pass modules such as a Sequential or a Linear."
                )
            params, grads = module.parameters(), module.grads()
            if len(params) != len(grads):
                raise RuntimeError(
                    f"{type(self).__name__}: {module!r} has {len(params)} parameters but "
                    f"{len(grads)} gradients; parameters() and grads() must be aligned."
                )
            for param, grad in zip(params, grads):
                if grad is None or id(param) in seen:
                    continue
                if grad.shape != param.shape:
                    raise RuntimeError(
                        f"{type(self).__name__}: a gradient of shape {grad.shape} belongs to a "
                        f"parameter of shape {param.shape} in {module!r}; the backward is wrong."
                    )
                seen.add(id(param))
                yield param, grad

    def _state_for(self, param: np.ndarray) -> dict:
        """The state dictionary of one parameter (created empty on first use)."""
        entry = self.state.get(id(param))
        if entry is None or entry["param"] is not param:
            entry = {"param": param}  # holding the array keeps its id from being reused
            self.state[id(param)] = entry
        return entry

    def extra_repr(self) -> str:
        return f"lr={self.lr}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"
