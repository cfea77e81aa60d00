"""Hidden checks of stage 6: the generative building blocks on shapes and options the public
checks and tests do not use.

Only the grader holds this file (it ships in the autograder's kit, never in a release). The
trusted grader compares each result with the reference stage's on the same inputs, drawn (and
their shapes, within small bounds) from the grading run's generator:

- embedding on ``(T,)`` and ``(B, T, S)`` indices, the Embedding module on ``(T,)``;
- layer norm of a few wide rows with the default eps, the LayerNorm module on ``(N, D)``;
- dropout with a given mask on ``(B, T, D)``; ``dropout_mask`` at p = 0.1 and 0.2 (float64);
  Dropout at p = 0.2 (values, mean) and its backward on ``(B, T, D)``;
- attention of one position, of one-wide heads over eight positions, and of one head;
  MultiHeadSelfAttention with one head and of one position;
- BatchNorm1d's running statistics on ``(N, C, L)`` with a cumulative average
  (``momentum=None``), and evaluation after training;
- ``clip_grad_norm_`` in the 1- and 3-norms;
- ``gan_step`` with a real label of 1 and another learning rate, ``lm_step`` on a wider model
  of three heads with clipping.
"""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, Program, check, floats, seed, size
from instructor.grading.checks.stage6 import (
    FILES,
    NN,
    TOLERANCES,
    _named_parameters,
    attention_inputs,
    attention_weights,
    call_check,
    module_checks,
    repeated_indices,
)


def function_checks(g: np.random.Generator) -> list[Check]:
    found = []
    vocabulary, width = size(g, 5, 9), size(g, 3, 6)
    W = floats(g, vocabulary, width)
    flat = repeated_indices(g, (size(g, 3, 7),), vocabulary)
    found.append(call_check("embedding", "embedding", "flat", flat, W))
    shape = (size(g, 2, 3), size(g, 2, 3), size(g, 2, 3))
    deep = repeated_indices(g, shape, vocabulary)
    found.append(call_check("embedding", "embedding", "3d", deep, W))
    found.append(call_check("embedding", "embedding_backward", "3d", floats(g, *shape, width),
                            deep, vocabulary))

    shape = (size(g, 1, 3), size(g, 10, 16))
    x = (4.0 * floats(g, *shape) - 2.0).astype(np.float32)
    gamma, beta = 1.0 + floats(g, shape[-1], scale=0.3), floats(g, shape[-1], scale=0.3)
    found.append(call_check("normalization", "layer_norm", "wide-rows", x, gamma, beta))
    found.append(call_check("normalization", "layer_norm_backward", "wide-rows",
                            floats(g, *shape), x, gamma))

    shape = (size(g, 2, 3), size(g, 2, 4), size(g, 3, 6))
    mask = ((g.random(shape) >= 0.2) / 0.8).astype(np.float32)
    found.append(call_check("dropout", "dropout", "sequence", floats(g, *shape), mask))
    found.append(call_check("dropout", "dropout_backward", "sequence", floats(g, *shape),
                            mask))
    task = f"{NN}.dropout.dropout_mask"
    for p, dtype in ((0.1, "float32"), (0.2, "float64")):
        program = Program()
        generator = program.call("numpy.random.default_rng", seed(g))
        drawn = program.call(task, (200, 500), p, generator, dtype=dtype)
        values = program.call("numpy.unique", drawn, name="values")
        # the mean's standard deviation is sqrt(p / (1 - p) / 1e5) <= 0.0016: 0.02 is far off
        mean = program.call("numpy.mean", drawn, name="mean")
        found.append(check(f"stage6/dropout_mask[p{p:g}-{dtype}]", task, FILES["dropout"],
                           program, [values], **TOLERANCES[dtype]))
        found.append(check(f"stage6/dropout_mask[mean-1-p{p:g}-{dtype}]", task,
                           FILES["dropout"], program, [mean], rtol=0.0, atol=0.02))

    for label, shape, causal in (
            ("one-position", (size(g, 1, 2), size(g, 1, 3), 1, size(g, 2, 4)), True),
            ("one-wide-heads", (1, size(g, 2, 3), 8, 1), True),
            ("one-head-full", (size(g, 1, 2), 1, size(g, 3, 6), size(g, 3, 6)), False)):
        q, k, v, attn = attention_inputs(g, "float32", causal, shape)
        found.append(call_check("attention", "scaled_dot_product_attention", label, q, k, v,
                                causal=causal))
        found.append(call_check("attention", "scaled_dot_product_attention_backward", label,
                                floats(g, *shape), q, k, v, attn))
    return found


def module_checks_of(g: np.random.Generator) -> list[Check]:
    found = []
    vocabulary, width = size(g, 5, 9), size(g, 3, 6)
    indices = repeated_indices(g, (size(g, 3, 7),), vocabulary)
    found += module_checks("flat-indices", "Embedding", FILES["embedding"], indices,
                           floats(g, len(indices), width), args=(vocabulary, width),
                           module_seed=seed(g))
    shape = (size(g, 3, 6), size(g, 4, 8))
    arrays = {"gamma": 1.0 + floats(g, shape[1], scale=0.3),
              "beta": floats(g, shape[1], scale=0.3)}
    found += module_checks("rows", "LayerNorm", FILES["normalization"],
                           (3.0 * floats(g, *shape) - 1.0).astype(np.float32),
                           floats(g, *shape), args=(shape[1],), arrays=arrays)
    for label, heads, steps, causal in (("one-head", 1, size(g, 3, 6), False),
                                        ("one-position", 2, 1, True)):
        width = heads * size(g, 2, 4)
        shape = (size(g, 1, 2), steps, width)
        found += module_checks(label, "MultiHeadSelfAttention", FILES["attention"],
                               floats(g, *shape), floats(g, *shape), args=(width, heads),
                               kwargs={"causal": causal},
                               arrays=attention_weights(g, "float32", width))
    return found


def batch_norm_checks(g: np.random.Generator) -> list[Check]:
    file, task = FILES["batchnorm"], "mini_torch.nn.batchnorm.BatchNorm1d"
    channels = size(g, 2, 4)
    program = Program()
    module = program.call(f"{NN}.BatchNorm1d", channels, momentum=None, name="module")
    for _ in range(3):
        x = 2.0 * floats(g, size(g, 2, 4), channels, size(g, 2, 5)) + 1.0
        program.call(module.attr("forward"), x.astype(np.float32))
    stats = [program.get(module.attr(name), name=name)
             for name in ("running_mean", "running_var", "num_batches_tracked")]
    found = [check("stage6/BatchNorm1d.forward[cumulative-statistics-n-c-l]", f"{task}.forward",
                   file, program, stats, **TOLERANCES["float32"])]
    program = Program()
    module = program.call(f"{NN}.BatchNorm1d", channels, momentum=0.3, name="module")
    for _ in range(2):
        program.call(module.attr("forward"), 3.0 * floats(g, size(g, 4, 7), channels) - 1.0)
    program.call(module.attr("eval"))
    out = program.call(module.attr("forward"), floats(g, size(g, 3, 6), channels), name="out")
    found.append(check("stage6/BatchNorm1d.forward[eval-after-training]", f"{task}.forward",
                       file, program, [out], **TOLERANCES["float32"]))
    return found


def dropout_checks(g: np.random.Generator) -> list[Check]:
    file, task = FILES["dropout"], "mini_torch.nn.dropout.Dropout"
    module_seed = seed(g)
    program = Program()
    program.call("mini_torch.manual_seed", module_seed)
    module = program.call(f"{NN}.Dropout", 0.2, name="module")
    out = program.call(module.attr("forward"), np.ones((200, 500), np.float32))
    values = program.call("numpy.unique", out, name="values")
    mean = program.call("numpy.mean", out, name="mean")
    found = [check("stage6/Dropout.forward[p0.2-values]", f"{task}.forward", file, program,
                   [values]),
             check("stage6/Dropout.forward[p0.2-mean-1]", f"{task}.forward", file, program,
                   [mean], rtol=0.0, atol=0.02)]
    # Backward on a sequence reuses the forward's mask: with x = 1 the output is the mask.
    shape = (size(g, 2, 3), size(g, 2, 4), size(g, 3, 6))
    grad = floats(g, *shape)
    program = Program()
    program.call("mini_torch.manual_seed", module_seed)
    module = program.call(f"{NN}.Dropout", 0.3, name="module")
    out = program.call(module.attr("forward"), np.ones(shape, np.float32))
    dx = program.call(module.attr("backward"), grad)
    residual = program.call("numpy.subtract", dx, program.call("numpy.multiply", grad, out),
                            name="dx_minus_grad_times_mask")
    found.append(check("stage6/Dropout.backward[sequence-reuses-mask]", f"{task}.backward",
                       file, program, [residual]))
    return found


def clip_checks(g: np.random.Generator) -> list[Check]:
    task = "mini_torch.nn.utils.clip_grad_norm_"
    found = []
    for label, max_norm, norm_type in (("1-norm", 0.3, 1.0), ("3-norm", 0.2, 3.0)):
        rows, fan_in, hidden, fan_out = size(g, 4, 7), size(g, 2, 4), size(g, 3, 5), size(g, 1, 3)
        program = Program()
        program.call("mini_torch.manual_seed", seed(g))
        model = program.call(f"{NN}.Sequential", program.call(f"{NN}.Linear", fan_in, hidden),
                             program.call(f"{NN}.ReLU"),
                             program.call(f"{NN}.Linear", hidden, fan_out), name="model")
        program.call(model.attr("forward"), floats(g, rows, fan_in))
        program.call(model.attr("backward"), floats(g, rows, fan_out, scale=4.0))
        total = program.call(task, model, max_norm, norm_type=norm_type, name="total_norm")
        grads = program.call(model.attr("grads"), name="grads")
        found.append(check(f"stage6/clip_grad_norm_[{label}]", task, FILES["utils"], program,
                           [total, grads], **TOLERANCES["float32"]))
    return found


def step_checks(g: np.random.Generator) -> list[Check]:
    """Plain SGD steps (parameters compared by name, see ``instructor.grading.checks.stage6``)."""
    task = "examples/train_gan.py:gan_step"
    real = g.uniform(0.0, 1.0, (size(g, 4, 8), 12)).astype(np.float32)
    program = Program()
    program.call("mini_torch.manual_seed", seed(g))
    generator = program.call(
        f"{NN}.Sequential", program.call(f"{NN}.Linear", 64, 10),
        program.call(f"{NN}.ReLU"), program.call(f"{NN}.Linear", 10, 12),
        program.call(f"{NN}.Sigmoid"), name="generator")
    discriminator = program.call(
        f"{NN}.Sequential", program.call(f"{NN}.Linear", 12, 10),
        program.call(f"{NN}.LeakyReLU", 0.1), program.call(f"{NN}.Linear", 10, 1),
        name="discriminator")
    criterion = program.call(f"{NN}.BCEWithLogitsLoss")
    g_optimizer = program.call("mini_torch.optim.SGD", generator, lr=0.05)
    d_optimizer = program.call("mini_torch.optim.SGD", discriminator, lr=0.05)
    losses = program.call(task, generator, discriminator, real, criterion, g_optimizer,
                          d_optimizer, 1.0, repeat=2, name="losses")
    found = [check("stage6/train_gan.py:gan_step[real-label-1-two-steps]", task,
                   "examples/train_gan.py", program,
                   [losses, _named_parameters(program, generator, "generator_params"),
                    _named_parameters(program, discriminator, "discriminator_params")],
                   rtol=1e-4, atol=1e-5)]

    task = "examples/train_char_lm.py:lm_step"
    vocabulary, width = 5, 12
    text = g.integers(0, vocabulary, 30).astype(np.int64)
    steps = size(g, 4, 6)
    starts = g.choice(30 - steps, size(g, 2, 4), replace=False)
    x = np.stack([text[s:s + steps] for s in starts])          # (B, T) ids
    y = np.stack([text[s + 1:s + steps + 1] for s in starts])  # the next ids
    program = Program()
    program.call("mini_torch.manual_seed", seed(g))
    model = program.call(
        f"{NN}.Sequential", program.call(f"{NN}.Embedding", vocabulary, width),
        program.call(f"{NN}.TransformerBlock", width, 3),
        program.call(f"{NN}.LayerNorm", width), program.call(f"{NN}.Linear", width, vocabulary),
        name="model")
    criterion = program.call(f"{NN}.CrossEntropyLoss")
    optimizer = program.call("mini_torch.optim.SGD", model, lr=0.3)
    result = program.call(task, model, x, y, criterion, optimizer, 0.5, repeat=2,
                          name="losses")
    found.append(check("stage6/train_char_lm.py:lm_step[three-heads-clipped]", task,
                       "examples/train_char_lm.py", program,
                       [result, _named_parameters(program, model, "params")],
                       rtol=1e-4, atol=1e-5))
    return found


def checks(g: np.random.Generator) -> list[Check]:
    return (function_checks(g) + module_checks_of(g) + batch_norm_checks(g) + dropout_checks(g)
            + clip_checks(g) + step_checks(g))
