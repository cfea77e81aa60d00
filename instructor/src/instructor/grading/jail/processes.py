"""A jail's processes and its uid's files: the per-process limits set as a worker starts,
the folders shared with the submission's uid, finding a worker's processes, and killing and
sweeping everything of a jail once its submission is graded."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from instructor.grading.jail.plan import ADDRESS_SPACE, FILE_SIZE, OPEN_FILES, Jail
from instructor.grading.jail.traces import sweep_uid_traces
from instructor.grading.resources import uid_of

try:
    import resource
except ImportError:  # Windows: no workers there (choose_jail refuses), the other tools run
    resource = None


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
