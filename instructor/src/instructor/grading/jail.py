"""The jail: where student code runs, one per submission, and the worker processes inside it.

:class:`Worker` starts :mod:`instructor.grading.worker` (a copy of its own, in the install's
folder) on one installed package and sends it requests. How it is shut in depends on what the
machine offers (:func:`choose_jail` probes once per run, best first, and retries a failed probe
once):

``bubblewrap`` (Linux with user namespaces: ``bwrap``, the Debian/Ubuntu package ``bubblewrap``)
    new user, PID, IPC, network, UTS, cgroup and mount namespaces, no capabilities, no further
    namespaces; when the grader is root, student code also runs as a uid of the submission's
    own (see :func:`bubblewrap_command`), so the process limit is the jail's alone. The root
    filesystem (read-only) holds only the Python runtime (the interpreter as it really is, its
    links resolved, and its shared libraries) and of the grading environment's site-packages only
    what the stages may use (:func:`allowed_entries`), the submission's own install and the
    worker's copy (at ``/jail``), a private ``/tmp`` and ``/dev/shm``, both capped. Nothing of
    the repository, the reference, the kit, the staff folder or another submission exists
    inside, and nothing the jail started outlives it.
``uid`` (root without user namespaces, as in Gradescope's container)
    ``setpriv`` to a uid of the submission's own (from the run's uid range,
    :mod:`instructor.grading.uids`), ``unshare -n`` where it works. The files of the grader are
    shut by permissions: :func:`choose_jail` refuses when that uid can read the kit or the
    reference. Every process of the uid is killed when a worker stops, and after the
    submission everything of the uid in the machine's shared folders is removed
    (:func:`instructor.grading.resources.sweep_uid_traces`).
``none`` (macOS, Windows, Linux without either)
    no isolation at all: :func:`choose_jail` refuses unless told ``unisolated=True``, and every
    report then says so on its first line.

In all three: per-process limits (address space, processes, file size, open files, a CPU
backstop), the seccomp filter the worker installs in itself (no System V IPC, no POSIX
message queues, no file locks), and, where the grader may make one, a cgroup per jail
(:mod:`instructor.grading.resources`: memory with tmpfs, processes, an equal CPU share). A
check's time limit is CPU time of the jail's processes together; a generous wall-clock
backstop remains, and a worker that hits it raises :class:`WorkerBackstop`, the grader's
problem, never the student's. Nothing the worker sends is executed: responses are JSON with
arrays as bytes, read with bounds on their size and their number of values; one that cannot be
read is :class:`UnreadableAnswer`, the student's failure.
"""

from __future__ import annotations

import collections
import functools
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading.resources import (
    Cgroup,
    Cgroups,
    ProcessMeter,
    namespace_of,
    sweep_uid_traces,
    uid_of,
)
from instructor.grading.worker import MAX_RESPONSE_BYTES, WATCHDOG_EXIT
from instructor.stages.dependencies import distribution_names, newest_stage_dependencies
from instructor.stages.repo import InstructorError

try:
    import resource
except ImportError:  # Windows: no workers there (choose_jail refuses), the other tools run
    resource = None

#: The worker script; each install gets a copy of its own (no file shared between jails).
WORKER_SCRIPT = Path(__file__).with_name("worker.py")

#: ``MINI_TORCH_JAIL=bubblewrap|uid|none`` chooses the jail instead of the probe (the tests and
#: the simulated Gradescope run use it to try a path this machine would not pick).
JAIL_VARIABLE = "MINI_TORCH_JAIL"
KINDS = ("bubblewrap", "uid", "none")

#: Per-process limits of a worker: CPU seconds (a backstop: the check limits are the jail's
#: CPU time), bytes of address space, bytes per file, processes, open files.
CPU_SECONDS = 600
ADDRESS_SPACE = 4 * 2**30
FILE_SIZE = 16 * 2**20
PROCESSES = 64
OPEN_FILES = 256
#: Bytes of the jail's /tmp and /dev/shm.
TMP_BYTES = 64 * 2**20
SHM_BYTES = 16 * 2**20

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
#: Values (array descriptions, list items, strings, numbers) an answer may hold: a real answer
#: holds a few hundred (its arrays travel as one base64 string each). Counted on the raw line
#: before it is parsed, so a line of millions of tiny values costs the grader no memory.
MAX_ANSWER_VALUES = 100_000
#: Bytes of a worker's standard error kept for the staff's log.
LOG_BYTES = 64 * 2**10

#: Libraries every worker imports before any clock starts (what the stages may use): the
#: grader pays for them, not the student's time limit.
PRELOAD = ("numpy", "scipy.special", "numexpr", "matplotlib", "matplotlib.pyplot",
           "matplotlib.figure", "matplotlib.colors", "matplotlib.ticker")

#: Environment variables a worker gets from the grader's environment (nothing else).
WORKER_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE")

#: Where an install appears inside a bubblewrap jail: /jail/site, /jail/examples and
#: /jail/worker.py are the folder's site, examples and worker.py.
JAIL_ROOT = "/jail"
JAIL_SITE, JAIL_EXAMPLES, JAIL_WORKER = "/jail/site", "/jail/examples", "/jail/worker.py"
#: The uid (and gid) student code has inside a bubblewrap jail.
JAIL_UID = 65534

#: What is hidden in the grading environment's site-packages inside a jail (by the start of a
#: name, ``-`` read as ``_``): any Mini-Torch, the instructor tools, editable-install hooks.
HIDDEN_PREFIXES = ("mini_torch", "_mini_torch", "instructor", "__editable__")


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


@dataclass(frozen=True)
class Jail:
    """How the workers of one submission are shut in: ``kind``, its uid, and its cgroup."""

    kind: str
    uid: int | None = None
    cgroup: Cgroup | None = field(default=None, compare=False)
    limits: str = ""  # the resource limits in words (cgroups, or per process)
    #: the distributions the stage may use (default: :func:`default_distributions`)
    distributions: tuple[str, ...] = ()

    @property
    def isolated(self) -> bool:
        return self.kind != "none"

    @property
    def summary(self) -> str:
        """The gradebook's words: ``isolated (bubblewrap, cgroup)``, ``isolated (uid, no
        cgroup)`` or ``NOT ISOLATED``."""
        if not self.isolated:
            return "NOT ISOLATED"
        return f"isolated ({self.kind}, {'cgroup' if self.cgroup is not None else 'no cgroup'})"

    def describe(self) -> str:
        """The report's first line about isolation and limits."""
        limits = f"; limits: {self.limits}" if self.limits else ""
        if self.kind == "bubblewrap":
            return ("isolated: student code ran in a bubblewrap jail (its own user, PID, IPC, "
                    "network and mount namespaces; read-only runtime and submission; private, "
                    f"capped /tmp and /dev/shm){limits}")
        if self.kind == "uid":
            return (f"isolated: student code ran as uid {self.uid}, a uid of this submission's "
                    "own, without network where possible; the grader's files are unreadable to "
                    f"it{limits}")
        return ("NOT ISOLATED: student code ran as the grader's own user, with access to "
                "everything that user can read and write (--unisolated); this grade is not a "
                "grade of record")


@dataclass
class JailPlan:
    """The jail kind chosen for a grading run; :meth:`for_submission` gives each its jail.

    ``uids``: the run's uid range (root only); ``cgroups``: the run's cgroup folder (root,
    where the machine allows it), or None.
    """

    kind: str
    why: str = ""  # why a better kind was not available
    uids: object = None  # instructor.grading.uids.UidRange
    cgroups: Cgroups | None = None
    #: the distributions the stage may use (default: :func:`default_distributions`)
    distributions: tuple[str, ...] = ()

    def limits(self) -> str:
        """The resource limits that hold for each jail, in words (the staff's first lines)."""
        rlimits = (f"{ADDRESS_SPACE // 2**30} GiB of address space, {FILE_SIZE // 2**20} MiB "
                   f"a file, {OPEN_FILES} open files and {CPU_SECONDS} CPU seconds a process, "
                   f"{PROCESSES} processes of its uid")
        if self.cgroups is not None:
            return f"{self.cgroups.describe()}; per process: {rlimits}"
        tmp = (f"private /tmp of {TMP_BYTES // 2**20} MiB and /dev/shm of "
               f"{SHM_BYTES // 2**20} MiB" if self.kind == "bubblewrap" else
               "the machine's /tmp and /dev/shm, swept after each submission")
        return (f"per process only, no cgroup ({_no_cgroup()}): {rlimits}; "
                "the check limits count the CPU time of the jail's processes read from /proc; "
                f"{tmp}; NOT held: a memory limit for the jail as a whole (each process may "
                "use its own address space), a CPU share beside the other jails")

    def describe(self) -> str:
        """What the run's jails are, in one line (without limits)."""
        uid = self.uids.uid(0) if self.uids is not None and self.kind == "uid" else None
        return Jail(self.kind, uid).describe()

    def for_submission(self, index: int) -> Jail:
        uid = None
        if self.uids is not None and self.kind in ("uid", "bubblewrap"):
            uid = self.uids.uid(index)
        cgroup = None
        if self.cgroups is not None and self.kind != "none":
            cgroup = self.cgroups.create(f"jail-{index}", PROCESSES)
        return Jail(self.kind, uid, cgroup, self.limits() if self.kind != "none" else "",
                    self.distributions)

    def close(self) -> None:
        if self.cgroups is not None:
            self.cgroups.close()
        if self.uids is not None:
            self.uids.release()


def _no_cgroup() -> str:
    """Why a run has no cgroups: the reason :meth:`Cgroups.probe` found none."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "the grader is not root"
    return "no writable cgroup hierarchy here, as in a container"


# --- what exists inside a bubblewrap jail ------------------------------------------------------


def _hidden(name: str) -> bool:
    return name.lower().replace("-", "_").startswith(HIDDEN_PREFIXES)


def default_distributions() -> tuple[str, ...]:
    """The distributions a stage may use when no kit says (the runtime dependencies of the
    newest stage of the repository these tools run from); with what they require, all a
    jail's site-packages hold. A grading run passes its kit's own
    (:attr:`instructor.grading.kit.Kit.distributions`)."""
    return distribution_names(newest_stage_dependencies())


def _allowed(distributions: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(distributions) or default_distributions()
#: Entries of a site-packages folder kept whoever owns them (caches of the kept modules).
_ALWAYS_KEPT = frozenset({"__pycache__"})


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def allowed_entries(folder: str, distributions: tuple[str, ...] = ()) -> frozenset[str]:
    """The entries of the site-packages ``folder`` that belong to an allowed distribution or
    to one they require (read from the installed metadata, extras left out): the top-level
    modules, packages, ``.libs`` folders and ``.dist-info`` of the stage's dependencies
    (``distributions``, default: :func:`default_distributions`: numpy, scipy, numexpr,
    matplotlib) and theirs. Everything else (PyTorch, JAX, the test tools, pip) is absent
    inside a bubblewrap jail, whatever spelling an import uses. Read once per folder and
    run: every worker's start builds its mounts from it."""
    return _allowed_entries(folder, _allowed(distributions))


@functools.lru_cache(maxsize=8)
def _allowed_entries(folder: str, distributions: tuple[str, ...]) -> frozenset[str]:
    from importlib import metadata

    found = {_normal(d.metadata["Name"] or ""): d
             for d in metadata.distributions(path=[folder]) if d.metadata["Name"]}
    wanted, kept, seen = [_normal(n) for n in distributions], set(_ALWAYS_KEPT), set()
    while wanted:
        name = wanted.pop()
        if name in seen or name not in found:
            continue
        seen.add(name)
        distribution = found[name]
        for requirement in distribution.requires or []:
            spec, _, marker = requirement.partition(";")
            name = re.match(r"\s*([A-Za-z0-9_.-]*)", spec).group(1)
            if name and "extra" not in marker:
                wanted.append(_normal(name))
        for file in distribution.files or []:  # the RECORD: modules, .libs, its dist-info
            top = file.parts[0] if file.parts else ""
            if top and top != "..":
                kept.add(top)
    return frozenset(kept)


def jail_absent_modules(distributions: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What a worker refuses to import in every jail: the grading environment's modules no
    stage may use (:func:`absent_modules`), the prohibited libraries installed or not, and the
    grader's own package."""
    return _jail_absent_modules(_allowed(distributions))


@functools.lru_cache(maxsize=4)
def _jail_absent_modules(distributions: tuple[str, ...]) -> tuple[str, ...]:
    from instructor.grading.scan import PROHIBITED, TEST_MACHINERY

    absent = set(absent_modules(distributions=distributions))
    return tuple(sorted(absent | PROHIBITED | TEST_MACHINERY | {"instructor"}))


def absent_modules(folders: Iterable[str] | None = None,
                   distributions: tuple[str, ...] = ()) -> list[str]:
    """The top-level modules of the grading environment a bubblewrap jail does not hold
    (what :func:`allowed_entries` leaves out, ``.py`` and ``.so`` suffixes cut)."""
    names = set()
    for folder in folders if folders is not None else _site_packages():
        kept = allowed_entries(folder, distributions)
        for entry in os.listdir(folder):
            if entry in kept or entry.endswith((".dist-info", ".egg-info", ".pth", ".libs")):
                continue
            names.add(entry.split(".")[0])
    return sorted(n for n in names if n.isidentifier())


def _site_packages() -> list[str]:
    paths = {sysconfig.get_paths()[key] for key in ("purelib", "platlib")}
    return sorted(p for p in paths if os.path.isdir(p))


def _under(path: str, folders: Iterable[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


def _link_chain(path: str) -> tuple[list[tuple[str, str]], str]:
    """([(link, its target), ...] met on the way from ``path`` to its file, the file).

    Each path on the way has its parent folders resolved first, so every link is named by a
    path that exists as such inside a jail that binds the resolved folders.
    """
    links, seen = [], set()
    current = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    while os.path.islink(current) and current not in seen:
        seen.add(current)
        target = os.readlink(current)
        links.append((current, target))
        joined = os.path.join(os.path.dirname(current), target)
        current = os.path.join(os.path.realpath(os.path.dirname(joined)),
                               os.path.basename(joined))
    return links, current


def _shared_libraries(executable: str) -> list[str]:
    """The resolved paths of the shared libraries ``executable`` loads (``ldd``), or none."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        done = subprocess.run([ldd, executable], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in done.stdout.splitlines():
        words = line.split()
        path = words[2] if len(words) >= 3 and words[1] == "=>" else words[0] if words else ""
        if path.startswith("/") and os.path.exists(path):
            found.append(os.path.realpath(path))
    return found


def runtime_mounts(distributions: tuple[str, ...] = ()) -> list[str]:
    """bwrap arguments that make the Python runtime and the grading environment exist, read-only.

    The shared libraries' folders (``/usr/lib`` and the ``/lib`` links), the installation of the
    interpreter and of the grading environment, and the interpreter itself as it really is: a
    virtualenv's ``bin/python`` is often a link into ``/usr/bin``, which is not bound, so every
    link on the way is made inside and the file it ends at is bound; libraries the interpreter
    loads from elsewhere (``ldd``) are bound one by one. The base interpreter's own
    site-packages are hidden when the grader runs in a virtualenv (only the virtualenv's count).
    The grading environment's site-packages hold only what :func:`allowed_entries` keeps:
    no ``mini_torch``, no ``instructor``, no library a stage may not use.
    """
    args: list[str] = []
    bound: list[str] = []
    for folder in ("/usr/lib", "/usr/lib64", "/usr/lib32"):
        if os.path.isdir(folder) and not os.path.islink(folder):
            args += ["--ro-bind", folder, folder]
            bound.append(folder)
    for folder in ("/lib", "/lib64", "/lib32", "/libx32"):
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
            bound.append(folder)
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
    for prefix in sorted(prefixes):
        if prefix not in ("/usr", "/", "/usr/local") and not _under(prefix, bound):
            args += ["--ro-bind", prefix, prefix]
            bound.append(prefix)
    links, executable = _link_chain(sys.executable)
    for link, target in links:
        if not _under(link, bound):
            args += ["--symlink", target, link]
    files = [executable, *_shared_libraries(executable)]
    for path in dict.fromkeys(files):
        if not _under(path, bound):
            args += ["--ro-bind", path, path]
            bound.append(path)
    environment = _site_packages()
    if os.path.realpath(sys.prefix) != os.path.realpath(sys.base_prefix):
        base = sysconfig.get_paths(vars={"base": sys.base_prefix, "platbase": sys.base_prefix})
        for path in sorted({base["purelib"], base["platlib"]} - set(environment)):
            if os.path.isdir(path) and _under(os.path.realpath(path), bound):
                args += ["--tmpfs", path]
    for folder in environment:
        # an empty site-packages, then what the stages may use bound into it one by one:
        # whatever else the grading environment holds (PyTorch, the test tools) is absent
        kept = [n for n in sorted(allowed_entries(folder, distributions)) if not _hidden(n)
                and os.path.lexists(os.path.join(folder, n))]
        args += ["--tmpfs", folder]
        for name in kept:
            path = os.path.join(folder, name)
            args += ["--ro-bind", path, path]
        args += ["--remount-ro", folder]
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
    for folder in sorted(folders - {"/tmp", "/dev"}, key=lambda f: (f.count("/"), f)):
        args += ["--perms", "0755", "--dir", folder]
    return args


def bubblewrap_command(install: str, fd: int, uid: int | None = None,
                       distributions: tuple[str, ...] = ()) -> list[str]:
    """The bwrap command line that runs the worker of the install folder ``install`` (its
    ``site``, ``examples`` and ``worker.py``, bound at ``/jail``) in a fresh jail.

    A grader that is not root runs one bwrap: a new user namespace (``--uid 65534``) and the
    others. Root runs two: the outer bwrap builds the mounts and every namespace but the user's
    (real root is needed for that), then ``setpriv`` switches to ``uid`` (the submission's
    own, so that the kernel counts its processes apart from root's and everyone else's) and the
    inner bwrap adds the user namespace, drops every capability and forbids further ones. The
    root filesystem is read-only; ``/tmp`` and ``/dev/shm`` are small private tmpfs.
    """
    bwrap = shutil.which("bwrap") or "bwrap"
    mounts = runtime_mounts(distributions)
    binds = ["--ro-bind", install, JAIL_ROOT]
    nested = []
    if uid is not None:
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        for tool in (setpriv, bwrap):
            links, real = _link_chain(tool)
            binds += ["--ro-bind", real, real]
            for link, target in links:
                binds += ["--symlink", target, link]
        nested = [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--",
                  bwrap, "--bind", "/", "/"]
    destinations = [mounts[i + (1 if arg == "--tmpfs" else 2)] for i, arg in enumerate(mounts)
                    if arg in ("--ro-bind", "--tmpfs", "--symlink")]
    destinations += [binds[i + 2] for i, arg in enumerate(binds)
                     if arg in ("--ro-bind", "--symlink")]
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
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(SHM_BYTES), "--perms", "1777", "--tmpfs", "/dev/shm",
        "--remount-ro", "/", "--chdir", "/tmp", "--",
    ]
    if nested:
        nested = [*nested, *user, "--chdir", "/tmp", "--"]
    return [*outer, *nested, sys.executable, "-I", "-B", JAIL_WORKER, str(fd)]


# --- choosing the jail -------------------------------------------------------------------------


def _run(command: list[str], **kwargs) -> tuple[bool, str]:
    """(whether ``command`` exited 0, the last line of what it printed on failure)."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                              cwd="/", env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                              **kwargs)
    except (OSError, subprocess.SubprocessError) as error:
        return False, str(error)
    if done.returncode == 0:
        return True, ""
    lines = (done.stderr or done.stdout).strip().splitlines()
    return False, lines[-1] if lines else f"exit status {done.returncode}"


_PROBE_CODE = "import numpy, scipy.special, matplotlib"


def _twice(probe) -> tuple[bool, str]:
    """A probe, tried again once when it fails (a machine under load can fail one start)."""
    works, why = probe()
    if not works:
        works, why = probe()
    return works, why


def probe_bubblewrap(uid: int | None = None,
                     distributions: tuple[str, ...] = ()) -> tuple[bool, str]:
    """Whether a bubblewrap jail starts the grading Python here, and if not, why and what to do."""
    if not sys.platform.startswith("linux"):
        return False, f"bubblewrap is Linux only (this is {sys.platform})"
    if shutil.which("bwrap") is None:
        return False, "bwrap is not installed (apt-get install bubblewrap)"
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mini-torch-probe-") as folder:
        os.chmod(folder, 0o755)
        command = bubblewrap_command(folder, 0, uid, distributions)
        command = [*command[:len(command) - 2], "-c", _PROBE_CODE]
        works, why = _twice(lambda: _run(command))
    if works:
        return True, ""
    return False, (f"bwrap is installed but could not run {sys.executable} with numpy in a "
                   f"jail ({why}): check that user namespaces are enabled "
                   "(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0) "
                   "and that the grading Python and its virtualenv are readable by every user")


def _setpriv(uid: int) -> list[str]:
    return [shutil.which("setpriv") or "setpriv", f"--reuid={uid}", f"--regid={uid}",
            "--clear-groups", "--"]


def probe_uid(uid: int, private: Iterable[Path]) -> tuple[bool, str]:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return False, "a uid of its own needs a grader running as root"
    if shutil.which("setpriv") is None:
        return False, "setpriv is missing (util-linux)"
    works, why = _twice(lambda: _run([*_setpriv(uid), sys.executable, "-I", "-c", _PROBE_CODE]))
    if not works:
        return False, (f"uid {uid} cannot run {sys.executable} with numpy ({why}): make the "
                       "grading virtualenv readable by every user (chmod -R a+rX)")
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


def choose_jail(*, unisolated: bool = False, private: Iterable[Path] = (),
                submissions: int = 1, distributions: tuple[str, ...] = ()) -> JailPlan:
    """The best jail this machine offers (see the module docstring), for ``submissions``.

    As root, the run claims a range of uids of its own (one per submission) and a cgroup
    folder; :meth:`JailPlan.close` gives both back.

    Args:
        unisolated: accept a run without any isolation when there is no jail.
        private: folders student code must not read (the kit, the repository's stages); the
            ``uid`` jail is refused when its uid can read a file in them.
        submissions: how many submissions the run grades (the size of its uid range).

    Raises:
        InstructorError: no jail is possible and ``unisolated`` is False; the message says what
            failed and how to get a jail on this platform.
    """
    from instructor.grading.uids import claim_uids

    if os.name != "posix":
        raise InstructorError(
            "grading runs its workers on Linux (a jail) or macOS (--unisolated); on Windows, "
            "grade inside WSL 2 or the Gradescope image under Docker (docs/instructor.md)")
    forced = os.environ.get(JAIL_VARIABLE, "")
    if forced and forced not in KINDS:
        raise InstructorError(f"{JAIL_VARIABLE}={forced}: expected one of {', '.join(KINDS)}")
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    uids = claim_uids(max(1, submissions)) if root and forced != "none" else None
    reasons = []
    kind = None
    if forced in ("", "bubblewrap"):
        works, why = probe_bubblewrap(uids.uid(0) if uids is not None else None,
                                      distributions)
        if works:
            kind = "bubblewrap"
        else:
            reasons.append(why)
    if kind is None and forced in ("", "uid"):
        if uids is None:
            works, why = False, "a uid of its own needs a grader running as root"
        else:
            works, why = probe_uid(uids.uid(0), private)
        if works:
            kind = "uid"
        else:
            reasons.append(why)
    if kind is None and (unisolated or forced == "none"):
        if not unisolated:
            raise InstructorError(f"{JAIL_VARIABLE}=none needs --unisolated")
        kind = "none"
    if kind is None:
        if uids is not None:
            uids.release()
        raise InstructorError(
            "no jail for student code on this machine (" + "; ".join(reasons) + "). On Linux "
            "install bubblewrap (apt-get install bubblewrap) or grade as root; elsewhere grade "
            "in the Gradescope image under Docker (docs/instructor.md). --unisolated grades "
            "anyway, with every report saying the run was not isolated")
    cgroups = Cgroups.probe(uids.run if uids is not None else f"{os.getpid()}") \
        if kind != "none" else None
    return JailPlan(kind, "; ".join(reasons), uids if kind != "none" else None, cgroups,
                    tuple(distributions))


def hide_command_line(shown: str = "python -m instructor grade") -> bool:
    """Replace this process's command line, as ``/proc/PID/cmdline`` shows it to every user,
    by ``shown``: a uid jail shares the grader's PID namespace, and the command line of
    ``grade`` lists the submissions of the whole class. Linux only; whether it was replaced.

    The kernel reads the command line from the process's own memory (between ``arg_start``
    and ``arg_end`` of ``/proc/self/stat``); the grader overwrites it there through
    ``/proc/self/mem``, with NULs after ``shown``. Python's own ``sys.argv`` is a copy and
    keeps the real arguments.
    """
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        start, end = int(fields[45]), int(fields[46])  # arg_start, arg_end (fields 48, 49)
        if not 0 < start < end:
            return False
        text = shown.encode()[:end - start - 1]
        with open("/proc/self/mem", "r+b", buffering=0) as memory:
            memory.seek(start)
            memory.write(text + b"\0" * (end - start - len(text)))
        with open("/proc/self/cmdline", "rb") as handle:
            return handle.read().rstrip(b"\0") == text
    except (OSError, ValueError, IndexError):
        return False


# --- the worker --------------------------------------------------------------------------------


def _limits(cpu_seconds: int, processes: int | None, procs: list[int]) -> None:
    """Run in the child between fork and exec: system calls only, no imports, no locks.

    ``procs``: open ``cgroup.procs`` files the child writes itself into (the jail's cgroup),
    before anything of the jail runs. ``processes`` limits the processes of the uid that runs
    the command (the ``uid`` jail's); a bubblewrap jail's worker sets that limit itself,
    inside (a limit set here would count the grader's own processes, or none: root's are
    exempt).
    """
    for fd in procs:
        os.write(fd, str(os.getpid()).encode())
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


def sweep_uid(uid: int) -> None:
    """Kill every process of ``uid`` (a ``uid`` jail's), until none is left."""
    for _ in range(500):
        found = [int(p) for p in os.listdir("/proc") if p.isdigit() and uid_of(int(p)) == uid]
        if not found:
            return
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)


def clean_jail(jail: Jail) -> list[str]:
    """After a submission: every process of its jail killed, its cgroup removed, and for a uid
    jail everything of its uid removed from the machine's shared folders; what was found."""
    if jail.cgroup is not None:
        jail.cgroup.remove()
    if jail.uid is None:
        return []
    sweep_uid(jail.uid)
    return sweep_uid_traces(jail.uid) if jail.kind == "uid" else []


_NETWORK: list[bool] = []


def _network_isolation() -> bool:
    if not _NETWORK:
        unshare = shutil.which("unshare")
        _NETWORK.append(bool(unshare) and _run([unshare, "-n", "true"])[0])
    return _NETWORK[0]


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


class _Log(threading.Thread):
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
        self.log: _Log | None = None
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
        self.log = _Log(error_read)
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
                message = self._parse(self._read_line(began + START_BACKSTOP))
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

    @staticmethod
    def _parse(line: bytes) -> dict:
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
            response = self._parse(self._read_line(backstop, watch))
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


def _children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task") if os.path.isdir(f"/proc/{pid}/task") else []:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
        except OSError:
            continue
    return found


def _session_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().decode("ascii", "replace").rpartition(")")[2].split()
        return int(fields[3])
    except (OSError, ValueError, IndexError):
        return None
