"""Grading checks: what the worker is asked to compute, and how the answer is judged.

A :class:`Check` is a short program of calls (:class:`Program`) plus the names of the results
the worker sends back. The trusted grader runs the same program on the reference stage (the
oracle, at grading time) and on the submission (in its jail), and compares:

every output equals the reference's within ``rtol``/``atol`` (shapes equal, float32 kept where
the reference keeps it): values, forward passes, backward passes (the gradient checks compare
the submission's backward to the reference's on the same inputs) and training runs (every loss
of the run and the parameters after, on the same data, seed and model: "the loss went down"
is not a verdict).

Each stage's checks live in ``instructor/grading/checks/stageK.py`` as a function
``checks(g)``; hidden checks in ``instructor/hidden_tests/stageK/hidden_checks.py`` (same function,
shipped only in the grader's kit). ``g`` is a :class:`numpy.random.Generator` seeded from a secret
the grader draws afresh for every run (:func:`instructor.grading.kit.Kit.draw`): the inputs, and
where it makes sense the shapes, of every check come from it, so an answer keyed on the inputs of
one run earns nothing in the next. A check's name never depends on the draw (the weights, the
gradebook and the feedback name checks).

A check names the task it grades (``task``: the qualified name a release stubs,
``mini_torch.nn.loss.MSELoss.forward`` or ``examples/train_sine.py:train_step``) and the student
file that holds it (``file``). Only checks of stage K's own tasks carry points when stage K is
graded; ``given=True`` marks a check of code handed out solved (input checks).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from instructor.grading.worker import encode_array

if TYPE_CHECKING:  # numpy is imported where it is used: the command line starts without it
    import numpy as np


class Ref:
    """A result of an earlier step, by name; ``ref.attr("forward")`` is a call target."""

    def __init__(self, name: str) -> None:
        self.name = name

    def attr(self, dotted: str) -> str:
        return f"${self.name}.{dotted}"

    def wire(self) -> dict:
        return {"$": self.name}


def wire(value):
    """An argument as the worker reads it (arrays as bytes, references by name)."""
    import numpy as np

    if isinstance(value, Ref):
        return value.wire()
    if isinstance(value, np.ndarray):
        return {"array": encode_array(value)}
    if isinstance(value, tuple):
        return {"tuple": [wire(v) for v in value]}
    if isinstance(value, list):
        return [wire(v) for v in value]
    if isinstance(value, dict):
        return {str(k): wire(v) for k, v in value.items()}
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


class Program:
    """Builds the steps of a check: ``loss = p.call("mini_torch.nn.MSELoss")``."""

    def __init__(self) -> None:
        self.steps: list[dict] = []

    def _name(self, name: str | None) -> str:
        return name or f"v{len(self.steps)}"

    def call(self, target: str, *args, name: str | None = None, repeat: int | None = None,
             catch: bool = False, **kwargs) -> Ref:
        step = {"call": target, "args": [wire(a) for a in args],
                "kwargs": {k: wire(v) for k, v in kwargs.items()}, "as": self._name(name)}
        if repeat is not None:
            step["repeat"] = int(repeat)
        if catch:
            step["catch"] = True
        self.steps.append(step)
        return Ref(step["as"])

    def get(self, target: str, *, name: str | None = None) -> Ref:
        step = {"get": target, "as": self._name(name)}
        self.steps.append(step)
        return Ref(step["as"])


@dataclass
class Check:
    """One graded check (see the module docstring)."""

    name: str
    task: str
    file: str
    steps: list[dict]
    outputs: list[str]
    rtol: float = 1e-5
    atol: float = 1e-6
    hidden: bool = False
    given: bool = False
    limit: float | None = None
    notes: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in (
            "name", "task", "file", "steps", "outputs", "rtol", "atol", "hidden", "given",
            "limit")}

    @classmethod
    def from_json(cls, data: dict) -> Check:
        return cls(**data)


def check(name: str, task: str, file: str, program: Program, outputs: Iterable[Ref | str],
          **options) -> Check:
    """A :class:`Check` from a program and the results to send back."""
    names = [o.name if isinstance(o, Ref) else o for o in outputs]
    return Check(name=name, task=task, file=file, steps=program.steps, outputs=names, **options)


def size(generator: np.random.Generator, low: int, high: int) -> int:
    """A size drawn uniformly from ``low .. high`` (both included)."""
    return int(generator.integers(low, high + 1))


def seed(generator: np.random.Generator) -> int:
    """A seed for ``mini_torch.manual_seed`` (or a generator a check makes), drawn."""
    return int(generator.integers(2**31 - 1))


def floats(generator: np.random.Generator, *shape: int, scale: float = 1.0) -> np.ndarray:
    """Standard normal float32 values of ``shape``, times ``scale``."""
    import numpy as np

    return (scale * generator.standard_normal(shape)).astype(np.float32)


def _draw(module, g: np.random.Generator, where: str) -> list[Check]:
    """``module.checks(g)``; a module whose ``checks`` takes no generator is refused (its inputs
    would be the same in every grading run)."""
    import inspect

    from instructor.stages.repo import InstructorError

    function = getattr(module, "checks", None)
    if not callable(function):
        raise InstructorError(f"{where}: no function checks(g)")
    if not inspect.signature(function).parameters:
        raise InstructorError(
            f"{where}: checks() takes no generator; write checks(g) and draw every input from "
            "g (a numpy Generator seeded afresh for every grading run), so the inputs of one run "
            "say nothing of the next")
    return function(g)


def stage_checks(stage: int, g: np.random.Generator) -> list[Check]:
    """The public checks of stages 1 .. ``stage`` (each stage's module that exists), drawn
    from ``g``.

    The example scripts are each stage's own (a later stage rewrites them), so the checks of
    example scripts come from the module of ``stage`` alone.
    """
    found: list[Check] = []
    for k in range(1, stage + 1):
        try:
            module = importlib.import_module(f"instructor.grading.checks.stage{k}")
        except ModuleNotFoundError:
            continue
        drawn = _draw(module, g, f"instructor/grading/checks/stage{k}.py")
        found += [c for c in drawn if k == stage or not c.file.startswith("examples/")]
    return found


def has_checks(stage: int) -> bool:
    return importlib.util.find_spec(f"instructor.grading.checks.stage{stage}") is not None


def hidden_checks(path: Path, g: np.random.Generator) -> list[Check]:
    """The checks of a hidden checks file (its function ``checks(g)``), marked hidden."""
    spec = importlib.util.spec_from_file_location(f"_hidden_checks_{abs(hash(path))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = _draw(module, g, str(path))
    for item in found:
        item.hidden = True
        if not item.name.startswith("hidden/"):
            item.name = f"hidden/{item.name}"
    return found
