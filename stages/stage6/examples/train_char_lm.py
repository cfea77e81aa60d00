"""Stage 6: a character-level transformer language model trained on eight Shakespeare plays.

The model reads ``T`` characters and predicts, at every position, the character that comes next:

    x (B, T) ids --Embedding--> (B, T, D) + position Embedding (T, D)
      --> TransformerBlock x L (causal self-attention: position t sees positions 0..t only)
      --> LayerNorm --> Linear head per position --> logits (B, T, V)

The loss is the cross-entropy of all ``B * T`` predictions at once: the logits are flattened to
``(B * T, V)`` rows and the targets, the input shifted by one character, to ``(B * T,)`` class
indices. A loss of ``log V`` (4.3 nats for 76 characters) is a uniform guess; the add-one-smoothed
bigram model, which predicts from the previous character alone, is printed as the baseline to
beat. The last 10 % of the text is the validation split; ``final val loss`` is the mean
cross-entropy, in nats per character, over all of its non-overlapping windows of ``T`` characters.

At the end the script writes into ``--out`` the loss curves (PNG) and ``char_lm_sample.txt``:
text the model writes one character at a time, each drawn from its predicted distribution.

The defaults (2 blocks, width 128, 4 heads, context 64, batch 32, 3,000 steps of AdamW with
beta2 0.99 and weight decay 0.3, the learning rate warmed up over 100 steps to 6e-3 and then
decayed along a cosine to 6e-4, the gradients' norm clipped to 1) reach about 1.78 nats per
character on the validation split, against 2.60 for the bigram baseline.

    python examples/train_char_lm.py                     # the default, seeded run
    python examples/train_char_lm.py --steps 300         # a short look
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
from progress import ProgressLog, progress_line, show_progress  # shared with the sibling example

import mini_torch
import mini_torch.nn as nn
import mini_torch.optim as optim
from mini_torch import functional as F
from mini_torch import init, viz
from mini_torch.datasets import CharDataset, CharVocab, load_text, shakespeare_path
from mini_torch.utils.data import DataLoader

VAL_FRACTION = 0.1
SAMPLE_LENGTH = 600     # characters written to char_lm_sample.txt
PROMPT = "\n"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="optimizer steps (batches)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=6e-3, help="initial AdamW learning rate")
    parser.add_argument("--schedule", choices=["cosine", "constant"], default="cosine",
                        help="how the learning rate changes over the steps")
    parser.add_argument("--warmup", type=int, default=100,
                        help="steps of a linear warm-up from 0 to --lr before the cosine (cut "
                             "to a tenth of --steps when it is not shorter than the run)")
    parser.add_argument("--min-lr", type=float, default=0.1,
                        help="the cosine ends at this fraction of --lr (0: at zero)")
    parser.add_argument("--beta2", type=float, default=0.99,
                        help="AdamW's beta2, the decay of the squared-gradient average "
                             "(beta1 stays 0.9)")
    parser.add_argument("--weight-decay", type=float, default=0.3,
                        help="AdamW's decoupled weight decay")
    parser.add_argument("--clip", type=float, default=1.0,
                        help="clip the gradients' total norm to this value (0: no clipping)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--block-size", type=int, default=64, help="context length T")
    parser.add_argument("--width", type=int, default=128, help="embedding width D")
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2, help="transformer blocks")
    parser.add_argument("--dropout", type=float, default=0.0,
                        help="dropout in the blocks (attention weights, after the attention and "
                             "after the MLP)")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="sampling temperature of the written text (lower: safer choices)")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage6"),
                        help="folder for the plot and the text sample")
    args = parser.parse_args()
    for name in ("steps", "batch_size", "block_size", "width", "heads", "layers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got "
                         f"{getattr(args, name)}")
    if args.warmup < 0:
        parser.error(f"--warmup must be at least 0, got {args.warmup}")
    if args.warmup >= args.steps:  # a short look (--steps 30): a warm-up of a tenth of it
        args.warmup = args.steps // 10
    if not 0.0 <= args.min_lr <= 1.0:
        parser.error(f"--min-lr must be in [0, 1], got {args.min_lr}")
    if not 0.0 <= args.dropout < 1.0:
        parser.error(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.temperature <= 0:
        parser.error(f"--temperature must be positive, got {args.temperature}")
    return args


class CharTransformer(nn.Module):
    """Token and position embeddings, ``num_layers`` causal transformer blocks, a final
    LayerNorm and a linear head applied at every position.

    Shape:
        - Input: ``(N, T)`` character ids, ``T <= block_size``
        - Output: ``(N, T, vocab_size)`` logits of the next character at every position
    """

    def __init__(self, vocab_size: int, block_size: int, width: int, num_heads: int,
                 num_layers: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.block_size = block_size
        self.token = nn.Embedding(vocab_size, width)
        self.position = nn.Embedding(block_size, width)
        self.blocks = nn.Sequential(*[nn.TransformerBlock(width, num_heads, dropout=dropout)
                                      for _ in range(num_layers)])
        self.ln = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, ids: np.ndarray) -> np.ndarray:
        length = ids.shape[1]
        if length > self.block_size:
            raise ValueError(f"CharTransformer: {length} positions, but the position table has "
                             f"{self.block_size}; feed at most block_size characters.")
        x = self.token(ids) + self.position(np.arange(length))      # (N, T, D) + (T, D)
        return self.head(self.ln(self.blocks(x)))                   # (N, T, V)

    def backward(self, grad_output: np.ndarray) -> None:
        grad = self.blocks.backward(self.ln.backward(self.head.backward(grad_output)))
        self.token.backward(grad)                                   # (N, T, D)
        self.position.backward(grad.sum(axis=0))   # broadcast over the batch: sum, (T, D)
        return None


def cosine_lr(base_lr: float, step: int, steps: int) -> float:
    """Learning rate of ``step`` (0-based): ``base_lr`` at the start, near 0 at the end.

    ``lr = base_lr * (1 + cos(pi * step / steps)) / 2``, as in ``train_mnist.py`` but per step.
    """
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))


def learning_rate(args: argparse.Namespace, step: int) -> float:
    """The learning rate of ``step``: a linear warm-up over ``args.warmup`` steps, then
    :func:`cosine_lr` from ``args.lr`` down to ``args.min_lr * args.lr`` over the other steps."""
    if args.schedule == "constant":
        return args.lr
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    floor = args.min_lr * args.lr
    return floor + cosine_lr(args.lr - floor, step - args.warmup, args.steps - args.warmup)


def lm_step(model: nn.Module, x: np.ndarray, y: np.ndarray, criterion: nn.Loss,
            optimizer: optim.Optimizer, max_norm: float = 0.0) -> float:
    """One optimizer step on a batch of windows; returns the mean cross-entropy (nats/char).

    With ``max_norm > 0`` the gradients are clipped to that total norm before the step.

    Shape:
        - x: ``(B, T)`` input ids; y: ``(B, T)`` the next ids (x shifted by one)
    """
    # BEGIN SOLUTION
    logits = model(x)                                           # (B, T, V)
    batch_size, length, vocab_size = logits.shape
    loss = criterion(logits.reshape(batch_size * length, vocab_size), y.reshape(-1))
    optimizer.zero_grad()
    grad_logits = criterion.backward().reshape(logits.shape)    # back to (B, T, V)
    model.backward(grad_logits)
    if max_norm > 0:
        nn.utils.clip_grad_norm_(model, max_norm)
    optimizer.step()
    return float(loss)
    # END SOLUTION


def bigram_loss(train_ids: np.ndarray, val_ids: np.ndarray, vocab_size: int) -> float:
    """Validation cross-entropy of the add-one-smoothed bigram model of the training split."""
    counts = np.ones((vocab_size, vocab_size))                  # add-one smoothing
    np.add.at(counts, (train_ids[:-1], train_ids[1:]), 1.0)     # counts[previous, next]
    log_probs = np.log(counts / counts.sum(axis=1, keepdims=True))
    return float(-log_probs[val_ids[:-1], val_ids[1:]].mean())


def split_windows(ids: np.ndarray, block_size: int) -> tuple[np.ndarray, np.ndarray]:
    """All non-overlapping windows of ``ids`` and their next characters, ``(W, T)`` each."""
    n_windows = (ids.size - 1) // block_size
    inputs = ids[:n_windows * block_size].reshape(n_windows, block_size)
    targets = ids[1:n_windows * block_size + 1].reshape(n_windows, block_size)
    return inputs, targets


@mini_torch.no_grad()
def evaluate(model: nn.Module, inputs: np.ndarray, targets: np.ndarray,
             batch_size: int = 256) -> float:
    """Mean cross-entropy (nats/char) of the model's predictions at every position of windows.

    Shape:
        - inputs, targets: ``(W, T)`` ids
    """
    was_training = model.training
    model.eval()
    total = 0.0
    for start in range(0, inputs.shape[0], batch_size):
        logits = model(inputs[start:start + batch_size])        # (b, T, V)
        log_probs = F.log_softmax(logits, axis=-1)
        picked = np.take_along_axis(log_probs, targets[start:start + batch_size, :, None], -1)
        total -= float(picked.sum(dtype=np.float64))
    model.train(was_training)
    return total / targets.size


@mini_torch.no_grad()
def sample(model: nn.Module, vocab: CharVocab, prompt: str, length: int,
           temperature: float) -> str:
    """``prompt`` followed by ``length`` characters, each drawn from the model's prediction."""
    model.eval()
    generator = init.get_generator()
    ids = list(vocab.encode(prompt))
    for _ in range(length):
        context = np.array([ids[-model.block_size:]])           # (1, t), t <= block_size
        logits = model(context)[0, -1].astype(np.float64)       # the next character's (V,)
        probs = F.softmax(logits / temperature, axis=-1)
        ids.append(int(generator.choice(probs.size, p=probs / probs.sum())))
    model.train()
    return vocab.decode(np.array(ids))


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)  # one seed: the weights, the batches, the sampling

    text = load_text(shakespeare_path())
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    split = int(len(ids) * (1.0 - VAL_FRACTION))
    train_ids, val_ids = ids[:split], ids[split:]
    train_set = CharDataset(train_ids, args.block_size)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=True)
    print(f"text: {len(text):,} characters, vocabulary of {len(vocab)}; train {len(train_ids):,}, "
          f"validation {len(val_ids):,} (the last {VAL_FRACTION:.0%})")
    print(f"uniform guess: {np.log(len(vocab)):.3f} nats/char; add-one bigram baseline: "
          f"{bigram_loss(train_ids, val_ids, len(vocab)):.3f} nats/char (validation)")

    model = CharTransformer(len(vocab), args.block_size, args.width, args.heads, args.layers,
                            args.dropout)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.AdamW(model, lr=args.lr, betas=(0.9, args.beta2),
                            weight_decay=args.weight_decay)
    n_params = sum(param.size for param in model.parameters())
    print(model)
    print(f"{n_params:,} parameters; {optimizer}, schedule={args.schedule}")

    log_every = max(1, min(100, args.steps // 10))
    # a logged line at the first step, every log_every steps and at least every 10 s
    progress = ProgressLog(args.steps, every=log_every)
    history: dict[str, list[float]] = {"train loss": [], "val loss (64 windows)": []}
    val_inputs, val_targets = split_windows(val_ids, args.block_size)
    # A quick look during training: 64 windows spread evenly over the validation split.
    probe = np.linspace(0, len(val_inputs) - 1, min(64, len(val_inputs))).astype(np.int64)
    loss_sum = 0.0
    step = 0
    train_seconds = 0.0   # the optimizer steps alone: no batching, evaluation or printing
    start, cpu_start = time.perf_counter(), time.process_time()
    while step < args.steps:
        for x, y in loader:
            step_start = time.perf_counter()
            optimizer.lr = learning_rate(args, step)
            loss = lm_step(model, x, y, criterion, optimizer, args.clip)
            loss_sum += loss
            train_seconds += time.perf_counter() - step_start
            step += 1
            if step % log_every == 0:
                history["train loss"].append(loss_sum / log_every)
                history["val loss (64 windows)"].append(
                    evaluate(model, val_inputs[probe], val_targets[probe]))
                loss_sum = 0.0
            if progress.due(step):  # the last logged losses, or this step's before the first
                logged = (f"train loss {history['train loss'][-1]:.4f}  val loss (64 windows) "
                          f"{history['val loss (64 windows)'][-1]:.4f}"
                          if history["train loss"] else f"train loss {loss:.4f}")
                show_progress(progress_line(step, args.steps, train_seconds, logged), final=True)
            elif step % 10 == 0:
                show_progress(progress_line(step, args.steps, train_seconds))
            if step == args.steps:
                break
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start  # below the wall time on a busy machine

    val_loss = evaluate(model, val_inputs, val_targets)  # every window of the split
    curves = viz.plot_history(history, args.out / "char_lm_losses.png",
                              title="Character-level transformer: cross-entropy (nats/char)",
                              xlabel=f"x {log_every} steps")
    written = sample(model, vocab, PROMPT, SAMPLE_LENGTH, args.temperature)
    sample_path = args.out / "char_lm_sample.txt"
    sample_path.write_text(written, encoding="utf-8")

    print(f"trained {args.steps} steps: {train_seconds:.2f} s in the training steps "
          f"({1000 * train_seconds / args.steps:.1f} ms per step, the steps alone); the loop "
          f"with batching and evaluation {seconds:.2f} s (CPU time {cpu_seconds:.2f} s)")
    print(f"plots: {curves}")
    print(f"sample: {sample_path}")
    print(written[:300])
    print(f"final val loss: {val_loss:.4f}")


if __name__ == "__main__":
    main()
