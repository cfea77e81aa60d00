"""Checks of stage 1: the functional core's forward and backward functions."""

from __future__ import annotations

import numpy as np

from instructor.checks import Check, Program, check, floats, rng

FILE = "src/mini_torch/functional.py"
F = "mini_torch.functional"


def call_check(name: str, function: str, *args, **kwargs) -> Check:
    """The output of ``mini_torch.functional.<function>(*args, **kwargs)``."""
    program = Program()
    result = program.call(f"{F}.{function}", *args, **kwargs)
    return check(f"stage1/{function}[{name}]", f"{F}.{function}", FILE, program, [result])


def checks() -> list[Check]:
    g = rng(1)
    x, grad = floats(g, 5, 4, scale=2), floats(g, 5, 4)
    x[0, 0] = 0.0  # the derivative at 0 follows the specification's convention
    found = []
    for function in ("relu", "sigmoid", "tanh", "gelu"):
        found.append(call_check("random", function, x))
        found.append(call_check("random", f"{function}_backward", grad, x))
    found.append(call_check("slope-0.2", "leaky_relu", x, negative_slope=0.2))
    found.append(call_check("slope-0.2", "leaky_relu_backward", grad, x, negative_slope=0.2))
    found.append(call_check("tanh-approximation", "gelu", x, approximate="tanh"))
    found.append(call_check("tanh-approximation", "gelu_backward", grad, x, approximate="tanh"))
    found.append(call_check("extreme", "sigmoid", np.array([[-800.0, 0.0, 800.0]], np.float32)))
    found.append(call_check("rows", "softmax", floats(g, 3, 6, scale=30)))
    found.append(call_check("rows", "log_softmax", floats(g, 3, 6, scale=30)))
    xs, W, b = floats(g, 4, 3), floats(g, 3, 2), floats(g, 2)
    found.append(call_check("random", "linear", xs, W, b))
    found.append(call_check("random", "linear_backward", floats(g, 4, 2), xs, W))
    pred, target = floats(g, 6, 2), floats(g, 6, 2)
    for reduction in ("mean", "sum"):
        found.append(call_check(reduction, "mse_loss", pred, target, reduction=reduction))
        found.append(call_check(reduction, "mse_loss_backward", pred, target,
                                reduction=reduction))
    logits, labels = floats(g, 5, 3, scale=2), np.array([0, 2, 1, 1, 0], np.int64)
    found.append(call_check("indices", "cross_entropy", logits, labels))
    found.append(call_check("indices", "cross_entropy_backward", logits, labels))
    binary = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
    found.append(call_check("binary", "binary_cross_entropy_with_logits", floats(g, 4, 1),
                            binary))
    found.append(call_check("binary", "binary_cross_entropy_with_logits_backward",
                            floats(g, 4, 1), binary))
    wrong = Program()
    raised = wrong.call(f"{F}.linear", floats(g, 4, 3), floats(g, 2, 2), floats(g, 2),
                        catch=True)
    found.append(check("stage1/linear[refuses-mismatched-shapes]", f"{F}.linear", FILE, wrong,
                       [raised], given=True))
    return found + example_checks()


def example_checks() -> list[Check]:
    """``predict`` and ``train_step`` of the two scripts, on parameters the check makes."""
    import numpy as np

    from instructor.checks.examples import data

    g = rng(7)
    found = []
    x, y = data("regression", features=1)
    shapes = [(1, 8), (8, 1)]
    layers = [(floats(g, *s, scale=0.5), floats(g, 1, s[1], scale=0.1)) for s in shapes]
    for task in ("predict", "train_step"):
        program = Program()
        params = program.call("builtins.list", [tuple(pair) for pair in layers], name="layers")
        args = (params, x) if task == "predict" else (params, x, y, 0.1)
        result = program.call(f"examples/train_sine.py:{task}", *args, name="result")
        found.append(check(f"stage1/train_sine.py:{task}", f"examples/train_sine.py:{task}",
                           "examples/train_sine.py", program, [result, params], rtol=1e-4,
                           atol=1e-5))
    x, y = data("classes")
    weights = {"W1": floats(g, 2, 8, scale=0.5), "b1": np.zeros((1, 8), np.float32),
               "W2": floats(g, 8, 3, scale=0.5), "b2": np.zeros((1, 3), np.float32)}
    for task in ("predict", "train_step"):
        program = Program()
        params = program.call("builtins.dict", weights, name="params")
        args = (params, x) if task == "predict" else (params, x, y, 0.5)
        result = program.call(f"examples/train_spirals.py:{task}", *args, name="result")
        after = program.call("builtins.list", program.call(params.attr("values")),
                             name="after")
        found.append(check(f"stage1/train_spirals.py:{task}", f"examples/train_spirals.py:{task}",
                           "examples/train_spirals.py", program, [result, after], rtol=1e-4,
                           atol=1e-5))
    return found
