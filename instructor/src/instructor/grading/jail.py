"""The sandbox: where student code runs, and the worker process that runs it.

:class:`Worker` starts :mod:`instructor.grading.worker` as a script on one installed package (a ``site``
folder holding ``mini_torch``) and sends it requests. The worker runs

- as an unprivileged user when the grader is root (``nobody``, or ``MINI_TORCH_GRADER_USER``),
  so it cannot read the grader's files (the kit, the reference, the results) nor write outside
  its scratch folder; when the grader is not root it runs as the grader's user, and
  :func:`isolation_notes` says so in every report;
- without network where ``unshare -n`` works (the report says when it does not);
- under resource limits: CPU seconds, address space, file size, processes;
- in its own process group, killed as a whole when a request times out (the next request
  starts a fresh worker).

Nothing the worker sends is executed: responses are JSON with arrays as bytes, decoded by
:func:`instructor.grading.worker.decode_array`.
"""

from __future__ import annotations

import json
import os
import pwd
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: The worker script (run by path: the sandbox imports nothing of the instructor package).
WORKER_SCRIPT = Path(__file__).with_name("worker.py")

#: The account student code runs as when the grader is root.
DEFAULT_USER = "nobody"
USER_VARIABLE = "MINI_TORCH_GRADER_USER"

#: Resource limits of a worker: CPU seconds, bytes of address space, bytes per file, processes.
CPU_SECONDS = 600
ADDRESS_SPACE = 4 * 2**30
FILE_SIZE = 16 * 2**20
PROCESSES = 512

#: Seconds a worker may take to start and import numpy before its first answer counts as a hang.
START_GRACE = 30.0
#: Seconds beyond a request's limit before the worker is killed (its own alarm comes first).
KILL_GRACE = 2.0

#: Environment variables a worker gets (nothing else from the grader's environment).
WORKER_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE")


class WorkerCrash(Exception):
    """The worker died or sent something that is not a response."""


class WorkerTimeout(Exception):
    """The worker did not answer within the limit and was killed."""


@dataclass(frozen=True)
class Identity:
    """Who a worker runs as: ``uid``/``gid`` to switch to, or ``None`` for the grader's own."""

    uid: int | None
    gid: int | None
    name: str


_IDENTITY: dict[str, tuple[Identity, str]] = {}


def _probe(uid: int, gid: int) -> str:
    """Empty when ``uid`` can run this Python and import numpy, else why not."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return "setpriv is missing"
    try:
        done = subprocess.run(
            [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--",
             sys.executable, "-I", "-c", "import numpy"],
            capture_output=True, text=True, timeout=60, check=False, cwd="/",
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    except (OSError, subprocess.SubprocessError) as error:
        return str(error)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit status {done.returncode}"
    return ""


def worker_identity() -> Identity:
    """``nobody`` (or ``$MINI_TORCH_GRADER_USER``) when the grader is root, else the grader.

    When that user cannot run the grader's Python with numpy (a Python installed under
    ``/root``, say), the worker runs as the grader and :func:`isolation_notes` says why.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return Identity(None, None, pwd.getpwuid(os.getuid()).pw_name)
    name = os.environ.get(USER_VARIABLE, DEFAULT_USER)
    if name not in _IDENTITY:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            _IDENTITY[name] = (Identity(None, None, "root"), f"there is no user {name}")
        else:
            problem = _probe(entry.pw_uid, entry.pw_gid)
            if problem:
                _IDENTITY[name] = (Identity(None, None, "root"),
                                   f"{name} cannot run {sys.executable} with numpy ({problem})")
            else:
                _IDENTITY[name] = (Identity(entry.pw_uid, entry.pw_gid, name), "")
    return _IDENTITY[name][0]


def identity_problem() -> str:
    """Why the worker does not run as the unprivileged user (empty when it does)."""
    worker_identity()
    name = os.environ.get(USER_VARIABLE, DEFAULT_USER)
    return _IDENTITY.get(name, (None, ""))[1]


_NETWORK: list[bool] = []


def network_isolation() -> bool:
    """Whether ``unshare -n`` works here (probed once)."""
    if not _NETWORK:
        unshare = shutil.which("unshare")
        works = False
        if unshare:
            try:
                works = subprocess.run([unshare, "-n", "true"], capture_output=True,
                                       timeout=10, check=False).returncode == 0
            except (OSError, subprocess.SubprocessError):
                works = False
        _NETWORK.append(works)
    return _NETWORK[0]


def isolation_notes() -> list[str]:
    """What the sandbox could not do on this machine (empty when fully isolated)."""
    notes = []
    identity = worker_identity()
    if identity.uid is None:
        why = identity_problem() or "the grader is not root"
        notes.append(
            f"not isolated: student code ran as {identity.name}, the grader's own user ({why}); "
            "it could read the grader's files"
        )
    if not network_isolation():
        notes.append("student code ran with network access (unshare -n is not available here)")
    return notes


def _limits(cpu_seconds: int) -> None:
    """Run in the child between fork and exec: system calls only, no imports, no locks."""
    for kind, value in ((resource.RLIMIT_CPU, cpu_seconds),
                        (resource.RLIMIT_AS, ADDRESS_SPACE),
                        (resource.RLIMIT_FSIZE, FILE_SIZE),
                        (resource.RLIMIT_NPROC, PROCESSES),
                        (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass  # a limit the platform does not allow lowering: the others still apply


def prepare_readable(path: Path) -> None:
    """Let the worker's user read (not write) ``path`` and everything under it."""
    for folder, _, files in os.walk(path):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


class Worker:
    """One worker process on one installed package; restarted after a crash or a timeout."""

    def __init__(self, site: Path, examples: Path, scratch: Path, *, sandboxed: bool = True,
                 cpu_seconds: int = CPU_SECONDS) -> None:
        self.site, self.examples, self.scratch = site, examples, scratch
        self.sandboxed = sandboxed
        self.cpu_seconds = cpu_seconds
        self.process: subprocess.Popen | None = None
        self.responses = None
        self.buffer = b""
        self.next_id = 0
        self.starts = 0
        self.answered = 0  # responses since the last start

    def _command(self, fd: int) -> list[str]:
        command = [sys.executable, "-I", "-B", str(WORKER_SCRIPT), str(self.site),
                   str(self.examples), str(fd)]
        if not self.sandboxed:
            return command
        identity = worker_identity()
        if identity.uid is not None:
            setpriv = shutil.which("setpriv")
            if setpriv:
                command = [setpriv, f"--reuid={identity.uid}", f"--regid={identity.gid}",
                           "--clear-groups", "--", *command]
        if network_isolation():
            command = [shutil.which("unshare") or "unshare", "-n", "--", *command]
        return command

    def start(self) -> None:
        self.scratch.mkdir(parents=True, exist_ok=True)
        identity = worker_identity()
        if self.sandboxed and identity.uid is not None:
            os.chown(self.scratch, identity.uid, identity.gid)
        read_fd, write_fd = os.pipe()
        env = {k: v for k, v in os.environ.items() if k in WORKER_ENV}
        env.update(HOME=str(self.scratch), TMPDIR=str(self.scratch), MPLBACKEND="Agg",
                   MPLCONFIGDIR=str(self.scratch), OMP_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
        user_switch = (self.sandboxed and identity.uid is not None
                       and shutil.which("setpriv") is None)
        cpu = self.cpu_seconds
        try:
            self.process = subprocess.Popen(
                self._command(write_fd), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, cwd=self.scratch, env=env, pass_fds=(write_fd,),
                start_new_session=True, preexec_fn=lambda: _limits(cpu),
                user=identity.uid if user_switch else None,
                group=identity.gid if user_switch else None,
                extra_groups=[] if user_switch else None,
            )
        finally:
            os.close(write_fd)
        self.responses = read_fd
        self.buffer = b""
        self.starts += 1
        self.answered = 0

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if self.process.stdin:
            try:
                self.process.stdin.close()
            except OSError:
                pass
        os.close(self.responses)
        self.process = None

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimeout()
            ready, _, _ = select.select([self.responses], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.responses, 1 << 20)
            if not chunk:
                raise WorkerCrash("the worker process ended (it crashed or was killed)")
            self.buffer += chunk
            if len(self.buffer) > 256 * 2**20:
                raise WorkerCrash("the worker sent more than 256 MB")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def request(self, steps: list[dict], outputs: list[str], limit: float) -> dict:
        """Run one request; return the worker's response (``ok``, ``outputs`` or ``error``).

        Raises:
            WorkerTimeout: no answer within ``limit`` (plus a grace); the worker is killed.
            WorkerCrash: the worker died or answered with something malformed; it is stopped.
        """
        fresh = self.process is None
        if fresh:
            self.start()
        self.next_id += 1
        message = {"id": self.next_id, "limit": limit, "steps": steps, "outputs": outputs}
        deadline = time.monotonic() + limit + KILL_GRACE + (START_GRACE if fresh else 0.0)
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
            while True:
                response = json.loads(self._read_line(deadline))
                if isinstance(response, dict) and response.get("id") == self.next_id:
                    self.answered += 1
                    return response
        except WorkerTimeout:
            never = self.answered == 0
            self.stop()
            raise WorkerTimeout("never answered" if never else "") from None
        except (OSError, ValueError, WorkerCrash) as error:
            self.stop()
            raise WorkerCrash(str(error) or "the worker stopped answering") from error
