"""What exists inside a bubblewrap jail, and the bwrap command line that builds it.

The root filesystem holds the Python runtime (the interpreter as it really is, its links
resolved, and its shared libraries) and of the grading environment's site-packages only what
the stages may use (:func:`allowed_entries`); :func:`jail_absent_modules` is what a worker
refuses to import in every jail; :func:`bubblewrap_command` puts it all together with the
install folder at ``/jail``.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable

from instructor.grading.jail.plan import SHM_BYTES, TMP_BYTES
from instructor.stages.dependencies import distribution_names, newest_stage_dependencies

#: Where an install appears inside a bubblewrap jail: /jail/site, /jail/examples and
#: /jail/worker.py are the folder's site, examples and worker.py.
JAIL_ROOT = "/jail"
JAIL_SITE, JAIL_EXAMPLES, JAIL_WORKER = "/jail/site", "/jail/examples", "/jail/worker.py"
#: The uid (and gid) student code has inside a bubblewrap jail.
JAIL_UID = 65534

#: What is hidden in the grading environment's site-packages inside a jail (by the start of a
#: name, ``-`` read as ``_``): any Mini-Torch, the instructor tools, editable-install hooks.
HIDDEN_PREFIXES = ("mini_torch", "_mini_torch", "instructor", "__editable__")


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
