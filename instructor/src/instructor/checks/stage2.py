"""Checks of stage 2: the modules' forward and backward (Linear, activations, Sequential)."""

from __future__ import annotations

from instructor.checks import Check, Program, check, floats, rng
from instructor.checks.examples import build_model_check, step_checks

NN = "mini_torch.nn"


def module_pair(name: str, cls: str, file: str, x, grad, *args, **kwargs) -> list[Check]:
    """Forward output, then backward's input gradient and the parameter gradients."""
    task = f"mini_torch.nn.{file.rsplit('/', 1)[-1][:-3]}.{cls}"
    forward = Program()
    forward.call("mini_torch.manual_seed", 2)
    module = forward.call(f"{NN}.{cls}", *args, **kwargs)
    out = forward.call(module.attr("forward"), x)
    backward = Program()
    backward.call("mini_torch.manual_seed", 2)
    module = backward.call(f"{NN}.{cls}", *args, **kwargs)
    backward.call(module.attr("forward"), x)
    dx = backward.call(module.attr("backward"), grad)
    grads = backward.call(module.attr("grads"))
    return [
        check(f"stage2/{cls}.forward[{name}]", f"{task}.forward", file, forward, [out]),
        check(f"stage2/{cls}.backward[{name}]", f"{task}.backward", file, backward,
              [dx, grads]),
    ]


def checks() -> list[Check]:
    g = rng(2)
    x = floats(g, 4, 3)
    found = module_pair("3-to-2", "Linear", "src/mini_torch/nn/linear.py", x, floats(g, 4, 2),
                        3, 2)
    # Linear on a sequence (N, T, in): every position is a row; and without a bias.
    found += module_pair("sequence-3-to-2", "Linear", "src/mini_torch/nn/linear.py",
                         floats(g, 2, 4, 3), floats(g, 2, 4, 2), 3, 2)
    found += module_pair("no-bias-sequence", "Linear", "src/mini_torch/nn/linear.py",
                         floats(g, 2, 4, 3), floats(g, 2, 4, 2), 3, 2, bias=False)
    for cls in ("ReLU", "Sigmoid", "Tanh", "GELU"):
        found += module_pair("random", cls, "src/mini_torch/nn/activation.py", x,
                             floats(g, 4, 3))
    found += module_pair("slope-0.1", "LeakyReLU", "src/mini_torch/nn/activation.py", x,
                         floats(g, 4, 3), negative_slope=0.1)
    forward, backward = Program(), Program()
    outputs = []
    for program in (forward, backward):
        program.call("mini_torch.manual_seed", 4)
        first = program.call(f"{NN}.Linear", 3, 5)
        act = program.call(f"{NN}.Tanh")
        second = program.call(f"{NN}.Linear", 5, 2)
        model = program.call(f"{NN}.Sequential", first, act, second)
        outputs.append(program.call(model.attr("forward"), x))
    dx = backward.call(model.attr("backward"), floats(g, 4, 2))
    grads = backward.call(model.attr("grads"))
    task = "mini_torch.nn.container.Sequential"
    file = "src/mini_torch/nn/container.py"
    found.append(check("stage2/Sequential.forward[mlp]", f"{task}.forward", file, forward,
                       [outputs[0]]))
    found.append(check("stage2/Sequential.backward[mlp]", f"{task}.backward", file, backward,
                       [dx, grads]))
    found.append(build_model_check(2, "train_sine.py", 1))
    found.append(build_model_check(2, "train_spirals.py", 2, 16, "relu"))
    found += step_checks(2, "train_sine.py", [1, 16, 1], "Tanh", "regression", 0.1)
    found += step_checks(2, "train_spirals.py", [2, 16, 3], "ReLU", "classes", 1.0)
    return found
