"""The jail: where student code runs, one per submission, and the worker process inside it.

:class:`Worker` starts :mod:`instructor.grading.worker` as a script on one installed package (a
``site`` folder holding ``mini_torch``) and sends it requests. How it is shut in depends on what
the machine offers (:func:`choose_jail` probes once, best first):

``bubblewrap`` (Linux with user namespaces: ``bwrap``, the Debian/Ubuntu package ``bubblewrap``)
    new user, PID, IPC, network, UTS, cgroup and mount namespaces, no capabilities, no further
    namespaces; when the grader is root, student code also runs as a uid of the submission's
    own (see :func:`bubblewrap_command`), so the process limit is the jail's alone. The root
    filesystem holds only the Python runtime and the grading environment's site-packages
    (read-only; any ``mini_torch`` or ``instructor`` there hidden), the shared libraries, the
    worker script, the submission's own install (read-only, at ``/jail/site`` and
    ``/jail/examples``) and a private tmpfs ``/tmp``. Nothing of the repository, the reference,
    the kit, the staff folder or another submission exists inside. Nothing the jail started
    outlives its worker: the jail's processes all run as the submission's uid, and every one of
    them is killed when the worker stops (for a grader that is not root, the PID namespace dies
    with bwrap).
``uid`` (root without user namespaces, as in Gradescope's container)
    ``setpriv`` to a uid of the submission's own (:data:`UID_BASE` + its number in the batch,
    ``MINI_TORCH_GRADER_UID_BASE`` to move the range; Gradescope's ``setup.sh`` starts it at
    its ``minitorch-student``), ``unshare -n`` where it works. The files of the grader are shut
    by permissions: :func:`choose_jail` refuses when that uid can read the kit or the
    reference. Every process of the uid is killed when a worker stops (:func:`sweep_uid`).
``none`` (macOS, Windows, Linux without either)
    no isolation at all: :func:`choose_jail` refuses unless told ``unisolated=True``, and every
    report then says so on its first line.

In all three: resource limits (CPU seconds, address space, processes, file size, open files),
the worker in its own session, killed as a whole when a request times out (the next request
starts a fresh worker). Nothing the worker sends is executed: responses are JSON with arrays as
bytes, decoded by :func:`instructor.grading.worker.decode_array`.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from instructor.repo import InstructorError

try:
    import resource
except ImportError:  # Windows: no workers there (choose_jail refuses), the other tools run
    resource = None

#: The worker script (run by path: the jail imports nothing of the instructor package).
WORKER_SCRIPT = Path(__file__).with_name("worker.py")

#: ``MINI_TORCH_JAIL=bubblewrap|uid|none`` chooses the jail instead of the probe (the tests and
#: the simulated Gradescope run use it to try a path this machine would not pick).
JAIL_VARIABLE = "MINI_TORCH_JAIL"
KINDS = ("bubblewrap", "uid", "none")
#: The first uid of the ``uid`` jail, and the variable that moves it.
UID_BASE = 61000
UID_VARIABLE = "MINI_TORCH_GRADER_UID_BASE"

#: Resource limits of a worker: CPU seconds, bytes of address space, bytes per file, processes,
#: open files; bytes of the jail's /tmp.
CPU_SECONDS = 600
ADDRESS_SPACE = 4 * 2**30
FILE_SIZE = 16 * 2**20
PROCESSES = 64
OPEN_FILES = 256
TMP_BYTES = 64 * 2**20

#: The variable that tells a jailed worker its process limit (it sets it itself, inside).
PROCESSES_VARIABLE = "MINI_TORCH_WORKER_PROCESSES"

#: Seconds a worker may take to start and import numpy before its first answer counts as a hang.
START_GRACE = 30.0
#: Seconds beyond a request's limit before the worker is killed (its own alarm comes first).
KILL_GRACE = 2.0

#: Environment variables a worker gets from the grader's environment (nothing else).
WORKER_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE")

#: Where the install and the worker script appear inside a bubblewrap jail.
JAIL_SITE, JAIL_EXAMPLES, JAIL_WORKER = "/jail/site", "/jail/examples", "/jail/worker.py"
#: The uid (and gid) student code has inside a bubblewrap jail.
JAIL_UID = 65534

#: What is hidden in the grading environment's site-packages inside a jail (by the start of a
#: name, ``-`` read as ``_``): any Mini-Torch, the instructor tools, editable-install hooks.
HIDDEN_PREFIXES = ("mini_torch", "_mini_torch", "instructor", "__editable__")


class WorkerCrash(Exception):
    """The worker died or sent something that is not a response."""


class WorkerTimeout(Exception):
    """The worker did not answer within the limit and was killed."""


@dataclass(frozen=True)
class Jail:
    """How the workers of one submission are shut in: ``kind`` and, for ``uid``, its uid."""

    kind: str
    uid: int | None = None

    @property
    def isolated(self) -> bool:
        return self.kind != "none"

    def describe(self) -> str:
        """The report's first line about isolation."""
        if self.kind == "bubblewrap":
            return ("isolated: student code ran in a bubblewrap jail (its own user, PID, IPC, "
                    "network and mount namespaces; read-only runtime and submission; private /tmp)")
        if self.kind == "uid":
            return (f"isolated: student code ran as uid {self.uid}, a uid of this submission's "
                    "own, without network where possible; the grader's files are unreadable to it")
        return ("NOT ISOLATED: student code ran as the grader's own user, with access to "
                "everything that user can read and write (--unisolated); this grade is not a "
                "grade of record")


@dataclass(frozen=True)
class JailPlan:
    """The jail kind chosen for a grading run; :meth:`for_submission` gives each its jail."""

    kind: str
    why: str = ""  # why a better kind was not available

    def for_submission(self, index: int) -> Jail:
        if self.kind == "uid":
            return Jail("uid", uid_base() + index)
        if self.kind == "bubblewrap":
            return Jail("bubblewrap", _root_uid(index))
        return Jail(self.kind)


def uid_base() -> int:
    value = os.environ.get(UID_VARIABLE, "")
    return int(value) if value.isdigit() else UID_BASE


def _root_uid(index: int) -> int | None:
    """The submission's own uid when the grader is root (else None: the grader's own)."""
    return uid_base() + index if hasattr(os, "geteuid") and os.geteuid() == 0 else None


# --- what exists inside a bubblewrap jail ------------------------------------------------------


def _hidden(name: str) -> bool:
    return name.lower().replace("-", "_").startswith(HIDDEN_PREFIXES)


def _site_packages() -> list[str]:
    paths = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    return sorted(p for p in paths if os.path.isdir(p))


def runtime_mounts() -> list[str]:
    """bwrap arguments that make the Python runtime and the grading environment exist, read-only.

    The base interpreter's own site-packages are hidden when the grader runs in a virtualenv
    (only the virtualenv's count), and so is any ``mini_torch`` or ``instructor`` in the
    grading environment's site-packages.
    """
    args: list[str] = []
    for folder in ("/usr/lib", "/usr/lib64", "/usr/lib32"):
        if os.path.isdir(folder) and not os.path.islink(folder):
            args += ["--ro-bind", folder, folder]
    for folder in ("/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    for prefix in sorted(prefixes):
        if prefix not in ("/usr", "/"):
            args += ["--ro-bind", prefix, prefix]
    executable = os.path.realpath(sys.executable)
    if not any(executable.startswith(p.rstrip("/") + "/") for p in prefixes | {"/usr/lib"}):
        args += ["--ro-bind", executable, executable]
    environment = _site_packages()
    if os.path.realpath(sys.prefix) != os.path.realpath(sys.base_prefix):
        base = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})
        for path in sorted({base["purelib"], base["platlib"]} - set(environment)):
            if os.path.isdir(path):
                args += ["--tmpfs", path]
    for folder in environment:
        for name in sorted(os.listdir(folder)):
            if not _hidden(name):
                continue
            path = os.path.join(folder, name)
            if os.path.isdir(path) and not os.path.islink(path):
                args += ["--tmpfs", path]
            else:
                args += ["--ro-bind", "/dev/null", path]
    return args


def _folders_for(destinations: list[str]) -> list[str]:
    """bwrap arguments that create the folders above ``destinations``, mode 0755.

    (bwrap makes missing parents 0700, which the unprivileged uid inside could not cross.)
    """
    folders = set()
    for destination in destinations:
        parent = os.path.dirname(destination.rstrip("/"))
        while parent not in ("", "/"):
            folders.add(parent)
            parent = os.path.dirname(parent)
    args = []
    for folder in sorted(folders - {"/tmp"}, key=lambda f: (f.count("/"), f)):
        args += ["--perms", "0755", "--dir", folder]
    return args


def bubblewrap_command(site: str, examples: str, fd: int, uid: int | None = None) -> list[str]:
    """The bwrap command line that runs the worker on ``site`` in a fresh jail.

    A grader that is not root runs one bwrap: a new user namespace (``--uid 65534``) and the
    others. Root runs two: the outer bwrap builds the mounts and every namespace but the user's
    (real root is needed for that), then ``setpriv`` switches to ``uid`` (the submission's
    own, so that the kernel counts its processes apart from root's and everyone else's) and the
    inner bwrap adds the user namespace, drops every capability and forbids further ones.
    """
    bwrap = shutil.which("bwrap") or "bwrap"
    mounts = runtime_mounts()
    binds = ["--ro-bind", str(WORKER_SCRIPT), JAIL_WORKER,
             "--ro-bind", site, JAIL_SITE, "--ro-bind", examples, JAIL_EXAMPLES]
    nested = []
    if uid is not None:
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        binds += ["--ro-bind", setpriv, setpriv, "--ro-bind", bwrap, bwrap]
        nested = [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--",
                  bwrap, "--bind", "/", "/"]
    destinations = [mounts[i + (1 if arg == "--tmpfs" else 2)] for i, arg in enumerate(mounts)
                    if arg in ("--ro-bind", "--tmpfs", "--symlink")] + binds[2::3]
    user = ["--unshare-user", "--uid", str(JAIL_UID), "--gid", str(JAIL_UID),
            "--disable-userns", "--cap-drop", "ALL", "--die-with-parent"]
    outer = [
        bwrap, "--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
        "--unshare-cgroup", "--hostname", "jail", "--die-with-parent", "--new-session",
        *(user if uid is None else []),
        # /tmp first: a runtime that lives under /tmp (a virtualenv) is then bound inside it.
        "--size", str(TMP_BYTES), "--perms", "1777", "--tmpfs", "/tmp",
        *_folders_for([d for d in destinations if d.startswith("/")]),
        *mounts, *binds,
        "--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp", "--",
    ]
    if nested:
        nested = [*nested, *user, "--chdir", "/tmp", "--"]
    return [*outer, *nested, sys.executable, "-I", "-B", JAIL_WORKER, JAIL_SITE, JAIL_EXAMPLES,
            str(fd)]


# --- choosing the jail -------------------------------------------------------------------------


def _run(command: list[str], **kwargs) -> tuple[bool, str]:
    """(whether ``command`` exited 0, the last line of what it printed on failure)."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False,
                              cwd="/", env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                              **kwargs)
    except (OSError, subprocess.SubprocessError) as error:
        return False, str(error)
    if done.returncode == 0:
        return True, ""
    lines = (done.stderr or done.stdout).strip().splitlines()
    return False, lines[-1] if lines else f"exit status {done.returncode}"


_PROBED: dict[str, tuple[bool, str]] = {}

_PROBE_CODE = "import numpy, scipy.special, matplotlib"


def _probe_bubblewrap() -> tuple[bool, str]:
    if "bubblewrap" not in _PROBED:
        if not sys.platform.startswith("linux"):
            _PROBED["bubblewrap"] = (False, f"bubblewrap is Linux only (this is {sys.platform})")
        elif shutil.which("bwrap") is None:
            _PROBED["bubblewrap"] = (False, "bwrap is not installed (apt-get install bubblewrap)")
        else:
            folder = str(WORKER_SCRIPT.parent)
            command = bubblewrap_command(folder, folder, 0, _root_uid(0))
            command = [*command[:len(command) - 4], "-c", _PROBE_CODE]
            works, why = _run(command)
            _PROBED["bubblewrap"] = (works, "" if works else f"bwrap does not run here: {why}")
    return _PROBED["bubblewrap"]


def _setpriv(uid: int) -> list[str]:
    return [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}",
            "--clear-groups", "--"]


def _probe_uid(private: Iterable[Path]) -> tuple[bool, str]:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False, "a uid of its own needs a grader running as root"
    if shutil.which("setpriv") is None:
        return False, "setpriv is missing (util-linux)"
    uid = uid_base()
    works, why = _run([*_setpriv(uid), sys.executable, "-I", "-c", _PROBE_CODE])
    if not works:
        return False, f"uid {uid} cannot run {sys.executable} with numpy ({why})"
    readable = []
    for path in private:
        code = ("import os, sys\nfor top, dirs, files in os.walk(sys.argv[1]):\n"
                "    for name in files:\n"
                "        try:\n            open(os.path.join(top, name), 'rb').close()\n"
                "        except OSError:\n            continue\n"
                "        print(os.path.join(top, name)); raise SystemExit(1)\n")
        ok, found = _run([*_setpriv(uid), sys.executable, "-I", "-c", code, str(path)])
        if not ok:
            readable.append(found or str(path))
    if readable:
        return False, (f"uid {uid} can read {readable[0]}: make the grader's files unreadable "
                       "to other users (chmod -R go-rwx on the repository or kit), or install "
                       "bubblewrap")
    return True, ""


def choose_jail(*, unisolated: bool = False, private: Iterable[Path] = ()) -> JailPlan:
    """The best jail this machine offers (see the module docstring).

    Args:
        unisolated: accept a run without any isolation when there is no jail.
        private: folders student code must not read (the kit, the repository's stages); the
            ``uid`` jail is refused when its uid can read a file in them.

    Raises:
        InstructorError: no jail is possible and ``unisolated`` is False; the message says how
            to get one on this platform.
    """
    if os.name != "posix":
        raise InstructorError(
            "grading runs its workers on Linux (a jail) or macOS (--unisolated); on Windows, "
            "grade inside WSL 2 or the Gradescope image under Docker (docs/instructor.md)")
    forced = os.environ.get(JAIL_VARIABLE, "")
    if forced and forced not in KINDS:
        raise InstructorError(f"{JAIL_VARIABLE}={forced}: expected one of {', '.join(KINDS)}")
    reasons = []
    if forced in ("", "bubblewrap"):
        works, why = _probe_bubblewrap()
        if works:
            return JailPlan("bubblewrap")
        reasons.append(why)
    if forced in ("", "uid"):
        key = "uid " + " ".join(sorted(str(p) for p in private)) + f" {uid_base()}"
        if key not in _PROBED:  # the command line and the batch both ask: probe once
            _PROBED[key] = _probe_uid(private)
        works, why = _PROBED[key]
        if works:
            return JailPlan("uid", "; ".join(reasons))
        reasons.append(why)
    if unisolated or forced == "none":
        if not unisolated:
            raise InstructorError(f"{JAIL_VARIABLE}=none needs --unisolated")
        return JailPlan("none", "; ".join(reasons))
    raise InstructorError(
        "no jail for student code on this machine (" + "; ".join(reasons) + "). On Linux "
        "install bubblewrap (apt-get install bubblewrap); elsewhere grade in the Gradescope "
        "image under Docker (docs/instructor.md). --unisolated grades anyway, with every "
        "report saying the run was not isolated")


# --- the worker --------------------------------------------------------------------------------


def _limits(cpu_seconds: int, processes: int | None) -> None:
    """Run in the child between fork and exec: system calls only, no imports, no locks.

    ``processes`` limits the processes of the uid that runs the command (the ``uid`` jail's);
    a bubblewrap jail's worker sets that limit itself, inside (a limit set here would count
    the grader's own processes, or none: root's are exempt).
    """
    limits = [(resource.RLIMIT_CPU, cpu_seconds), (resource.RLIMIT_AS, ADDRESS_SPACE),
              (resource.RLIMIT_FSIZE, FILE_SIZE), (resource.RLIMIT_NOFILE, OPEN_FILES),
              (resource.RLIMIT_CORE, 0)]
    if processes is not None:
        limits.append((resource.RLIMIT_NPROC, processes))
    for kind, value in limits:
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass  # a limit the platform does not allow lowering: the others still apply


def _uid_of(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def sweep_uid(uid: int) -> None:
    """Kill every process of ``uid`` (a ``uid`` jail's), until none is left."""
    for _ in range(200):
        found = [int(p) for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid]
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)


def _network_isolation() -> bool:
    if "unshare" not in _PROBED:
        unshare = shutil.which("unshare")
        _PROBED["unshare"] = _run([unshare, "-n", "true"]) if unshare else (False, "")
    return _PROBED["unshare"][0]


def share_with_jail(folder: Path, jail: Jail) -> None:
    """Let the submission's own uid read ``folder`` (and nothing of another submission's).

    The files stay the grader's (root) and become readable to the submission's own group
    only; a jail without a uid of its own (the grader is not root) needs no change.
    """
    if jail.uid is None:
        return
    for current, _, files in os.walk(folder):
        os.chown(current, 0, jail.uid)
        os.chmod(current, 0o750)
        for name in files:
            os.chown(os.path.join(current, name), 0, jail.uid)
            os.chmod(os.path.join(current, name), 0o640)


class Worker:
    """One worker process on one installed package; restarted after a crash or a timeout.

    ``jail`` None runs the worker as the grader (the oracle: the grader's own reference).
    """

    def __init__(self, site: Path, examples: Path, scratch: Path, *, jail: Jail | None = None,
                 cpu_seconds: int = CPU_SECONDS) -> None:
        self.site, self.examples, self.scratch = site, examples, scratch
        self.jail = jail
        self.cpu_seconds = cpu_seconds
        self.process: subprocess.Popen | None = None
        self.responses = None
        self.buffer = b""
        self.next_id = 0
        self.starts = 0
        self.answered = 0  # responses since the last start

    @property
    def paths(self) -> tuple[str, str]:
        """(site, examples) as the worker sees them: what its error frames name."""
        if self.jail is not None and self.jail.kind == "bubblewrap":
            return JAIL_SITE, JAIL_EXAMPLES
        return str(self.site), str(self.examples)

    def _command(self, fd: int) -> list[str]:
        kind = self.jail.kind if self.jail is not None else "none"
        if kind == "bubblewrap":
            return bubblewrap_command(str(self.site), str(self.examples), fd, self.jail.uid)
        command = [sys.executable, "-I", "-B", str(WORKER_SCRIPT), str(self.site),
                   str(self.examples), str(fd)]
        if kind == "uid":
            command = _setpriv(self.jail.uid) + command
            if _network_isolation():
                command = [shutil.which("unshare") or "unshare", "-n", "--", *command]
        return command

    def start(self) -> None:
        self.scratch.mkdir(parents=True, exist_ok=True)
        if self.jail is not None and self.jail.uid is not None:
            os.chown(self.scratch, self.jail.uid, self.jail.uid)
            os.chmod(self.scratch, 0o700)
        home = "/tmp" if self.jail is not None and self.jail.kind == "bubblewrap" \
            else str(self.scratch)
        read_fd, write_fd = os.pipe()
        env = {k: v for k, v in os.environ.items() if k in WORKER_ENV}
        env.update(HOME=home, TMPDIR=home, MPLBACKEND="Agg", MPLCONFIGDIR=home,
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                   PYTHONHASHSEED="0")
        if self.jail is not None and self.jail.isolated:
            env[PROCESSES_VARIABLE] = str(PROCESSES)
        cpu = self.cpu_seconds
        processes = PROCESSES if self.jail is not None and self.jail.kind == "uid" else None
        try:
            self.process = subprocess.Popen(
                self._command(write_fd), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, cwd=self.scratch, env=env, pass_fds=(write_fd,),
                start_new_session=True, preexec_fn=lambda: _limits(cpu, processes),
            )
        finally:
            os.close(write_fd)
        self.responses = read_fd
        self.buffer = b""
        self.starts += 1
        self.answered = 0

    def stop(self) -> None:
        """End the worker and everything it started (the whole jail)."""
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
        if self.jail is not None and self.jail.uid is not None:
            sweep_uid(self.jail.uid)  # what left the worker's session (setsid, double fork)
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
