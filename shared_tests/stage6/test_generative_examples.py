"""The stage-6 generative examples run and write what they promise.

``train_gan.py`` writes a sample grid per checkpoint, the loss curves and ``gan_samples.npy``
(1,000 samples, float32, ``(1000, 784)``, values in [0, 1]); ``train_char_lm.py`` prints the
bigram baseline, ends with ``final val loss: X`` and writes a loss-curve PNG and
``char_lm_sample.txt``. They run here for a few steps only, which checks the plumbing and that
learning starts; the quality targets of the default runs are measured by
``instructor/benchmarks/evaluate_generative.py``, not here. The scripts come from the folder
``stage_examples(6)`` names (see conftest.py).
"""

from __future__ import annotations

import math
import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from mini_torch.datasets import CharVocab, load_text

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
VAL_LOSS_LINE = re.compile(r"final val loss: (\d+(?:\.\d+)?)")
GAN_FINAL_LINE = re.compile(r"final losses: discriminator (\d+\.\d+), generator (\d+\.\d+)")
BIGRAM_LINE = re.compile(r"add-one bigram baseline: (\d+\.\d+) nats/char")
# How long a test waits for a line on a pipe before it calls the example hung (not a timing
# requirement: an unflushed line would only come after minutes, or at the end of the run).
PIPE_GUARD_SECONDS = 300


@pytest.fixture(scope="session")
def examples(stage_examples) -> Path:
    """The folder of the stage-6 examples (see ``stage_examples`` in conftest.py)."""
    return stage_examples(6)


def last_line(stdout: str) -> str:
    lines = [line.strip() for line in stdout.splitlines() if line.strip()]
    assert lines, "the example printed nothing"
    return lines[-1]


def assert_pngs_written_and_printed(result: subprocess.CompletedProcess, pngs: list[Path]):
    for png in pngs:
        assert png.read_bytes()[: len(PNG_SIGNATURE)] == PNG_SIGNATURE, png
        assert str(png) in result.stdout, f"{png.name} is written but its path is not printed"


# --------------------------------------------------------------------------- the GAN

@pytest.fixture(scope="module")
def gan_run(examples, run_example, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    work = tmp_path_factory.mktemp("train_gan")
    out = work / "out"
    result = run_example(examples, "train_gan.py", "--steps", "20", "--checkpoints", "2",
                         "--seed", "0", "--out", str(out), cwd=work)
    return result, out


def test_train_gan_writes_1000_float32_samples_in_the_unit_interval(gan_run):
    _, out = gan_run
    samples = np.load(out / "gan_samples.npy")
    assert samples.shape == (1000, 784)
    assert samples.dtype == np.float32
    assert samples.min() >= 0.0 and samples.max() <= 1.0
    assert np.all(np.isfinite(samples))
    # different noise gives different images: the generator is not constant
    assert samples.std(axis=0).mean() > 1e-3


def test_train_gan_writes_one_grid_per_checkpoint_and_the_loss_curves(gan_run):
    result, out = gan_run
    grids = sorted(out.glob("gan_samples_step*.png"))
    assert len(grids) == 2, f"expected 2 checkpoint grids, found {grids}"
    assert (out / "gan_losses.png").is_file()
    assert_pngs_written_and_printed(result, [*grids, out / "gan_losses.png"])


def test_train_gan_ends_with_both_final_losses(gan_run):
    result, _ = gan_run
    match = GAN_FINAL_LINE.fullmatch(last_line(result.stdout))
    assert match, f"unexpected last line: {last_line(result.stdout)!r}"
    d_loss, g_loss = float(match.group(1)), float(match.group(2))
    assert math.isfinite(d_loss) and math.isfinite(g_loss)
    assert d_loss > 0 and g_loss > 0  # binary cross-entropies of logits are never 0


def test_train_gan_writes_only_into_the_out_folder(gan_run):
    _, out = gan_run
    assert sorted(path.name for path in out.parent.iterdir()) == [out.name]


def test_train_gan_repeats_exactly_with_the_same_seed(examples, run_example, gan_run, tmp_path):
    _, out = gan_run
    again = tmp_path / "out"
    run_example(examples, "train_gan.py", "--steps", "20", "--checkpoints", "2", "--seed", "0",
                "--out", str(again), cwd=tmp_path)
    np.testing.assert_array_equal(np.load(again / "gan_samples.npy"),
                                  np.load(out / "gan_samples.npy"))


# --------------------------------------------------------------------------- the language model

@pytest.fixture(scope="module")
def lm_run(examples, run_example, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    work = tmp_path_factory.mktemp("train_char_lm")
    out = work / "out"
    result = run_example(examples, "train_char_lm.py", "--steps", "30", "--seed", "0",
                         "--out", str(out), cwd=work)
    return result, out


def test_train_char_lm_prints_the_add_one_bigram_baseline_of_the_validation_split(lm_run):
    result, _ = lm_run
    match = BIGRAM_LINE.search(result.stdout)
    assert match, result.stdout
    # The same baseline, computed here: counts of (previous, next) pairs in the first 90 % plus
    # one, normalised per previous character, scored on the pairs of the last 10 %.
    text = load_text()
    vocab = CharVocab(text)
    ids = vocab.encode(text)
    split = int(len(ids) * 0.9)
    train, val = ids[:split], ids[split:]
    counts = np.ones((len(vocab), len(vocab)))
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    expected = -np.mean(np.log(counts[val[:-1], val[1:]] / counts[val[:-1]].sum(axis=1)))
    assert float(match.group(1)) == pytest.approx(expected, abs=1e-3)


def test_train_char_lm_learns_in_30_steps_and_ends_with_the_val_loss(lm_run):
    result, _ = lm_run
    match = VAL_LOSS_LINE.fullmatch(last_line(result.stdout))
    assert match, f"unexpected last line: {last_line(result.stdout)!r}"
    val_loss = float(match.group(1))
    vocabulary_size = len(set(load_text()))
    # an untrained model is near the uniform guess log V; 30 steps already beat it clearly
    assert val_loss < math.log(vocabulary_size) - 0.5, result.stdout


def test_train_char_lm_writes_500_characters_of_the_vocabulary(lm_run):
    _, out = lm_run
    written = (out / "char_lm_sample.txt").read_text(encoding="utf-8")
    assert len(written) >= 500
    assert set(written) <= set(load_text())


def test_train_char_lm_writes_the_loss_curves(lm_run):
    result, out = lm_run
    pngs = sorted(out.glob("*.png"))
    assert pngs, f"no PNG in {out}"
    assert_pngs_written_and_printed(result, pngs)
    assert str(out / "char_lm_sample.txt") in result.stdout


def test_train_char_lm_writes_only_into_the_out_folder(lm_run):
    _, out = lm_run
    assert sorted(path.name for path in out.parent.iterdir()) == [out.name]


# --------------------------------------------------------------------------- progress and timing

@pytest.mark.parametrize("script", ["train_gan", "train_char_lm"])
def test_progress_line_gives_the_rate_and_the_time_left(examples, script, load_example):
    progress_line = load_example(examples, script).progress_line
    # 50 of 200 steps in 10 s: 5 steps per second, and 150 steps left take 30 s
    line = progress_line(50, 200, 10.0, "loss 1.0")
    assert re.search(r"step\s+50/200\s+5\.0 steps/s\s+ETA 0:30\s+loss 1\.0", line), line
    # 100 of 1,000 steps in 25 s: 4 steps per second, 900 left take 225 s = 3 min 45 s
    assert "ETA 3:45" in progress_line(100, 1000, 25.0)


@pytest.mark.parametrize("run", ["gan_run", "lm_run"])
def test_examples_report_the_time_of_the_training_steps_alone(request, run):
    result, _ = request.getfixturevalue(run)
    match = re.search(r"trained (\d+) steps: (\d+\.\d+) s in the training steps \((\d+\.\d) ms "
                      r"per step, the steps alone\); the loop with [a-z ,]+ (\d+\.\d+) s "
                      r"\(CPU time",
                      result.stdout)
    assert match, result.stdout
    steps, train_seconds, per_step, loop_seconds = (float(group) for group in match.groups())
    # both printed rounded: the seconds to 0.005 s (spread over the steps), the ms to 0.05 ms
    assert per_step == pytest.approx(1000 * train_seconds / steps,
                                     abs=1000 * 0.005 / steps + 0.05)
    assert train_seconds <= loop_seconds  # the steps are a part of the loop


@pytest.mark.parametrize("run, steps", [("gan_run", 20), ("lm_run", 30)])
def test_examples_log_progress_with_steps_per_second_and_an_eta(request, run, steps):
    result, _ = request.getfixturevalue(run)
    # the output is not a terminal here: the logged lines are printed, the updates between not
    assert re.search(rf"step\s+{steps}/{steps}\s+\d+\.\d steps/s\s+ETA 0:00", result.stdout), \
        result.stdout
    assert re.search(rf"step\s+1/{steps}\s", result.stdout), f"the first step is logged too:\n" \
        f"{result.stdout}"
    assert "\r" not in result.stdout


def test_progress_log_is_due_at_the_first_step_every_n_steps_the_last_and_after_the_interval(
        examples, load_example):
    """A fake clock: the log is due at step 1, at multiples of ``every``, at the last step,
    and when ``interval`` seconds have passed since the last logged line (not since the start)."""
    progress_log = load_example(examples, "progress").ProgressLog
    now = [0.0]
    log = progress_log(100, every=20, interval=10.0, clock=lambda: now[0])
    # (time, step, due?): 9.9 s after the line of step 1 is not due, 10.0 s is; the same after
    # the line of step 20 (a multiple of every), which restarts the interval
    timeline = [(0.5, 1, True), (3.0, 2, False), (10.4, 3, False), (10.5, 4, True),
                (15.0, 5, False), (16.0, 20, True), (25.9, 21, False), (26.0, 22, True),
                (27.0, 23, False), (28.0, 100, True)]
    for time, step, expected in timeline:
        now[0] = time
        assert log.due(step) is expected, f"step {step} at {time} s: due should be {expected}"


@pytest.mark.parametrize("script", ["train_gan.py", "train_char_lm.py"])
def test_a_long_run_writes_its_first_progress_line_to_a_pipe_while_it_runs(examples, script,
                                                                          tmp_path):
    """With stdout a pipe, Python buffers 8 KB before it writes anything: a run of 100,000
    steps that did not flush would show nothing for minutes. The line of step 1 must arrive
    while the run goes on (the run is then stopped; the timeout only guards against a hang)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    process = subprocess.Popen(
        [sys.executable, str(examples / script), "--steps", "100000", "--seed", "0", "--out",
         str(tmp_path / "out")], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)  # the pipe closed: the run ended

    threading.Thread(target=read, daemon=True).start()
    seen, first = [], None
    try:
        while first is None:
            try:
                line = lines.get(timeout=PIPE_GUARD_SECONDS)
            except queue.Empty:
                break  # no line at all for minutes
            if line is None:
                break
            seen.append(line)
            if re.match(r"step\s+\d+/100000\s", line):
                first = line
        running = process.poll() is None
    finally:
        process.kill()
        process.wait()
    assert first is not None, (
        f"{script}: no progress line reached the pipe (before it closed, or for "
        f"{PIPE_GUARD_SECONDS} s); flush the progress lines "
        f"(print(..., flush=True)). Got: {seen}")
    assert re.match(r"step\s+1/100000\s", first), f"{script}: log the first step, got {first!r}"
    assert running, f"{script}: the line of step 1 arrived only after the run ended"
