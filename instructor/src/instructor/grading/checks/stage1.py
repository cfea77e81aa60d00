"""Checks of stage 1: the functional core's forward and backward functions, on inputs and
shapes drawn from the grading run's generator."""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, Program, check, floats, size

FILE = "src/mini_torch/functional.py"
F = "mini_torch.functional"


def call_check(name: str, function: str, *args, **kwargs) -> Check:
    """The output of ``mini_torch.functional.<function>(*args, **kwargs)``."""
    program = Program()
    result = program.call(f"{F}.{function}", *args, **kwargs)
    return check(f"stage1/{function}[{name}]", f"{F}.{function}", FILE, program, [result])


def placed(g: np.random.Generator, values: list[float], width: int) -> np.ndarray:
    """A row ``(1, width)`` of drawn values with ``values`` at drawn positions."""
    row = floats(g, 1, width, scale=2)
    row[0, g.permutation(width)[:len(values)]] = values
    return row


def checks(g: np.random.Generator) -> list[Check]:
    """Every function on inputs drawn from ``g``: shapes ``(N, D)`` with N in 3 .. 7 and D in
    3 .. 6 (classes in 2 .. 6), values standard normal (scaled where the case needs it)."""
    rows, width = size(g, 3, 7), size(g, 3, 6)
    x, grad = floats(g, rows, width, scale=2), floats(g, rows, width)
    x[0, 0] = 0.0  # the derivative at 0 follows the specification's convention
    found = []
    for function in ("relu", "sigmoid", "tanh", "gelu"):
        found.append(call_check("random", function, x))
        found.append(call_check("random", f"{function}_backward", grad, x))
    found.append(call_check("slope-0.2", "leaky_relu", x, negative_slope=0.2))
    found.append(call_check("slope-0.2", "leaky_relu_backward", grad, x, negative_slope=0.2))
    found.append(call_check("tanh-approximation", "gelu", x, approximate="tanh"))
    found.append(call_check("tanh-approximation", "gelu_backward", grad, x, approximate="tanh"))
    found.append(call_check("extreme", "sigmoid", placed(g, [-800.0, 0.0, 800.0],
                                                         size(g, 3, 6))))
    classes = size(g, 3, 8)
    found.append(call_check("rows", "softmax", floats(g, size(g, 2, 5), classes, scale=30)))
    found.append(call_check("rows", "log_softmax", floats(g, size(g, 2, 5), classes, scale=30)))
    n, fan_in, fan_out = size(g, 2, 6), size(g, 2, 5), size(g, 1, 4)
    xs, W, b = floats(g, n, fan_in), floats(g, fan_in, fan_out), floats(g, fan_out)
    found.append(call_check("random", "linear", xs, W, b))
    found.append(call_check("random", "linear_backward", floats(g, n, fan_out), xs, W))
    shape = (size(g, 3, 8), size(g, 2, 4))  # D > 1: the mean is over N * D entries
    pred, target = floats(g, *shape), floats(g, *shape)
    for reduction in ("mean", "sum"):
        found.append(call_check(reduction, "mse_loss", pred, target, reduction=reduction))
        found.append(call_check(reduction, "mse_loss_backward", pred, target,
                                reduction=reduction))
    n, classes = size(g, 3, 7), size(g, 2, 6)
    logits, labels = floats(g, n, classes, scale=2), g.integers(0, classes, n).astype(np.int64)
    found.append(call_check("indices", "cross_entropy", logits, labels))
    found.append(call_check("indices", "cross_entropy_backward", logits, labels))
    n = size(g, 3, 8)
    binary = (g.random((n, 1)) > 0.5).astype(np.float32)
    found.append(call_check("binary", "binary_cross_entropy_with_logits", floats(g, n, 1),
                            binary))
    found.append(call_check("binary", "binary_cross_entropy_with_logits_backward",
                            floats(g, n, 1), binary))
    wrong = Program()
    n, fan_in = size(g, 2, 6), size(g, 3, 5)
    raised = wrong.call(f"{F}.linear", floats(g, n, fan_in), floats(g, fan_in - 1, 2),
                        floats(g, 2), catch=True)
    found.append(check("stage1/linear[refuses-mismatched-shapes]", f"{F}.linear", FILE, wrong,
                       [raised], given=True))
    return found + example_checks(g)


def example_checks(g: np.random.Generator) -> list[Check]:
    """``predict`` and ``train_step`` of the two scripts, on parameters drawn from ``g`` (hidden
    widths 6 .. 10) and data of :func:`instructor.grading.checks.examples.data`."""
    from instructor.grading.checks.examples import data

    found = []
    x, y = data("regression", g, features=1)
    hidden = size(g, 6, 10)
    shapes = [(1, hidden), (hidden, 1)]
    layers = [(floats(g, *s, scale=0.5), floats(g, 1, s[1], scale=0.1)) for s in shapes]
    for task in ("predict", "train_step"):
        program = Program()
        params = program.call("builtins.list", [tuple(pair) for pair in layers], name="layers")
        args = (params, x) if task == "predict" else (params, x, y, 0.1)
        result = program.call(f"examples/train_sine.py:{task}", *args, name="result")
        found.append(check(f"stage1/train_sine.py:{task}", f"examples/train_sine.py:{task}",
                           "examples/train_sine.py", program, [result, params], rtol=1e-4,
                           atol=1e-5))
    x, y = data("classes", g)
    hidden = size(g, 6, 10)
    weights = {"W1": floats(g, 2, hidden, scale=0.5), "b1": np.zeros((1, hidden), np.float32),
               "W2": floats(g, hidden, 3, scale=0.5), "b2": np.zeros((1, 3), np.float32)}
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
