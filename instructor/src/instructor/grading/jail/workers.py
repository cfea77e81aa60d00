"""The worker process: one per install, started in the submission's jail, and its requests.

:class:`Worker` starts :mod:`instructor.grading.worker` (a copy of its own, in the install's
folder), waits until it has shut itself in and imported the libraries, then sends it one
request at a time: a check's time limit is CPU time of the jail's processes together, read
while the answer is awaited, with a wall-clock backstop behind it.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from instructor.grading.jail.answers import (
    AnswerTooLarge,
    StandardErrorLog,
    UnreadableAnswer,
    WorkerBackstop,
    WorkerCrash,
    WorkerTimeout,
    read_answer,
)
from instructor.grading.jail.choose import _network_isolation, _setpriv
from instructor.grading.jail.mounts import (
    JAIL_EXAMPLES,
    JAIL_SITE,
    bubblewrap_command,
    jail_absent_modules,
)
from instructor.grading.jail.plan import CPU_SECONDS, PROCESSES, Jail
from instructor.grading.jail.processes import _children, _limits, _session_of, sweep_uid
from instructor.grading.resources import ProcessMeter, namespace_of, uid_of
from instructor.grading.worker import MAX_RESPONSE_BYTES, WATCHDOG_EXIT

#: The worker script (the grading package's ``worker.py``); each install gets a copy of its
#: own (no file shared between jails).
WORKER_SCRIPT = Path(__file__).parent.parent / "worker.py"

#: Wall-clock seconds a worker may take to start and import the libraries before it is taken
#: for a grader problem (a machine under heavy load, a jail that did not start).
START_BACKSTOP = 120.0
#: CPU seconds beyond a request's limit before the trusted side kills the jail (the worker's
#: own interruption and its watchdog come first).
KILL_GRACE = 2.0
#: The wall-clock backstop of a request: this many times its CPU limit, and at least
#: :data:`MIN_BACKSTOP` seconds. Past it the check is retried (see the pipeline).
BACKSTOP_FACTOR = 6.0
MIN_BACKSTOP = 60.0
#: Wall-clock seconds a request may take to be written into the worker's pipe.
WRITE_BACKSTOP = 30.0

#: Libraries every worker imports before any clock starts (what the stages may use): the
#: grader pays for them, not the student's time limit.
PRELOAD = ("numpy", "scipy.special", "numexpr", "matplotlib", "matplotlib.pyplot",
           "matplotlib.figure", "matplotlib.colors", "matplotlib.ticker")

#: Environment variables a worker gets from the grader's environment (nothing else).
WORKER_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE")


@dataclass
class Reply:
    """A worker's answer to one request, and what the request cost."""

    ok: bool
    outputs: dict
    error: dict
    cpu: float  # CPU seconds of the jail during the request
    wall: float


class Worker:
    """One worker process on one install folder (``site``, ``examples``); restarted after a
    crash or a timeout. ``jail`` None runs the worker as the grader (the oracle, on the
    grader's own reference).

    The install folder gets a copy of the worker script, so that no file the worker runs is
    shared with another jail.
    """

    def __init__(self, install: Path, scratch: Path, *, jail: Jail | None = None,
                 cpu_seconds: int = CPU_SECONDS, site: Path | None = None,
                 examples: Path | None = None, distributions: tuple[str, ...] = ()) -> None:
        self.install = install
        # what the stage may use (default: the jail's): the worker refuses every other import
        self.distributions = tuple(distributions) or (
            jail.distributions if jail is not None else ())
        self.site = site or install / "site"
        self.examples = examples or install / "examples"
        self.scratch = scratch
        self.jail = jail
        self.cpu_seconds = cpu_seconds
        self.process: subprocess.Popen | None = None
        self.responses: int | None = None
        self.buffer = bytearray()
        self.next_id = 0
        self.starts = 0
        self.log: StandardErrorLog | None = None
        self.logs: list[str] = []  # the standard error of workers that ended badly
        self.meter = None
        self.ready: dict = {}

    @property
    def kind(self) -> str:
        return self.jail.kind if self.jail is not None else "none"

    @property
    def paths(self) -> tuple[str, str]:
        """(site, examples) as the worker sees them: what its error frames name."""
        if self.kind == "bubblewrap":
            return JAIL_SITE, JAIL_EXAMPLES
        return str(self.site), str(self.examples)

    def _command(self, fd: int, script: Path) -> list[str]:
        if self.kind == "bubblewrap":
            return bubblewrap_command(str(self.install), fd, self.jail.uid,
                                      self.jail.distributions)
        command = [sys.executable, "-I", "-B", str(script), str(fd)]
        if self.kind == "uid":
            command = _setpriv(self.jail.uid) + command
            if _network_isolation():
                command = [shutil.which("unshare") or "unshare", "-n", "--", *command]
        return command

    def _make_meter(self):
        """How the CPU time of this worker's jail is read: its cgroup, else its processes."""
        if self.jail is not None and self.jail.cgroup is not None:
            return self.jail.cgroup
        pid = self.process.pid
        if self.kind == "bubblewrap":
            namespace = None
            for _ in range(200):
                children = _children(pid)
                namespace = next((n for n in map(namespace_of, children) if n), None)
                if namespace or self.process.poll() is not None:
                    break
                time.sleep(0.005)
            mine = namespace_of(os.getpid())
            if namespace and namespace != mine:
                return ProcessMeter(lambda p: namespace_of(p) == namespace)
        if self.kind == "uid":
            uid = self.jail.uid
            return ProcessMeter(lambda p: uid_of(p) == uid)
        return ProcessMeter(lambda p: _session_of(p) == pid)

    def start(self) -> None:
        """Start the worker and wait until it has shut itself in and imported the libraries.

        Raises:
            WorkerBackstop: it did not get ready (a jail that did not start, a machine under
                such load that it could not start within :data:`START_BACKSTOP` seconds).
        """
        self.install.mkdir(parents=True, exist_ok=True)
        script = self.install / "worker.py"
        if not script.exists():
            shutil.copyfile(WORKER_SCRIPT, script)
            if self.jail is not None and self.jail.uid is not None:
                os.chown(script, 0, self.jail.uid)
                os.chmod(script, 0o640)
        self.scratch.mkdir(parents=True, exist_ok=True)
        if self.jail is not None and self.jail.uid is not None:
            os.chown(self.scratch, self.jail.uid, self.jail.uid)
            os.chmod(self.scratch, 0o700)
        home = "/tmp" if self.kind == "bubblewrap" else str(self.scratch)
        read_fd, write_fd = os.pipe()
        error_read, error_write = os.pipe()
        env = {k: v for k, v in os.environ.items() if k in WORKER_ENV}
        env.update(HOME=home, TMPDIR=home, MPLBACKEND="Agg", MPLCONFIGDIR=home,
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONHASHSEED="0")
        cpu = self.cpu_seconds
        processes = PROCESSES if self.kind == "uid" else None
        procs = []
        if self.jail is not None and self.jail.cgroup is not None:
            procs = [os.open(path, os.O_WRONLY) for path in self.jail.cgroup.procs]
        try:
            self.process = subprocess.Popen(
                self._command(write_fd, script), stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=error_write, cwd=self.scratch, env=env,
                pass_fds=(write_fd,), start_new_session=True,
                preexec_fn=lambda: _limits(cpu, processes, procs),
            )
        finally:
            os.close(write_fd)
            os.close(error_write)
            for fd in procs:
                os.close(fd)
        os.set_blocking(self.process.stdin.fileno(), False)
        self.responses = read_fd
        self.buffer = bytearray()
        self.starts += 1
        self.log = StandardErrorLog(error_read)
        self.log.start()
        self.meter = self._make_meter()
        setup = {"setup": {
            "site": self.paths[0], "examples": self.paths[1], "preload": list(PRELOAD),
            "absent": list(jail_absent_modules(self.distributions)),
            "processes": PROCESSES if self.jail is not None and self.jail.isolated else None}}
        began = time.monotonic()
        try:
            self._write(json.dumps(setup).encode() + b"\n", began + START_BACKSTOP)
            while True:
                message = read_answer(self._read_line(began + START_BACKSTOP))
                if message.get("ready") is True:
                    self.ready = message
                    return
        except (WorkerBackstop, WorkerCrash, UnreadableAnswer) as error:
            log = self.stop()
            raise WorkerBackstop(f"the worker did not start: {error}", log=log) from None

    def stop(self) -> str:
        """End the worker and everything it started (the whole jail, but for the jail's other
        workers when it has a cgroup); return the end of its standard error."""
        if self.process is None:
            return ""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.jail is not None and self.jail.uid is not None and self.kind == "uid":
            sweep_uid(self.jail.uid)  # what left the worker's session (setsid, double fork)
        if self.process.stdin:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        os.close(self.responses)
        self.process = None
        text = ""
        if self.log is not None:
            self.log.join(timeout=2)
            text = self.log.text()
            self.log = None
        return text

    def _write(self, data: bytes, deadline: float) -> None:
        """Write ``data`` into the worker's pipe; a worker that does not read it by
        ``deadline`` is the grader's problem to retry (it may be a stalled machine)."""
        fd = self.process.stdin.fileno()
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerBackstop("the worker did not read its request")
            _, ready, _ = select.select([], [fd], [], min(left, 0.5))
            if not ready:
                if self.process.poll() is not None:
                    raise WorkerCrash("the worker process ended")
                continue
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError) as error:
                raise WorkerCrash(f"the worker process ended ({error.strerror})") from None
            view = view[written:]

    def _read_line(self, deadline: float, watch=None) -> bytes:
        """The next line of the response pipe, at most :data:`MAX_RESPONSE_BYTES`.

        ``watch()`` is called between reads (the CPU meter).
        """
        while True:
            end = self.buffer.find(b"\n")
            if end >= 0:  # (a new buffer: the old one's megabytes are not kept)
                line, self.buffer = bytes(self.buffer[:end]), bytearray(self.buffer[end + 1:])
                return line
            if len(self.buffer) > MAX_RESPONSE_BYTES:
                raise AnswerTooLarge(f"an answer over {MAX_RESPONSE_BYTES} bytes")
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerBackstop("no answer within the wall-clock backstop")
            ready, _, _ = select.select([self.responses], [], [], min(left, 0.05))
            if watch is not None:
                watch()
            if not ready:
                continue
            chunk = os.read(self.responses, 1 << 20)
            if not chunk:
                raise WorkerCrash("the worker process ended (it crashed or was killed)")
            self.buffer += chunk

    def request(self, body: dict, limit: float) -> Reply:
        """Run one request (``{"steps", "outputs"}`` or ``{"load": module}``) with a limit of
        ``limit`` CPU seconds; return the worker's reply.

        Raises:
            WorkerTimeout: the jail used ``limit`` + :data:`KILL_GRACE` CPU seconds and no
                answer came; the worker is killed.
            WorkerBackstop: no answer within the wall-clock backstop, or the worker did not
                start; the worker is killed. The grader's problem: retry.
            WorkerCrash: the worker died; it is stopped.
            UnreadableAnswer: the answer is over the size limit, malformed, or the answer to
                another request (:class:`AnswerTooLarge` for the size); the worker is stopped.
        """
        if self.process is None:
            self.start()
        self.next_id += 1
        message = {"id": self.next_id, "limit": limit, **body}
        began = time.monotonic()
        cpu_start = self.meter.cpu_seconds()
        backstop = began + max(MIN_BACKSTOP, BACKSTOP_FACTOR * limit)
        last = [began]

        def watch() -> None:
            now = time.monotonic()
            if now - last[0] < 0.05:
                return
            last[0] = now
            used = self.meter.cpu_seconds() - cpu_start
            if used > limit + KILL_GRACE:
                raise WorkerTimeout(used)

        try:
            self._write(json.dumps(message).encode() + b"\n", min(backstop, began + WRITE_BACKSTOP))
            response = read_answer(self._read_line(backstop, watch))
            if response.get("id") != self.next_id:  # one answer per request, in order
                raise UnreadableAnswer(f"an answer to request {str(response.get('id'))[:20]}, "
                                       f"not to request {self.next_id}")
        except WorkerTimeout:
            self.logs.append(self.stop())
            raise
        except WorkerBackstop as error:
            cpu = self.meter.cpu_seconds() - cpu_start
            log = self.stop()
            self.logs.append(log)
            raise WorkerBackstop(str(error), cpu=cpu, wall=time.monotonic() - began,
                                 log=log) from None
        except UnreadableAnswer:
            self.logs.append(self.stop())
            raise
        except WorkerCrash as error:
            out_of_memory = self.jail is not None and self.jail.cgroup is not None \
                and self.jail.cgroup.out_of_memory()
            code = self.process.poll() if self.process is not None else None
            log = self.stop()
            self.logs.append(log)
            if code == WATCHDOG_EXIT:
                raise WorkerTimeout(limit + 1.0) from None
            raise WorkerCrash(str(error), log=log, out_of_memory=out_of_memory) from None
        cpu = max(self.meter.cpu_seconds() - cpu_start, 0.0)
        reported = response.get("cpu")
        if isinstance(reported, (int, float)) and not isinstance(reported, bool) \
                and 0 <= reported < 1e6:
            cpu = max(cpu, float(reported))
        error = response.get("error") if isinstance(response.get("error"), dict) else {}
        outputs = response.get("outputs") if isinstance(response.get("outputs"), dict) else {}
        return Reply(response.get("ok") is True, outputs, error, cpu, time.monotonic() - began)
