"""What a uid jail's uid may leave behind, swept after its submission: files and folders in the
machine's shared places (``/tmp``, ``/dev/shm``, ``/var/tmp``, ``/run/lock``), System V IPC
objects and POSIX message queues. :func:`sweep_uid_traces` removes them and says what it found.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path

#: The shared folders a uid jail's uid can write into, swept after each submission.
SHARED_FOLDERS = ("/tmp", "/dev/shm", "/var/tmp", "/run/lock", "/dev/mqueue")


def _remove(path: str) -> None:
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError:
        pass


def sweep_files(uid: int, folders: Iterable[str] = SHARED_FOLDERS, depth: int = 3) -> list[str]:
    """Remove every file and folder of ``uid`` in ``folders`` (and in the folders of others it
    could write into, ``depth`` levels down); return what was removed."""
    removed = []

    def walk(folder: str, level: int) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if info.st_uid == uid:
                _remove(entry.path)
                removed.append(entry.path)
            elif stat.S_ISDIR(info.st_mode) and level < depth and info.st_mode & 0o002:
                walk(entry.path, level + 1)

    for folder in folders:
        if os.path.isdir(folder):
            walk(folder, 1)
    return removed


def sweep_ipc(uid: int) -> list[str]:
    """Remove the System V shared memory segments, message queues and semaphore sets that
    ``uid`` created or owns; return what was removed."""
    import ctypes
    import ctypes.util

    removed = []
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return removed
    ipc_rmid = 0
    for kind, remover in (("shm", "shmctl"), ("msg", "msgctl"), ("sem", "semctl")):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        header = lines[0].split()
        for line in lines[1:]:
            values = dict(zip(header, line.split()))
            owners = {values.get("uid"), values.get("cuid")}
            if str(uid) in owners and values.get(header[1], "").isdigit():
                identifier = int(values[header[1]])
                if kind == "sem":
                    done = libc.semctl(identifier, 0, ipc_rmid)
                else:
                    done = getattr(libc, remover)(identifier, ipc_rmid, None)
                if done == 0:
                    removed.append(f"System V {kind} {identifier}")
    return removed


def sweep_uid_traces(uid: int) -> list[str]:
    """Everything of ``uid`` removed from the machine's shared places (files, IPC objects)."""
    return sweep_files(uid) + sweep_ipc(uid)
