"""Hidden checks of stage 2: the modules on inputs the public checks and tests do not use.

Only the grader holds this file (it ships in the autograder's kit, never in a release). The
trusted grader compares each result with the reference stage's on the same inputs, drawn (and
their shapes, within small bounds) from the grading run's generator:

- Linear on wide layers, on 4-D inputs ``(B, H, T, in)`` without a bias, and its gradients
  accumulating over two backward passes until ``zero_grad``;
- every activation on sequences ``(N, T, D)``, LeakyReLU at its default slope;
- a deeper Sequential (Linear, ReLU, Linear, Sigmoid, Linear) on sequences, and its gradients
  accumulating until ``zero_grad``;
- the training step of a model with two hidden layers, and the spirals' model of another width.
"""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, Program, check, floats, seed, size
from instructor.grading.checks.examples import build_model_check, data, mlp
from instructor.grading.checks.stage2 import NN, module_pair

LINEAR, ACTIVATION = "src/mini_torch/nn/linear.py", "src/mini_torch/nn/activation.py"


def accumulation_check(name: str, cls: str, file: str, task: str, build, x, grad) -> Check:
    """Two forward and backward passes (the gradients add up), ``zero_grad``, one more: the
    parameter gradients after the two, and after the third."""
    program = Program()
    program.call("mini_torch.manual_seed", build[0])
    module = build[1](program)
    for _ in range(2):
        program.call(module.attr("forward"), x)
        program.call(module.attr("backward"), grad)
    summed = program.call(module.attr("grads"), name="summed")
    program.call(module.attr("zero_grad"))
    program.call(module.attr("forward"), x)
    program.call(module.attr("backward"), grad)
    again = program.call(module.attr("grads"), name="again")
    return check(f"stage2/{cls}.backward[{name}]", f"{task}.backward", file, program,
                 [summed, again])


def deep_model(fan_in: int, hidden: tuple[int, int], fan_out: int):
    def build(program: Program):
        return program.call(
            f"{NN}.Sequential", program.call(f"{NN}.Linear", fan_in, hidden[0]),
            program.call(f"{NN}.ReLU"), program.call(f"{NN}.Linear", hidden[0], hidden[1]),
            program.call(f"{NN}.Sigmoid"), program.call(f"{NN}.Linear", hidden[1], fan_out),
            name="model")
    return build


def checks(g: np.random.Generator) -> list[Check]:
    n, fan_in, fan_out = size(g, 3, 8), size(g, 7, 12), size(g, 5, 9)
    found = module_pair("wide", "Linear", LINEAR, floats(g, n, fan_in), floats(g, n, fan_out),
                        fan_in, fan_out, module_seed=seed(g))
    shape = (size(g, 1, 2), size(g, 2, 3), size(g, 2, 4))
    fan_in, fan_out = size(g, 2, 5), size(g, 2, 5)
    found += module_pair("no-bias-4d", "Linear", LINEAR, floats(g, *shape, fan_in),
                         floats(g, *shape, fan_out), fan_in, fan_out, bias=False,
                         module_seed=seed(g))
    found.append(accumulation_check(
        "accumulates-until-zero_grad", "Linear", LINEAR, "mini_torch.nn.linear.Linear",
        (seed(g), lambda p: p.call(f"{NN}.Linear", fan_in, fan_out, name="module")),
        floats(g, n, fan_in), floats(g, n, fan_out)))

    shape = (size(g, 2, 3), size(g, 2, 4), size(g, 3, 6))
    x = floats(g, *shape, scale=2)
    for cls in ("ReLU", "Sigmoid", "Tanh", "GELU", "LeakyReLU"):
        found += module_pair("sequence", cls, ACTIVATION, x, floats(g, *shape))

    fan_in, hidden, fan_out = size(g, 2, 5), (size(g, 3, 6), size(g, 3, 6)), size(g, 1, 3)
    build = deep_model(fan_in, hidden, fan_out)
    task = "mini_torch.nn.container.Sequential"
    file = "src/mini_torch/nn/container.py"
    steps = (size(g, 2, 3), size(g, 2, 4))
    x, grad = floats(g, *steps, fan_in), floats(g, *steps, fan_out)
    model_seed = seed(g)
    forward, backward = Program(), Program()
    for program in (forward, backward):
        program.call("mini_torch.manual_seed", model_seed)
        model = build(program)
        out = program.call(model.attr("forward"), x, name="out")
    dx = backward.call(model.attr("backward"), grad, name="dx")
    grads = backward.call(model.attr("grads"), name="grads")
    found.append(check("stage2/Sequential.forward[deep-sequence]", f"{task}.forward", file,
                       forward, [out]))
    found.append(check("stage2/Sequential.backward[deep-sequence]", f"{task}.backward", file,
                       backward, [dx, grads]))
    found.append(accumulation_check("deep-accumulates-until-zero_grad", "Sequential", file, task,
                                    (seed(g), build), x, grad))

    # One training step of a two-hidden-layer model (the public steps train one hidden layer).
    script = "train_sine.py"
    X, y = data("regression", g, features=1)
    program = Program()
    program.call("mini_torch.manual_seed", seed(g))
    model = mlp(program, [1, size(g, 6, 10), size(g, 6, 10), 1], "Tanh")
    loss = program.call(f"examples/{script}:train_step", model, X, y, 0.05, name="loss")
    params = program.call(model.attr("parameters"), name="params")
    found.append(check(f"stage2/{script}:train_step[two-hidden-layers]",
                       f"examples/{script}:train_step", f"examples/{script}", program,
                       [loss, params], rtol=1e-4, atol=1e-5))
    found.append(build_model_check(2, "train_spirals.py", 2, 8, "tanh", g=g))
    return found
