"""Checks of the example scripts' tasks: building a model, a training step, a training run.

A script's function is called as ``examples/<script>:<function>`` from the student's examples
folder; its ``main()`` never runs. The inputs are small arrays the checks make here.
"""

from __future__ import annotations

from instructor.checks import Check, Program, Ref, check, rng


def data(kind: str, features: int = 2, samples: int = 60, seed: int = 31):
    """(X, y): ``regression`` (y = sin x, (N, 1)), ``classes`` (3 labels) or ``binary``."""
    import numpy as np

    g = rng(seed)
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


def build_model_check(stage: int, script: str, features: int, *args) -> Check:
    """``build_model(*args)`` after a fixed seed: its output on fixed inputs and its parameters."""
    program = Program()
    program.call("mini_torch.manual_seed", 11)
    model = program.call(f"examples/{script}:build_model", *args, name="model")
    x = rng(13).standard_normal((8, features)).astype("float32")
    out = program.call(model.attr("forward"), x, name="out")
    params = program.call(model.attr("parameters"), name="params")
    return check(f"stage{stage}/{script}:build_model", f"examples/{script}:build_model",
                 f"examples/{script}", program, [out, params])


def step_checks(stage: int, script: str, sizes: list[int], activation: str, kind: str,
                lr: float, loss: str | None = None) -> list[Check]:
    """One ``train_step`` (its loss, the parameters after) and a 60-step run (every loss and the
    parameters after, against the reference's on the same data, seed and model: a run that
    only reports a falling loss does not pass).

    ``loss``: the criterion class passed as the fifth argument (stage 3), or None (stage 2).
    """
    task = f"examples/{script}:train_step"
    X, y = data(kind, features=sizes[0])
    found = []
    for name, repeat in (("one-step", None), ("training-run", 60)):
        program = Program()
        program.call("mini_torch.manual_seed", 5 if repeat is None else 7)
        model = mlp(program, sizes, activation)
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
