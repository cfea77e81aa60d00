"""Checks of stage 2: the modules' forward and backward (Linear, activations, Sequential).

The batch sizes, widths, sequence lengths, inputs and the seeds the modules are built after are
drawn from the grading run's generator.
"""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, Program, check, floats, seed, size
from instructor.grading.checks.examples import build_model_check, step_checks

NN = "mini_torch.nn"


def module_pair(name: str, cls: str, file: str, x, grad, *args, module_seed: int = 2,
                **kwargs) -> list[Check]:
    """Forward output, then backward's input gradient and the parameter gradients, of
    ``cls(*args, **kwargs)`` built after ``manual_seed(module_seed)``."""
    task = f"mini_torch.nn.{file.rsplit('/', 1)[-1][:-3]}.{cls}"
    forward = Program()
    forward.call("mini_torch.manual_seed", module_seed)
    module = forward.call(f"{NN}.{cls}", *args, **kwargs)
    out = forward.call(module.attr("forward"), x)
    backward = Program()
    backward.call("mini_torch.manual_seed", module_seed)
    module = backward.call(f"{NN}.{cls}", *args, **kwargs)
    backward.call(module.attr("forward"), x)
    dx = backward.call(module.attr("backward"), grad)
    grads = backward.call(module.attr("grads"))
    return [
        check(f"stage2/{cls}.forward[{name}]", f"{task}.forward", file, forward, [out]),
        check(f"stage2/{cls}.backward[{name}]", f"{task}.backward", file, backward,
              [dx, grads]),
    ]


def checks(g: np.random.Generator) -> list[Check]:
    """Linear on (N, in) and on sequences (N, T, in) with and without a bias, every activation
    and a Linear-Tanh-Linear Sequential, on shapes drawn from ``g`` (N in 3 .. 7, T in 2 .. 5,
    widths in 2 .. 6); the example scripts' models and steps."""
    linear, activation = "src/mini_torch/nn/linear.py", "src/mini_torch/nn/activation.py"
    n, fan_in, fan_out = size(g, 3, 7), size(g, 2, 6), size(g, 2, 6)
    x = floats(g, n, fan_in)
    found = module_pair("batch", "Linear", linear, x, floats(g, n, fan_out), fan_in, fan_out,
                        module_seed=seed(g))
    # Linear on a sequence (N, T, in): every position is a row; and without a bias.
    batch, steps = size(g, 2, 4), size(g, 2, 5)
    found += module_pair("sequence", "Linear", linear, floats(g, batch, steps, fan_in),
                         floats(g, batch, steps, fan_out), fan_in, fan_out, module_seed=seed(g))
    found += module_pair("no-bias-sequence", "Linear", linear, floats(g, batch, steps, fan_in),
                         floats(g, batch, steps, fan_out), fan_in, fan_out, bias=False,
                         module_seed=seed(g))
    for cls in ("ReLU", "Sigmoid", "Tanh", "GELU"):
        found += module_pair("random", cls, activation, x, floats(g, n, fan_in))
    found += module_pair("slope-0.1", "LeakyReLU", activation, x, floats(g, n, fan_in),
                         negative_slope=0.1)
    hidden, out = size(g, 3, 7), size(g, 1, 4)
    model_seed = seed(g)
    forward, backward = Program(), Program()
    outputs = []
    for program in (forward, backward):
        program.call("mini_torch.manual_seed", model_seed)
        first = program.call(f"{NN}.Linear", fan_in, hidden)
        act = program.call(f"{NN}.Tanh")
        second = program.call(f"{NN}.Linear", hidden, out)
        model = program.call(f"{NN}.Sequential", first, act, second)
        outputs.append(program.call(model.attr("forward"), x))
    dx = backward.call(model.attr("backward"), floats(g, n, out))
    grads = backward.call(model.attr("grads"))
    task = "mini_torch.nn.container.Sequential"
    file = "src/mini_torch/nn/container.py"
    found.append(check("stage2/Sequential.forward[mlp]", f"{task}.forward", file, forward,
                       [outputs[0]]))
    found.append(check("stage2/Sequential.backward[mlp]", f"{task}.backward", file, backward,
                       [dx, grads]))
    found.append(build_model_check(2, "train_sine.py", 1, g=g))
    found.append(build_model_check(2, "train_spirals.py", 2, 16, "relu", g=g))
    found += step_checks(2, "train_sine.py", [1, 16, 1], "Tanh", "regression", 0.05, g=g)
    found += step_checks(2, "train_spirals.py", [2, 16, 3], "ReLU", "classes", 0.5, g=g)
    return found
