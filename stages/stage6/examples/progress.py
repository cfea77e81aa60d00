"""The progress line both generative examples print while they train: steps per second and
the time left, rewritten in place in a terminal (imported by train_gan.py and train_char_lm.py).
"""

from __future__ import annotations

import sys


def progress_line(step: int, steps: int, seconds: float, extra: str = "") -> str:
    """``step 1200/6000  41.5 steps/s  ETA 1:56  <extra>``: the speed and the time left.

    ``seconds`` is the time spent in the training steps so far; the estimate assumes the
    remaining steps take as long on average.
    """
    rate = step / seconds if seconds > 0 else 0.0
    left = round((steps - step) / rate) if rate > 0 else 0
    return (f"step {step:{len(str(steps))}d}/{steps}  {rate:5.1f} steps/s  "
            f"ETA {left // 60}:{left % 60:02d}  {extra}")


def show_progress(line: str, final: bool = False) -> None:
    """Rewrite one line of the terminal in place (``\\r``); elsewhere (a log file) print it
    only when ``final`` is set, so that a log holds the logged lines and not every update."""
    if sys.stdout.isatty():
        print("\r" + line.ljust(100), end="\n" if final else "", flush=True)
    elif final:
        print(line, flush=True)
