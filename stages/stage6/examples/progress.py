"""The progress lines both generative examples print while they train: steps per second and
the time left, rewritten in place in a terminal and logged promptly to a file or a pipe
(imported by train_gan.py and train_char_lm.py).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def progress_line(step: int, steps: int, seconds: float, extra: str = "") -> str:
    """``step 1200/6000  41.5 steps/s  ETA 1:56  <extra>``: the speed and the time left.

    ``seconds`` is the time spent in the training steps so far; the estimate assumes the
    remaining steps take as long on average.
    """
    rate = step / seconds if seconds > 0 else 0.0
    left = round((steps - step) / rate) if rate > 0 else 0
    return (f"step {step:{len(str(steps))}d}/{steps}  {rate:5.1f} steps/s  "
            f"ETA {left // 60}:{left % 60:02d}  {extra}")


class ProgressLog:
    """When a training loop logs a progress line: at the first step, every ``every`` steps,
    at the last step, and whenever ``interval`` seconds have passed since the last line.

    The time rule is for output that goes to a file or a pipe, where nothing is rewritten in
    place: a run whose ``every`` steps take minutes still shows a line every ``interval``
    seconds. ``clock`` returns seconds (``time.monotonic``; a test passes a fake one).
    """

    def __init__(self, steps: int, every: int, interval: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.steps, self.every, self.interval, self.clock = steps, max(1, every), interval, clock
        self.last_logged = clock()

    def due(self, step: int) -> bool:
        """Whether ``step`` (counted from 1) gets a logged line; if so, the clock restarts."""
        now = self.clock()
        if (step == 1 or step % self.every == 0 or step == self.steps
                or now - self.last_logged >= self.interval):
            self.last_logged = now
            return True
        return False


def show_progress(line: str, final: bool = False) -> None:
    """Rewrite one line of the terminal in place (``\\r``); elsewhere (a log file, a pipe)
    print it only when ``final`` is set, so that a log holds the logged lines and not every
    update. Either way the line is flushed at once: a pipe buffers otherwise."""
    if sys.stdout.isatty():
        print("\r" + line.ljust(100), end="\n" if final else "", flush=True)
    elif final:
        print(line, flush=True)
