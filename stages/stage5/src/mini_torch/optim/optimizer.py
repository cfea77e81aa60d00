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

    Parameter groups work as in PyTorch: ``SGD([{"params": model.body}, {"params":
    model.head, "lr": 0.1}], lr=0.01)`` gives each group its own options, falling back to the
    constructor's (``param_groups``, see :class:`ParamGroup`). A group's ``params`` are modules,
    as everywhere in Mini-Torch; ``self.modules`` lists the modules of every group.

    Args:
        modules: a list of modules (anything with ``parameters()`` and ``grads()``; checked at
            :meth:`step`), or a single module, which is wrapped in a list, or a list of
            parameter groups (dicts with ``"params"`` and any option of the optimizer).
        lr: learning rate (the default of every group).
    """

    #: The options a parameter group may set, besides ``lr`` (each subclass names its own).
    option_names: tuple[str, ...] = ()

    def __init__(self, modules, lr: float = 0.01) -> None:
        if not isinstance(modules, (list, tuple)):
            modules = [modules]
        groups = _split_param_groups(modules, type(self).__name__)
        modules = [module for group in groups for module in group["params"]]
        for position, module in enumerate(modules):
            if isinstance(module, np.ndarray):
                raise TypeError(
                    f"{type(self).__name__}: item {position} is an array; Mini-Torch optimizers "
                    f"take modules, not parameter arrays (they read parameters() and grads() "
                    f"at each step). Pass the model itself: {type(self).__name__}(model), or "
                    "modules in groups: [{'params': model.body, 'lr': 0.1}, ...]."
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
        if len(groups) == 1 and set(groups[0]) == {"params"}:  # Optimizer(model): one group
            groups = [{"params": self.modules}]
        self.param_groups = [ParamGroup(self, group) for group in groups]

    def _check_param_groups(self) -> None:
        """Check the options of every group (those it sets, and the defaults it falls back to).

        A subclass calls it at the end of ``__init__``, once its own attributes are set.
        """
        names = ("lr", *self.option_names)
        self._check_options({name: getattr(self, name) for name in self.option_names},
                            type(self).__name__)
        for position, group in enumerate(self.param_groups):
            unknown = sorted(set(group) - {"params", *names})
            if unknown:
                raise ValueError(
                    f"{type(self).__name__}: parameter group {position} has the unknown "
                    f"option(s) {unknown}; a group takes 'params' and any of {list(names)}."
                )
            check_in_range(group["lr"], "lr", f"{type(self).__name__} (group {position})")
            self._check_options({name: group[name] for name in self.option_names},
                                f"{type(self).__name__} (group {position})")

    def _check_options(self, options: dict, where: str) -> None:
        """Raise ``ValueError`` for a bad option of one group (the subclass's checks)."""
        return None  # an optimizer with no options besides lr has nothing more to check

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

    def _parameters_and_grads(self, modules=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Each ``(parameter, gradient)`` pair of ``modules`` (default: all) once.

        Parameters without a gradient are skipped.
        """
        seen: set[int] = set()
        for module in self.modules if modules is None else modules:
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


class ParamGroup(dict):
    """One entry of ``optimizer.param_groups``, PyTorch's parameter group.

    ``group["params"]`` is the group's list of modules; the group holds the options it was given
    (``{"params": model.head, "lr": 0.1}``). An option it does not hold reads the optimizer's
    attribute of that name, the default: ``group["lr"]`` is ``optimizer.lr`` until the group
    sets its own (``group["lr"] = 0.01``, the spelling of a PyTorch learning-rate schedule).
    """

    def __init__(self, optimizer: Optimizer, options: dict) -> None:
        super().__init__(options)
        self.optimizer = optimizer

    def __missing__(self, name: str):
        # dict calls this for a key the group does not hold: fall back to the default
        if name == "lr" or name in self.optimizer.option_names:
            return getattr(self.optimizer, name)
        raise KeyError(name)


def _split_param_groups(modules: list | tuple, where: str) -> list[dict]:
    """The groups of PyTorch's ``[{"params": ..., "lr": ...}, ...]``, or one group of modules.

    Each group's ``params`` (one module or a list of them) becomes a list; a module in two groups
    is refused, as in PyTorch.
    """
    if not any(isinstance(item, dict) for item in modules):
        return [{"params": list(modules)}]
    groups, seen = [], set()
    for position, item in enumerate(modules):
        if not isinstance(item, dict) or "params" not in item:
            raise TypeError(
                f"{where}: item {position} is {type(item).__name__}; with parameter groups "
                f"every item must be a dict with a 'params' entry (a module or a list of "
                "modules), e.g. [{'params': model.body}, {'params': model.head, 'lr': 0.1}]."
            )
        params = item["params"]
        params = list(params) if isinstance(params, (list, tuple)) else [params]
        for module in params:
            if id(module) in seen:
                raise ValueError(
                    f"{where}: {module!r} appears in more than one parameter group; give each "
                    f"module to one group."
                )
            seen.add(id(module))
        groups.append({**item, "params": params})
    return groups
