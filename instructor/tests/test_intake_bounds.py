"""Intake and collect within bounds: a name is data, a zip's directory is measured before it is
parsed, a submission and a batch write no more than their caps, and ``collect`` takes the
default branch's head without running anything of the repository or checking out a tree over
the caps.

The forgeries are built here from what a cheating student did: names with bytes that are not
UTF-8, with a bidirectional override or an ANSI escape; zips whose directory claims millions of
entries, or holds tens of thousands, or implies thousands of folders by its names alone; a
folder of zips each within the limits; a tag named ``origin/HEAD``; a hook; a tree of one blob
named five thousand times.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from instructor.collect import collect
from instructor.grading import intake
from instructor.grading.intake import (
    MAX_DIRECTORY_BYTES,
    MAX_ENTRIES,
    MAX_FILE_BYTES,
    MAX_TOTAL_BYTES,
    Refused,
    check_name,
    shown_name,
    take_in,
)

from .conftest import REAL_REPO

NEEDS_GIT = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def package(folder: Path) -> Path:
    (folder / "src" / "mini_torch").mkdir(parents=True)
    (folder / "src" / "mini_torch" / "__init__.py").write_text("VALUE = 1\n")
    (folder / "examples").mkdir()
    return folder


# --- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, shown, words", [
    (b"mallory\xff", "mallory\\xff", "is not UTF-8 text"),
    ("mallory\udcff", "mallory\\xff", "is not UTF-8 text"),  # how Python reads those bytes
    ("eve\u202eyp.py", "eve\\u202eyp.py", "bidirectional formatting character"),
    ("\x1b[31mtrudy", "\\x1b[31mtrudy", "control character"),
    ("tab\there", "tab\\x09here", "control character"),
    ("c1\x9bname", "c1\\x9bname", "control character"),
    ("del\x7f", "del\\x7f", "control character"),
])
def test_a_name_that_cannot_be_shown_as_it_is_is_refused_escaped(name, shown, words):
    with pytest.raises(Refused, match=words) as error:
        check_name(name)
    assert f'"{shown}"' in str(error.value)
    assert shown_name(name) == shown
    assert str(error.value).isprintable()


@pytest.mark.parametrize("name", ["alice", "Zoë Müller", "王小明", "stage3.zip", "a b-c_d.e"])
def test_a_name_in_any_script_is_taken_as_it_is(name):
    assert check_name(name) == check_name(name.encode()) == shown_name(name) == name


def test_a_bad_name_inside_a_folder_or_a_zip_is_refused_with_where_it_is(tmp_path):
    source = package(tmp_path / "alice")
    os.mkdir(os.fsencode(source / "examples") + b"/data\xfe")
    with pytest.raises(Refused, match=r'"data\\xfe" in examples is not UTF-8'):
        take_in(source, tmp_path / "copy")
    archive = tmp_path / "bob.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("s/src/mini_torch/__init__.py", "")
        handle.writestr("s/src/mini_torch/lo\u202ess.py", "")
    with pytest.raises(Refused, match=r'"s/src/mini_torch/lo\\u202ess.py" in bob.zip holds a bidi'):
        take_in(archive, tmp_path / "copy2")
    assert not (tmp_path / "copy").exists() and not (tmp_path / "copy2").exists()


def test_bad_names_are_refused_and_their_honest_neighbour_is_graded(tmp_path, run_cli):
    subs = tmp_path / "subs"
    honest = shutil.copytree(REAL_REPO / "stages" / "stage3", subs / "alice",
                             ignore=shutil.ignore_patterns("__pycache__"))
    bad = [os.fsdecode(os.fsencode(subs) + b"/mallory\xff"), str(subs / "eve\u202egpj.py"),
           str(subs / "\x1b[2J\x1b[31mtrudy")]
    for folder in bad:
        shutil.copytree(honest, folder)
    out = tmp_path / "grades"
    held_before = intake.held()  # copies other tests took in and never released
    code, stdout, _ = run_cli("grade", "--root", REAL_REPO, "--stage", 3, "--out", out,
                              "--jobs", 2, "--select=stage3/MSELoss*", honest, *bad)
    assert code == 0  # every submission graded (a refusal is a grade), whatever the scores
    assert "\x1b" not in stdout and "\u202e" not in stdout
    rows = (out / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1].startswith("alice,") and ",graded," in rows[1]
    score, most = rows[1].split(",")[1:3]
    assert float(score) == float(most) > 0
    assert (out / "feedback" / "alice.txt").is_file()
    for shown in ("mallory\\xff", "eve\\u202egpj.py", "\\x1b[2J\\x1b[31mtrudy"):
        row = next(r for r in rows if r.startswith(f'{shown},') or r.startswith(f'"{shown}",'))
        assert ",refused," in row and f'the name ""{shown}""' in row
    assert intake.held() == held_before  # every copy of the batch released


# --- a zip's central directory -------------------------------------------------------------------


def central_record(name: bytes) -> bytes:
    """A central-directory entry of an empty stored file (APPNOTE 4.3.12)."""
    return struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0, 0, 0, 0,
                       len(name), 0, 0, 0, 0, 0o100644 << 16, 0) + name


def end_record(entries: int, size: int, offset: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(entries, 0xFFFF),
                       min(entries, 0xFFFF), size, offset, 0)


def forged_zip(path: Path, case: str) -> Path:
    """A zip of empty entries written byte by byte (no local headers: zipfile's open reads
    the directory alone)."""
    if case == "count":  # the end record claims 60,000 entries (its 16-bit field can say no more)
        data = central_record(b"a") + end_record(60_000, 47, 0)
    elif case == "zip64":  # its zip64 record claims a billion
        directory = central_record(b"a")
        end64 = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 10**9, 10**9,
                            len(directory), 0)
        locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(directory), 1)
        data = directory + end64 + locator + end_record(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
    else:  # a directory of 200,000 (large) or 20,000 (hidden) real entries, its count a lie
        count = 200_000 if case == "large" else 20_000
        directory = b"".join(central_record(b"%x" % index) for index in range(count))
        data = directory + end_record(10, len(directory), 0)
    path.write_bytes(data)
    return path


_MEASURE = """
import sys, time
from pathlib import Path
from instructor.grading.intake import Refused, take_in
began = time.perf_counter()
try:
    take_in(Path(sys.argv[1]), Path(sys.argv[2]))
    print("taken in")
except Refused as error:
    print(error)
print(time.perf_counter() - began)
"""
#: Runs the measured intake from a small fresh process, so that the peak resident memory of its
#: child (``RUSAGE_CHILDREN``) is the intake's alone, not pytest's pages seen across the fork.
_PEAK = """
import resource, subprocess, sys
done = subprocess.run([sys.executable, "-c", sys.argv[1], *sys.argv[2:]], capture_output=True,
                      text=True, timeout=60, check=True)
print(done.stdout, end="")
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def measured_intake(archive: Path, target: Path) -> tuple[str, float, int]:
    """(what take_in said, its seconds, the peak resident KiB of its process)."""
    done = subprocess.run([sys.executable, "-c", _PEAK, _MEASURE, archive, target],
                          capture_output=True, text=True, timeout=90, check=True)
    message, seconds, peak = done.stdout.splitlines()
    return message, float(seconds), int(peak)


@pytest.mark.parametrize("case, words", [
    ("count", f"holds 60000 entries, over the limit of {MAX_ENTRIES}"),
    ("zip64", f"holds 1000000000 entries, over the limit of {MAX_ENTRIES}"),
    ("large", f"over the limit of {MAX_DIRECTORY_BYTES}"),
    ("hidden", f"holds more than {MAX_ENTRIES} entries"),
])
def test_a_zip_directory_over_the_caps_is_refused_fast_in_bounded_memory(tmp_path, case, words):
    archive = forged_zip(tmp_path / "mallory.zip", case)
    message, seconds, peak_kib = measured_intake(archive, tmp_path / "copy")
    assert words in message
    assert seconds < 10
    assert peak_kib < 192 * 1024
    assert not (tmp_path / "copy").exists()


def test_the_forged_directory_is_one_zipfile_would_read(tmp_path):
    """The forgery is live: zipfile itself opens it (and holds every entry in memory)."""
    with zipfile.ZipFile(forged_zip(tmp_path / "m.zip", "hidden")) as archive:
        assert len(archive.infolist()) == 20_000


# --- what a submission and a batch write ---------------------------------------------------------


def test_folders_implied_by_zip_names_count_as_entries(tmp_path):
    archive = tmp_path / "mallory.zip"
    with zipfile.ZipFile(archive, "w") as handle:  # 800 files, 4,000 folders named by them alone
        handle.writestr("s/src/mini_torch/__init__.py", "")
        for index in range(800):
            handle.writestr(f"s/{index}/a/b/c/x.txt", "")
    with pytest.raises(Refused, match=f"more than {MAX_ENTRIES} files and folders"):
        take_in(archive, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()
    deep = tmp_path / "deep.zip"
    with zipfile.ZipFile(deep, "w") as handle:
        handle.writestr("a/" * 600 + "x.txt", "")
    with pytest.raises(Refused, match="over 1024 bytes long"):
        take_in(deep, tmp_path / "copy")


def test_the_zips_of_one_folder_share_its_budget(tmp_path):
    source = tmp_path / "mallory"
    source.mkdir()
    per_zip = MAX_TOTAL_BYTES // 3 + MAX_FILE_BYTES  # each within the limit, together not
    for index in range(3):
        with zipfile.ZipFile(source / f"part{index}.zip", "w", zipfile.ZIP_DEFLATED) as handle:
            handle.writestr("s/src/mini_torch/__init__.py", "")
            for part in range(per_zip // MAX_FILE_BYTES):
                handle.writestr(f"s/zeros{part}.bin", bytes(MAX_FILE_BYTES))
    with pytest.raises(Refused, match=f"more than {MAX_TOTAL_BYTES} bytes in all"):
        take_in(source, tmp_path / "copy")
    assert not (tmp_path / "copy").exists()


def test_the_copies_of_a_batch_stay_within_the_batch_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "BATCH_MAX_BYTES", 3 * 2**20)
    archives = []
    for index in range(8):
        archive = tmp_path / f"s{index}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
            handle.writestr("s/src/mini_torch/__init__.py", "")
            handle.writestr("s/data.bin", bytes(2**20))  # 1 MiB written for each
        archives.append(archive)
    on_disk, errors, lock = [], [], threading.Lock()
    held_before = intake.held()

    def written() -> int:
        total = 0
        for folder, _, files in os.walk(tmp_path):  # os.walk skips a folder removed meanwhile
            for name in files:
                if folder != str(tmp_path):
                    try:
                        total += os.lstat(os.path.join(folder, name)).st_size
                    except FileNotFoundError:  # a copy removed meanwhile
                        pass
        return total

    def grade(index: int) -> None:
        target = tmp_path / f"copy{index}"
        try:
            take_in(archives[index], target)
            with lock:
                on_disk.append(written())
            time.sleep(0.2)  # graded
            shutil.rmtree(target)
        except Exception as error:
            errors.append(error)
        finally:
            intake.release(target)

    threads = [threading.Thread(target=grade, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors and len(on_disk) == 8  # all taken in, none refused: they waited
    assert max(on_disk) <= intake.BATCH_MAX_BYTES - held_before[0]
    assert intake.held() == held_before


# --- collect -------------------------------------------------------------------------------------


def git(*args: str, cwd: Path, env: dict | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "s", "GIT_AUTHOR_EMAIL": "s@example.org",
           "GIT_COMMITTER_NAME": "s", "GIT_COMMITTER_EMAIL": "s@example.org",
           "GIT_AUTHOR_DATE": "2026-02-01T10:00:00+00:00",
           "GIT_COMMITTER_DATE": "2026-02-01T10:00:00+00:00", **(env or {})}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def commit_file(work: Path, name: str, text: str) -> str:
    (work / name).write_text(text)
    git("add", name, cwd=work)
    git("commit", "--quiet", "-m", text, cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def student_work(folder: Path) -> Path:
    work = folder / "work"
    work.mkdir(parents=True)
    git("init", "--quiet", "--initial-branch=main", cwd=work)
    return work


DUE = "2026-03-01T00:00:00+00:00"


@NEEDS_GIT
def test_collect_takes_the_default_branch_head_not_a_tag_named_origin_head(tmp_path):
    from instructor.collect import parse_date

    work = student_work(tmp_path / "mallory")
    commit_file(work, "work.txt", "start")
    git("checkout", "--quiet", "-b", "copied", cwd=work)
    elsewhere = commit_file(work, "work.txt", "a solution from elsewhere")
    git("checkout", "--quiet", "main", cwd=work)
    head = commit_file(work, "work.txt", "own work")
    git("tag", "origin/HEAD", elsewhere, cwd=work)
    git("branch", "--quiet", "-D", "copied", cwd=work)
    [entry] = collect([str(work)], parse_date(DUE), tmp_path / "out")
    assert entry.status == "collected" and entry.commit == head != elsewhere
    assert (tmp_path / "out" / "work" / "work.txt").read_text() == "own work"


@NEEDS_GIT
def test_collect_runs_no_hook(tmp_path, monkeypatch):
    from instructor.collect import parse_date

    work = student_work(tmp_path / "mallory")
    commit_file(work, "work.txt", "own work")
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    marker = tmp_path / "hook-ran"
    for hook in ("post-checkout", "post-merge", "reference-transaction"):
        (hooks / hook).write_text(f"#!/bin/sh\necho {hook} >> {marker}\n")
        (hooks / hook).chmod(0o755)
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    git("clone", "--quiet", str(work), str(tmp_path / "plain"), cwd=tmp_path)
    assert marker.exists()  # the forgery is live: a plain clone runs the hooks
    marker.unlink()
    [entry] = collect([str(work)], parse_date(DUE), tmp_path / "out")
    assert entry.status == "collected"
    assert not marker.exists()


@NEEDS_GIT
def test_collect_refuses_a_tree_over_the_caps_before_checking_it_out(tmp_path):
    from instructor.collect import parse_date

    work = student_work(tmp_path / "mallory")
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=work, input=b"x\n",
                          capture_output=True, check=True).stdout.decode().strip()
    listing = "".join(f"100644 blob {blob}\tf{index}.py\n" for index in range(MAX_ENTRIES + 1))
    tree = subprocess.run(["git", "mktree"], cwd=work, input=listing.encode(),
                          capture_output=True, check=True).stdout.decode().strip()
    commit = git("commit-tree", tree, "-m", "many files", cwd=work)
    git("update-ref", "refs/heads/main", commit, cwd=work)
    [entry] = collect([str(work)], parse_date(DUE), tmp_path / "out")
    assert entry.status.startswith(f"refused: its tree holds {MAX_ENTRIES + 1} files and folders")
    assert "not checked out" in entry.status
    assert not (tmp_path / "out" / "work").exists()
    assert "refused: its tree" in (tmp_path / "out" / "collected.csv").read_text()
