"""Hidden checks of stage 4: the optimizers with options the public checks and tests do not use.

Only the grader holds this file (it ships in the autograder's kit, never in a release). The
trusted grader compares the parameters after several steps with the reference stage's on the same
layer, inputs and gradients, drawn (and the layer's widths) from the grading run's generator:

- SGD: weight decay alone, momentum with dampening, Nesterov momentum without decay, and
  momentum with decay over five steps on a two-layer model;
- Adam: other betas and a large eps, amsgrad, decay with amsgrad;
- AdamW: its default decoupled decay, and a large one with other betas, over five steps;
- the spirals' model of another width.
"""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, Program, check, floats, seed, size
from instructor.grading.checks.examples import build_model_check
from instructor.grading.checks.stage4 import ADAM_FILE, OPTIM, SGD_FILE, optimizer_check


def model_check(name: str, cls: str, file: str, task: str, g: np.random.Generator, *,
                steps: int, **kwargs) -> Check:
    """``steps`` steps of an optimizer on ``Sequential(Linear, Tanh, Linear)`` of drawn widths,
    each after a forward and a backward of a drawn batch ``(N, in)``; the parameters after."""
    n, fan_in, hidden, fan_out = size(g, 4, 8), size(g, 2, 4), size(g, 3, 6), size(g, 1, 3)
    x, grad = floats(g, n, fan_in), floats(g, n, fan_out)
    program = Program()
    program.call("mini_torch.manual_seed", seed(g))
    model = program.call("mini_torch.nn.Sequential",
                         program.call("mini_torch.nn.Linear", fan_in, hidden),
                         program.call("mini_torch.nn.Tanh"),
                         program.call("mini_torch.nn.Linear", hidden, fan_out), name="model")
    optimizer = program.call(f"{OPTIM}.{cls}", [model], **kwargs)
    for _ in range(steps):
        program.call(model.attr("forward"), x)
        program.call(model.attr("backward"), grad)
        program.call(optimizer.attr("step"))
        program.call(optimizer.attr("zero_grad"))
    params = program.call(model.attr("parameters"), name="params")
    return check(f"stage4/{cls}.step[{name}]", f"{OPTIM}.{task}", file, program, [params],
                 rtol=1e-4, atol=1e-6)


def checks(g: np.random.Generator) -> list[Check]:
    sgd, adam = "sgd.SGD.step", "adam.Adam.step"
    return [
        optimizer_check("decay-only", "SGD", SGD_FILE, sgd, g, lr=0.1, weight_decay=0.05),
        optimizer_check("momentum-dampening", "SGD", SGD_FILE, sgd, g, steps=4, lr=0.1,
                        momentum=0.7, dampening=0.5),
        optimizer_check("nesterov", "SGD", SGD_FILE, sgd, g, steps=4, lr=0.05, momentum=0.9,
                        nesterov=True),
        model_check("momentum-decay-model", "SGD", SGD_FILE, sgd, g, steps=5, lr=0.05,
                    momentum=0.9, weight_decay=0.01),
        optimizer_check("betas-eps", "Adam", ADAM_FILE, adam, g, steps=4, lr=0.02,
                        betas=(0.5, 0.9), eps=1e-3),
        optimizer_check("amsgrad", "Adam", ADAM_FILE, adam, g, steps=4, lr=0.01, amsgrad=True),
        model_check("decay-amsgrad-model", "Adam", ADAM_FILE, adam, g, steps=5, lr=0.01,
                    weight_decay=0.05, amsgrad=True),
        optimizer_check("default-decay", "AdamW", ADAM_FILE, adam, g, steps=5, lr=0.05),
        model_check("large-decay-betas-model", "AdamW", ADAM_FILE, adam, g, steps=5, lr=0.02,
                    betas=(0.8, 0.99), weight_decay=0.3),
        build_model_check(4, "train_spirals.py", 2, 8, g=g),
    ]
