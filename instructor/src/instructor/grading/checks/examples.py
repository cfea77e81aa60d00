"""Checks of the example scripts' tasks: building a model, a training step, a training run.

A script's function is called as ``examples/<script>:<function>`` from the student's examples
folder; its ``main()`` never runs. The inputs are small arrays drawn here from the run's
generator ``g`` (their values, the number of samples, the hidden width of the model the step
trains); the learning rates and architectures stay those of the scripts, so a training run of
an equivalent implementation stays within the tolerances below.
"""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, Program, Ref, check, seed, size


def data(kind: str, g: np.random.Generator, features: int = 2,
         samples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) drawn from ``g``: ``regression`` (y = sin x, (N, 1)), ``classes`` (3 labels,
    (N,)) or ``binary`` ((N, 1) of 0 and 1); N drawn in 48 .. 64 unless ``samples``.

    Shape:
        X: ``(N, features)`` float32.
    """
    samples = samples or size(g, 48, 64)
    if kind == "regression":
        x = g.uniform(-3, 3, (samples, features)).astype(np.float32)
        return x, np.sin(x[:, :1]).astype(np.float32)
    x = g.standard_normal((samples, features)).astype(np.float32)
    if kind == "classes":
        return x, ((np.arctan2(x[:, 1], x[:, 0]) > 0).astype(np.int64) + (x[:, 0] > 1))
    return x, (x[:, :1] * x[:, 1:2] > 0).astype(np.float32)


def mlp(program: Program, sizes: list[int], activation: str) -> Ref:
    """``Sequential(Linear, activation, Linear, ...)`` built with the package (not the script)."""
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        if index:
            layers.append(program.call(f"mini_torch.nn.{activation}"))
        layers.append(program.call("mini_torch.nn.Linear", fan_in, fan_out))
    return program.call("mini_torch.nn.Sequential", *layers, name="model")


def build_model_check(stage: int, script: str, features: int, *args,
                      g: np.random.Generator) -> Check:
    """``build_model(*args)`` after a drawn seed: its output on a drawn batch
    ``(N, features)`` and its parameters."""
    program = Program()
    program.call("mini_torch.manual_seed", seed(g))
    model = program.call(f"examples/{script}:build_model", *args, name="model")
    x = g.standard_normal((size(g, 4, 10), features)).astype("float32")
    out = program.call(model.attr("forward"), x, name="out")
    params = program.call(model.attr("parameters"), name="params")
    return check(f"stage{stage}/{script}:build_model", f"examples/{script}:build_model",
                 f"examples/{script}", program, [out, params])


def step_checks(stage: int, script: str, sizes: list[int], activation: str, kind: str,
                lr: float, loss: str | None = None, *, g: np.random.Generator) -> list[Check]:
    """One ``train_step`` (its loss, the parameters after) and a 60-step run (every loss and the
    parameters after, against the reference's on the same data, seed and model: a run that
    only reports a falling loss does not pass).

    ``sizes``: the widths of the model, input to output; the hidden ones are drawn within 3/4
    and 5/4 of the given ones. ``lr``: a rate at which the run of every drawn model descends
    without a jump (a run that diverges turns rounding into large differences, and an
    equivalent implementation would fail). ``loss``: the criterion class passed as the fifth
    argument (stage 3), or None (stage 2).
    """
    task = f"examples/{script}:train_step"
    X, y = data(kind, g, features=sizes[0])
    widths = [sizes[0], *(size(g, 3 * w // 4, 5 * w // 4) for w in sizes[1:-1]), sizes[-1]]
    found = []
    for name, repeat in (("one-step", None), ("training-run", 60)):
        program = Program()
        program.call("mini_torch.manual_seed", seed(g))
        model = mlp(program, widths, activation)
        extra = [program.call(f"mini_torch.nn.{loss}")] if loss else []
        result = program.call(task, model, X, y, lr, *extra, repeat=repeat,
                              name="loss" if repeat is None else "losses")
        params = program.call(model.attr("parameters"), name="params")
        # 60 float32 steps may round differently from the reference's: a looser tolerance.
        tolerance = {"rtol": 1e-4, "atol": 1e-5} if repeat is None else {"rtol": 2e-3,
                                                                        "atol": 1e-4}
        found.append(check(f"stage{stage}/{script}:train_step[{name}]", task,
                           f"examples/{script}", program, [result, params], **tolerance))
    return found
