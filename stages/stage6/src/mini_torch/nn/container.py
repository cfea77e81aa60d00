"""``Sequential``: a chain of modules that is itself a module (the Composite pattern)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from mini_torch.nn.module import Module


def _check_module(item, position: int) -> Module:
    if not isinstance(item, Module):
        hint = " (did you pass the class instead of an instance, e.g. ReLU instead of ReLU()?)" \
            if isinstance(item, type) and issubclass(item, Module) else ""
        raise TypeError(
            f"Sequential: item {position} is {item!r} of type {type(item).__name__}, not a "
            f"Module{hint}."
        )
    return item


class Sequential(Module):
    """Runs modules one after another: forward in order, backward in reverse order.

    Accepts a list (``Sequential([Linear(2, 8), ReLU()])``, or any iterable of modules) or the
    modules as arguments (``Sequential(Linear(2, 8), ReLU())``, PyTorch's form). Each module is
    registered as a child named by its position (``"0"``, ``"1"``, ...), so the parameters and
    gradients are those of its modules, flattened in order (``Module`` does that), and
    ``named_parameters()`` gives ``"0.W"``, ``"0.b"``, ...

    Shape:
        - Input: whatever the first module takes, e.g. ``(N, in)``
        - Output: whatever the last module returns

    Examples:
        >>> from mini_torch.nn import Linear, ReLU
        >>> model = Sequential(Linear(2, 8), ReLU(), Linear(8, 3))
        >>> model(np.ones((4, 2), np.float32)).shape
        (4, 3)
    """

    def __init__(self, *modules: Module | Iterable[Module]) -> None:
        super().__init__()
        if len(modules) == 1 and not isinstance(modules[0], Module) \
                and isinstance(modules[0], Iterable):
            modules = tuple(modules[0])  # the list form: Sequential([Linear(2, 8), ReLU()])
        self.modules: list[Module] = []
        for module in modules:
            self.append(module)

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        for module in self.modules:
            x = module.forward(x)
        return x
        # END SOLUTION

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION
        for module in reversed(self.modules):
            grad_output = module.backward(grad_output)
        return grad_output
        # END SOLUTION

    def append(self, module: Module) -> Sequential:
        """Add a module at the end (registered as the child ``"<position>"``); returns ``self``."""
        position = len(self.modules)
        self.modules.append(_check_module(module, position))
        self.add_module(str(position), module)
        return self

    def __len__(self) -> int:
        return len(self.modules)

    def __getitem__(self, index: int | slice) -> Module:
        if isinstance(index, slice):
            return Sequential(self.modules[index])
        return self.modules[index]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.modules)
