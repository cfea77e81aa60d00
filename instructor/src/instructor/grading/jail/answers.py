"""What comes back from a worker, read as data: its answers, bounded in size and in values,
the errors a request can end in, and the end of its standard error for the staff's log.

Nothing a worker sends is executed: an answer is one JSON object (arrays as bytes) on one
line, and one that cannot be read is :class:`UnreadableAnswer`, the student's failure.
"""

from __future__ import annotations

import collections
import json
import os
import threading

#: Values (array descriptions, list items, strings, numbers) an answer may hold: a real answer
#: holds a few hundred (its arrays travel as one base64 string each). Counted on the raw line
#: before it is parsed, so a line of millions of tiny values costs the grader no memory.
MAX_ANSWER_VALUES = 100_000
#: Bytes of a worker's standard error kept for the staff's log.
LOG_BYTES = 64 * 2**10


class WorkerCrash(Exception):
    """The worker died, or sent something that is not a response."""

    def __init__(self, message: str, log: str = "", out_of_memory: bool = False) -> None:
        super().__init__(message)
        self.log, self.out_of_memory = log, out_of_memory


class WorkerTimeout(Exception):
    """The jail used more CPU time than the request's limit (plus a grace) and was killed."""

    def __init__(self, cpu: float) -> None:
        super().__init__(f"used {cpu:.1f} CPU seconds")
        self.cpu = cpu


class WorkerBackstop(Exception):
    """A request ran past the wall-clock backstop (or the worker never became ready): the
    grader's problem (a busy machine, a jail that did not start), to be retried."""

    def __init__(self, message: str, cpu: float = 0.0, wall: float = 0.0, log: str = "") -> None:
        super().__init__(message)
        self.cpu, self.wall, self.log = cpu, wall, log


class UnreadableAnswer(Exception):
    """The worker's answer cannot be read: not one JSON object, nested deeper or holding more
    values than any real answer (:data:`MAX_ANSWER_VALUES`), or the answer to another request.
    Only code in the jail writes on the response pipe: the student's failure."""


class AnswerTooLarge(UnreadableAnswer):
    """The worker's answer is over :data:`MAX_RESPONSE_BYTES`: the student's failure."""


def read_answer(line: bytes) -> dict:
    """One response line as a dict.

    Raises:
        UnreadableAnswer: the line is not one JSON object, or it holds more than
            :data:`MAX_ANSWER_VALUES` values or nests deeper than Python parses.
    """
    if line.count(b",") + line.count(b":") > 2 * MAX_ANSWER_VALUES:
        raise UnreadableAnswer(f"an answer of more than {MAX_ANSWER_VALUES} values")
    try:
        message = json.loads(line)
    except (ValueError, RecursionError) as error:
        raise UnreadableAnswer(f"not a response ({type(error).__name__}: "
                               f"{str(error)[:80]})") from None
    if not isinstance(message, dict):
        raise UnreadableAnswer("not a response (not a JSON object)")
    return message


class StandardErrorLog(threading.Thread):
    """Keeps the last :data:`LOG_BYTES` of a worker's standard error, for the staff's log."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.chunks: collections.deque[bytes] = collections.deque()
        self.size = 0
        self.lock = threading.Lock()

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            with self.lock:
                self.chunks.append(chunk)
                self.size += len(chunk)
                while self.size > LOG_BYTES and len(self.chunks) > 1:
                    self.size -= len(self.chunks.popleft())
        os.close(self.fd)

    def text(self) -> str:
        with self.lock:
            data = b"".join(self.chunks)[-LOG_BYTES:]
        return data.decode("utf-8", "replace")
