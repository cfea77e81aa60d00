"""Probing this machine for a jail and choosing the best it offers, once per run.

:func:`probe_bubblewrap` and :func:`probe_uid` try a jail (twice, as a loaded machine can fail
one start); :func:`choose_jail` takes the best that works (or the one ``MINI_TORCH_JAIL``
names) and claims the run's uids and cgroups; :func:`hide_command_line` keeps the class's
submission paths out of ``/proc`` for a uid jail, which shares the grader's PID namespace.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from instructor.grading.jail.mounts import bubblewrap_command
from instructor.grading.jail.plan import JAIL_VARIABLE, KINDS, JailPlan
from instructor.grading.resources import Cgroups
from instructor.stages.repo import InstructorError


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


_NETWORK: list[bool] = []


def _network_isolation() -> bool:
    if not _NETWORK:
        unshare = shutil.which("unshare")
        _NETWORK.append(bool(unshare) and _run([unshare, "-n", "true"])[0])
    return _NETWORK[0]
