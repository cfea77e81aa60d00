"""Intake (a submission is data), the out folder the grader owns, the student's words for an error,
and the jail itself: what a worker sees, what it can reach, and that nothing of it survives.

The jail tests need bubblewrap (``apt-get install bubblewrap``); where it does not run they say
why they skip, and the rest still runs.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
import zipfile
from pathlib import Path

import pytest

from instructor.gradescope.results import write_gradescope
from instructor.grading.intake import (
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    MAX_TOTAL_BYTES,
    Refused,
    take_in,
)
from instructor.grading.jail import (
    Worker,
    WorkerCrash,
    choose_jail,
    probe_bubblewrap,
    runtime_mounts,
)
from instructor.grading.messages import clean_text, describe_error
from instructor.grading.outfolder import write_reports
from instructor.grading.results import SubmissionResult
from instructor.grading.safe import make_out_folder
from instructor.stages.repo import InstructorError

from .test_grading_real import processes_with


def package(folder: Path) -> Path:
    (folder / "src" / "mini_torch").mkdir(parents=True)
    (folder / "src" / "mini_torch" / "__init__.py").write_text("VALUE = 1\n")
    (folder / "examples").mkdir()
    (folder / "examples" / "train.py").write_text("print('hi')\n")
    return folder


# --- intake --------------------------------------------------------------------------------------


def test_a_folder_is_copied_as_plain_files_without_tool_folders(tmp_path):
    source = package(tmp_path / "alice")
    (source / ".git").mkdir()
    (source / ".git" / "HEAD").write_text("ref: main\n")
    (source / ".venv").mkdir()
    (source / ".venv" / "python").symlink_to("/usr/bin/python3")  # left out unread
    copy = take_in(source, tmp_path / "copy")
    assert (copy / "src" / "mini_torch" / "__init__.py").read_text() == "VALUE = 1\n"
    assert not (copy / ".git").exists() and not (copy / ".venv").exists()
    assert not any(p.is_symlink() for p in copy.rglob("*"))


@pytest.mark.parametrize("kind, words", [
    ("folder link", "src/mini_torch/nn is a symbolic link"),
    ("file link", "src/mini_torch/loss.py is a symbolic link"),
    ("dangling link", "examples/data is a symbolic link"),
    ("fifo", "examples/pipe is a FIFO"),
])
def test_links_and_special_files_are_refused_by_name(tmp_path, kind, words):
    source = package(tmp_path / "bob")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "loss.py").write_text("solved = True\n")
    if kind == "folder link":
        (source / "src" / "mini_torch" / "nn").symlink_to(outside, target_is_directory=True)
    elif kind == "file link":
        (source / "src" / "mini_torch" / "loss.py").symlink_to(outside / "loss.py")
    elif kind == "dangling link":
        (source / "examples" / "data").symlink_to(tmp_path / "nowhere")
    else:
        os.mkfifo(source / "examples" / "pipe")
    with pytest.raises(Refused, match=words):
        take_in(source, tmp_path / "copy")


def test_a_hard_link_to_outside_is_refused_one_inside_is_not(tmp_path):
    source = package(tmp_path / "carol")
    os.link(source / "examples" / "train.py", source / "examples" / "again.py")
    take_in(source, tmp_path / "copy1")  # both names inside: fine
    outside = tmp_path / "solved.py"
    outside.write_text("solved = True\n")
    os.link(outside, source / "src" / "mini_torch" / "loss.py")
    with pytest.raises(Refused, match=r"src/mini_torch/loss\.py is a hard link to a file outside"):
        take_in(source, tmp_path / "copy2")


def test_a_file_over_the_limit_is_refused_before_it_is_copied(tmp_path):
    source = package(tmp_path / "dave")
    with open(source / "examples" / "big.bin", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(Refused, match=f"over the limit of {MAX_FILE_BYTES} bytes per file"):
        take_in(source, tmp_path / "copy")


def zip_of(path: Path, entries: dict[str, bytes], links: dict[str, str] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in dict(links).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def test_a_zip_is_unpacked_into_the_target_only(tmp_path):
    archive = zip_of(tmp_path / "s.zip", {"stage3/src/mini_torch/__init__.py": b"X = 1\n",
                                          "__MACOSX/stage3/._x": b"junk"})
    copy = take_in(archive, tmp_path / "copy")
    assert (copy / "stage3" / "src" / "mini_torch" / "__init__.py").read_bytes() == b"X = 1\n"
    assert not (copy / "__MACOSX").exists()


@pytest.mark.parametrize("case, words", [
    ("slip", "points outside the zip"),
    ("absolute", "points outside the zip"),
    ("link", "is a symbolic link"),
    ("bomb", f"over the limit of {MAX_FILE_BYTES} bytes per file"),
    ("total", f"more than {MAX_TOTAL_BYTES} bytes in all"),
    ("entries", f"over the limit of {MAX_ENTRIES}"),
])
def test_a_bad_zip_is_refused_before_anything_is_written(tmp_path, case, words):
    entries = {"s/src/mini_torch/__init__.py": b""}
    links = {}
    if case == "slip":
        entries["../../evil.py"] = b"planted = True\n"
    elif case == "absolute":
        entries["/tmp/evil.py"] = b"planted = True\n"
    elif case == "link":
        links["s/src/mini_torch/loss.py"] = "/etc/passwd"
    elif case == "bomb":
        entries["s/zeros.bin"] = bytes(MAX_FILE_BYTES + 1)
    elif case == "total":
        for index in range(MAX_TOTAL_BYTES // MAX_FILE_BYTES + 1):
            entries[f"s/zeros{index}.bin"] = bytes(MAX_FILE_BYTES)
    else:
        entries |= {f"s/{index}.txt": b"" for index in range(MAX_ENTRIES + 1)}
    archive = zip_of(tmp_path / "s.zip", entries, links)
    with pytest.raises(Refused, match=words):
        take_in(archive, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()  # refused before the first byte is written
    assert not (tmp_path.parent / "evil.py").exists()


def test_a_link_given_as_the_submission_itself_is_refused(tmp_path):
    (tmp_path / "link").symlink_to(package(tmp_path / "erin"))
    with pytest.raises(Refused, match="link is a symbolic link"):
        take_in(tmp_path / "link", tmp_path / "copy")


# --- the out folder ----------------------------------------------------------------------------


def test_the_out_folder_is_new_and_private(tmp_path):
    out = tmp_path / "grades" / "stage3"
    write_reports([SubmissionResult("alice", Path("alice"), 3)], out)
    assert stat.S_IMODE(os.lstat(out).st_mode) == 0o700
    assert stat.S_IMODE(os.lstat(out / "gradebook.csv").st_mode) == 0o600
    with pytest.raises(InstructorError, match="not an empty folder of this user's"):
        write_reports([SubmissionResult("alice", Path("alice"), 3)], out)  # not over old grades


def test_a_planted_link_is_never_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (tmp_path / "out").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(InstructorError, match="not an empty folder"):
        make_out_folder(tmp_path / "out")
    (tmp_path / "results.json").symlink_to(victim)
    with pytest.raises(InstructorError, match="refusing to write through it"):
        write_gradescope(SubmissionResult("alice", Path("alice"), 3), tmp_path / "results.json")
    assert victim.read_text() == "keep me\n"


def test_a_student_name_cannot_leave_the_out_folder(tmp_path):
    write_reports([SubmissionResult("../../evil", Path("x"), 3)], tmp_path / "out")
    # every byte but letters, digits, "_", "-", "." as %XX, and a leading dot too
    assert sorted(p.name for p in (tmp_path / "out" / "feedback").iterdir()) == [
        "%2E.%2F..%2Fevil.txt"]
    assert not (tmp_path / "evil.txt").exists()


# --- the student's words -------------------------------------------------------------------------


def test_an_error_message_is_cut_and_keeps_no_path_outside_the_submission():
    text = "\n".join(["bad value /jail/site/mini_torch/nn/loss.py and /home/grader/course/x.py",
                      "argv: /usr/bin/python3 -m instructor grade /srv/submissions/bob",
                      "env: {'PATH': '/root/.pyenv/bin:/usr/bin'}", "four", "five", "six"])
    cleaned = clean_text(text, site="/jail/site", examples="/jail/examples")
    assert cleaned.splitlines()[0] == "bad value src/mini_torch/nn/loss.py and <path>"
    assert "/srv" not in cleaned and "/root" not in cleaned and "/usr" not in cleaned
    assert cleaned.splitlines()[-1] == "... (2 more lines)" and len(cleaned.splitlines()) == 5
    message, _, _ = describe_error({"type": "ValueError", "message": text, "frames": []},
                                   site="/jail/site", examples="/jail/examples", own_files=())
    assert message.startswith("ValueError: bad value src/mini_torch/nn/loss.py")


# --- the jail ------------------------------------------------------------------------------------

BUBBLEWRAP, WHY = probe_bubblewrap()
requires_bubblewrap = pytest.mark.skipif(not BUBBLEWRAP, reason=f"no bubblewrap jail: {WHY}")


@pytest.fixture(scope="module")
def plan():
    """A bubblewrap run of four submissions, as grade plans it (its own uids when root)."""
    if not BUBBLEWRAP:
        pytest.skip(f"no bubblewrap jail: {WHY}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINI_TORCH_JAIL", "bubblewrap")
        run = choose_jail(submissions=4)
    yield run
    run.close()

_SPY = '''
import json, os, sys, time
def look(folder):
    try:
        return sorted(os.listdir(folder))
    except OSError as error:
        return type(error).__name__
def tried(path):
    try:
        open(path, "a").close()
        return "wrote"
    except OSError as error:
        return type(error).__name__
def spy():
    return json.dumps({"root": look("/"), "tmp": look("/tmp"), "jail": look("/jail"),
                       "usr": look("/usr"), "usr_bin": look("/usr/bin"), "uid": os.getuid(),
                       "pids": [p for p in look("/proc") if p.isdigit()],
                       "write_site": tried(os.path.join(os.path.dirname(__file__), "x.py")),
                       "write_tmp": tried("/tmp/mini-torch-spy.txt"), "cwd": os.getcwd()})
'''


def spy_site(folder: Path) -> Path:
    site = folder / "site"
    (site / "mini_torch").mkdir(parents=True)
    (site / "mini_torch" / "__init__.py").write_text(_SPY)
    (folder / "examples").mkdir()
    return site


def call(worker: Worker, target: str, limit: float = 30.0):
    return worker.request({"steps": [{"call": target, "as": "v"}], "outputs": ["v"]}, limit)


def wait_for(condition, seconds: float = 30.0) -> bool:
    """Poll ``condition`` until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@requires_bubblewrap
def test_a_worker_in_its_jail_sees_only_the_runtime_its_install_and_a_private_tmp(tmp_path,
                                                                                  plan):
    site = spy_site(tmp_path / "install")
    worker = Worker(tmp_path / "install", tmp_path / "scratch", jail=plan.for_submission(0))
    try:
        reply = call(worker, "mini_torch.spy")
    finally:
        worker.stop()
    assert reply.ok, reply
    seen = json.loads(reply.outputs["v"]["value"])
    assert set(seen["root"]) <= {"bin", "dev", "jail", "lib", "lib32", "lib64", "libx32", "proc",
                                 "tmp", "usr", *Path(sys.base_prefix).parts[1:2],
                                 *Path(sys.prefix).parts[1:2],
                                 *Path(os.path.realpath(sys.executable)).parts[1:2]}
    assert seen["jail"] == ["examples", "site", "worker.py"]
    assert set(seen["usr"]) <= {"bin", "lib", "lib32", "lib64", *Path(sys.base_prefix).parts[2:3]}
    # /usr/bin: nothing, or the interpreter itself (a system Python), or (for a root grader)
    # the two tools that drop to the jail's uid
    real = os.path.realpath(sys.executable)
    allowed = {"bwrap", "setpriv", *([os.path.basename(real)] if real.startswith("/usr/bin/")
                                     else [])}
    assert seen["usr_bin"] == "FileNotFoundError" or set(seen["usr_bin"]) <= allowed
    assert seen["uid"] == 65534 and seen["cwd"] == "/tmp"
    assert len(seen["pids"]) <= 3  # its own PID namespace: the jail's init and the worker
    assert seen["write_site"] != "wrote"  # its own install is read-only
    assert seen["write_tmp"] == "wrote"
    assert not (site / "mini_torch" / "x.py").exists()
    assert str(tmp_path) not in json.dumps(seen)  # nothing of the grader's folders inside


@requires_bubblewrap
def test_the_grading_environment_s_own_packages_are_hidden_inside(tmp_path):
    mounts = runtime_mounts()
    assert "--ro-bind" in mounts
    bound = {mounts[i + 1] for i, arg in enumerate(mounts) if arg == "--ro-bind"}
    for folder in {p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)}:
        start = mounts.index(folder)  # an empty folder first: only what is bound is inside
        assert mounts[start - 1] == "--tmpfs", mounts[start - 2:start + 1]
        assert os.path.join(folder, "numpy") in bound
        for name in os.listdir(folder):
            if name.startswith(("instructor", "mini_torch", "pytest", "_pytest", "torch")):
                assert os.path.join(folder, name) not in bound, name


@requires_bubblewrap
def test_nothing_a_jail_started_survives_its_worker(tmp_path, plan):
    site = spy_site(tmp_path / "install")
    marker = f"mini-torch-jail-test-{os.getpid()}-{time.monotonic_ns()}"
    (site / "mini_torch" / "daemon.py").write_text(
        "import os, sys, time\n"
        "def start():\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        f"            os.execv(sys.executable, [sys.executable, '-c', 'import time; "
        f"time.sleep(60)', '{marker}'])\n"
        "        os._exit(0)\n"
        "    return 1\n")
    worker = Worker(tmp_path / "install", tmp_path / "scratch", jail=plan.for_submission(1))
    reply = call(worker, "mini_torch.daemon.start")
    assert reply.ok, reply
    assert wait_for(lambda: processes_with(marker))  # it did start, and outlived its call
    worker.stop()
    assert processes_with(marker) == []  # stop returns once the whole jail is gone


@requires_bubblewrap
def test_a_process_limit_held_in_one_jail_leaves_another_jail_its_own(tmp_path, plan):
    hog = spy_site(tmp_path / "hog")
    (hog / "mini_torch" / "hold.py").write_text(
        "import os, time\n"
        "def hold():\n"
        "    count = 0\n"
        "    while count < 4096:\n"
        "        try:\n"
        "            if os.fork() == 0:\n"
        "                time.sleep(30)\n"
        "                os._exit(0)\n"
        "        except OSError:\n"
        "            break\n"
        "        count += 1\n"
        "    return count\n")
    neighbour = spy_site(tmp_path / "neighbour")
    (neighbour / "mini_torch" / "spawn.py").write_text(
        "import subprocess, sys\n"
        "def spawn():\n"
        "    return sum(subprocess.run([sys.executable, '-c', 'pass']).returncode == 0\n"
        "               for _ in range(5))\n")
    first = Worker(tmp_path / "hog", tmp_path / "s1", jail=plan.for_submission(2))
    second = Worker(tmp_path / "neighbour", tmp_path / "s2", jail=plan.for_submission(3))
    try:
        held = call(first, "mini_torch.hold.hold")
        assert held.ok, held
        spawned = call(second, "mini_torch.spawn.spawn")
        assert spawned.ok, spawned
    finally:
        first.stop()
        second.stop()
    from instructor.grading.verdicts import decode

    held_count = int(decode(held.outputs["v"]))
    assert 0 < held_count < 4096  # the limit stopped it
    assert int(decode(spawned.outputs["v"])) == 5


def test_a_worker_that_dies_is_a_crash_not_a_grader_error(tmp_path):
    site = spy_site(tmp_path / "install")
    (site / "mini_torch" / "die.py").write_text(
        "import os, sys\ndef die():\n    sys.stderr.write('dying now\\n')\n"
        "    sys.stderr.flush()\n    os._exit(3)\n")
    worker = Worker(tmp_path / "install", tmp_path / "scratch")
    with pytest.raises(WorkerCrash) as raised:
        call(worker, "mini_torch.die.die", 10)
    assert worker.process is None  # stopped; the next request starts a fresh one
    assert "dying now" in raised.value.log  # its standard error is kept for the staff's log
