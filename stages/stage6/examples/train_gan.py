"""Stage 6: a generative adversarial network (GAN) that draws handwritten digits.

Two MLPs play a game. The generator ``G`` turns a noise vector ``z`` (64 numbers drawn from
N(0, 1)) into a 28 x 28 image; the discriminator ``D`` reads an image and returns one logit, its
belief that the image is a real MNIST digit rather than one of ``G``'s. Each training step makes
two updates:

1. the discriminator: a batch of real digits labelled "real" and a batch of ``G(z)`` labelled
   "fake", with the binary cross-entropy on ``D``'s logits (``BCEWithLogitsLoss``);
2. the generator: a fresh ``G(z)`` goes through ``D`` labelled "real", so the loss is small when
   ``D`` is fooled. Its gradient reaches ``G`` through ``D``: ``D.backward`` returns
   ``dL/d(image)``, the gradient with respect to ``D``'s *input*, and that is exactly the
   ``grad_output`` of ``G``'s last layer.

A few choices keep the game balanced on 4,000 training digits: the real label is 0.9 instead of
1 (one-sided label smoothing: ``D`` is never rewarded for infinite confidence), ``D`` has dropout,
both networks use LeakyReLU (negative inputs still pass a gradient), ``G``'s hidden layers are
batch-normalised and ``G`` ends in a sigmoid (pixels in [0, 1], like the data), and Adam uses
``beta1 = 0.5`` (less momentum: the target moves). The samples are drawn by an exponential
moving average of ``G``'s weights (``--ema``), which smooths out the last steps' moves of the
game: cleaner strokes than ``G`` itself draws.

The script writes into ``--out`` a grid of samples from the same fixed noise at every checkpoint
(watch the digits emerge), the two loss curves, and ``gan_samples.npy``: 1,000 samples of the
final averaged generator, float32, shape ``(1000, 784)``, values in [0, 1].

    python examples/train_gan.py                        # the default, seeded run
    python examples/train_gan.py --steps 500            # a short look
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from progress import ProgressLog, progress_line, show_progress  # shared with the sibling example

import mini_torch
import mini_torch.nn as nn
import mini_torch.optim as optim
from mini_torch import init, viz
from mini_torch.datasets import MNISTDataset, mnist_path
from mini_torch.utils.data import DataLoader

NOISE_DIM = 64
N_SAMPLES = 1000      # rows of gan_samples.npy
GRID_SIZE = 32        # samples per checkpoint grid


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8000,
                        help="training steps (one discriminator and one generator update each)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate of both nets")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--real-label", type=float, default=0.9,
                        help="target of real digits for the discriminator (1.0: no smoothing)")
    parser.add_argument("--dropout", type=float, default=0.3, help="dropout in the discriminator")
    parser.add_argument("--width", type=int, default=256,
                        help="the generator's first hidden width (then 2x and 4x)")
    parser.add_argument("--ema", type=float, default=0.999,
                        help="the largest decay of the moving average of the generator's "
                             "weights that draws the samples; step t uses "
                             "min(ema, (1 + t) / (10 + t)), which passes 0.999 only after "
                             "about 9,000 steps (0: the generator itself)")
    parser.add_argument("--checkpoints", type=int, default=5,
                        help="how many sample grids to write over the run")
    parser.add_argument("--out", type=Path, default=Path("outputs/stage6"),
                        help="folder for the plots and the samples")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be at least 1, got {args.steps}")
    if args.width < 1:
        parser.error(f"--width must be at least 1, got {args.width}")
    if not 0.0 <= args.ema < 1.0:
        parser.error(f"--ema must be in [0, 1), got {args.ema}")
    if args.checkpoints < 1:
        parser.error(f"--checkpoints must be at least 1, got {args.checkpoints}")
    if not 0.5 < args.real_label <= 1.0:
        parser.error(f"--real-label must be in (0.5, 1], got {args.real_label}")
    return args


def build_generator(width: int = 256) -> nn.Sequential:
    """``64 -> width -> 2 width -> 4 width -> 784``, sigmoid pixels ``(N, 784)``.

    Each hidden layer is ``Linear`` (no bias: the batch norm after it subtracts the mean
    anyway), ``BatchNorm1d`` (every unit starts each batch at mean 0 and variance 1, which keeps
    the generator's layers from drifting while the discriminator moves) and ``LeakyReLU(0.2)``.
    """
    return nn.Sequential(
        nn.Linear(NOISE_DIM, width, bias=False), nn.BatchNorm1d(width), nn.LeakyReLU(0.2),
        nn.Linear(width, 2 * width, bias=False), nn.BatchNorm1d(2 * width), nn.LeakyReLU(0.2),
        nn.Linear(2 * width, 4 * width, bias=False), nn.BatchNorm1d(4 * width),
        nn.LeakyReLU(0.2),
        nn.Linear(4 * width, 784), nn.Sigmoid(),
    )


def build_discriminator(dropout: float) -> nn.Sequential:
    """``784 -> 512 -> 256 -> 1``, LeakyReLU(0.2) and dropout; one logit per image ``(N, 1)``."""
    return nn.Sequential(
        nn.Linear(784, 512), nn.LeakyReLU(0.2), nn.Dropout(dropout),
        nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(dropout),
        nn.Linear(256, 1),
    )


def build_models(args: argparse.Namespace
                 ) -> tuple[nn.Sequential, nn.Sequential, optim.Adam, optim.Adam]:
    """The generator, the discriminator and an Adam optimizer for each, from the arguments."""
    generator = build_generator(args.width)
    discriminator = build_discriminator(args.dropout)
    g_optimizer = optim.Adam(generator, lr=args.lr, betas=(0.5, 0.999))
    d_optimizer = optim.Adam(discriminator, lr=args.lr, betas=(0.5, 0.999))
    return generator, discriminator, g_optimizer, d_optimizer


def update_average(average: nn.Module, model: nn.Module, decay: float) -> None:
    """``average = decay * average + (1 - decay) * model``, parameter by parameter, in place.

    The exponential moving average of the generator's weights draws smoother digits than the
    generator itself, whose weights keep moving with the game. The buffers (the batch norms'
    running statistics) are copied: the average uses the generator's statistics.
    """
    for averaged, param in zip(average.parameters(), model.parameters()):
        averaged *= decay
        averaged += (1.0 - decay) * param
    for averaged, buffer in zip(average.buffers(), model.buffers()):
        averaged[...] = buffer


def sample_noise(batch_size: int) -> np.ndarray:
    """``z ~ N(0, 1)`` of shape ``(batch_size, NOISE_DIM)`` from the global generator."""
    return init.get_generator().standard_normal((batch_size, NOISE_DIM), dtype=np.float32)


def gan_step(generator: nn.Module, discriminator: nn.Module, real: np.ndarray,
             criterion: nn.Loss, g_optimizer: optim.Optimizer, d_optimizer: optim.Optimizer,
             real_label: float) -> tuple[float, float]:
    """One discriminator update, then one generator update; returns ``(d_loss, g_loss)``.

    With ``BCE`` the ``criterion`` (binary cross-entropy on logits, the mean over the batch)::

        1. discriminator:  fake = G(z)                 # z: fresh noise; G is not updated here
                           d_loss = BCE(D(real), real_label) + BCE(D(fake), 0)
                           D.zero_grad, backward of both terms (their gradients add), D.step
        2. generator:      fake = G(z')                # z': fresh noise
                           g_loss = BCE(D(fake), 1)    # "non-saturating": maximise log D(G(z'))
                           grad_fake = D.backward(...) # dL/d(fake), D's INPUT gradient, (B, 784)
                           G.zero_grad, G.backward(grad_fake), G.step

    The generator has no loss of its own: its ``grad_output`` is the gradient of ``g_loss`` with
    respect to the discriminator's input, which is exactly what ``Module.backward`` returns.

    On that way back the discriminator's parameters collect gradients too (a backward always
    accumulates ``dW``, ``db``): the gradients of ``g_loss``, which point towards *being fooled*.
    Only the generator steps in part 2, but those gradients stay in ``D``'s ``dW`` / ``db``
    until they are cleared, so ``D``'s gradients must be zeroed right before its own backward
    passes in part 1; otherwise ``D`` would also step along the generator's wishes.

    Each ``D`` forward overwrites what ``D`` cached for its backward (inputs, dropout masks), so
    every backward follows its own forward directly.

    Shape:
        - real: ``(B, 784)`` float32 in [0, 1]
    """
    batch_size = real.shape[0]
    # BEGIN SOLUTION
    real_targets = np.full((batch_size, 1), real_label, dtype=real.dtype)
    fake_targets = np.zeros((batch_size, 1), dtype=real.dtype)
    ones = np.ones((batch_size, 1), dtype=real.dtype)

    # 1. The discriminator. G's output is a constant here (PyTorch: fake.detach()): no_grad
    #    keeps G from caching anything, and G.backward is never called in this part.
    with mini_torch.no_grad():
        fake = generator(sample_noise(batch_size))
    d_optimizer.zero_grad()  # clears the gradients that part 2 of the last call left in D
    loss_real = criterion(discriminator(real), real_targets)
    discriminator.backward(criterion.backward())
    loss_fake = criterion(discriminator(fake), fake_targets)
    discriminator.backward(criterion.backward())  # adds to the real half's gradients
    d_optimizer.step()

    # 2. The generator, through the discriminator.
    fake = generator(sample_noise(batch_size))
    g_loss = criterion(discriminator(fake), ones)
    grad_fake = discriminator.backward(criterion.backward())  # dL/d(fake), (B, 784)
    g_optimizer.zero_grad()
    generator.backward(grad_fake)
    g_optimizer.step()                                        # D's dW, db: not stepped
    return float(loss_real) + float(loss_fake), float(g_loss)
    # END SOLUTION


@mini_torch.no_grad()
def generate(generator: nn.Module, noise: np.ndarray) -> np.ndarray:
    """Images of ``noise`` in evaluation mode, ``(N, 784)`` float32 in [0, 1]."""
    generator.eval()
    images = generator(noise)
    generator.train()
    return np.clip(images, 0.0, 1.0).astype(np.float32)


@mini_torch.no_grad()
def percent_real(discriminator: nn.Module, images: np.ndarray) -> np.ndarray:
    """The discriminator's belief that each image is real, in whole percent ``(N,)`` int64."""
    discriminator.eval()
    logits = discriminator(images)                       # (N, 1)
    discriminator.train()
    probability = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0], -50.0, 50.0)))
    return np.rint(100.0 * probability).astype(np.int64)


def main() -> None:
    args = parse_args()
    mini_torch.manual_seed(args.seed)  # one seed: the weights, the shuffles, the noise, dropout

    train_set = MNISTDataset(mnist_path("train"))
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, drop_last=True)
    print(f"train: {len(train_set)} real digits, batches of {args.batch_size}, "
          f"{args.steps} steps ({args.steps / len(loader):.1f} epochs)")

    generator, discriminator, g_optimizer, d_optimizer = build_models(args)
    criterion = nn.BCEWithLogitsLoss()
    averaged = build_generator(args.width)      # the moving average that draws the samples
    averaged.load_state_dict(generator.state_dict())
    print("generator:", generator)
    print("discriminator:", discriminator)

    fixed_noise = sample_noise(GRID_SIZE)  # the same z at every checkpoint
    checkpoints = set(np.linspace(0, args.steps, args.checkpoints + 1, dtype=int)[1:].tolist())
    log_every = max(1, min(100, args.steps // 10))
    # a logged line at the first step, every 10 * log_every steps and at least every 10 s
    progress = ProgressLog(args.steps, every=log_every * 10)
    history: dict[str, list[float]] = {"discriminator loss": [], "generator loss": []}
    d_sum = g_sum = 0.0
    grids = []
    step = 0
    train_seconds = 0.0   # the training steps alone: no batching, sample grids or printing
    start, cpu_start = time.perf_counter(), time.process_time()
    while step < args.steps:
        for real, _ in loader:  # the labels are not used: a GAN learns from images alone
            step_start = time.perf_counter()
            d_loss, g_loss = gan_step(generator, discriminator, real, criterion, g_optimizer,
                                      d_optimizer, args.real_label)
            if args.ema > 0:  # a shorter memory early on, while the average is mostly the init
                update_average(averaged, generator, min(args.ema, (1 + step) / (10 + step)))
            train_seconds += time.perf_counter() - step_start
            step += 1
            d_sum += d_loss
            g_sum += g_loss
            if step % log_every == 0:
                history["discriminator loss"].append(d_sum / log_every)
                history["generator loss"].append(g_sum / log_every)
                d_sum = g_sum = 0.0
            if progress.due(step):
                show_progress(progress_line(step, args.steps, train_seconds,
                                            f"d_loss {d_loss:.4f}  g_loss {g_loss:.4f}"),
                              final=True)
            elif step % 25 == 0:
                show_progress(progress_line(step, args.steps, train_seconds))
            if step in checkpoints:
                images = generate(averaged if args.ema > 0 else generator, fixed_noise)
                # each cell's caption: how real the discriminator finds the image
                captions = [f"D: {p}% real" for p in percent_real(discriminator, images)]
                grids.append(viz.plot_images(
                    images, None, args.out / f"gan_samples_step{step:06d}.png", ncols=8,
                    captions=captions,
                    title=f"GAN samples after {step} steps, from the same noise each time"))
            if step == args.steps:
                break
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start  # below the wall time on a busy machine

    samples = generate(averaged if args.ema > 0 else generator, sample_noise(N_SAMPLES))
    args.out.mkdir(parents=True, exist_ok=True)
    samples_path = args.out / "gan_samples.npy"
    np.save(samples_path, samples)
    curves = viz.plot_history(history, args.out / "gan_losses.png",
                              title="GAN losses (BCE with logits)",
                              xlabel=f"x {log_every} steps")

    print(f"trained {args.steps} steps: {train_seconds:.2f} s in the training steps "
          f"({1000 * train_seconds / args.steps:.1f} ms per step, the steps alone); the loop "
          f"with batching and sample grids {seconds:.2f} s (CPU time {cpu_seconds:.2f} s)")
    print(f"plots: {' '.join(str(path) for path in grids)} {curves}")
    print(f"samples: {samples_path} {samples.shape} {samples.dtype}")
    print(f"final losses: discriminator {history['discriminator loss'][-1]:.4f}, "
          f"generator {history['generator loss'][-1]:.4f}")


if __name__ == "__main__":
    main()
