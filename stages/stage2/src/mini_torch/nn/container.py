"""Containers: ``Sequential``, a chain of modules that is itself a module (the Composite
pattern), and ``ModuleList``, a registered list of modules."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from mini_torch.nn.module import Module


def _check_module(item, position: int, where: str = "Sequential") -> Module:
    if not isinstance(item, Module):
        hint = " (did you pass the class instead of an instance, e.g. ReLU instead of ReLU()?)" \
            if isinstance(item, type) and issubclass(item, Module) else ""
        raise TypeError(
            f"{where}: item {position} is {item!r} of type {type(item).__name__}, not a "
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
            x = module(x)  # the call, not .forward: Module.__call__ keeps the bookkeeping
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


class ModuleList(Module):
    """A list of modules that registers them as children, as ``torch.nn.ModuleList``.

    It has no forward of its own: a model keeps its blocks or heads in one and runs them in its
    own ``forward`` (and their backwards in its ``backward``). Being registered, their
    parameters, gradients, ``train()`` / ``eval()``, ``zero_grad()`` and ``state_dict()`` are the
    model's, named ``"<attribute>.<index>. ..."`` (``blocks.0.W``).

    Examples:
        >>> from mini_torch.nn import Linear
        >>> heads = ModuleList([Linear(4, 2, bias=False) for _ in range(3)])
        >>> len(heads), len(heads.parameters())
        (3, 3)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        self._items: list[Module] = []
        if modules is not None:
            self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end (the child ``"<position>"``); returns ``self``."""
        position = len(self._items)
        self._items.append(_check_module(module, position, "ModuleList"))
        self.add_module(str(position), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Append every module of ``modules``, in order; returns ``self``."""
        for module in modules:
            self.append(module)
        return self

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            "ModuleList has no forward: it only holds modules. Call its modules in your model's "
            "forward, e.g. `for block in self.blocks: x = block(x)`."
        )

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        raise NotImplementedError(
            "ModuleList has no backward: call its modules' backwards in reverse order in your "
            "model's backward, e.g. `for block in reversed(self.blocks): g = block.backward(g)`."
        )

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        if isinstance(index, slice):
            return ModuleList(self._items[index])
        return self._items[index]

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)
