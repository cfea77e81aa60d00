"""Stage 6's two generative training steps against PyTorch twins, timed in one process.

    python instructor/benchmarks/bench_generative.py [--threads 1 2] [--quick] [--json PATH]

Run through ``nox -s bench`` (PyTorch and threadpoolctl are installed there only). Two steps, each
against a PyTorch twin written here with the same sizes, the same initial weights (copied from the
Mini-Torch model, whose initialisation is PyTorch's scheme) and the same optimizer:

- the character LM of ``examples/train_char_lm.py`` at the example's default size (the example's
  own ``CharTransformer`` and ``lm_step``) against ``nn.TransformerEncoderLayer`` blocks
  (``norm_first=True``, GELU, causal mask) and ``torch.optim.AdamW``;
- the GAN of ``examples/train_gan.py`` (its own ``build_generator``, ``build_discriminator`` and
  ``gan_step``: one discriminator and one generator update) against the same MLPs in PyTorch
  and two ``torch.optim.Adam``.

The two candidates of a comparison are timed interleaved (A, B, A, B, ...) with the same number of
threads for numpy's BLAS, numexpr and PyTorch; the ratio is that of the two medians. With one
thread the clock is the calling thread's CPU time, with more the wall clock (see
``run_benchmarks.py``); with more than one, the script starts itself again with
``OMP_WAIT_POLICY=PASSIVE`` and ``OPENBLAS_THREAD_TIMEOUT=4`` unless they are set, so that each
library's idle threads sleep instead of spinning on the core the other one's turn needs (without
them PyTorch's two-thread step took longer than its one-thread step). Then one step is broken down:
each part (the Linear layers' matrix products, the attention, GELU, layer norm, the loss and the
optimizer of the LM; the products, the element-wise layers and the optimizers of the GAN) is timed
alone on arrays of the step's shapes, in Mini-Torch and, interleaved, in PyTorch on the same arrays
(for the attention, PyTorch's fused ``scaled_dot_product_attention``, which its layers call); the
checks and the copies of reshapes are the share of the step that a profile of it attributes to
those functions.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import json
import math
import os
import platform
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numexpr
import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

import mini_torch
import mini_torch.nn as nn
import mini_torch.optim as optim
from mini_torch import functional as F
from mini_torch.datasets import (
    CharDataset,
    CharVocab,
    MNISTDataset,
    load_text,
    mnist_path,
    shakespeare_path,
)
from mini_torch.nn.attention import (
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
)
from mini_torch.nn.normalization import layer_norm, layer_norm_backward
from mini_torch.utils.data import DataLoader

EXAMPLES = Path(__file__).resolve().parents[2] / "stages" / "stage6" / "examples"
CLOCK = time.thread_time
# Idle worker threads sleep instead of spinning: PyTorch's OpenMP pool and numpy's OpenBLAS pool
# share one process, and with two threads a pool that spins after its own call holds a core the
# other library's next call needs. Both libraries read these when they load.
IDLE_THREADS_SLEEP = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}


def load_example(name: str):
    """Import ``examples/<name>.py`` as a module (the examples are scripts, not a package; their
    folder goes on the path, as when they run, for their sibling ``progress.py``)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compare(candidates: dict[str, Callable[[], object]], repeats: int,
            warmup: int = 3) -> dict[str, float]:
    """Median seconds per call of each candidate, timed interleaved in this process."""
    for fn in candidates.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    gc.disable()
    try:
        for _ in range(repeats):
            for name, fn in candidates.items():
                start = CLOCK()
                fn()
                samples[name].append(CLOCK() - start)
    finally:
        gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


def median_time(fn: Callable[[], object], repeats: int) -> float:
    return compare({"fn": fn}, repeats, warmup=1)["fn"]


def both(repeats: int, ours: Callable[[], object], theirs: Callable[[], object]) -> dict:
    """One part of a step in Mini-Torch and in PyTorch, timed interleaved (median seconds)."""
    return compare({"mini_torch": ours, "torch": theirs}, repeats, warmup=1)


def _copy(param: torch.Tensor, array: np.ndarray) -> None:
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(array).reshape(param.shape)))


def profiled_shares(step: Callable[[], object], steps: int = 10) -> dict[str, float]:
    """Shares of the step's profiled time spent in the check helpers and in copies/reshapes."""
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(steps):
        step()
    profile.disable()
    stats = pstats.Stats(profile).stats
    total = sum(entry[2] for entry in stats.values())  # the sum of every function's own time
    checks = copies = 0.0
    for (filename, _, name), entry in stats.items():
        own = entry[2]
        if filename.endswith("_checks.py") or (filename.endswith("_helpers.py")
                                                and name.startswith("check")):
            checks += own
        elif name in ("reshape", "<method 'reshape' of 'numpy.ndarray' objects>", "concatenate",
                      "split", "array_split", "ascontiguousarray", "copy",
                      "<method 'copy' of 'numpy.ndarray' objects>",
                      "<built-in method numpy.concatenate>") or "concatenate" in name:
            copies += own
    return {"checks": checks / total, "copies and reshapes": copies / total}


# ------------------------------------------------------------------------------ the char LM

LM_SIZES = ("batch_size", "block_size", "width", "heads", "layers")


class TorchCharLM(torch.nn.Module):
    """The twin of the example's ``CharTransformer`` in PyTorch."""

    def __init__(self, vocab_size: int, block_size: int, width: int, heads: int,
                 layers: int) -> None:
        super().__init__()
        self.token = torch.nn.Embedding(vocab_size, width)
        self.position = torch.nn.Embedding(block_size, width)
        self.blocks = torch.nn.ModuleList(torch.nn.TransformerEncoderLayer(
            width, heads, 4 * width, 0.0, activation="gelu", batch_first=True, norm_first=True)
            for _ in range(layers))
        self.ln = torch.nn.LayerNorm(width)
        self.head = torch.nn.Linear(width, vocab_size)
        self.register_buffer("mask", torch.nn.Transformer.generate_square_subsequent_mask(
            block_size))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.token(ids) + self.position.weight[:ids.shape[1]]
        for block in self.blocks:
            x = block(x, src_mask=self.mask, is_causal=True)
        return self.head(self.ln(x))

    def load_from(self, model) -> None:
        """Copy every weight of the Mini-Torch ``CharTransformer`` (``W`` is ``weight.T``)."""
        _copy(self.token.weight, model.token.W)
        _copy(self.position.weight, model.position.W)
        for ours, theirs in zip(model.blocks, self.blocks):
            _copy(theirs.norm1.weight, ours.ln1.gamma)
            _copy(theirs.norm1.bias, ours.ln1.beta)
            _copy(theirs.self_attn.in_proj_weight, ours.attn.W_qkv.T)
            _copy(theirs.self_attn.in_proj_bias, ours.attn.b_qkv)
            _copy(theirs.self_attn.out_proj.weight, ours.attn.W_out.T)
            _copy(theirs.self_attn.out_proj.bias, ours.attn.b_out)
            _copy(theirs.norm2.weight, ours.ln2.gamma)
            _copy(theirs.norm2.bias, ours.ln2.beta)
            _copy(theirs.linear1.weight, ours.mlp[0].W.T)
            _copy(theirs.linear1.bias, ours.mlp[0].b)
            _copy(theirs.linear2.weight, ours.mlp[2].W.T)
            _copy(theirs.linear2.bias, ours.mlp[2].b)
        _copy(self.ln.weight, model.ln.gamma)
        _copy(self.ln.bias, model.ln.beta)
        _copy(self.head.weight, model.head.W.T)
        _copy(self.head.bias, model.head.b)


def lm_setup():
    """The example's model, loss, optimizer and one batch; the PyTorch twin and its step."""
    example = load_example("train_char_lm")
    args = _example_defaults(example, "train_char_lm")
    size = {name: getattr(args, name) for name in LM_SIZES}
    mini_torch.manual_seed(0)
    text = load_text(shakespeare_path())
    vocab = CharVocab(text)
    loader = DataLoader(CharDataset(vocab.encode(text), size["block_size"]),
                        batch_size=size["batch_size"], shuffle=True, drop_last=True)
    x, y = next(iter(loader))
    model = example.CharTransformer(len(vocab), size["block_size"], size["width"],
                                    size["heads"], size["layers"])
    criterion = nn.CrossEntropyLoss()
    # the example's AdamW and clipping (an older example without these flags: PyTorch's defaults)
    betas = (0.9, getattr(args, "beta2", 0.999))
    weight_decay, max_norm = getattr(args, "weight_decay", 0.01), getattr(args, "clip", 0.0)
    optimizer = optim.AdamW(model, lr=args.lr, betas=betas, weight_decay=weight_decay)
    twin = TorchCharLM(len(vocab), size["block_size"], size["width"], size["heads"],
                       size["layers"])
    twin.load_from(model)
    twin_optimizer = torch.optim.AdamW(twin.parameters(), lr=args.lr, betas=betas,
                                       weight_decay=weight_decay)
    tx, ty = torch.from_numpy(np.asarray(x, np.int64)), torch.from_numpy(np.asarray(y, np.int64))

    def ours() -> float:
        if max_norm > 0:
            return example.lm_step(model, x, y, criterion, optimizer, max_norm)
        return example.lm_step(model, x, y, criterion, optimizer)

    def theirs() -> float:
        logits = twin(tx)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                 ty.reshape(-1))
        twin_optimizer.zero_grad()
        loss.backward()
        if max_norm > 0:
            torch.nn.utils.clip_grad_norm_(twin.parameters(), max_norm)
        twin_optimizer.step()
        return loss.item()

    return model, optimizer, size, ours, theirs, twin_optimizer


def lm_breakdown(model, optimizer, size: dict, step: Callable[[], object],
                 twin_optimizer: torch.optim.Optimizer, repeats: int) -> dict:
    """Each part of one LM step timed alone on arrays of the step's shapes, in Mini-Torch and
    in PyTorch (seconds; ``None`` where a part has no PyTorch counterpart)."""
    batch, length, dim = size["batch_size"], size["block_size"], size["width"]
    heads, layers, vocab = size["heads"], size["layers"], model.head.out_features
    rows, hidden, head_dim = batch * length, 4 * dim, dim // size["heads"]
    rng = np.random.default_rng(0)

    def rand(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    # the Linear layers of a step: (in, out) of each; forward x @ W, backward G @ W^T, x^T @ G
    linears = [(dim, 3 * dim), (dim, dim), (dim, hidden), (hidden, dim)] * layers + [(dim, vocab)]
    linear_arrays = [(rand(rows, n_in), rand(n_in, n_out), rand(rows, n_out))
                     for n_in, n_out in linears]
    torch_linear_arrays = [tuple(torch.from_numpy(a) for a in arrays) for arrays in linear_arrays]

    def matmuls(arrays) -> Callable[[], None]:
        def run() -> None:
            for x, W, grad in arrays:
                x @ W
                grad @ W.T
                x.T @ grad
        return run

    q, k, v, g = (rand(batch, heads, length, head_dim) for _ in range(4))
    tq, tk, tv = (torch.from_numpy(a).requires_grad_() for a in (q, k, v))
    tg = torch.from_numpy(g)

    def attention() -> None:  # the six products, the scale, the mask and the softmax, both ways
        for _ in range(layers):
            _, weights = scaled_dot_product_attention(q, k, v, True)
            scaled_dot_product_attention_backward(g, q, k, v, weights)

    def torch_attention() -> None:  # what the twin's layers call: PyTorch's fused attention
        for _ in range(layers):
            tq.grad = tk.grad = tv.grad = None  # fresh gradients, as after zero_grad()
            torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True
                                                             ).backward(tg)

    hidden_x, hidden_g = rand(batch, length, hidden), rand(batch, length, hidden)
    hidden_tx, hidden_tg = torch.from_numpy(hidden_x), torch.from_numpy(hidden_g)

    def gelu() -> None:
        for _ in range(layers):
            F.gelu(hidden_x)
            F.gelu_backward(hidden_g, hidden_x)

    def torch_gelu() -> None:
        for _ in range(layers):
            torch.nn.functional.gelu(hidden_tx)
            torch.ops.aten.gelu_backward(hidden_tg, hidden_tx)

    ln_x, ln_g = rand(rows, dim), rand(rows, dim)
    gamma, beta = np.ones(dim, np.float32), np.zeros(dim, np.float32)
    ln_tx = torch.from_numpy(ln_x).requires_grad_()
    ln_tg = torch.from_numpy(ln_g)
    tgamma, tbeta = (torch.from_numpy(a).requires_grad_() for a in (gamma, beta))

    def layer_norms() -> None:
        for _ in range(2 * layers + 1):
            layer_norm(ln_x, gamma, beta)
            layer_norm_backward(ln_g, ln_x, gamma)

    def torch_layer_norms() -> None:
        for _ in range(2 * layers + 1):
            ln_tx.grad = tgamma.grad = tbeta.grad = None
            torch.nn.functional.layer_norm(ln_tx, (dim,), tgamma, tbeta).backward(ln_tg)

    logits, targets = rand(rows, vocab), rng.integers(0, vocab, rows)
    tlogits, ttargets = torch.from_numpy(logits).requires_grad_(), torch.from_numpy(targets)

    def loss() -> None:
        F.cross_entropy(logits, targets)
        F.cross_entropy_backward(logits, targets)

    def torch_loss() -> None:
        tlogits.grad = None
        torch.nn.functional.cross_entropy(tlogits, ttargets).backward()

    return {
        "whole step": {"mini_torch": median_time(step, repeats), "torch": None},
        "matrix products of the Linear layers": both(repeats, matmuls(linear_arrays),
                                                     matmuls(torch_linear_arrays)),
        "attention: its products, scale, mask, softmax": both(repeats, attention, torch_attention),
        "GELU forward + backward": both(repeats, gelu, torch_gelu),
        "layer norm forward + backward": both(repeats, layer_norms, torch_layer_norms),
        "cross-entropy forward + backward": both(repeats, loss, torch_loss),
        "AdamW step": both(repeats, optimizer.step, twin_optimizer.step),
    }


# ------------------------------------------------------------------------------------ the GAN

class TorchGAN:
    """The twin of the example's generator and discriminator in PyTorch, with its gan_step."""

    def __init__(self, example, generator, discriminator, g_optimizer, d_optimizer,
                 real_label: float) -> None:
        self.generator = self._twin(generator)
        self.discriminator = self._twin(discriminator)
        self.g_optimizer = torch.optim.Adam(self.generator.parameters(), lr=g_optimizer.lr,
                                            betas=g_optimizer.betas)
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=d_optimizer.lr,
                                            betas=d_optimizer.betas)
        self.criterion = torch.nn.BCEWithLogitsLoss()
        self.noise_dim = example.NOISE_DIM
        self.real_label = real_label

    @staticmethod
    def _twin(model) -> torch.nn.Sequential:
        """A ``torch.nn.Sequential`` with the same layers and the same weights as ``model``."""
        layers = []
        for layer in model:
            name = type(layer).__name__
            if name == "Linear":
                twin = torch.nn.Linear(layer.in_features, layer.out_features,
                                       bias=layer.b is not None)
                _copy(twin.weight, layer.W.T)
                if layer.b is not None:
                    _copy(twin.bias, layer.b)
            elif name == "LeakyReLU":
                twin = torch.nn.LeakyReLU(layer.negative_slope)
            elif name == "ReLU":
                twin = torch.nn.ReLU()
            elif name == "Sigmoid":
                twin = torch.nn.Sigmoid()
            elif name == "Tanh":
                twin = torch.nn.Tanh()
            elif name == "Dropout":
                twin = torch.nn.Dropout(layer.p)
            elif name == "BatchNorm1d":
                twin = torch.nn.BatchNorm1d(layer.num_features, eps=layer.eps,
                                            momentum=layer.momentum)
                _copy(twin.weight, layer.gamma)
                _copy(twin.bias, layer.beta)
            else:
                raise TypeError(f"TorchGAN: no PyTorch twin for {name}; add one here.")
            layers.append(twin)
        return torch.nn.Sequential(*layers)

    def step(self, real: torch.Tensor) -> tuple[float, float]:
        batch_size = real.shape[0]
        real_targets = torch.full((batch_size, 1), self.real_label)
        fake_targets = torch.zeros(batch_size, 1)
        ones = torch.ones(batch_size, 1)
        with torch.no_grad():
            fake = self.generator(torch.randn(batch_size, self.noise_dim))
        self.d_optimizer.zero_grad()
        d_loss = (self.criterion(self.discriminator(real), real_targets)
                  + self.criterion(self.discriminator(fake), fake_targets))
        d_loss.backward()
        self.d_optimizer.step()
        fake = self.generator(torch.randn(batch_size, self.noise_dim))
        g_loss = self.criterion(self.discriminator(fake), ones)
        self.g_optimizer.zero_grad()
        g_loss.backward()
        self.g_optimizer.step()
        return d_loss.item(), g_loss.item()


def gan_setup():
    """The example's two nets, optimizers and one real batch; the PyTorch twin and its step."""
    example = load_example("train_gan")
    args = _example_defaults(example, "train_gan")
    mini_torch.manual_seed(0)
    loader = DataLoader(MNISTDataset(mnist_path("train")), batch_size=args.batch_size,
                        shuffle=True, drop_last=True)
    real, _ = next(iter(loader))
    generator, discriminator, g_optimizer, d_optimizer = example.build_models(args)
    criterion = nn.BCEWithLogitsLoss()
    twin = TorchGAN(example, generator, discriminator, g_optimizer, d_optimizer, args.real_label)
    treal = torch.from_numpy(real)

    def ours():
        return example.gan_step(generator, discriminator, real, criterion, g_optimizer,
                                d_optimizer, args.real_label)

    def theirs():
        return twin.step(treal)

    return example, (generator, discriminator, g_optimizer, d_optimizer, real), ours, theirs, twin


def _example_defaults(example, name: str) -> argparse.Namespace:
    """The example's command-line defaults, as if it were run without arguments."""
    saved = sys.argv
    sys.argv = [str(EXAMPLES / f"{name}.py")]
    try:
        return example.parse_args()
    finally:
        sys.argv = saved


def gan_breakdown(models, step: Callable[[], object], twin: TorchGAN, repeats: int) -> dict:
    """Each part of one GAN step timed alone on arrays of the step's shapes, in Mini-Torch and
    in PyTorch (seconds; ``None`` where a part has no PyTorch counterpart). Both optimizers
    find every gradient set: ``step`` and the twin's step have each run before."""
    generator, discriminator, g_optimizer, d_optimizer, real = models
    batch = real.shape[0]
    rng = np.random.default_rng(0)
    # one step: the discriminator runs forward and backward three times (real, fake, the
    # generator's pass through it), the generator forward twice (once without caching) and
    # backward once
    passes = [(discriminator, twin.discriminator, 3, 3), (generator, twin.generator, 2, 1)]
    linear_arrays, elementwise = [], []
    for model, twin_model, forwards, backwards in passes:
        features = None
        for layer, twin_layer in zip(model, twin_model):
            if type(layer).__name__ == "Linear":
                x = rng.standard_normal((batch, layer.in_features), dtype=np.float32)
                grad = rng.standard_normal((batch, layer.out_features), dtype=np.float32)
                linear_arrays.append((x, layer.W, grad, forwards, backwards))
                features = layer.out_features
            else:
                x = rng.standard_normal((batch, features), dtype=np.float32)
                elementwise.append((layer, twin_layer, x, forwards, backwards))
    torch_linear_arrays = [(torch.from_numpy(x), torch.from_numpy(W), torch.from_numpy(grad),
                            forwards, backwards)
                           for x, W, grad, forwards, backwards in linear_arrays]

    def matmuls(arrays) -> Callable[[], None]:
        def run() -> None:
            for x, W, grad, forwards, backwards in arrays:
                for _ in range(forwards):
                    x @ W
                for _ in range(backwards):
                    grad @ W.T
                    x.T @ grad
        return run

    def elementwise_layers() -> None:
        for layer, _, x, forwards, backwards in elementwise:
            for _ in range(forwards):
                out = layer(x)
            for _ in range(backwards):
                layer(x)
                layer.backward(out)

    torch_elementwise = [(twin_layer, torch.from_numpy(x).requires_grad_(), forwards, backwards)
                         for _, twin_layer, x, forwards, backwards in elementwise]

    def torch_elementwise_layers() -> None:
        for layer, x, forwards, backwards in torch_elementwise:
            for _ in range(forwards):
                out = layer(x)
            for _ in range(backwards):
                x.grad = None  # fresh gradients, as after zero_grad()
                layer.zero_grad()
                layer(x).backward(out.detach())

    def adam() -> None:
        d_optimizer.step()
        g_optimizer.step()

    def torch_adam() -> None:
        twin.d_optimizer.step()
        twin.g_optimizer.step()

    return {
        "whole step": {"mini_torch": median_time(step, repeats), "torch": None},
        "matrix products (every Linear, forward and backward)":
            both(repeats, matmuls(linear_arrays), matmuls(torch_linear_arrays)),
        "activations, dropout, batch norm (forward + backward)":
            both(repeats, elementwise_layers, torch_elementwise_layers),
        "Adam steps (both nets)": both(repeats, adam, torch_adam),
    }


# ------------------------------------------------------------------------------------ main

def run(threads: int, repeats: int) -> list[dict]:
    global CLOCK
    CLOCK = time.thread_time if threads == 1 else time.perf_counter
    threadpool_limits(threads)
    numexpr.set_num_threads(threads)
    torch.set_num_threads(threads)
    results = []
    model, optimizer, size, ours, theirs, twin_optimizer = lm_setup()
    # The same model, then the same updates: the first loss checks the weights, the later ones
    # AdamW's settings and the clipping (Adam's first step is the same for any gradient scale).
    for step in range(1, 5):
        loss_ours, loss_theirs = ours(), theirs()
        if not math.isclose(loss_ours, loss_theirs, rel_tol=1e-3):
            raise AssertionError(f"the LM twins differ: loss {loss_ours} against "
                                 f"{loss_theirs} at step {step}")
    medians = compare({"mini_torch": ours, "torch": theirs}, repeats)
    breakdown = lm_breakdown(model, optimizer, size, ours, twin_optimizer, repeats)
    results.append({
        "name": f"char LM training step (the example's defaults: {size}), {threads} thread(s)",
        "seconds": medians, "breakdown": breakdown, "shares": profiled_shares(ours),
        "ratios": {"mini_torch / torch (goal <= 1.2)": medians["mini_torch"] / medians["torch"]},
    })
    _, models, ours, theirs, twin = gan_setup()
    medians = compare({"mini_torch": ours, "torch": theirs}, repeats)
    results.append({
        "name": f"GAN step (discriminator + generator update, batch {models[-1].shape[0]}), "
                f"{threads} thread(s)",
        "seconds": medians, "breakdown": gan_breakdown(models, ours, twin, repeats),
        "shares": profiled_shares(ours),
        "ratios": {"mini_torch / torch (goal <= 1.2)": medians["mini_torch"] / medians["torch"]},
    })
    return results


def main() -> None:
    global EXAMPLES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=Path("bench_results/generative.json"))
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts to run, each for numpy, numexpr and PyTorch alike")
    parser.add_argument("--examples", type=Path, default=EXAMPLES,
                        help="the folder of train_char_lm.py and train_gan.py (default: stage "
                             "6's; another checkout's, to measure a before/after)")
    args = parser.parse_args()
    missing = {name: value for name, value in IDLE_THREADS_SLEEP.items() if name not in os.environ}
    if missing and max(args.threads) > 1:  # set too late for the loaded libraries: start again
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **missing})
    EXAMPLES = args.examples
    repeats = 5 if args.quick else 31
    results = [result for threads in args.threads for result in run(threads, repeats)]
    blas = [(info["internal_api"], info.get("architecture")) for info in threadpool_info()]
    print(f"\nmini_torch {mini_torch.__version__}, numpy {np.__version__}, torch "
          f"{torch.__version__}, BLAS {blas}, {platform.processor() or platform.machine()}")
    for result in results:
        print(f"\n{result['name']}")
        for label, seconds in result["seconds"].items():
            print(f"    {label:<58} {seconds * 1e3:9.2f} ms")
        whole = result["breakdown"]["whole step"]["mini_torch"]
        print("  breakdown (each part timed alone, interleaved with PyTorch's on the same arrays):")
        print(f"    {'part':<54} {'mini_torch':>10}  {'share':>6} {'torch':>10}  {'ratio':>5}")
        for label, seconds in result["breakdown"].items():
            ours, theirs = seconds["mini_torch"], seconds["torch"]
            line = f"    {label:<54} {ours * 1e3:7.2f} ms  {100 * ours / whole:5.1f} %"
            if theirs is not None:
                line += f" {theirs * 1e3:7.2f} ms  {ours / theirs:5.2f}"
            print(line)
        for label, share in result["shares"].items():
            print(f"    {label + ' (share in a profile of the step)':<54} {'':10}  "
                  f"{100 * share:5.1f} %")
        for label, ratio in result["ratios"].items():
            print(f"  ratio  {label:<52} {ratio:6.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": platform.platform(), "results": results},
                                    indent=2))
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
