"""The training steps of the stage-6 examples: ``lm_step`` and ``gan_step``, on tiny models.

Each test builds a tiny seeded model twice, hands one copy to the example's step and steps the
other copy by hand here: the package's layers and losses, plain SGD (``p -= lr * g``) and
PyTorch's clipping rule written out (the norm of all gradients together; above ``max_norm``,
every gradient times ``max_norm / (total + 1e-6)``). Then the returned losses and every parameter,
by name, must agree. Two or three consecutive calls catch gradients left over from an earlier
call: in the GAN, the generator's pass leaves gradients in the discriminator that its own step
must not use.

The optimizers are ``SGD`` because an SGD step moves a parameter by ``lr`` times its gradient, so
the two copies agree up to rounding. Adam divides by the root of the squared gradients, which
turns the rounding of a gradient that should be zero into a full step of ``lr``.

The scripts come from the folder ``stage_examples(6)`` names (see conftest.py); the guide's
sections are docs/stage6.md#the-gan and docs/stage6.md#the-character-level-language-model.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import mini_torch
import mini_torch.nn as nn
import mini_torch.optim as optim
from mini_torch import init

LR = 0.1
MODEL_SEED = 3     # the weights of both copies
STEP_SEED = 11     # the noise the GAN's steps draw, the same for both copies

# the language model: 7 characters, width 8, 2 heads; batches of 4 windows of 6 characters
VOCAB, WIDTH, HEADS = 7, 8, 2
LM_BATCH, LENGTH = 4, 6
MAX_NORM = 0.25

# the GAN: images of 12 pixels, hidden width 16, batches of 8
PIXELS, HIDDEN, GAN_BATCH = 12, 16, 8
REAL_LABEL = 0.9


@pytest.fixture(scope="module")
def examples(stage_examples) -> Path:
    """The folder of the stage-6 examples (see ``stage_examples`` in conftest.py)."""
    return stage_examples(6)


@pytest.fixture(scope="module")
def char_lm(examples, load_example) -> ModuleType:
    return load_example(examples, "train_char_lm")


@pytest.fixture(scope="module")
def gan(examples, load_example) -> ModuleType:
    return load_example(examples, "train_gan")


# --------------------------------------------------------------------------- shared helpers

def snapshot(model: nn.Module) -> list[tuple[str, np.ndarray]]:
    """Copies of the model's parameters, by name (``0.W``, ``1.attn.W_qkv``, ...)."""
    return [(name, param.copy()) for name, param in model.named_parameters()]


def assert_same_parameters(got: list[tuple[str, np.ndarray]],
                           want: list[tuple[str, np.ndarray]], when: str, hint: str) -> None:
    """Each parameter equals the hand-made step's, within a tolerance of the array's scale."""
    assert [name for name, _ in got] == [name for name, _ in want]
    for (name, actual), (_, expected) in zip(got, want):
        assert actual.dtype == expected.dtype, (
            f"{when}, parameter {name} is {actual.dtype}, expected {expected.dtype}")
        error = float(np.abs(actual.astype(np.float64) - expected).max())
        tolerance = 1e-5 + 1e-4 * float(np.abs(expected).max())
        assert error <= tolerance, (
            f"{when}, parameter {name} differs from the SGD step written out in the test by up "
            f"to {error:.3g} (tolerance {tolerance:.2g}): {hint}")


def assert_python_float(value, what: str) -> None:
    assert type(value) is float, (
        f"{what} must be a Python float (float(loss) or loss.item()), got {type(value).__name__}")


def plain_sgd(model: nn.Module, lr: float) -> None:
    """``p -= lr * g`` for every parameter, in place."""
    for param, grad in zip(model.parameters(), model.grads()):
        param -= lr * grad


def norm_of_all(grads: list[np.ndarray]) -> float:
    """The 2-norm of all gradients together, as one vector, in float64."""
    return math.sqrt(sum(float(np.square(grad, dtype=np.float64).sum()) for grad in grads))


# --------------------------------------------------------------------------- the language model

def tiny_lm() -> nn.Sequential:
    mini_torch.manual_seed(MODEL_SEED)
    return nn.Sequential(nn.Embedding(VOCAB, WIDTH), nn.TransformerBlock(WIDTH, HEADS),
                         nn.LayerNorm(WIDTH), nn.Linear(WIDTH, VOCAB))


def text_batches(rng: np.random.Generator, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` batches ``(x, y)`` of ids ``(LM_BATCH, LENGTH)``: y is x shifted by one."""
    batches = []
    for _ in range(count):
        windows = rng.integers(0, VOCAB, size=(LM_BATCH, LENGTH + 1))
        batches.append((np.ascontiguousarray(windows[:, :-1]),
                        np.ascontiguousarray(windows[:, 1:])))
    return batches


def reference_step_by_hand(model: nn.Module, x: np.ndarray, y: np.ndarray,
                           max_norm: float = 0.0) -> tuple[float, float]:
    """What one ``lm_step`` does, written out; returns the loss and the norm before clipping.

    Every position is one prediction: the logits ``(B, T, V)`` are scored as ``B * T`` rows
    against the ``B * T`` next ids, and the gradient of that mean goes back in the logits' shape.
    """
    model.zero_grad()                     # nothing of an earlier step may remain
    scores = model(x)                     # (B, T, V)
    cross_entropy = nn.CrossEntropyLoss()
    loss = cross_entropy(scores.reshape(-1, VOCAB), y.ravel())
    model.backward(cross_entropy.backward().reshape(scores.shape))
    total = norm_of_all(model.grads())
    if max_norm > 0 and total > max_norm:
        for grad in model.grads():
            grad *= max_norm / (total + 1e-6)
    plain_sgd(model, LR)
    return float(loss), total


LM_STEP = ("lm_step makes one step: the cross-entropy of the (B*T, V) logits, zero_grad, "
           "model.backward of the criterion's gradient in the logits' shape (B, T, V), "
           "optimizer.step()")


def test_train_char_lm_step_returns_the_loss_and_takes_one_sgd_step(char_lm, rng):
    model, twin = tiny_lm(), tiny_lm()
    [(x, y)] = text_batches(rng, 1)
    loss = char_lm.lm_step(model, x, y, nn.CrossEntropyLoss(), optim.SGD(model, lr=LR))
    expected, _ = reference_step_by_hand(twin, x, y)
    assert_python_float(loss, "lm_step's loss")
    assert loss == pytest.approx(expected, rel=1e-5), (
        "lm_step returns the mean cross-entropy over all B*T positions of the batch, taken "
        "before the step")
    assert_same_parameters(snapshot(model), snapshot(twin), "after one call", LM_STEP)


def test_train_char_lm_step_clears_the_gradients_of_the_previous_call(char_lm, rng):
    model, twin = tiny_lm(), tiny_lm()
    criterion, optimizer = nn.CrossEntropyLoss(), optim.SGD(model, lr=LR)
    for call, (x, y) in enumerate(text_batches(rng, 2), start=1):
        loss = char_lm.lm_step(model, x, y, criterion, optimizer)
        expected, _ = reference_step_by_hand(twin, x, y)
        hint = LM_STEP if call == 1 else (
            "after two calls the parameters differ: were the gradients of the first call "
            "cleared (optimizer.zero_grad()) before the second backward?")
        assert_same_parameters(snapshot(model), snapshot(twin), f"after call {call}", hint)
        assert loss == pytest.approx(expected, rel=1e-5), f"the loss of call {call}"


def test_train_char_lm_step_clips_the_gradients_before_the_step(char_lm, rng):
    model, twin = tiny_lm(), tiny_lm()
    [(x, y)] = text_batches(rng, 1)
    loss = char_lm.lm_step(model, x, y, nn.CrossEntropyLoss(), optim.SGD(model, lr=LR),
                           MAX_NORM)
    expected, total = reference_step_by_hand(twin, x, y, MAX_NORM)
    # the batch's gradients must be well above max_norm, or clipping could not show
    assert total > 2 * MAX_NORM, f"the test's gradients have norm {total:.3g} only"
    assert_python_float(loss, "lm_step's loss")
    assert loss == pytest.approx(expected, rel=1e-5), "the loss is taken before the step"
    assert_same_parameters(
        snapshot(model), snapshot(twin), f"with max_norm={MAX_NORM} (the norm is {total:.3g})",
        "with max_norm > 0, clip the gradients (nn.utils.clip_grad_norm_(model, max_norm)) "
        "after model.backward and before optimizer.step()")


# --------------------------------------------------------------------------- the GAN

def tiny_gan(gan: ModuleType) -> tuple[nn.Sequential, nn.Sequential]:
    """A generator from the script's noise width to PIXELS, and a discriminator of PIXELS."""
    mini_torch.manual_seed(MODEL_SEED)
    generator = nn.Sequential(nn.Linear(gan.NOISE_DIM, HIDDEN), nn.LeakyReLU(0.2),
                              nn.Linear(HIDDEN, PIXELS), nn.Sigmoid())
    discriminator = nn.Sequential(nn.Linear(PIXELS, HIDDEN), nn.LeakyReLU(0.2),
                                  nn.Linear(HIDDEN, 1))
    return generator, discriminator


def scored_against(discriminator: nn.Module, images: np.ndarray,
                   label: float) -> tuple[float, np.ndarray]:
    """BCE of the discriminator's logits against a constant label, and its gradient with respect
    to the images (the discriminator's parameters accumulate theirs on the way)."""
    bce = nn.BCEWithLogitsLoss()
    logits = discriminator(images)                                  # (B, 1)
    value = bce(logits, np.full(logits.shape, label, dtype=logits.dtype))
    return float(value), discriminator.backward(bce.backward())    # (B, PIXELS)


def gan_step_by_hand(generator: nn.Module, discriminator: nn.Module, real: np.ndarray,
                     noise_dim: int) -> tuple[float, float]:
    """What one ``gan_step`` does, written out; returns ``(d_loss, g_loss)``.

    The step draws two batches of noise from the package's generator, in this order: the one
    the discriminator sees as fakes, then the one the generator learns from (nothing else of
    these models draws).
    """
    noise_for_d, noise_for_g = (
        init.get_generator().standard_normal((len(real), noise_dim), dtype=np.float32)
        for _ in range(2))
    # the discriminator: real images towards REAL_LABEL, generated ones towards 0; the two
    # gradients add up, and none from before may remain (the generator's pass leaves some)
    discriminator.zero_grad()
    real_part, _ = scored_against(discriminator, real, REAL_LABEL)
    fake_part, _ = scored_against(discriminator, generator(noise_for_d), 0.0)
    plain_sgd(discriminator, LR)
    # the generator, through the discriminator: its images towards "real" (1)
    fooled, grad_images = scored_against(discriminator, generator(noise_for_g), 1.0)
    generator.zero_grad()
    generator.backward(grad_images)
    plain_sgd(generator, LR)
    return real_part + fake_part, fooled


def run_both(gan: ModuleType, rng: np.random.Generator, calls: int):
    """``calls`` steps of the script's ``gan_step`` on one pair of models and as many steps by
    hand on its twin, from the same noise seed: the losses and the parameters after each."""
    reals = rng.random((calls, GAN_BATCH, PIXELS), dtype=np.float32)
    generator, discriminator = tiny_gan(gan)
    twin_generator, twin_discriminator = tiny_gan(gan)
    g_optimizer = optim.SGD(generator, lr=LR)
    d_optimizer = optim.SGD(discriminator, lr=LR)
    criterion = nn.BCEWithLogitsLoss()

    mini_torch.manual_seed(STEP_SEED)
    got = []
    for real in reals:
        losses = gan.gan_step(generator, discriminator, real, criterion, g_optimizer,
                              d_optimizer, REAL_LABEL)
        got.append((losses, snapshot(discriminator), snapshot(generator)))

    mini_torch.manual_seed(STEP_SEED)
    want = []
    for real in reals:
        losses = gan_step_by_hand(twin_generator, twin_discriminator, real, gan.NOISE_DIM)
        want.append((losses, snapshot(twin_discriminator), snapshot(twin_generator)))
    return got, want


TOWARDS_REAL = ("the generator's loss is BCE(D(G(z')), 1), z' fresh noise drawn after D's step: "
                "G learns to make D answer \"real\" (target 1, not the fake target 0)")


def test_train_gan_step_returns_the_discriminator_and_the_generator_loss(gan, rng):
    [(losses, _, _)], [(expected, _, _)] = run_both(gan, rng, 1)
    assert isinstance(losses, tuple) and len(losses) == 2, (
        f"gan_step returns (d_loss, g_loss), got {losses!r}")
    d_loss, g_loss = losses
    assert_python_float(d_loss, "d_loss")
    assert_python_float(g_loss, "g_loss")
    assert d_loss == pytest.approx(expected[0], rel=1e-5), (
        "d_loss is BCE(D(real), real_label) + BCE(D(G(z)), 0), the sum of the two means")
    assert g_loss == pytest.approx(expected[1], rel=1e-5), TOWARDS_REAL


def test_train_gan_step_updates_the_discriminator_then_the_generator(gan, rng):
    [(_, d_got, g_got)], [(_, d_want, g_want)] = run_both(gan, rng, 1)
    assert_same_parameters(
        d_got, d_want, "the discriminator after one call",
        "D steps once on the gradients of BCE(D(real), real_label) + BCE(D(G(z)), 0)")
    assert_same_parameters(
        g_got, g_want, "the generator after one call",
        f"G steps once on the gradient D.backward returns for its images; {TOWARDS_REAL}")


def test_train_gan_step_clears_the_discriminator_gradients_the_generator_pass_left(gan, rng):
    got, want = run_both(gan, rng, 3)
    for call, ((losses, d_got, g_got), (expected, d_want, g_want)) in enumerate(
            zip(got, want), start=1):
        assert_same_parameters(
            d_got, d_want, f"the discriminator after call {call}",
            "the generator's pass of the previous call left its gradients in D: clear them "
            "(d_optimizer.zero_grad()) before D's own backward passes" if call > 1 else
            "D steps once on the gradients of BCE(D(real), real_label) + BCE(D(G(z)), 0)")
        assert_same_parameters(
            g_got, g_want, f"the generator after call {call}",
            "clear G's gradients (g_optimizer.zero_grad()) before generator.backward"
            if call > 1 else TOWARDS_REAL)
        assert losses == pytest.approx(expected, rel=1e-5), f"the losses of call {call}"
