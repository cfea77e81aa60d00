"""``Module``: the base class of every layer and of every model built from layers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict

import numpy as np


class Module(ABC):
    """Base class of layers and models: a forward pass, a backward pass, parameters, gradients.

    A subclass implements :meth:`forward` and :meth:`backward`. A layer with weights overrides
    :meth:`parameters` and :meth:`grads`, which return lists aligned one to one (``grads()[i]``
    is the gradient of ``parameters()[i]``, or ``None`` before the first backward). A container
    overrides :meth:`children`.

    Everything else (``zero_grad``, ``train`` / ``eval``, ``named_parameters``, ``state_dict``,
    ``load_state_dict``, ``__call__``, ``__repr__``) is written once, here, on top of those.

    Examples:
        >>> class Double(Module):
        ...     def forward(self, x):
        ...         return 2 * x
        ...     def backward(self, grad_output):
        ...         return 2 * grad_output
        >>> Double()(np.ones((1, 2)))
        array([[2., 2.]])
    """

    def __init__(self) -> None:
        self.training = True

    @abstractmethod
    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the output for the batch ``x`` and cache what :meth:`backward` needs."""

    @abstractmethod
    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """Given ``dL/d(output)``, accumulate parameter gradients and return ``dL/d(input)``."""

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def _cached_input(self) -> np.ndarray:
        """``self.x``, the input the last forward cached; a clear error if none ran yet.

        For layers that keep their input for the backward pass (``Linear``, the activations).
        """
        x = getattr(self, "x", None)
        if x is None:
            raise RuntimeError(f"{self!r}: backward called before forward; run forward first.")
        return x

    def parameters(self) -> list[np.ndarray]:
        """The trainable arrays of this module and its children (none by default)."""
        return []

    def grads(self) -> list[np.ndarray | None]:
        """The gradients, aligned with :meth:`parameters` (none by default)."""
        return []

    def children(self) -> list[Module]:
        """The direct sub-modules (none by default; containers override this)."""
        return []

    def zero_grad(self) -> None:
        """Set every gradient to zero in place; gradients that do not exist yet stay ``None``."""
        for grad in self.grads():
            if grad is not None:
                grad.fill(0)

    def train(self, mode: bool = True) -> Module:
        """Set training mode on this module and every sub-module; returns ``self``."""
        self.training = bool(mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode on the whole tree (``train(False)``); returns ``self``."""
        return self.train(False)

    def named_parameters(self) -> list[tuple[str, np.ndarray]]:
        """``(name, array)`` pairs in :meth:`parameters` order.

        A parameter is named after the attribute that holds it (``"W"``, ``"b"``); containers
        prefix their children's names with the child's position (``"0.W"``).
        """
        attribute_of = {id(value): name for name, value in vars(self).items()
                        if isinstance(value, np.ndarray)}
        return [(attribute_of.get(id(param), str(index)), param)
                for index, param in enumerate(self.parameters())]

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """A copy of every parameter, by name: a snapshot that later training does not change."""
        return OrderedDict((name, param.copy()) for name, param in self.named_parameters())

    def load_state_dict(self, state_dict: dict[str, np.ndarray]) -> None:
        """Copy saved values into the existing parameter arrays (never rebinding them).

        Raises:
            KeyError: a key is missing from ``state_dict`` or is not a parameter of this module.
            ValueError: a saved array's shape differs from the parameter's.
        """
        own = OrderedDict(self.named_parameters())
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        if missing or unexpected:
            raise KeyError(
                f"load_state_dict for {type(self).__name__}: missing keys {missing}, unexpected "
                f"keys {unexpected}; the state_dict must come from a model of the same "
                f"architecture (names: {list(own)})."
            )
        for name, param in own.items():
            value = np.asarray(state_dict[name])
            if value.shape != param.shape:
                raise ValueError(
                    f"load_state_dict for {type(self).__name__}: '{name}' has shape "
                    f"{value.shape} in the state_dict but {param.shape} in the model."
                )
        for name, param in own.items():
            param[...] = state_dict[name]  # in place: optimizers keep their references

    def extra_repr(self) -> str:
        """The text between the parentheses of ``repr(module)``; override to show sizes."""
        return ""

    def __repr__(self) -> str:
        children = self.children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for index, child in enumerate(children):
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({index}): {child_repr}")
        lines.append(")")
        return "\n".join(lines)
