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
    (:func:`instructor.grading.jail.traces.sweep_uid_traces`).
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

The package, one module a job:

- :mod:`~instructor.grading.jail.plan`: the kinds, the per-process limits, :class:`Jail` and
  :class:`JailPlan`;
- :mod:`~instructor.grading.jail.mounts`: what a bubblewrap jail holds and hides, and its bwrap
  command line;
- :mod:`~instructor.grading.jail.choose`: probing the machine and choosing the run's jail;
- :mod:`~instructor.grading.jail.processes`: a jail's processes: their limits, the folders
  shared with its uid, the kill and sweep after a submission;
- :mod:`~instructor.grading.jail.answers`: what comes back from a worker, read with bounds;
- :mod:`~instructor.grading.jail.workers`: :class:`Worker`, the process in the jail.
"""

from __future__ import annotations

from instructor.grading.jail.answers import (
    LOG_BYTES,
    MAX_ANSWER_VALUES,
    AnswerTooLarge,
    UnreadableAnswer,
    WorkerBackstop,
    WorkerCrash,
    WorkerTimeout,
)
from instructor.grading.jail.choose import (
    choose_jail,
    hide_command_line,
    probe_bubblewrap,
    probe_uid,
)
from instructor.grading.jail.mounts import (
    HIDDEN_PREFIXES,
    JAIL_EXAMPLES,
    JAIL_ROOT,
    JAIL_SITE,
    JAIL_UID,
    JAIL_WORKER,
    absent_modules,
    allowed_entries,
    bubblewrap_command,
    default_distributions,
    jail_absent_modules,
    runtime_mounts,
)
from instructor.grading.jail.plan import (
    ADDRESS_SPACE,
    CPU_SECONDS,
    FILE_SIZE,
    JAIL_VARIABLE,
    KINDS,
    OPEN_FILES,
    PROCESSES,
    SHM_BYTES,
    TMP_BYTES,
    Jail,
    JailPlan,
)
from instructor.grading.jail.processes import clean_jail, share_with_jail, sweep_uid
from instructor.grading.jail.workers import (
    BACKSTOP_FACTOR,
    KILL_GRACE,
    MIN_BACKSTOP,
    PRELOAD,
    START_BACKSTOP,
    WORKER_ENV,
    WORKER_SCRIPT,
    WRITE_BACKSTOP,
    Reply,
    Worker,
)

__all__ = [
    "ADDRESS_SPACE",
    "BACKSTOP_FACTOR",
    "CPU_SECONDS",
    "FILE_SIZE",
    "HIDDEN_PREFIXES",
    "JAIL_EXAMPLES",
    "JAIL_ROOT",
    "JAIL_SITE",
    "JAIL_UID",
    "JAIL_VARIABLE",
    "JAIL_WORKER",
    "KILL_GRACE",
    "KINDS",
    "LOG_BYTES",
    "MAX_ANSWER_VALUES",
    "MIN_BACKSTOP",
    "OPEN_FILES",
    "PRELOAD",
    "PROCESSES",
    "SHM_BYTES",
    "START_BACKSTOP",
    "TMP_BYTES",
    "WORKER_ENV",
    "WORKER_SCRIPT",
    "WRITE_BACKSTOP",
    "AnswerTooLarge",
    "Jail",
    "JailPlan",
    "Reply",
    "UnreadableAnswer",
    "Worker",
    "WorkerBackstop",
    "WorkerCrash",
    "WorkerTimeout",
    "absent_modules",
    "allowed_entries",
    "bubblewrap_command",
    "choose_jail",
    "clean_jail",
    "default_distributions",
    "hide_command_line",
    "jail_absent_modules",
    "probe_bubblewrap",
    "probe_uid",
    "runtime_mounts",
    "share_with_jail",
    "sweep_uid",
]
