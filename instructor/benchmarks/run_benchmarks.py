"""Mini-Torch benchmarks: every speed figure is a ratio of two medians measured in one process.

    python instructor/benchmarks/run_benchmarks.py [--json PATH] [--quick] [--threads N]

Run through ``nox -s bench``, which installs the last stage into a fresh virtualenv together with
PyTorch (CPU) and threadpoolctl, for the comparison with PyTorch only. Each comparison times its
candidates interleaved (A, B, A, B, ...) so that a slow moment of the machine hits both, and reports
the ratio of their medians; absolute times are printed for orientation only. numpy's BLAS, numexpr
and PyTorch all run with ``--threads`` threads (default 1: on a shared machine a second thread
measures the neighbours more than the code).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numexpr
import numpy as np

import mini_torch
from mini_torch import _checks
from mini_torch import functional as F
from mini_torch.datasets import MNISTDataset, mnist_path
from mini_torch.utils.data import ArrayDataset, DataLoader, Dataset

try:  # the bench session installs both; without them the PyTorch comparison is skipped
    import torch
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - depends on the environment
    torch = threadpool_limits = None

SIZES = (784, 256, 128, 10)
LR, MOMENTUM = 1e-3, 0.9  # small enough that thousands of steps on one batch never diverge
TORCH_LR = 0.01  # the comparison with PyTorch: plain SGD(lr=0.01), as the issue states it

# With one thread everything runs on the calling thread, so its CPU time measures the work alone:
# unlike wall-clock time, it does not grow while other processes hold the cores of a shared
# machine. With more threads, the worker threads' time would be missed: wall-clock time it is.
CLOCK = time.perf_counter


# ----------------------------------------------------------------------------------- timing

def compare(candidates: dict[str, Callable[[], object]], repeats: int, inner: int = 1,
            warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each candidate, timed interleaved in this process."""
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            for name, fn in candidates.items():
                start = CLOCK()
                for _ in range(inner):
                    fn()
                samples[name].append((CLOCK() - start) / inner)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


# ----------------------------------------------------------------- 1, 2: one training step

def _batch(batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.random((batch_size, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], size=batch_size)
    return x, y


def framework_model() -> mini_torch.Sequential:
    """The benchmarked MLP, seeded."""
    mini_torch.manual_seed(0)
    return mini_torch.Sequential(
        mini_torch.Linear(SIZES[0], SIZES[1]), mini_torch.ReLU(),
        mini_torch.Linear(SIZES[1], SIZES[2]), mini_torch.ReLU(),
        mini_torch.Linear(SIZES[2], SIZES[3]),
    )


def framework_step(batch_size: int, model: mini_torch.Sequential | None = None, *,
                   lr: float = LR, momentum: float = MOMENTUM) -> Callable[[], float]:
    """Stage 5's path: Sequential, CrossEntropyLoss, SGD (with momentum unless told otherwise)."""
    model = model if model is not None else framework_model()
    criterion = mini_torch.CrossEntropyLoss()
    optimizer = mini_torch.SGD(model, lr=lr, momentum=momentum)
    x, y = _batch(batch_size)

    def step() -> float:
        loss = criterion(model(x), y)
        optimizer.zero_grad()
        model.backward(criterion.backward())
        optimizer.step()
        return loss

    return step


def floor_step(batch_size: int, input_grad: bool = True) -> Callable[[], None]:
    """The same step written inline in plain numpy, float32, in-place updates.

    ``input_grad=True`` also computes the gradient with respect to the input batch, which
    ``model.backward`` returns by contract; a hand-written loop would skip it.
    """
    rng = np.random.default_rng(0)
    layers = [(rng.standard_normal((n_in, n_out)).astype(np.float32) * (2.0 / n_in) ** 0.5,
               np.zeros((1, n_out), np.float32)) for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
    buffers = [(np.zeros_like(W), np.zeros_like(b)) for W, b in layers]
    x, y = _batch(batch_size)
    rows = np.arange(batch_size)

    def step() -> float:
        (W1, b1), (W2, b2), (W3, b3) = layers
        h1 = x @ W1 + b1
        a1 = np.maximum(h1, 0)
        h2 = a1 @ W2 + b2
        a2 = np.maximum(h2, 0)
        z = a2 @ W3 + b3
        z -= z.max(axis=1, keepdims=True)
        exp = np.exp(z)
        probs = exp / exp.sum(axis=1, keepdims=True)
        loss = -np.log(probs[rows, y]).mean()
        grad = probs
        grad[rows, y] -= 1.0
        grad /= batch_size
        grads = [None, None, None]
        grads[2] = (a2.T @ grad, grad.sum(axis=0, keepdims=True))
        grad = grad @ W3.T
        grad *= h2 > 0
        grads[1] = (a1.T @ grad, grad.sum(axis=0, keepdims=True))
        grad = grad @ W2.T
        grad *= h1 > 0
        grads[0] = (x.T @ grad, grad.sum(axis=0, keepdims=True))
        if input_grad:
            grad @ W1.T
        for (W, b), (vW, vb), (gW, gb) in zip(layers, buffers, grads):
            vW *= MOMENTUM
            vW += gW
            W -= LR * vW
            vb *= MOMENTUM
            vb += gb
            b -= LR * vb
        return loss

    return step


def matmul_step(batch_size: int) -> Callable[[], None]:
    """The six matrix products alone: three forward, three weight gradients."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((n_in, n_out)).astype(np.float32)
               for n_in, n_out in zip(SIZES[:-1], SIZES[1:])]
    x, _ = _batch(batch_size)

    def step() -> None:
        h1 = x @ weights[0]
        h2 = h1 @ weights[1]
        z = h2 @ weights[2]
        h2.T @ z
        h1.T @ h2
        x.T @ h1

    return step


def bench_training_step(batch_size: int, repeats: int) -> dict:
    inner = max(1, 512 // batch_size)
    medians = compare({
        "framework": framework_step(batch_size),
        "floor": floor_step(batch_size, input_grad=True),
        "floor_without_input_grad": floor_step(batch_size, input_grad=False),
        "six_matmuls": matmul_step(batch_size),
    }, repeats=repeats, inner=inner)
    return {
        "name": f"training step, batch {batch_size}",
        "seconds": medians,
        "ratios": {
            "framework / floor": medians["framework"] / medians["floor"],
            "framework / floor without input grad":
                medians["framework"] / medians["floor_without_input_grad"],
            "framework / six matmuls": medians["framework"] / medians["six_matmuls"],
        },
    }


# ------------------------------------------------------- 2b: the same step against PyTorch

def torch_step(batch_size: int, model: mini_torch.Sequential) -> Callable[[], object]:
    """PyTorch's standard step on the same MLP, starting from the same weights.

    ``nn.Linear`` stores ``weight`` as ``(out, in)``: Mini-Torch's ``W`` transposed.
    """
    linears = [layer for layer in model.modules if isinstance(layer, mini_torch.Linear)]
    net = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[1], SIZES[2]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[2], SIZES[3]),
    )
    with torch.no_grad():
        for ours, theirs in zip(linears, [m for m in net if isinstance(m, torch.nn.Linear)]):
            theirs.weight.copy_(torch.from_numpy(ours.W.T.copy()))
            theirs.bias.copy_(torch.from_numpy(ours.b.ravel().copy()))
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=TORCH_LR)
    x, y = (torch.from_numpy(array) for array in _batch(batch_size))

    def step() -> object:
        loss = criterion(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def bench_against_torch(batch_size: int, repeats: int) -> dict:
    """One training step of Mini-Torch against PyTorch CPU: same MLP, same weights, float32."""
    ours = framework_step(batch_size, framework_model(), lr=TORCH_LR, momentum=0.0)
    theirs = torch_step(batch_size, framework_model())
    first_ours, first_theirs = float(ours()), theirs().item()
    if not math.isclose(first_ours, first_theirs, rel_tol=1e-4):
        raise AssertionError(f"the two steps differ: loss {first_ours} vs {first_theirs}")
    inner = max(1, 512 // batch_size)
    medians = compare({"mini_torch": ours, "torch": theirs}, repeats=repeats, inner=inner)
    return {
        "name": f"training step against PyTorch {torch.__version__} CPU, batch {batch_size}, "
                f"SGD(lr={TORCH_LR})",
        "seconds": medians,
        "ratios": {"mini_torch / torch (goal <= 0.75)": medians["mini_torch"] / medians["torch"]},
    }


def bench_step_breakdown(batch_size: int, repeats: int) -> dict:
    """Where a Mini-Torch step spends its time, part by part, and what of it is overhead.

    The parts of one step are timed back to back in every repeat (so a slow moment hits all of
    them) and their medians reported. Then the candidate overheads are timed alone on the same
    arrays: every input check one step runs, the one-hot target rows of the loss (forward and
    backward), the three passes over each weight gradient the step's contracts cost (the fill
    of ``zero_grad``, the accumulation ``dW += grad_W``, the temporary ``lr * grad`` of SGD), and
    the gradient with respect to the input batch, which ``model.backward`` returns by contract
    and PyTorch does not compute (its input does not require a gradient).
    """
    model = framework_model()
    criterion = mini_torch.CrossEntropyLoss()
    optimizer = mini_torch.SGD(model, lr=TORCH_LR)
    x, y = _batch(batch_size)
    layers = model.modules
    parts: dict[str, list[float]] = {}

    def timed(name: str, start: float) -> float:
        now = CLOCK()
        parts.setdefault(name, []).append(now - start)
        return now

    gc_was_enabled = gc.isenabled()
    gc.disable()  # as in compare(): a collection would land in whichever part triggered it
    for index in range(repeats + 3):
        start = CLOCK()
        h = x
        for layer in layers:
            h = layer(h)
        start = timed("forward (3 Linear, 2 ReLU)", start)
        criterion(h, y)
        start = timed("loss forward", start)
        optimizer.zero_grad()
        start = timed("zero_grad", start)
        grad = criterion.backward()
        start = timed("loss backward", start)
        for layer in reversed(layers):
            grad = layer.backward(grad)
        start = timed("model backward", start)
        optimizer.step()
        timed("optimizer step", start)
        if index < 3:  # warm-up
            parts.clear()
    if gc_was_enabled:
        gc.enable()
    seconds = {name: statistics.median(values) for name, values in parts.items()}
    seconds["whole step (sum of the parts)"] = sum(seconds.values())

    logits = model(x)
    linears = [layer for layer in layers if isinstance(layer, mini_torch.Linear)]
    inputs = [np.zeros((batch_size, n), np.float32) for n in SIZES[:-1]]  # each Linear's x
    outputs = [np.zeros((batch_size, n), np.float32) for n in SIZES[1:]]  # and its output
    grads = [layer.dW for layer in linears] + [layer.db for layer in linears]
    fresh = [g.copy() for g in grads]
    rows = np.arange(batch_size)

    def checks() -> None:  # the check helpers one step calls, with the step's own arguments
        for layer, h, out in zip(linears, inputs, outputs):
            _checks.as_float_array(h, "x", "Linear.forward", dtype=layer.W.dtype)
            _checks.check_linear(h, layer.W, layer.b, "linear")
            _checks.check_grad_output(out, out.shape, out.dtype, "linear_backward")
        for h in outputs[:2]:  # each ReLU, forward and backward
            _checks.as_float_array(h, "x", "relu")
            _checks.check_elementwise_backward(h, h, "relu_backward")
        for where in ("cross_entropy", "cross_entropy_backward"):
            _checks.check_logits(logits, "mean", 0.0, where)
            _checks.check_cross_entropy_target(y, logits, where)

    def one_hot_rows() -> None:  # the target distribution q, built by forward and backward
        for _ in range(2):
            q = np.zeros_like(logits)
            q[rows, y] = 1

    def gradient_passes() -> None:
        for g, new in zip(grads, fresh):
            g.fill(0)  # zero_grad
            g += new  # accumulation
            TORCH_LR * g  # SGD's temporary (the in-place update itself is not overhead)

    grad_h1, W1 = np.ones((batch_size, SIZES[1]), np.float32), linears[0].W

    def first_input_gradient() -> None:  # what PyTorch skips: its input needs no gradient
        grad_h1 @ W1.T

    overheads = compare({"input checks": checks, "one-hot targets": one_hot_rows,
                         "fill + accumulate + SGD temporary": gradient_passes,
                         "the input gradient (N, 784), a contract": first_input_gradient},
                        repeats=repeats, inner=max(1, 512 // batch_size))
    return {
        "name": f"breakdown of one Mini-Torch step, batch {batch_size}, SGD(lr={TORCH_LR})",
        "seconds": {**seconds, **{f"of which {k}": v for k, v in overheads.items()}},
        "ratios": {f"{k} / whole step": v / seconds["whole step (sum of the parts)"]
                   for k, v in overheads.items()},
    }


# ---------------------------------------------------------------- 3: DataLoader fast path

class GetItemOnly(Dataset):
    """The same arrays behind a dataset that only defines ``__getitem__`` (the slow path)."""

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, index: int):
        return self.features[index], self.labels[index]


def bench_dataloader(train: MNISTDataset, repeats: int) -> dict:
    fast = DataLoader(ArrayDataset(train.features, train.labels), batch_size=128, shuffle=True)
    slow = DataLoader(GetItemOnly(train.features, train.labels), batch_size=128, shuffle=True)

    def epoch(loader: DataLoader) -> Callable[[], None]:
        def run() -> None:
            for _ in loader:
                pass
        return run

    medians = compare({"__getitems__": epoch(fast), "__getitem__ only": epoch(slow)},
                      repeats=repeats)
    return {
        "name": "DataLoader epoch, MNIST train, batch 128, shuffled",
        "seconds": medians,
        "ratios": {"speed-up of the fast path":
                   medians["__getitem__ only"] / medians["__getitems__"]},
    }


# --------------------------------------------------------------------------- 4: CSV loading

def bench_mnist_loading(repeats: int) -> dict:
    path = mnist_path("train")
    medians = compare({
        "MNISTDataset": lambda: MNISTDataset(path),
        "np.loadtxt": lambda: np.loadtxt(path, delimiter=",", skiprows=1),
    }, repeats=repeats, warmup=1)
    return {
        "name": "loading the bundled 4,000-row MNIST CSV",
        "seconds": medians,
        "ratios": {"MNISTDataset / np.loadtxt": medians["MNISTDataset"] / medians["np.loadtxt"]},
    }


# ------------------------------------------------------------------ 5: element-wise ops

def _numexpr_pairs(x: np.ndarray, grad: np.ndarray) -> dict[str, Callable[[], None]]:
    """Forward + backward of each op written for numexpr (constants typed like ``x``).

    Like ``functional``'s backward functions, each backward starts again from ``x`` (a backward
    receives the forward's input, not its output), so both sides do the same work.
    """
    c = {"h": x.dtype.type(0.5), "k": x.dtype.type(0.044715),
         "r": x.dtype.type(math.sqrt(2.0 / math.pi)), "q": x.dtype.type(1.0 / math.sqrt(2.0)),
         "p": x.dtype.type(1.0 / math.sqrt(2.0 * math.pi))}
    arrays = {"x": x, "g": grad, **c}

    def sigmoid() -> None:
        numexpr.evaluate("1 / (1 + exp(-x))", local_dict=arrays)
        s = numexpr.evaluate("1 / (1 + exp(-x))", local_dict=arrays)
        numexpr.evaluate("g * s * (1 - s)", local_dict={"g": grad, "s": s})

    def tanh() -> None:
        numexpr.evaluate("tanh(x)", local_dict=arrays)
        numexpr.evaluate("g * (1 - tanh(x) ** 2)", local_dict=arrays)

    def gelu_exact() -> None:  # numexpr has no erf: functional's computes it, numexpr the rest
        e = F._erf(x * c["q"])
        numexpr.evaluate("h * x * (1 + e)", local_dict={**arrays, "e": e})
        e = F._erf(x * c["q"])
        numexpr.evaluate("g * (h * (1 + e) + x * p * exp(-h * x * x))",
                         local_dict={**arrays, "e": e})

    def gelu_tanh() -> None:
        numexpr.evaluate("h * x * (1 + tanh(r * (x + k * x * x * x)))", local_dict=arrays)
        t = numexpr.evaluate("tanh(r * (x + k * x * x * x))", local_dict=arrays)
        numexpr.evaluate("g * (h * (1 + t) + h * x * (1 - t * t) * r * (1 + 3 * k * x * x))",
                         local_dict={**arrays, "t": t})

    return {"sigmoid": sigmoid, "tanh": tanh, "gelu (exact)": gelu_exact,
            "gelu (tanh)": gelu_tanh}


def bench_activations(repeats: int,
                      sizes: tuple[int, ...] = (32_768, 1_000_000, 4_194_304)) -> list:
    """``functional``'s numpy code against the same pairs written for numexpr.

    32,768 values is a course-sized activation (batch 128 x 256 units); the two larger sizes show
    where numexpr starts to pay. ``functional`` stays on numpy (see docs/performance.md).
    """
    ops = {
        "sigmoid": (F.sigmoid, F.sigmoid_backward, {}),
        "tanh": (F.tanh, F.tanh_backward, {}),
        "gelu (exact)": (F.gelu, F.gelu_backward, {"approximate": "none"}),
        "gelu (tanh)": (F.gelu, F.gelu_backward, {"approximate": "tanh"}),
    }
    results = []
    for size in sizes:
        rng = np.random.default_rng(0)
        x = rng.standard_normal(size, dtype=np.float32)
        grad = rng.standard_normal(size, dtype=np.float32)
        numexpr_versions = _numexpr_pairs(x, grad)
        for name, (forward, backward, kwargs) in ops.items():
            def framework(forward=forward, backward=backward, kwargs=kwargs, x=x, grad=grad,
                          name=name) -> None:
                out = forward(x, **kwargs)
                grad_x = backward(grad, x, **kwargs)
                if out.dtype != np.float32 or grad_x.dtype != np.float32:
                    raise AssertionError(f"{name}: float32 in, {out.dtype} out")
            medians = compare({"numpy (functional)": framework,
                               "numexpr": numexpr_versions[name]},
                              repeats=repeats, inner=max(1, 1_000_000 // size))
            results.append({
                "name": f"{name}, forward + backward, {size:,} float32",
                "seconds": medians,
                "ratios": {"numpy / numexpr (> 1: numexpr would win)":
                           medians["numpy (functional)"] / medians["numexpr"]},
            })
    return results


# --------------------------------------------------------------------------- 6: memory

def bench_memory(batch_size: int = 128) -> dict:
    model = framework_model()
    step = framework_step(batch_size, model)
    step()  # the gradients and the momentum buffers exist from here on
    params = sum(param.nbytes for param in model.parameters())
    activations = sum(batch_size * n * 4 for n in SIZES) + sum(batch_size * n * 4
                                                                 for n in SIZES[1:-1])
    tracemalloc.start()
    tracemalloc.reset_peak()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    reference = activations + 2 * params  # activations + parameters + their gradients
    return {
        "name": f"peak memory allocated during one training step, batch {batch_size}",
        "bytes": {"peak": peak, "activations": activations, "parameters": params,
                  "activations + parameters + gradients": reference},
        "ratios": {"peak / (activations + parameters + gradients)": peak / reference},
    }


# ------------------------------------------------------------------------------------ main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("bench_results/benchmarks.json"))
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for numpy's BLAS, numexpr and PyTorch alike (default 1)")
    args = parser.parse_args()
    repeats = 5 if args.quick else 41
    global CLOCK
    CLOCK = time.thread_time if args.threads == 1 else time.perf_counter
    numexpr.set_num_threads(args.threads)
    against_torch: list[dict] = []
    if torch is None:
        print("PyTorch or threadpoolctl is not installed: the comparison with PyTorch is skipped "
              "(nox -s bench installs both).")
    else:
        threadpool_limits(args.threads)
        torch.set_num_threads(args.threads)
        against_torch = [result for batch_size in (128, 16) for result in (
            bench_against_torch(batch_size, repeats), bench_step_breakdown(batch_size, repeats))]

    train = MNISTDataset(mnist_path("train"))
    results = [
        *against_torch,
        bench_training_step(128, repeats),
        bench_training_step(16, repeats),
        bench_dataloader(train, max(3, repeats // 3)),
        bench_mnist_loading(max(3, repeats // 3)),
        *bench_activations(max(3, repeats // 2)),
        bench_memory(),
    ]
    print(f"mini_torch {mini_torch.__version__}, numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{args.threads} thread(s), timed by {CLOCK.__name__}")
    for result in results:
        print(f"\n{result['name']}")
        for label, seconds in result.get("seconds", {}).items():
            print(f"    {label:<44} {seconds * 1e3:10.3f} ms")
        for label, value in result.get("bytes", {}).items():
            print(f"    {label:<36} {value / 2**20:8.2f} MiB")
        for label, ratio in result["ratios"].items():
            print(f"  ratio  {label:<44} {ratio:6.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": platform.platform(), "threads": args.threads,
                                     "results": results}, indent=2))
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
