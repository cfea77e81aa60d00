"""What a jail is: its kinds, the limits every worker holds to, and the types that carry them.

:class:`Jail` is how the workers of one submission are shut in; :class:`JailPlan` is the kind
chosen once for a run (:func:`instructor.grading.jail.choose_jail`), which gives each
submission its jail, its uid and its cgroup.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from instructor.grading.resources import Cgroup, Cgroups

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
