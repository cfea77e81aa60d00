"""What a jail may use and what it used: its cgroup, the CPU meter of its checks, the sweep after.

A check's limit is CPU time of the submission's jail, all its processes together, not the wall
clock: a busy machine slows a check down but does not make it use more CPU. Where the grader can
(Linux, root, a writable cgroup hierarchy), every jail gets a cgroup of its own
(:class:`Cgroups`, :class:`Cgroup`):

- cgroup v2 (one hierarchy, ``/sys/fs/cgroup/cgroup.controllers``): ``memory.max`` (tmpfs and
  shared memory pages count), ``pids.max``, ``cpu.weight``, and the CPU time from
  ``cpu.stat``'s ``usage_usec``; everything of the jail is killed with ``cgroup.kill``;
- cgroup v1 (a hierarchy per controller): ``memory.limit_in_bytes``, ``pids.max``,
  ``cpu.shares`` and ``cpuacct.usage``.

Each jail is one scheduling entity there: a submission that starts many processes shares one
jail's part of the CPU among them, not the machine's. The cgroups of a grading run live in a
folder of its own, below the grader's own cgroup, and are removed with it.

Without cgroups (a grader that is not root, a container whose hierarchy is read-only, as on
Gradescope) :class:`ProcessMeter` adds up the CPU time of the jail's processes from ``/proc``
(those of its PID namespace, or of its uid) and the per-process limits of the jail stay the only
limits; :meth:`Cgroups.describe` says which on the report's first line.

What a uid jail's uid may leave behind in the machine's shared places is swept by
:mod:`instructor.grading.jail.traces`.
"""

from __future__ import annotations

import errno
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

#: Bytes of memory one jail may use, tmpfs and shared memory included (cgroups only).
JAIL_MEMORY = 2 * 2**30
#: The CPU weight of a jail (v2 ``cpu.weight``; v1 ``cpu.shares`` is 10 times it): every jail
#: counts as one process of default priority beside the machine's other work.
JAIL_CPU_WEIGHT = 100
#: The controllers a jail's cgroup uses.
CONTROLLERS = ("cpu", "memory", "pids")
#: Where the cgroup hierarchies are mounted.
CGROUP_ROOT = Path("/sys/fs/cgroup")


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _write(path: Path, text: str) -> bool:
    try:
        path.write_text(text)
        return True
    except OSError:
        return False


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


# --- cgroups -------------------------------------------------------------------------------


def _mounts(mountinfo: str) -> tuple[Path | None, dict[str, Path]]:
    """(the cgroup v2 mount, {v1 controller: its mount}) from ``/proc/self/mountinfo``."""
    unified, v1 = None, {}
    for line in mountinfo.splitlines():
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        kind, options, mount = tail[0], tail[2].split(","), Path(fields[4])
        if kind == "cgroup2" and unified is None:
            unified = mount
        elif kind == "cgroup":
            for name in options:
                if name in ("cpu", "cpuacct", "memory", "pids"):
                    v1.setdefault(name, mount)
    return unified, v1


def _own_paths(proc_cgroup: str) -> dict[str, str]:
    """{controller or "" (v2): the grader's own cgroup path} from ``/proc/self/cgroup``."""
    found = {}
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        names = parts[1].split(",") if parts[1] else [""]
        for name in names:
            found[name] = parts[2]
    return found


@dataclass
class Cgroup:
    """The cgroup of one jail: one folder (v2) or one per hierarchy (v1)."""

    version: int
    folders: dict[str, Path]  # v2: {"": folder}; v1: {"cpu": ..., "cpuacct": ..., ...}
    limits: list[str] = field(default_factory=list)

    @property
    def procs(self) -> list[Path]:
        """The ``cgroup.procs`` files a new process is written into (one per folder)."""
        return sorted({folder / "cgroup.procs" for folder in self.folders.values()})

    def _folder(self, controller: str) -> Path | None:
        return self.folders.get("" if self.version == 2 else controller)

    def cpu_seconds(self) -> float:
        """CPU time of every process the jail ever ran, in seconds."""
        if self.version == 2:
            for line in _read(self.folders[""] / "cpu.stat").splitlines():
                if line.startswith("usage_usec "):
                    return int(line.split()[1]) / 1e6
            return 0.0
        folder = self._folder("cpuacct")
        text = _read(folder / "cpuacct.usage").strip() if folder else ""
        return int(text) / 1e9 if text.isdigit() else 0.0

    def pids(self) -> list[int]:
        found = set()
        for path in self.procs:
            found |= {int(p) for p in _read(path).split() if p.isdigit()}
        return sorted(found)

    def memory_peak(self) -> int | None:
        folder = self._folder("memory")
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        text = _read(folder / name).strip() if folder else ""
        return int(text) if text.isdigit() else None

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the jail for its memory limit."""
        folder = self._folder("memory")
        if folder is None:
            return False
        events = "memory.events" if self.version == 2 else "memory.oom_control"
        for line in _read(folder / events).splitlines():
            name, _, value = line.partition(" ")
            if name == "oom_kill" and value.strip() not in ("", "0"):
                return True
        return False

    def kill(self) -> None:
        """Kill every process of the jail, until none is left."""
        if self.version == 2:
            _write(self.folders[""] / "cgroup.kill", "1")
        for _ in range(500):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        self.kill()
        for folder in self.folders.values():
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError as error:
                    if error.errno != errno.EBUSY:
                        break
                    time.sleep(0.01)


class Cgroups:
    """The cgroups of one grading run: a folder below the grader's own cgroup, one jail each.

    :meth:`probe` finds what this machine allows; :meth:`create` makes a jail's cgroup.
    """

    def __init__(self, version: int, parents: dict[str, Path], limits: list[str],
                 why: str = "") -> None:
        self.version, self.parents, self.limits, self.why = version, parents, limits, why

    @classmethod
    def probe(cls, run: str, *, root: Path = CGROUP_ROOT, mountinfo: str | None = None,
              proc_cgroup: str | None = None) -> Cgroups | None:
        """The run's cgroup folder ``mini-torch-<run>`` made below the grader's own cgroup, or
        None (with nothing made) when this machine offers no writable hierarchy."""
        if not hasattr(os, "geteuid") or os.geteuid() != 0:
            return None
        if mountinfo is None:
            mountinfo = _read(Path("/proc/self/mountinfo"))
        if proc_cgroup is None:
            proc_cgroup = _read(Path("/proc/self/cgroup"))
        unified, v1 = _mounts(mountinfo)
        own = _own_paths(proc_cgroup)
        name = f"mini-torch-{run}"
        if (root / "cgroup.controllers").is_file() or not v1:
            if unified is None or "" not in own:
                return None
            return cls._probe_v2(unified, own[""], name)
        parents: dict[str, Path] = {}
        for controller in ("cpu", "cpuacct", "memory", "pids"):
            mount = v1.get(controller)
            if mount is None or controller not in own:
                continue
            parent = mount / own[controller].lstrip("/") / name
            try:
                parent.mkdir(exist_ok=True)
            except OSError:
                continue
            parents[controller] = parent
        if "cpuacct" not in parents:
            for parent in set(parents.values()):
                _rmdir(parent)
            return None
        limits = []
        if "memory" in parents:
            limits.append(f"memory {JAIL_MEMORY // 2**20} MiB")
        if "pids" in parents:
            limits.append("a process limit")
        if "cpu" in parents:
            limits.append("an equal CPU share")
        return cls(1, parents, limits)

    @classmethod
    def _probe_v2(cls, mount: Path, own: str, name: str) -> Cgroups | None:
        """A v2 folder for the run: below the grader's own cgroup when that cgroup delegates
        the controllers, else at the top of the hierarchy (which root may always split)."""
        own_folder = mount / own.lstrip("/")
        candidates = [own_folder, mount] if own_folder != mount else [mount]
        for place in candidates:
            enabled = set(_read(place / "cgroup.subtree_control").split())
            if not set(CONTROLLERS) <= enabled:
                _write(place / "cgroup.subtree_control",
                       " ".join(f"+{c}" for c in CONTROLLERS if c not in enabled))
                enabled = set(_read(place / "cgroup.subtree_control").split())
            if set(CONTROLLERS) <= enabled or place == candidates[-1]:
                folder = place / name
                try:
                    folder.mkdir(exist_ok=True)
                except OSError:
                    continue
                available = set(_read(folder / "cgroup.controllers").split())
                wanted = [c for c in CONTROLLERS if c in available]
                if wanted:
                    _write(folder / "cgroup.subtree_control",
                           " ".join(f"+{c}" for c in wanted))
                active = set(_read(folder / "cgroup.subtree_control").split())
                limits = []
                if "memory" in active:
                    limits.append(f"memory {JAIL_MEMORY // 2**20} MiB")
                if "pids" in active:
                    limits.append("a process limit")
                if "cpu" in active:
                    limits.append("an equal CPU share")
                return cls(2, {"": folder}, limits)
        return None

    def describe(self) -> str:
        limits = ", ".join(["CPU time of all its processes", *self.limits])
        return f"a cgroup v{self.version} of its own ({limits})"

    def create(self, name: str, processes: int) -> Cgroup | None:
        """A jail's cgroup ``name`` with the run's limits; None if it cannot be made."""
        folders: dict[str, Path] = {}
        try:
            for controller, parent in self.parents.items():
                key = "" if self.version == 2 else controller
                folder = parent / name
                folder.mkdir(exist_ok=True)
                folders[key] = folder
        except OSError:
            for folder in folders.values():
                _rmdir(folder)
            return None
        group = Cgroup(self.version, folders, list(self.limits))
        if self.version == 2:
            folder = folders[""]
            _write(folder / "memory.max", str(JAIL_MEMORY))
            _write(folder / "memory.swap.max", "0")
            _write(folder / "pids.max", str(processes))
            _write(folder / "cpu.weight", str(JAIL_CPU_WEIGHT))
        else:
            if "memory" in folders:
                _write(folders["memory"] / "memory.limit_in_bytes", str(JAIL_MEMORY))
            if "pids" in folders:
                _write(folders["pids"] / "pids.max", str(processes))
            if "cpu" in folders:
                _write(folders["cpu"] / "cpu.shares", str(JAIL_CPU_WEIGHT * 10))
        return group

    def close(self) -> None:
        """Remove the run's folder (every jail's cgroup must be gone)."""
        for parent in set(self.parents.values()):
            for child in sorted(parent.iterdir()) if parent.is_dir() else []:
                if child.is_dir():
                    Cgroup(self.version, {"": child}).remove()
            _rmdir(parent)


def _rmdir(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


# --- CPU time without cgroups ----------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime + cutime + cstime of ``pid`` (its reaped children included), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    try:
        return sum(int(v) for v in fields[11:15]) / _TICKS
    except (ValueError, IndexError):
        return None


def _pids() -> list[int]:
    try:
        return [int(p) for p in os.listdir("/proc") if p.isdigit()]
    except OSError:
        return []


def namespace_of(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def uid_of(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


class ProcessMeter:
    """CPU seconds of the live processes ``selects(pid)`` picks, never going down.

    A process that ended counts through the process that reaped it (its ``cutime``); one
    reaped outside the selection is not counted: a meter without a cgroup is a lower bound,
    which the wall-clock backstop completes.
    """

    def __init__(self, selects: Callable[[int], bool]) -> None:
        self.selects = selects
        self.total = 0.0

    def cpu_seconds(self) -> float:
        found = 0.0
        for pid in _pids():
            if self.selects(pid):
                found += process_cpu_seconds(pid) or 0.0
        self.total = max(self.total, found)
        return self.total
