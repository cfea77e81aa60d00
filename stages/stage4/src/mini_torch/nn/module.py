"""``Module``: the base class of every layer and of every model built from layers."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections import OrderedDict
from pathlib import Path

import numpy as np

from mini_torch.grad_mode import is_grad_enabled


class Module(ABC):
    """Base class of layers and models: a forward pass, a backward pass, parameters, gradients.

    A subclass implements :meth:`forward` and :meth:`backward`. A module assigned to an attribute
    of a module is registered as its *child*, in assignment order, as in PyTorch::

        class Net(Module):
            def __init__(self):
                super().__init__()
                self.body = Sequential(Linear(784, 128), ReLU())   # child "body"
                self.head = Linear(128, 10)                         # child "head"

    so ``parameters()``, ``grads()``, ``named_parameters()`` (``body.0.W``, ``head.b``),
    ``zero_grad()``, ``train()`` / ``eval()``, ``state_dict()`` and ``repr`` cover the whole tree
    with no hand-written plumbing. A *leaf* layer with arrays of its own (``Linear``) overrides
    :meth:`parameters` and :meth:`grads` to declare them, aligned one to one (``grads()[i]`` is the
    gradient of ``parameters()[i]``, or ``None`` before the first backward); arrays are never
    discovered by attribute. A composite with arrays of its own returns them followed by
    ``super().parameters()``.

    The tree is walked as in PyTorch: :meth:`children`, :meth:`named_children`, :meth:`modules`,
    :meth:`named_modules` and :meth:`apply` (``model.apply(init_weights)``). Arrays that are state
    but not parameters (running statistics) are registered with :meth:`register_buffer`: they are
    in :meth:`state_dict`, not in :meth:`parameters`. ``module(*args, **kwargs)`` calls
    ``forward(*args, **kwargs)``, then does the bookkeeping below.

    What ``backward`` needs, ``forward`` keeps in plain attributes (``self.x = x``, ``None``
    before the first forward) named in the class attribute ``_cached_names`` (``("x",)`` by
    default; ``Flatten`` keeps ``("input_shape",)``), and ``backward`` reads them through
    :meth:`_cached` (``self._cached_input()`` for ``x``), which raises a clear error when one
    is missing. The rest of the bookkeeping happens in one place, :meth:`__call__`, after
    ``forward`` returns (where PyTorch runs its hooks): under :func:`mini_torch.no_grad` it
    sets the cached attributes of the module and of every module below it to ``None``, and
    otherwise it counts the forward. So call the module, ``model(x)``, not ``model.forward(x)``,
    as in PyTorch; a ``forward`` called directly still caches what ``backward`` needs, but is
    neither counted nor emptied by ``no_grad`` (see :meth:`__call__`). Attribute assignment
    only registers children. The bookkeeping is in ``__call__`` rather than behind an explicit
    ``save_for_backward`` because the line that caches (``self.x = x``) is the student's code,
    while ``__call__`` is given code that works whatever a ``forward`` looks like.

    A module keeps only its *last* forward's arrays: calling it twice (a GAN discriminator on
    the real batch, then on the fake one) and then running the backward of the first call
    differentiates the second. Two checks catch it: when the batches differ in shape, the
    backward's check of ``grad_output`` raises a ``RuntimeError`` (also a ``ValueError``) that
    says so; and after two calls, a second backward (the one meant for the other call) raises a
    ``RuntimeError``. Both name the fix: call each backward right after its own forward.

    Examples:
        >>> class Double(Module):
        ...     def forward(self, x):
        ...         return 2 * x
        ...     def backward(self, grad_output):
        ...         return 2 * grad_output
        >>> Double()(np.ones((1, 2)))
        array([[2., 2.]])
    """

    training: bool = True
    _cached_names: tuple[str, ...] = ("x",)  # the attributes forward keeps for backward
    _forwards: int = 0  # calls since the last backward (see __call__)
    _forwards_before_backward: int = 0  # the calls the last backward followed
    _cached_without_grad: bool = False  # the last call ran under no_grad and kept nothing

    def __init__(self) -> None:
        self.training = True

    def __setattr__(self, name: str, value) -> None:
        children = self.__dict__.setdefault("_modules", {})
        if isinstance(value, Module):
            children[name] = value  # a re-assigned name keeps its place, as in PyTorch
        else:
            children.pop(name, None)
        object.__setattr__(self, name, value)

    def add_module(self, name: str, module: Module) -> None:
        """Register ``module`` as the child ``name`` (what attribute assignment does)."""
        if not isinstance(module, Module):
            raise TypeError(
                f"{type(self).__name__}.add_module: '{name}' is {type(module).__name__}, "
                f"not a Module."
            )
        setattr(self, name, module)

    @abstractmethod
    def forward(self, x: np.ndarray) -> np.ndarray:
        """Compute the output for the batch ``x`` and cache what :meth:`backward` needs."""

    @abstractmethod
    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        """Given ``dL/d(output)``, accumulate parameter gradients and return ``dL/d(input)``."""

    def __call__(self, *args, **kwargs):
        """``module(...)``: ``forward(...)`` with the same arguments, then the bookkeeping of
        what ``forward`` kept for ``backward``; this is the only place that does it.

        - Under :func:`mini_torch.no_grad`, every attribute named in ``_cached_names`` becomes
          ``None``, in this module and in every module below it (a composite's ``forward`` may
          have called a child's ``forward`` directly), so nothing is kept for a backward, and a
          backward says why.
        - Otherwise the call is counted, so that after two calls the second backward is
          refused (:meth:`_check_one_forward_per_backward`).

        Call the module, not ``forward``, as in PyTorch (where ``__call__`` runs the hooks). A
        ``forward`` called directly computes and caches as usual and its ``backward`` works,
        but it is not counted, and under ``no_grad`` its caches are dropped only when the
        module call around it, if any, returns.
        """
        output = self.forward(*args, **kwargs)
        if is_grad_enabled():
            self._forwards += 1  # one more forward whose backward may follow
            self._cached_without_grad = False
            return output
        for _, module in self.named_modules():  # no_grad: keep nothing for backward (memory)
            for name in module._cached_names:
                if getattr(module, name, None) is not None:
                    setattr(module, name, None)
            module._cached_without_grad = True  # so that a backward names no_grad
        return output

    def _cached(self, name: str):
        """The array ``forward`` kept in ``self.<name>``; a clear error if there is none."""
        value = getattr(self, name, None)
        if value is None:
            if self._cached_without_grad:
                raise RuntimeError(
                    f"{self!r}: backward called after a forward under mini_torch.no_grad(), "
                    f"which keeps nothing for backward; run the forward outside no_grad() to "
                    f"train."
                )
            raise RuntimeError(f"{self!r}: backward called before forward; run forward first.")
        if name == self._cached_names[0]:  # read once at the top of every backward
            self._check_one_forward_per_backward()
        return value

    def _check_one_forward_per_backward(self) -> None:
        """Refuse the second backward of two forwards (the double forward of a GAN).

        Forward, forward, backward is allowed (the backward uses the last forward, as the earlier
        stages' tests fix), and so is forward, backward, backward (the gradients add up). But
        after two forwards the first backward already differentiated the *second* forward, so a
        second backward with no forward of its own means the caller meant one backward per
        forward: it is refused before it adds anything.
        """
        forwards = self._forwards
        if forwards == 0 and self._forwards_before_backward > 1:
            raise RuntimeError(
                f"{self!r}: a second backward after {self._forwards_before_backward} forwards. "
                f"A module keeps only its LAST forward's input, so the previous backward already "
                f"used the last batch (for a GAN discriminator called on the real batch, then on "
                f"the fake one, the real batch's gradients were computed on the fake one). Call "
                f"each backward right after its own forward, or run both batches through one "
                f"forward, concatenated."
            )
        if forwards:
            self._forwards_before_backward = forwards
        self._forwards = 0

    def _cached_input(self) -> np.ndarray:
        """``self.x``, the input the last forward cached (``Linear``, the activations)."""
        return self._cached("x")

    def children(self) -> list[Module]:
        """The direct sub-modules, in the order they were assigned."""
        return list(self.__dict__.get("_modules", {}).values())

    def named_children(self) -> list[tuple[str, Module]]:
        """``(name, module)`` for each direct sub-module, in order."""
        return list(self.__dict__.get("_modules", {}).items())

    def named_modules(self, prefix: str = "") -> list[tuple[str, Module]]:
        """``(dotted name, module)`` for this module (named ``prefix``, ``""`` by default) and
        every module below it, depth first in assignment order; a module reached twice is
        listed once, as in PyTorch."""
        found: list[tuple[str, Module]] = []
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            found.append((name, module))
            stack.extend(reversed([(f"{name}.{child_name}" if name else child_name, child)
                                   for child_name, child in module.named_children()]))
        return found

    def modules(self) -> list[Module]:
        """This module and every module below it (see :meth:`named_modules`).

        On a ``Sequential`` the attribute ``modules`` is its list of modules (the stage-2
        contract), which hides this method: call ``Module.modules(seq)`` or
        ``seq.named_modules()`` there.
        """
        return [module for _, module in self.named_modules()]

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every sub-module, children first, then on ``self``; returns
        ``self``. PyTorch's way to initialise a whole model::

            def init_weights(module):
                if isinstance(module, Linear):
                    init.normal_(module.W, std=0.02)
            model.apply(init_weights)
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def register_buffer(self, name: str, tensor: np.ndarray | None) -> None:
        """Keep ``tensor`` as the attribute ``name``: saved in :meth:`state_dict` and loaded by
        :meth:`load_state_dict`, but not a parameter (no gradient, never stepped), as
        ``BatchNorm1d``'s running statistics.

        Raises:
            TypeError: ``tensor`` is neither a numpy array nor ``None``.
            KeyError: ``name`` is already an attribute that is not a buffer.
        """
        if tensor is not None and not isinstance(tensor, np.ndarray):
            raise TypeError(
                f"{type(self).__name__}.register_buffer: '{name}' must be a numpy array (or "
                f"None), got {type(tensor).__name__}."
            )
        buffers = self.__dict__.setdefault("_buffer_names", [])
        if name not in buffers and name in self.__dict__:
            raise KeyError(
                f"{type(self).__name__}.register_buffer: attribute '{name}' already exists; "
                f"choose another name."
            )
        if name not in buffers:
            buffers.append(name)
        setattr(self, name, tensor)

    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        """``(dotted name, array)`` for every buffer of the tree (``None`` buffers skipped)."""
        found = []
        for module_name, module in self.named_modules():
            for name in module.__dict__.get("_buffer_names", []):
                value = getattr(module, name)
                if value is not None:
                    found.append((f"{module_name}.{name}" if module_name else name, value))
        return found

    def buffers(self) -> list[np.ndarray]:
        """The buffers of the tree, in :meth:`named_buffers` order."""
        return [value for _, value in self.named_buffers()]

    def parameters(self) -> list[np.ndarray]:
        """The trainable arrays of the children, in order (a leaf layer declares its own)."""
        return [param for child in self.children() for param in child.parameters()]

    def grads(self) -> list[np.ndarray | None]:
        """The gradients, aligned with :meth:`parameters`."""
        return [grad for child in self.children() for grad in child.grads()]

    def zero_grad(self, set_to_none: bool = False) -> None:
        """Set every gradient to zero in place; gradients that do not exist yet stay ``None``.

        With ``set_to_none=True`` every gradient becomes ``None`` instead (PyTorch's option; its
        default there is ``True``, here ``False`` so the arrays an optimizer or a test holds stay
        the gradient arrays). The next backward then starts them anew, and an optimizer skips a
        parameter whose gradient is ``None``.
        """
        if not set_to_none:
            for grad in self.grads():
                if grad is not None:
                    grad.fill(0)
            return
        for _, module in self.named_modules():
            # a leaf's own gradients are those it declares minus its children's
            inherited = {id(grad) for child in module.children() for grad in child.grads()}
            own = {id(grad) for grad in module.grads() if grad is not None} - inherited
            for name, value in list(vars(module).items()):
                if isinstance(value, np.ndarray) and id(value) in own:
                    setattr(module, name, None)

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

        A child's parameters carry the child's name as a prefix (``"body.0.W"``); a module's own
        arrays are named after the attribute that holds them (``"W"``, ``"b"``).
        """
        name_of: dict[int, str] = {}
        for child_name, child in self.named_children():
            for name, param in child.named_parameters():
                name_of.setdefault(id(param), f"{child_name}.{name}")
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                name_of.setdefault(id(value), name)
        return [(name_of.get(id(param), str(index)), param)
                for index, param in enumerate(self.parameters())]

    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """A copy of every parameter, then of every buffer, by name: a snapshot that later
        training does not change."""
        return OrderedDict((name, array.copy())
                           for name, array in self.named_parameters() + self.named_buffers())

    def load_state_dict(self, state_dict: dict[str, np.ndarray]) -> None:
        """Copy saved values into the existing parameter arrays (never rebinding them).

        Raises:
            KeyError: a key is missing from ``state_dict`` or is not a parameter of this module.
            ValueError: a saved array's shape differs from the parameter's.
        """
        own = OrderedDict(self.named_parameters() + self.named_buffers())
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        if missing or unexpected:
            pytorch = any(name.rpartition(".")[2] in ("weight", "bias") for name in unexpected)
            hint = (" It has PyTorch's names: convert it with mini_torch.serialization."
                    "from_pytorch_state_dict(state_dict, model) (stage 5), or by hand, "
                    "W = weight.T, b = bias.reshape(1, -1).") if pytorch else ""
            raise KeyError(
                f"load_state_dict for {type(self).__name__}: missing keys {missing}, unexpected "
                f"keys {unexpected}; the state_dict must come from a model of the same "
                f"architecture (names: {list(own)}).{hint}"
            )
        for name, param in own.items():
            value = np.asarray(state_dict[name])
            if value.shape != param.shape:
                raise ShapeMismatchError(
                    f"load_state_dict for {type(self).__name__}: Shape mismatch for '{name}': "
                    f"{value.shape} in the saved weights but {param.shape} in the model; the "
                    f"weights come from a model of another size."
                )
        for name, param in own.items():
            param[...] = state_dict[name]  # in place: optimizers keep their references

    def save_weights(self, path: str | os.PathLike) -> Path:
        """Write :meth:`state_dict` to an ``.npz`` file (``.npz`` is appended if missing)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **self.state_dict())
        return path

    def load_weights(self, path: str | os.PathLike) -> None:
        """Load a file written by :meth:`save_weights` into this model, in place.

        Raises:
            FileNotFoundError: no file at ``path`` (nor at ``path + ".npz"``).
            KeyError: the file's names differ from this model's.
            ShapeMismatchError: an array's shape differs (both a ``ValueError`` and an
                ``AssertionError``, the error the course's earlier tests expect).
        """
        path = Path(path)
        if not path.is_file() and path.with_name(path.name + ".npz").is_file():
            path = path.with_name(path.name + ".npz")
        if not path.is_file():
            raise FileNotFoundError(
                f"{type(self).__name__}.load_weights: no file at {path}; write one with "
                f"model.save_weights(path) first."
            )
        with np.load(path, allow_pickle=False) as archive:
            self.load_state_dict({name: archive[name] for name in archive.files})

    def extra_repr(self) -> str:
        """The text between the parentheses of ``repr(module)``; override to show sizes."""
        return ""

    def __repr__(self) -> str:
        children = self.named_children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        if self.extra_repr():
            lines.append(f"  {self.extra_repr()}")
        for name, child in children:
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_repr}")
        lines.append(")")
        return "\n".join(lines)


class ShapeMismatchError(ValueError, AssertionError):
    """A saved array does not fit the model's parameter (a ``ValueError`` and an
    ``AssertionError``, so code written for either catches it)."""
