"""Checks of stage 4: the optimizers' steps on a small model with fixed gradients."""

from __future__ import annotations

from instructor.checks import Check, Program, check, floats, rng
from instructor.checks.examples import build_model_check

OPTIM = "mini_torch.optim"


def optimizer_check(name: str, cls: str, file: str, task: str, **kwargs) -> Check:
    """Three steps of an optimizer on a Linear layer after one backward; the parameters after."""
    g = rng(4)
    x, grad = floats(g, 6, 3), floats(g, 6, 2)
    program = Program()
    program.call("mini_torch.manual_seed", 6)
    layer = program.call("mini_torch.nn.Linear", 3, 2)
    optimizer = program.call(f"{OPTIM}.{cls}", [layer], **kwargs)
    for _ in range(3):
        program.call(layer.attr("forward"), x)
        program.call(layer.attr("backward"), grad)
        program.call(optimizer.attr("step"))
        program.call(optimizer.attr("zero_grad"))
    params = program.call(layer.attr("parameters"), name="params")
    return check(f"stage4/{cls}.step[{name}]", f"{OPTIM}.{task}", file, program, [params],
                 rtol=1e-4, atol=1e-6)


def checks() -> list[Check]:
    sgd, adam = "src/mini_torch/optim/sgd.py", "src/mini_torch/optim/adam.py"
    return [
        optimizer_check("plain", "SGD", sgd, "sgd.SGD.step", lr=0.1),
        optimizer_check("momentum", "SGD", sgd, "sgd.SGD.step", lr=0.1, momentum=0.9),
        optimizer_check("nesterov-decay", "SGD", sgd, "sgd.SGD.step", lr=0.05, momentum=0.8,
                        nesterov=True, weight_decay=0.01),
        optimizer_check("default", "Adam", adam, "adam.Adam.step", lr=0.01),
        optimizer_check("decay", "Adam", adam, "adam.Adam.step", lr=0.01, weight_decay=0.1),
        # AdamW runs Adam's step with decoupled weight decay.
        optimizer_check("decay", "AdamW", adam, "adam.Adam.step", lr=0.01, weight_decay=0.1),
        build_model_check(4, "train_sine.py", 1),
        build_model_check(4, "train_spirals.py", 2, 16),
    ]
