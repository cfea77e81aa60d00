"""Checks of stage 4: the optimizers' steps on a small model with drawn gradients."""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, Program, check, floats, seed, size
from instructor.grading.checks.examples import build_model_check

OPTIM = "mini_torch.optim"
SGD_FILE, ADAM_FILE = "src/mini_torch/optim/sgd.py", "src/mini_torch/optim/adam.py"


def optimizer_check(name: str, cls: str, file: str, task: str, g: np.random.Generator, *,
                    steps: int = 3, **kwargs) -> Check:
    """``steps`` steps of an optimizer on a Linear layer, each after a forward and a backward;
    the parameters after.

    The layer's widths (in 2 .. 5, out 1 .. 4), the batch ``(N, in)`` with N in 3 .. 8, the
    output gradient and the layer's seed are drawn from ``g``.
    """
    n, fan_in, fan_out = size(g, 3, 8), size(g, 2, 5), size(g, 1, 4)
    x, grad = floats(g, n, fan_in), floats(g, n, fan_out)
    program = Program()
    program.call("mini_torch.manual_seed", seed(g))
    layer = program.call("mini_torch.nn.Linear", fan_in, fan_out)
    optimizer = program.call(f"{OPTIM}.{cls}", [layer], **kwargs)
    for _ in range(steps):
        program.call(layer.attr("forward"), x)
        program.call(layer.attr("backward"), grad)
        program.call(optimizer.attr("step"))
        program.call(optimizer.attr("zero_grad"))
    params = program.call(layer.attr("parameters"), name="params")
    return check(f"stage4/{cls}.step[{name}]", f"{OPTIM}.{task}", file, program, [params],
                 rtol=1e-4, atol=1e-6)


def checks(g: np.random.Generator) -> list[Check]:
    return [
        optimizer_check("plain", "SGD", SGD_FILE, "sgd.SGD.step", g, lr=0.1),
        optimizer_check("momentum", "SGD", SGD_FILE, "sgd.SGD.step", g, lr=0.1, momentum=0.9),
        optimizer_check("nesterov-decay", "SGD", SGD_FILE, "sgd.SGD.step", g, lr=0.05,
                        momentum=0.8, nesterov=True, weight_decay=0.01),
        optimizer_check("default", "Adam", ADAM_FILE, "adam.Adam.step", g, lr=0.01),
        optimizer_check("decay", "Adam", ADAM_FILE, "adam.Adam.step", g, lr=0.01,
                        weight_decay=0.1),
        # AdamW runs Adam's step with decoupled weight decay.
        optimizer_check("decay", "AdamW", ADAM_FILE, "adam.Adam.step", g, lr=0.01,
                        weight_decay=0.1),
        build_model_check(4, "train_sine.py", 1, g=g),
        build_model_check(4, "train_spirals.py", 2, 16, g=g),
    ]
