"""Checks of stage 6: Embedding, LayerNorm, Dropout, attention, the GAN and language-model steps.

Each forward and backward function is checked on inputs drawn from the grading run's generator
``g`` (their values and, within small bounds, their shapes) in float32 and float64; each
module's forward, its backward (the input gradient and the parameter gradients) and the
accumulation of its gradients until ``zero_grad``. A module is made float64 by replacing its
parameters with float64 arrays (``setattr``), so no check changes global state that a later
check would inherit.

Dropout's mask is random: the student may draw it in any way, so its checks compare what does
not depend on the draw (the values a mask may hold, the fraction kept within a tolerance, the
output against the module's own ``mask``, the backward against the forward's output), and the
functions that apply a mask get a given one. The two training steps run on tiny seeded models
built with the package: with plain SGD their parameters are compared, by name, with the
reference's after a few steps; with the examples' Adam and AdamW, only the losses of a run.
"""

from __future__ import annotations

import math

import numpy as np

from instructor.grading.checks import Check, Program, Ref, check, floats, seed, size

NN = "mini_torch.nn"
FILES = {
    "embedding": "src/mini_torch/nn/embedding.py",
    "normalization": "src/mini_torch/nn/normalization.py",
    "dropout": "src/mini_torch/nn/dropout.py",
    "attention": "src/mini_torch/nn/attention.py",
    "batchnorm": "src/mini_torch/nn/batchnorm.py",
    "utils": "src/mini_torch/nn/utils.py",
}
#: float32 and float64 tolerances (the float32 ones allow another order of the same sums).
TOLERANCES = {"float32": {"rtol": 1e-4, "atol": 1e-5}, "float64": {"rtol": 1e-6, "atol": 1e-8}}
DTYPES = ("float32", "float64")


def call_check(module: str, function: str, name: str, *args, dtype: str = "float32",
               **kwargs) -> Check:
    """The result of ``mini_torch.nn.<module>.<function>(*args, **kwargs)``."""
    target = f"{NN}.{module}.{function}"
    program = Program()
    result = program.call(target, *args, **kwargs)
    return check(f"stage6/{function}[{name}]", target, FILES[module], program, [result],
                 **TOLERANCES[dtype])


def cast(dtype: str, *arrays: np.ndarray) -> list[np.ndarray]:
    return [a.astype(dtype) for a in arrays]


# --- the functions ------------------------------------------------------------------------------


def attention_shape(g: np.random.Generator) -> tuple[int, int, int, int]:
    """``(B, nh, T, hs)`` drawn: B in 1 .. 2, nh in 1 .. 3, T in 3 .. 6, hs in 2 .. 5."""
    return size(g, 1, 2), size(g, 1, 3), size(g, 3, 6), size(g, 2, 5)


def attention_inputs(g: np.random.Generator, dtype: str, causal: bool,
                     shape: tuple[int, int, int, int]):
    """q, k, v of ``shape`` ``(B, nh, T, hs)`` and the attention weights ``(B, nh, T, T)`` the
    reference formula gives them."""
    q, k, v = (floats(g, *shape).astype(dtype) for _ in range(3))
    steps, head_size = shape[2], shape[3]
    scores = (q.astype(np.float64) @ k.astype(np.float64).swapaxes(-1, -2)) / math.sqrt(head_size)
    if causal:
        scores = np.where(np.triu(np.ones((steps, steps), bool), k=1), -np.inf, scores)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    attn = (weights / weights.sum(axis=-1, keepdims=True)).astype(dtype)
    return q, k, v, attn


def repeated_indices(g: np.random.Generator, shape: tuple[int, ...], rows: int) -> np.ndarray:
    """Indices of ``shape`` drawn in ``0 .. rows - 1``, the first two equal (a repeat)."""
    indices = g.integers(0, rows, shape).astype(np.int64)
    indices.flat[1] = indices.flat[0]
    return indices


def function_checks(g: np.random.Generator) -> list[Check]:
    """The functions on drawn inputs: shapes ``(N, D)`` with N in 3 .. 8 and D in 3 .. 9,
    attention on :func:`attention_shape`."""
    found = []
    vocabulary, width, shape = size(g, 5, 9), size(g, 3, 6), (size(g, 2, 4), size(g, 3, 5))
    indices = repeated_indices(g, shape, vocabulary - 1)  # repeats; the last row unused
    for dtype in DTYPES:
        W = floats(g, vocabulary, width).astype(dtype)
        found.append(call_check("embedding", "embedding", f"repeated-{dtype}", indices, W,
                                dtype=dtype))
        grad = floats(g, *shape, width).astype(dtype)
        found.append(call_check("embedding", "embedding_backward", f"repeated-{dtype}", grad,
                                indices, vocabulary, dtype=dtype))
    vocabulary, rows = size(g, 6, 10), size(g, 4, 7)
    used = g.permutation(vocabulary)[:3]  # three rows used, with repeats; the others unused
    found.append(call_check("embedding", "embedding_backward", "flat-unused-rows",
                            floats(g, rows, size(g, 2, 4)),
                            used[repeated_indices(g, (rows,), 3)], vocabulary))

    rows, width = size(g, 3, 6), size(g, 5, 9)
    for dtype in DTYPES:
        x = (3.0 * floats(g, rows, width) + 2.0).astype(dtype)
        gamma, beta = cast(dtype, 1.0 + floats(g, width, scale=0.3),
                           floats(g, width, scale=0.3))
        found.append(call_check("normalization", "layer_norm", dtype, x, gamma, beta,
                                dtype=dtype))
        found.append(call_check("normalization", "layer_norm_backward", dtype,
                                floats(g, rows, width).astype(dtype), x, gamma, dtype=dtype))
    rows, width = size(g, 3, 5), size(g, 4, 7)
    x, gamma = floats(g, rows, width, scale=0.05), 1.0 + floats(g, width, scale=0.3)
    found.append(call_check("normalization", "layer_norm", "small-rows-eps-1e-2", x, gamma,
                            floats(g, width), eps=1e-2))
    found.append(call_check("normalization", "layer_norm_backward", "small-rows-eps-1e-2",
                            floats(g, rows, width), x, gamma, eps=1e-2))

    shape = (size(g, 3, 6), size(g, 4, 8))
    for dtype in DTYPES:
        x, grad = cast(dtype, floats(g, *shape), floats(g, *shape))
        mask = ((g.random(shape) >= 0.4) / 0.6).astype(dtype)  # a given mask
        found.append(call_check("dropout", "dropout", f"fixed-mask-{dtype}", x, mask,
                                dtype=dtype))
        found.append(call_check("dropout", "dropout_backward", f"fixed-mask-{dtype}", grad,
                                mask, dtype=dtype))
    found += mask_checks(g)

    for dtype in DTYPES:
        for causal in (True, False):
            shape = attention_shape(g)
            q, k, v, attn = attention_inputs(g, dtype, causal, shape)
            name = f"{'causal' if causal else 'full'}-{dtype}"
            found.append(call_check("attention", "scaled_dot_product_attention", name, q, k, v,
                                    causal=causal, dtype=dtype))
            found.append(call_check("attention", "scaled_dot_product_attention_backward", name,
                                    floats(g, *shape).astype(dtype), q, k, v, attn,
                                    dtype=dtype))
        # attention dropout with a given mask: out = (attn * mask) @ v
        shape = attention_shape(g)
        q, k, v, attn = attention_inputs(g, dtype, True, shape)
        mask = ((g.random(attn.shape) >= 0.3) / 0.7).astype(dtype)
        found.append(call_check("attention", "scaled_dot_product_attention",
                                f"dropout-mask-{dtype}", q, k, v, causal=True,
                                dropout_mask=mask, dtype=dtype))
        found.append(call_check("attention", "scaled_dot_product_attention_backward",
                                f"dropout-mask-{dtype}", floats(g, *shape).astype(dtype),
                                q, k, v, attn, dropout_mask=mask, dtype=dtype))

    rows, channels = size(g, 5, 8), size(g, 3, 6)
    for dtype in DTYPES:
        x = (2.0 * floats(g, rows, channels) + 1.0).astype(dtype)
        gamma, beta = cast(dtype, 1.0 + floats(g, channels, scale=0.3),
                           floats(g, channels, scale=0.3))
        found.append(call_check("batchnorm", "batch_norm", dtype, x, gamma, beta, dtype=dtype))
        found.append(call_check("batchnorm", "batch_norm_backward", dtype,
                                floats(g, rows, channels).astype(dtype), x, gamma, dtype=dtype))
    rows, channels = size(g, 4, 7), size(g, 3, 5)
    x = floats(g, rows, channels, scale=0.1)
    found.append(call_check("batchnorm", "batch_norm", "no-affine-eps-0.8", x, None, None,
                            eps=0.8))
    found.append(call_check("batchnorm", "batch_norm_backward", "no-affine-eps-0.8",
                            floats(g, rows, channels), x, None, eps=0.8))
    return found


def mask_checks(g: np.random.Generator) -> list[Check]:
    """``dropout_mask``: the values it holds (exact), and the fraction it keeps (about 1 - p),
    with a generator of a drawn seed."""
    task = f"{NN}.dropout.dropout_mask"
    found = []
    for p, dtype in ((0.3, "float32"), (0.5, "float64"), (0.0, "float32"), (1.0, "float32")):
        program = Program()
        generator = program.call("numpy.random.default_rng", seed(g))
        mask = program.call(task, (200, 500), p, generator, dtype=dtype)
        values = program.call("numpy.unique", mask, name="values")
        # 100,000 entries: the mean of the mask is 1 with a standard deviation of
        # sqrt(p / (1 - p) / 1e5) <= 0.0032, so 0.02 is six standard deviations.
        mean = program.call("numpy.mean", mask, name="mean")
        found.append(check(f"stage6/dropout_mask[values-p{p:g}-{dtype}]", task,
                           FILES["dropout"], program, [values], **TOLERANCES[dtype]))
        if 0.0 < p < 1.0:
            found.append(check(f"stage6/dropout_mask[mean-1-p{p:g}-{dtype}]", task,
                               FILES["dropout"], program, [mean], rtol=0.0, atol=0.02))
    return found


# --- the modules --------------------------------------------------------------------------------


def replace(program: Program, module: Ref, arrays: dict[str, np.ndarray]) -> None:
    for attribute, value in arrays.items():
        program.call("builtins.setattr", module, attribute, value)


def module_checks(label: str, cls: str, file: str, x, grad, *, args=(), kwargs=None,
                  arrays=None, dtype: str = "float32", module_seed: int = 6) -> list[Check]:
    """Forward output; backward's input gradient and parameter gradients; and accumulation.

    ``arrays``: parameters set before the forward (random ones instead of ones and zeros, or
    float64 ones). The accumulation check runs forward and backward twice (the gradients add
    up), then ``zero_grad`` and once more (they start again from zero).
    """
    kwargs = kwargs or {}
    task = f"mini_torch.nn.{file.rsplit('/', 1)[-1][:-3]}.{cls}"
    tolerances = TOLERANCES[dtype]

    def start() -> tuple[Program, Ref]:
        program = Program()
        program.call("mini_torch.manual_seed", module_seed)
        module = program.call(f"{NN}.{cls}", *args, **kwargs, name="module")
        replace(program, module, arrays or {})
        return program, module

    forward, module = start()
    out = forward.call(module.attr("forward"), x, name="out")
    backward, module = start()
    backward.call(module.attr("forward"), x)
    dx = backward.call(module.attr("backward"), grad, name="dx")
    grads = backward.call(module.attr("grads"), name="grads")
    twice, module = start()
    for _ in range(2):
        twice.call(module.attr("forward"), x)
        twice.call(module.attr("backward"), grad)
    summed = twice.call(module.attr("grads"), name="summed")
    twice.call(module.attr("zero_grad"))
    twice.call(module.attr("forward"), x)
    twice.call(module.attr("backward"), grad)
    again = twice.call(module.attr("grads"), name="again")
    return [
        check(f"stage6/{cls}.forward[{label}]", f"{task}.forward", file, forward, [out],
              **tolerances),
        check(f"stage6/{cls}.backward[{label}]", f"{task}.backward", file, backward,
              [dx, grads], **tolerances),
        check(f"stage6/{cls}.backward[{label}-accumulates-until-zero_grad]", f"{task}.backward",
              file, twice, [summed, again], **tolerances),
    ]


def embedding_checks(g: np.random.Generator) -> list[Check]:
    """``Embedding(V, D)`` on ``(B, T)`` indices with repeats and unused rows (V in 6 .. 9,
    D in 3 .. 6, B in 2 .. 3, T in 3 .. 5)."""
    vocabulary, width, shape = size(g, 6, 9), size(g, 3, 6), (size(g, 2, 3), size(g, 3, 5))
    indices = repeated_indices(g, shape, vocabulary - 2)  # repeats; the last two rows unused
    found = module_checks("repeated-indices", "Embedding", FILES["embedding"], indices,
                          floats(g, *shape, width), args=(vocabulary, width),
                          module_seed=seed(g))
    found += module_checks("repeated-indices-float64", "Embedding", FILES["embedding"],
                           indices, floats(g, *shape, width).astype("float64"),
                           args=(vocabulary, width),
                           arrays={"W": floats(g, vocabulary, width).astype("float64")},
                           dtype="float64")
    return found


def layer_norm_checks(g: np.random.Generator) -> list[Check]:
    """``LayerNorm(D)`` on ``(N, T, D)`` (N in 2 .. 3, T in 2 .. 4, D in 4 .. 8)."""
    found = []
    for dtype in DTYPES:
        shape = (size(g, 2, 3), size(g, 2, 4), size(g, 4, 8))
        width = shape[-1]
        arrays = dict(zip(("gamma", "beta"), cast(dtype, 1.0 + floats(g, width, scale=0.3),
                                                  floats(g, width, scale=0.3))))
        x = (2.0 * floats(g, *shape) - 1.0).astype(dtype)  # (N, T, D): rows of every position
        found += module_checks(f"sequence-{dtype}", "LayerNorm", FILES["normalization"], x,
                               floats(g, *shape).astype(dtype), args=(width,), arrays=arrays,
                               dtype=dtype)
    return found


def attention_weights(g: np.random.Generator, dtype: str, width: int) -> dict[str, np.ndarray]:
    """Drawn parameters of a ``MultiHeadSelfAttention(width, heads)``."""
    return dict(zip(("W_qkv", "b_qkv", "W_out", "b_out"), cast(
        dtype, floats(g, width, 3 * width, scale=0.4), floats(g, 1, 3 * width, scale=0.1),
        floats(g, width, width, scale=0.4), floats(g, 1, width, scale=0.1))))


def attention_checks(g: np.random.Generator) -> list[Check]:
    """``MultiHeadSelfAttention`` on ``(B, T, D)`` (B in 1 .. 2, T in 3 .. 6, D = heads times a
    head size in 2 .. 4, heads in 1 .. 3), causal and not; and its causality."""
    file = FILES["attention"]
    found = []
    for dtype in DTYPES:
        heads = size(g, 1, 3)
        width = heads * size(g, 2, 4)
        arrays = attention_weights(g, dtype, width)
        for causal in (True, False):
            label = f"{'causal' if causal else 'full'}-{dtype}"
            shape = (size(g, 1, 2), size(g, 3, 6), width)
            found += module_checks(label, "MultiHeadSelfAttention", file,
                                   floats(g, *shape).astype(dtype),
                                   floats(g, *shape).astype(dtype), args=(width, heads),
                                   kwargs={"causal": causal}, arrays=arrays, dtype=dtype)
    # Causality: changing the last positions changes nothing before them. Compared with the
    # reference, which is causal; the outputs of both inputs are sent back.
    steps = size(g, 4, 6)
    x = floats(g, 2, steps, 8)
    changed = x.copy()
    changed[:, steps - 2:] = floats(g, 2, 2, 8, scale=3.0)
    program = Program()
    program.call("mini_torch.manual_seed", seed(g))
    module = program.call(f"{NN}.MultiHeadSelfAttention", 8, int(g.choice([2, 4])))
    first = program.call(module.attr("forward"), x, name="out")
    second = program.call(module.attr("forward"), changed, name="out_changed_future")
    task = "mini_torch.nn.attention.MultiHeadSelfAttention.forward"
    found.append(check("stage6/MultiHeadSelfAttention.forward[future-changed]", task, file,
                       program, [first, second], **TOLERANCES["float32"]))
    return found


def batch_norm_checks(g: np.random.Generator) -> list[Check]:
    """Training mode on (N, C) and (N, C, L) (forward, backward, accumulation), the running
    statistics after two batches, and evaluation mode with given running statistics."""
    file = FILES["batchnorm"]
    task = "mini_torch.nn.batchnorm.BatchNorm1d"
    found = []
    for dtype in DTYPES:
        rows, channels = size(g, 5, 8), size(g, 3, 5)
        arrays = dict(zip(("gamma", "beta", "running_mean", "running_var"), cast(
            dtype, 1.0 + floats(g, channels, scale=0.3), floats(g, channels, scale=0.3),
            np.zeros(channels), np.ones(channels))))
        found += module_checks(f"train-{dtype}", "BatchNorm1d", file,
                               (2.0 * floats(g, rows, channels) + 1.0).astype(dtype),
                               floats(g, rows, channels).astype(dtype), args=(channels,),
                               arrays=arrays, dtype=dtype)
    shape = (size(g, 2, 4), size(g, 3, 5), size(g, 3, 6))
    found += module_checks("train-n-c-l", "BatchNorm1d", file, floats(g, *shape),
                           floats(g, *shape), args=(shape[1],), module_seed=seed(g))
    channels = size(g, 2, 5)
    program = Program()
    module = program.call(f"{NN}.BatchNorm1d", channels, momentum=0.25, name="module")
    for _ in range(2):
        program.call(module.attr("forward"), (3.0 * floats(g, size(g, 4, 7), channels) + 2.0))
    stats = [program.get(module.attr(name), name=name)
             for name in ("running_mean", "running_var", "num_batches_tracked")]
    found.append(check("stage6/BatchNorm1d.forward[running-statistics]", f"{task}.forward",
                       file, program, stats, **TOLERANCES["float32"]))
    channels = size(g, 2, 5)
    running = {"running_mean": floats(g, channels),
               "running_var": 1.0 + floats(g, channels, scale=0.3) ** 2}
    for label, step in (("eval", "forward"), ("eval", "backward")):
        rows = size(g, 3, 6)
        program = Program()
        module = program.call(f"{NN}.BatchNorm1d", channels, name="module")
        replace(program, module, {**running, "gamma": 1.0 + floats(g, channels, scale=0.3)})
        program.call(module.attr("eval"))
        out = program.call(module.attr("forward"), floats(g, rows, channels), name="out")
        results = [out]
        if step == "backward":
            results = [program.call(module.attr("backward"), floats(g, rows, channels),
                                    name="dx"),
                       program.call(module.attr("grads"), name="grads")]
        found.append(check(f"stage6/BatchNorm1d.{step}[{label}]", f"{task}.{step}", file,
                           program, results, **TOLERANCES["float32"]))
    return found


def clip_checks(g: np.random.Generator) -> list[Check]:
    """``clip_grad_norm_`` on a two-layer model of drawn widths: the returned norm and the
    gradients after."""
    task = "mini_torch.nn.utils.clip_grad_norm_"
    found = []
    for label, max_norm, norm_type in (("clipped", 0.5, 2.0), ("unchanged", 1e4, 2.0),
                                       ("inf-norm", 0.1, float("inf"))):
        rows, fan_in, hidden, fan_out = size(g, 4, 7), size(g, 2, 4), size(g, 3, 5), size(g, 1, 3)
        program = Program()
        program.call("mini_torch.manual_seed", seed(g))
        model = program.call(f"{NN}.Sequential", program.call(f"{NN}.Linear", fan_in, hidden),
                             program.call(f"{NN}.Tanh"),
                             program.call(f"{NN}.Linear", hidden, fan_out), name="model")
        program.call(model.attr("forward"), floats(g, rows, fan_in))
        program.call(model.attr("backward"), floats(g, rows, fan_out, scale=4.0))
        total = program.call(task, model, max_norm, norm_type=norm_type, name="total_norm")
        grads = program.call(model.attr("grads"), name="grads")
        found.append(check(f"stage6/clip_grad_norm_[{label}]", task, FILES["utils"], program,
                           [total, grads], **TOLERANCES["float32"]))
    return found


def dropout_checks(g: np.random.Generator) -> list[Check]:
    """Training mode by what does not depend on the draw; p = 0, p = 1 and eval mode exactly."""
    file = FILES["dropout"]
    task = "mini_torch.nn.dropout.Dropout"
    found = []
    ones = np.ones((200, 500), np.float32)
    module_seed = seed(g)

    def start(p: float, mode: str = "train") -> tuple[Program, Ref]:
        program = Program()
        program.call("mini_torch.manual_seed", module_seed)
        module = program.call(f"{NN}.Dropout", p, name="module")
        if mode == "eval":
            program.call(module.attr("eval"))
        return program, module

    # Training: the output of ones is the mask, whose values are 0 and 1 / (1 - p) and whose
    # mean is 1 within 0.02 (six standard deviations for 100,000 entries, see mask_checks).
    program, module = start(0.4)
    out = program.call(module.attr("forward"), ones)
    values = program.call("numpy.unique", out, name="values")
    mean = program.call("numpy.mean", out, name="mean")
    found.append(check("stage6/Dropout.forward[train-values]", f"{task}.forward", file, program,
                       [values]))
    found.append(check("stage6/Dropout.forward[train-mean-1]", f"{task}.forward", file, program,
                       [mean], rtol=0.0, atol=0.02))
    # Training on random inputs: the output is x * mask with the module's own mask, and the same
    # seed gives the same output (the mask comes from the global generator). Both differences
    # are zero for the reference.
    shape = (size(g, 4, 7), size(g, 5, 8))
    x, grad = floats(g, *shape), floats(g, *shape)
    program, module = start(0.5)
    out = program.call(module.attr("forward"), x)
    mask = program.get(module.attr("mask"))
    residual = program.call("numpy.subtract", out, program.call("numpy.multiply", x, mask),
                            name="out_minus_x_times_mask")
    program.call("mini_torch.manual_seed", module_seed)
    repeated = program.call(module.attr("forward"), x)
    drift = program.call("numpy.subtract", out, repeated, name="out_minus_out_same_seed")
    found.append(check("stage6/Dropout.forward[train-x-times-mask-seeded]", f"{task}.forward",
                       file, program, [residual, drift]))
    # Backward reuses the forward's mask: with x = 1 the output is the mask, so dx - G * out = 0.
    program, module = start(0.5)
    out = program.call(module.attr("forward"), np.ones(shape, np.float32))
    dx = program.call(module.attr("backward"), grad)
    residual = program.call("numpy.subtract", dx, program.call("numpy.multiply", grad, out),
                            name="dx_minus_grad_times_mask")
    found.append(check("stage6/Dropout.backward[train-reuses-mask]", f"{task}.backward", file,
                       program, [residual]))
    # Exact cases: p = 1 (zeros), p = 0 in training and any p in eval mode (the identity).
    for label, p, mode in (("p1-zeros", 1.0, "train"), ("p0-identity", 0.0, "train"),
                           ("eval-identity", 0.9, "eval")):
        forward, module = start(p, mode)
        out = forward.call(module.attr("forward"), x, name="out")
        found.append(check(f"stage6/Dropout.forward[{label}]", f"{task}.forward", file, forward,
                           [out]))
        backward, module = start(p, mode)
        backward.call(module.attr("forward"), x)
        dx = backward.call(module.attr("backward"), grad, name="dx")
        found.append(check(f"stage6/Dropout.backward[{label}]", f"{task}.backward", file,
                           backward, [dx]))
    # float64 stays float64 (the identity of eval mode keeps the input's values and dtype).
    x64, grad64 = cast("float64", x, grad)
    program, module = start(0.5)
    out = program.call(module.attr("forward"), x64)
    mask = program.get(module.attr("mask"))
    residual = program.call("numpy.subtract", out, program.call("numpy.multiply", x64, mask),
                            name="out_minus_x_times_mask")
    dx = program.call(module.attr("backward"), grad64)
    back = program.call("numpy.subtract", dx, program.call("numpy.multiply", grad64, mask),
                        name="dx_minus_grad_times_mask")
    found.append(check("stage6/Dropout.backward[train-float64]", f"{task}.backward", file,
                       program, [residual, back], **TOLERANCES["float64"]))
    return found


# --- the training steps of the examples ---------------------------------------------------------


def _named_parameters(program: Program, model: Ref, name: str) -> Ref:
    return program.call(model.attr("named_parameters"), name=name)


def gan_checks(g: np.random.Generator) -> list[Check]:
    """``gan_step`` on a tiny GAN of a drawn seed (noise 64 -> 12 "pixels"), on a drawn batch of
    6 .. 10 real samples.

    With plain SGD: the two losses and both networks' parameters, by name, after one step and
    after three (the third shows whether the discriminator's gradients from the generator's
    pass were cleared before its own step). SGD moves a parameter by ``lr`` times its gradient,
    so rounding in a gradient stays rounding in the parameter; Adam divides each gradient by its
    own running size, which turns the rounding of a gradient that is zero into a step of about
    ``lr``, so with Adam (the example's optimizer) only the losses of a short run are compared.
    """
    task = "examples/train_gan.py:gan_step"
    real = g.uniform(0.0, 1.0, (size(g, 6, 10), 12)).astype(np.float32)
    found = []
    for label, repeat, optimizer in (("one-step", None, "SGD"), ("three-steps", 3, "SGD"),
                                     ("adam-losses", 4, "Adam")):
        program = Program()
        program.call("mini_torch.manual_seed", seed(g))
        generator = program.call(
            f"{NN}.Sequential", program.call(f"{NN}.Linear", 64, 16),
            program.call(f"{NN}.LeakyReLU", 0.2), program.call(f"{NN}.Linear", 16, 12),
            program.call(f"{NN}.Sigmoid"), name="generator")
        discriminator = program.call(
            f"{NN}.Sequential", program.call(f"{NN}.Linear", 12, 16),
            program.call(f"{NN}.LeakyReLU", 0.2), program.call(f"{NN}.Linear", 16, 1),
            name="discriminator")
        criterion = program.call(f"{NN}.BCEWithLogitsLoss")
        if optimizer == "SGD":
            g_optimizer = program.call("mini_torch.optim.SGD", generator, lr=0.1)
            d_optimizer = program.call("mini_torch.optim.SGD", discriminator, lr=0.1)
        else:
            g_optimizer = program.call("mini_torch.optim.Adam", generator, lr=0.01,
                                       betas=(0.5, 0.999))
            d_optimizer = program.call("mini_torch.optim.Adam", discriminator, lr=0.01,
                                       betas=(0.5, 0.999))
        losses = program.call(task, generator, discriminator, real, criterion, g_optimizer,
                              d_optimizer, 0.9, repeat=repeat, name="losses")
        outputs = [losses]
        if optimizer == "SGD":
            outputs += [_named_parameters(program, generator, "generator_params"),
                        _named_parameters(program, discriminator, "discriminator_params")]
        found.append(check(f"stage6/train_gan.py:gan_step[{label}]", task,
                           "examples/train_gan.py", program, outputs,
                           **({"rtol": 1e-4, "atol": 1e-5} if optimizer == "SGD"
                              else {"rtol": 2e-3, "atol": 1e-4})))
    return found


def lm_checks(g: np.random.Generator) -> list[Check]:
    """``lm_step`` on a tiny transformer of a drawn seed (vocabulary 7, width 8, 2 heads, 1
    block), on a batch of 3 .. 5 windows of 5 .. 7 ids of a drawn text.

    With plain SGD (see :func:`gan_checks` for why not AdamW): the losses and the parameters,
    by name, after two steps (the second shows whether the gradients of the first were
    cleared), and the same with ``max_norm=0.05`` (the gradients clipped before each step, as
    the example's default run does; clipping after the step changes nothing that step did).
    With AdamW, the example's optimizer: the 30 losses of a 30-step run on one batch.
    """
    task = "examples/train_char_lm.py:lm_step"
    text = g.integers(0, 7, 40).astype(np.int64)
    steps = size(g, 5, 7)
    starts = g.choice(40 - steps, size(g, 3, 5), replace=False)
    x = np.stack([text[s:s + steps] for s in starts])          # (B, T) ids
    y = np.stack([text[s + 1:s + steps + 1] for s in starts])  # the next ids
    found = []
    for label, repeat, max_norm in (("two-steps", 2, 0.0), ("clipped", 2, 0.05),
                                    ("training-run", 30, 0.0)):
        program = Program()
        program.call("mini_torch.manual_seed", seed(g))
        model = program.call(
            f"{NN}.Sequential", program.call(f"{NN}.Embedding", 7, 8),
            program.call(f"{NN}.TransformerBlock", 8, 2),
            program.call(f"{NN}.LayerNorm", 8),
            program.call(f"{NN}.Linear", 8, 7),
            name="model")
        criterion = program.call(f"{NN}.CrossEntropyLoss")
        if repeat == 2:  # two-steps, clipped
            optimizer = program.call("mini_torch.optim.SGD", model, lr=0.5)
        else:
            optimizer = program.call("mini_torch.optim.AdamW", model, lr=0.01)
        result = program.call(task, model, x, y, criterion, optimizer, max_norm,
                              repeat=repeat, name="losses")
        name = f"stage6/train_char_lm.py:lm_step[{label}]"
        if repeat == 2:
            params = _named_parameters(program, model, "params")
            found.append(check(name, task, "examples/train_char_lm.py", program,
                               [result, params], rtol=1e-4, atol=1e-5))
        else:
            found.append(check(name, task, "examples/train_char_lm.py", program, [result],
                               rtol=2e-3, atol=1e-4))
    return found


def checks(g: np.random.Generator) -> list[Check]:
    return (function_checks(g) + embedding_checks(g) + layer_norm_checks(g)
            + attention_checks(g) + batch_norm_checks(g) + clip_checks(g) + dropout_checks(g)
            + gan_checks(g) + lm_checks(g))
