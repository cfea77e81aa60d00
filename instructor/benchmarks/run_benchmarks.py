"""Mini-Torch benchmarks: every speed figure is a ratio of two medians measured in one process.

    python instructor/benchmarks/run_benchmarks.py [--json PATH] [--quick]

Run through ``nox -s bench``, which installs ``stages/stage5`` into a fresh virtualenv. Each
comparison times its candidates interleaved (A, B, A, B, ...) so that a slow moment of the machine
hits both, and reports the ratio of their medians; absolute times are printed for orientation only.
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
from scipy import special

import mini_torch
from mini_torch import functional as F
from mini_torch.datasets import MNISTDataset, mnist_path
from mini_torch.utils.data import ArrayDataset, DataLoader, Dataset

SIZES = (784, 256, 128, 10)
LR, MOMENTUM = 1e-3, 0.9  # small enough that thousands of steps on one batch never diverge


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
                start = time.perf_counter()
                for _ in range(inner):
                    fn()
                samples[name].append((time.perf_counter() - start) / inner)
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


def framework_step(batch_size: int, model: mini_torch.Sequential | None = None
                   ) -> Callable[[], float]:
    """Stage 5's path: Sequential, CrossEntropyLoss, SGD(momentum)."""
    model = model if model is not None else framework_model()
    criterion = mini_torch.CrossEntropyLoss()
    optimizer = mini_torch.SGD(model, lr=LR, momentum=MOMENTUM)
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

def _numpy_only(fn: Callable) -> Callable:
    """Run ``fn`` with ``functional``'s numexpr path switched off."""
    def run(*args, **kwargs):
        previous = getattr(F, "_NUMEXPR_MIN_SIZE", None)
        if previous is None:  # a version of the framework without a numexpr path
            return fn(*args, **kwargs)
        F._NUMEXPR_MIN_SIZE = float("inf")
        try:
            return fn(*args, **kwargs)
        finally:
            F._NUMEXPR_MIN_SIZE = previous
    return run


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

    def gelu_exact() -> None:  # numexpr has no erf: scipy computes it, numexpr the rest
        e = special.erf(x * c["q"])
        numexpr.evaluate("h * x * (1 + e)", local_dict={**arrays, "e": e})
        e = special.erf(x * c["q"])
        numexpr.evaluate("g * (h * (1 + e) + x * p * exp(-h * x * x))",
                         local_dict={**arrays, "e": e})

    def gelu_tanh() -> None:
        numexpr.evaluate("h * x * (1 + tanh(r * (x + k * x * x * x)))", local_dict=arrays)
        t = numexpr.evaluate("tanh(r * (x + k * x * x * x))", local_dict=arrays)
        numexpr.evaluate("g * (h * (1 + t) + h * x * (1 - t * t) * r * (1 + 3 * k * x * x))",
                         local_dict={**arrays, "t": t})

    return {"sigmoid": sigmoid, "tanh": tanh, "gelu (exact)": gelu_exact,
            "gelu (tanh)": gelu_tanh}


def bench_activations(repeats: int, sizes: tuple[int, ...] = (1_000_000, 4_194_304)) -> list:
    """numpy against numexpr, and what the framework does (numexpr only where it won)."""
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
            # Two comparisons: numexpr's worker threads stay busy for a moment after a call and
            # would slow down whatever is timed right after them.
            engines = compare({"numpy": _numpy_only(framework),
                               "numexpr": numexpr_versions[name]}, repeats=repeats)
            own = compare({"numpy": _numpy_only(framework), "framework": framework},
                          repeats=repeats)
            best = min(engines["numpy"], engines["numexpr"]) / engines["numpy"]
            results.append({
                "name": f"{name}, forward + backward, {size:,} float32",
                "seconds": {"numpy": engines["numpy"], "numexpr": engines["numexpr"],
                            "framework": own["framework"]},
                "ratios": {"numpy / numexpr (> 1: numexpr wins)":
                           engines["numpy"] / engines["numexpr"],
                           "framework / best of the two":
                           own["framework"] / own["numpy"] / best},
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
    args = parser.parse_args()
    repeats = 5 if args.quick else 41

    train = MNISTDataset(mnist_path("train"))
    results = [
        bench_training_step(128, repeats),
        bench_training_step(16, repeats),
        bench_dataloader(train, max(3, repeats // 3)),
        bench_mnist_loading(max(3, repeats // 3)),
        *bench_activations(max(3, repeats // 2)),
        bench_memory(),
    ]
    print(f"mini_torch {mini_torch.__version__}, numpy {np.__version__}, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")
    for result in results:
        print(f"\n{result['name']}")
        for label, seconds in result.get("seconds", {}).items():
            print(f"    {label:<28} {seconds * 1e3:10.3f} ms")
        for label, value in result.get("bytes", {}).items():
            print(f"    {label:<36} {value / 2**20:8.2f} MiB")
        for label, ratio in result["ratios"].items():
            print(f"  ratio  {label:<44} {ratio:6.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": platform.platform(), "results": results},
                                    indent=2))
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
