"""The uids of a grading run: a range of its own, claimed under a lock, checked unused.

Student code of a root grader runs as a uid of its submission's own (both jails). Two grading
runs on one machine must never share one: a run's sweep kills every process of its uids, and a
shared uid would let one run's student reach the other's. :func:`claim_uids` takes the first
range of ``count`` uids from ``MINI_TORCH_GRADER_UID_BASE`` (default :data:`UID_BASE`; the
Gradescope image starts it at its ``minitorch-student`` user) that no live run has claimed and
no running process uses, records the claim in :data:`CLAIMS` under an exclusive lock, and
:meth:`UidRange.release` gives it back. A claim whose run has died is taken as free.
"""

from __future__ import annotations

import fcntl
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

#: The first uid of the ranges, and the variable that moves it.
UID_BASE = 61000
UID_VARIABLE = "MINI_TORCH_GRADER_UID_BASE"
#: Where the claims of the machine's grading runs are recorded (root only).
CLAIMS = Path("/run/mini-torch-grader")
#: The highest uid a range may reach.
UID_LIMIT = 2**31 - 2


def uid_base() -> int:
    value = os.environ.get(UID_VARIABLE, "")
    return int(value) if value.isdigit() else UID_BASE


@dataclass
class UidRange:
    """``count`` uids from ``start``, claimed by this process for one grading run ``run``."""

    start: int
    count: int
    run: str
    claim: Path | None = None

    def uid(self, index: int) -> int:
        if not 0 <= index < self.count:
            raise IndexError(f"submission {index} is outside the run's {self.count} uids")
        return self.start + index

    def release(self) -> None:
        if self.claim is not None:
            try:
                self.claim.unlink()
            except OSError:
                pass
            self.claim = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def _uids_in_use() -> set[int]:
    found = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                found.add(os.stat(f"/proc/{name}").st_uid)
            except OSError:
                continue
    return found


def _claims(folder: Path) -> list[tuple[int, int]]:
    """The (start, count) of the live runs' claims; a dead run's claim is removed."""
    live = []
    for path in folder.glob("claim-*"):
        try:
            start, count, pid = (int(v) for v in path.name.split("-")[1:4])
        except ValueError:
            continue
        if _alive(pid):
            live.append((start, count))
        else:
            path.unlink(missing_ok=True)
    return live


def claim_uids(count: int, *, base: int | None = None, folder: Path = CLAIMS) -> UidRange:
    """Claim ``count`` uids for this run (see the module docstring)."""
    base = uid_base() if base is None else base
    run = f"{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(folder / "lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        taken = _claims(folder)
        used = _uids_in_use()
        start = base
        while start + count <= UID_LIMIT:
            end = start + count
            clash = [s + c for s, c in taken if s < end and start < s + c]
            if clash:
                start = max(clash)
                continue
            busy = [u for u in used if start <= u < end]
            if busy:
                start = max(busy) + 1
                continue
            break
        claim = folder / f"claim-{start}-{count}-{os.getpid()}-{run.split('-')[1]}"
        claim.write_text(f"{run}\n")
        return UidRange(start, count, run, claim)
