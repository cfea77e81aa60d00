"""Attacks on the grader, one test per row of the table in docs/instructor.md ("The jail").

Each row grades a forged copy of the untouched stage-3 release (a payload of
``fixtures/forged/attacks``, kept out of the large batch of ``test_grading_real.py``: a worker
that never reads its requests costs minutes of backstops at full size) on six checks of stage
3's losses, in the cheapest jail that shows the point: a uid jail when the tests run as root
(the weakest jail, the one Gradescope's container gets), else bubblewrap; without either they
skip and say why. Rows (c), (d), (e) and (g) share
one batch with an honest neighbour; (a) and (f) grade in a process of their own, so that the
grader's memory and a second run beside it are measured as they are.

Rows held elsewhere: a CPU hog with many processes beside honest neighbours (h) in
``test_grading_under_load.py``; reading the kit, the disk, classmates' installs, writing the
gradebook, killing processes, outliving a check (the other forgeries) in
``test_grading_real.py``; what a bubblewrap jail sees, and its process limit, in
``test_grading_intake_and_jail.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from instructor.grading import GradeOptions, grade_batch
from instructor.grading.jail import probe_bubblewrap
from instructor.grading.jail.traces import SHARED_FOLDERS
from instructor.grading.kit import build_kit
from instructor.grading.pipeline import plan_jails
from instructor.grading.verdicts import _same

from .conftest import DAEMON_MARKER, REAL_REPO, make_forged, make_release, make_submission

pytestmark = pytest.mark.timeout(120)

#: The checks graded: forward and backward of three losses (the forged payloads replace them).
SELECT = ["stage3/MSELoss.*mean*",
          "stage3/CrossEntropyLoss.*indices-mean*", "stage3/BCELoss.*mean*"]
WORK_ROOT = Path(tempfile.gettempdir()) / f"mini-torch-test-attacks-{os.getpid()}"
OPTIONS = GradeOptions(timeout=5.0, budget=60.0, policy="flag", work_root=WORK_ROOT)
#: The honest neighbour's folder name, which the forged command-line reader looks for.
CLASSMATE = f"{DAEMON_MARKER}-classmate"


def _jail_kind() -> tuple[str | None, str]:
    if os.geteuid() == 0:
        return "uid", ""
    works, why = probe_bubblewrap()
    return ("bubblewrap", "") if works else (None, why)


JAIL_KIND, WHY = _jail_kind()
requires_jail = pytest.mark.skipif(
    JAIL_KIND is None, reason=f"no jail here (not root, and no bubblewrap: {WHY})")
requires_uid_jail = pytest.mark.skipif(
    JAIL_KIND != "uid", reason="a uid jail needs a grader running as root")


@pytest.fixture(scope="module", autouse=True)
def jail_kind():
    with pytest.MonkeyPatch.context() as patch:
        if JAIL_KIND is not None:
            patch.setenv("MINI_TORCH_JAIL", JAIL_KIND)
        yield JAIL_KIND


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    return build_kit(REAL_REPO, 3, tmp_path_factory.mktemp("kit") / "kit", hidden=False,
                     select=SELECT)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return make_release(tmp_path_factory.mktemp("release") / "out")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("submissions")


def traces_of(uids: range, since: float) -> list[str]:
    """What the uids own in the machine's shared folders (made or changed after ``since``: a
    uid of this run may have been another run's before) and in the IPC tables."""
    found = []
    for place in SHARED_FOLDERS:
        for current, dirs, files in os.walk(place):
            for name in dirs + files:
                path = os.path.join(current, name)
                try:
                    info = os.lstat(path)
                    if info.st_uid in uids and info.st_ctime >= since:
                        found.append(path)
                except OSError:
                    continue
    for kind in ("shm", "sem", "msg"):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        header = lines[0].split() if lines else []
        for line in lines[1:]:
            values = dict(zip(header, line.split()))
            if {int(values.get("uid", -1)), int(values.get("cuid", -1))} & set(uids):
                found.append(f"System V {kind}: {line.strip()}")
    return found


@pytest.fixture(scope="module")
def batch(kit, release, folder):
    """Rows (c), (d), (e), (g) graded in one batch beside an honest neighbour."""
    kinds = ("ipc_user", "shared_filler", "forged_records", "cmdline_reader")
    submissions = [make_forged(f"attacks/{kind}", release, folder / kind) for kind in kinds]
    submissions.append(make_submission("correct", folder / CLASSMATE))
    plan = plan_jails(kit, OPTIONS, len(submissions))
    uids = range(plan.uids.start, plan.uids.start + plan.uids.count) if plan.uids else range(0)
    started = time.time()
    try:
        results = grade_batch(kit, submissions, options=OPTIONS, jobs=2, plan=plan)
        left = traces_of(uids, started) if plan.kind == "uid" else []
    finally:
        plan.close()
    return {"results": {r.student: r for r in results}, "uids": uids, "left": left}


def check(result, prefix: str):
    return [c for c in result.checks if c.name.startswith(prefix)]


def grade_elsewhere(kit, submissions: list[Path], jobs: int = 1) -> subprocess.Popen:
    """A grading run in a process of its own (a second ``grade`` on the machine); its output
    is one line of JSON: the results, its uid range and its own peak memory."""
    program = """if True:
        import json, resource, sys
        from pathlib import Path
        from instructor.grading import GradeOptions, grade_batch
        from instructor.grading.kit import load_kit
        from instructor.grading.pipeline import plan_jails

        kit = load_kit(Path(sys.argv[1]), seed=0)
        options = GradeOptions(timeout=5.0, budget=60.0, policy="flag",
                               work_root=Path(sys.argv[2]))
        submissions = [Path(p) for p in sys.argv[4:]]
        plan = plan_jails(kit, options, len(submissions))
        uids = [plan.uids.start, plan.uids.count] if plan.uids else []
        try:
            results = grade_batch(kit, submissions, options=options, jobs=int(sys.argv[3]),
                                  plan=plan)
        finally:
            plan.close()
        print(json.dumps({
            "uids": uids, "kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "results": {r.student: {"status": r.status, "score": r.score, "max": r.max_score,
                                    "checks": [[c.name, c.outcome, c.message[:300]]
                                               for c in r.checks]} for r in results}}))
    """
    return subprocess.Popen(
        [sys.executable, "-c", program, str(kit.path), str(WORK_ROOT), str(jobs),
         *map(str, submissions)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "MINI_TORCH_JAIL": JAIL_KIND or ""})


def answer_of(run: subprocess.Popen) -> dict:
    out, _ = run.communicate(timeout=100)
    assert run.returncode == 0
    return json.loads(out.strip().splitlines()[-1])


# --- (a) an answer of hundreds of MB ----------------------------------------------------------


@requires_jail
def test_a_flood_on_the_answer_pipe_fails_its_check_and_the_grader_stays_small(kit, release,
                                                                                folder):
    flood = make_forged("attacks/answer_flood", release, folder / "answer_flood")
    neighbour = make_submission("correct", folder / "flood_neighbour")
    answer = answer_of(grade_elsewhere(kit, [flood, neighbour], jobs=2))
    forged, honest = answer["results"]["answer_flood"], answer["results"]["flood_neighbour"]
    assert forged["status"] == "graded" and forged["score"] == 0
    flooded = [c for c in forged["checks"] if "MSELoss." in c[0]]
    assert flooded and all(c[1] == "failed" and "cannot read" in c[2] and c[0] in c[2]
                           for c in flooded), flooded
    assert honest["status"] == "graded" and honest["score"] == honest["max"] > 0
    # 400 MiB was written at it, and 5 million values: the grader's own peak stays small
    assert answer["kib"] < 200 * 1024, answer["kib"]


# --- (b) a worker that never reads its requests -----------------------------------------------


@requires_jail
def test_a_worker_that_never_reads_its_requests_ends_within_the_budget(kit, release, folder,
                                                                       monkeypatch):
    from instructor.grading import running
    from instructor.grading.jail import workers

    monkeypatch.setattr(workers, "MIN_BACKSTOP", 1.0)
    monkeypatch.setattr(workers, "BACKSTOP_FACTOR", 1.0)
    monkeypatch.setattr(running, "BACKSTOPS_TO_DEFER", 1)
    ignorer = make_forged("attacks/pipe_ignorer", release, folder / "pipe_ignorer")
    options = GradeOptions(timeout=1.0, budget=2.0, policy="flag", work_root=WORK_ROOT)
    began = time.monotonic()
    [result] = grade_batch(kit, [ignorer], options=options, jobs=1)
    wall = time.monotonic() - began
    outcomes = [c.outcome for c in result.checks]
    assert result.status == "graded" and "grader_error" not in outcomes
    # first run: one backstop, the rest deferred; second run: backstops until the budget
    # (2 CPU s, each backstop charged its 1 s of wall clock) is spent, the rest not run
    assert outcomes.count("timeout") <= 3 and outcomes.count("not_run") >= len(outcomes) - 3
    assert all("budget" in c.message for c in result.checks if c.outcome == "not_run")
    starts = outcomes.count("timeout") + 1  # a fresh worker for each (each start ~2 s)
    assert wall < 1 * 1.0 + options.budget + 1.0 + starts * 5.0, wall


def test_a_worker_that_never_reads_a_large_request_ends_at_the_write_deadline(tmp_path,
                                                                              monkeypatch):
    from instructor.grading import jail
    from instructor.grading.jail import workers

    monkeypatch.setattr(workers, "WRITE_BACKSTOP", 1.0)
    site = tmp_path / "install" / "site"
    (site / "mini_torch").mkdir(parents=True)
    (tmp_path / "install" / "examples").mkdir()
    payload = (Path(__file__).parent / "fixtures" / "forged" / "attacks" / "pipe_ignorer.py")
    (site / "mini_torch" / "__init__.py").write_text(payload.read_text())
    worker = jail.Worker(tmp_path / "install", tmp_path / "scratch")  # the test's own code
    try:
        assert worker.request({"load": "mini_torch"}, 10.0).ok
        began = time.monotonic()
        with pytest.raises(jail.WorkerBackstop, match="did not read its request"):
            # 1 MiB: more than a pipe holds, so the write itself waits for the worker
            worker.request({"steps": [{"call": "len", "args": ["x" * 2**20]}], "outputs": []},
                           10.0)
        assert time.monotonic() - began < 1.0 + 5.0
        assert worker.process is None  # stopped: the next request starts a fresh worker
    finally:
        worker.stop()


# --- (c) IPC objects and locks ------------------------------------------------------------------


@requires_jail
def test_ipc_objects_and_file_locks_are_refused_and_none_is_left(batch):
    result = batch["results"]["ipc_user"]
    [first, *_] = check(result, "stage3/MSELoss.forward")
    assert first.outcome == "error" and first.message.startswith("RuntimeError: ipc ")
    found = dict(pair.split("=") for pair in first.message.split("ipc ", 1)[1].split())
    assert set(found) == {"shmget", "semget", "msgget", "mq_open", "flock", "lockf"}
    assert all(value == "EPERM" for value in found.values()), found
    assert not [t for t in batch["left"] if "System V" in t]


# --- (d) filling /tmp and /dev/shm ----------------------------------------------------------------


@requires_jail
def test_shared_folders_are_capped_per_file_and_nothing_of_the_uid_is_left(batch):
    result = batch["results"]["shared_filler"]
    [first, *_] = check(result, "stage3/MSELoss.forward")
    sizes = dict(pair.split("=") for pair in first.message.split("filled ", 1)[1].split())
    assert sizes and all(int(size.removesuffix("MiB")) <= 16 for size in sizes.values()), sizes
    assert batch["left"] == []  # (uid jail) the sweep removed its files, folders, IPC objects


@requires_uid_jail
def test_the_uid_jail_says_what_it_swept(batch):
    result = batch["results"]["shared_filler"]
    assert any("cleanup: nothing of uid" in note and "removed" in note for note in result.notes)


# --- (e) an answer that makes the grader raise ----------------------------------------------------


@requires_jail
def test_an_answer_that_trips_the_grader_is_the_student_s_failed_check(batch):
    result = batch["results"]["forged_records"]
    assert result.status == "graded" and result.score == 0
    assert not result.log or all("Traceback" not in entry for entry in result.log)
    by_task = {}
    for entry in result.checks:
        assert entry.outcome in ("failed", "error"), (entry.name, entry.outcome, entry.message)
        by_task.setdefault(".".join(entry.task.split(".")[-2:]), []).append(entry)
        assert len(entry.message) < 1500 and len(entry.details) < 6000, entry.name
    # frames that are not a list, or frames of garbage: skipped, the error stays the student's
    assert all(e.outcome == "error" and e.message == "ValueError: m"
               for e in by_task["MSELoss.forward"] + by_task["MSELoss.backward"])
    # an enormous record: its type, message and frames cut
    [enormous] = by_task["CrossEntropyLoss.forward"]
    assert enormous.outcome == "error" and enormous.details.count("\n") < 30
    # nested 100,000 deep, an array header of inf and NaN: cannot be read, named as the check
    for entry in by_task["CrossEntropyLoss.backward"] + by_task["BCELoss.forward"]:
        assert entry.outcome == "failed" and "cannot read" in entry.message, entry.message
        assert entry.name in entry.message
    # 5,000 results where an array goes: a failed check, its message short
    [listed] = by_task["BCELoss.backward"]
    assert listed.outcome == "failed" and "a list of 5000 results" in listed.message


def test_a_fault_of_the_grader_is_a_grader_error_logged_for_staff_not_printed(
        kit, folder, monkeypatch, capsys, tmp_path):
    from instructor.grading import running
    from instructor.grading.outfolder import write_reports

    honest = make_submission("correct", folder / "grader_fault")

    def broken_copy(source, target):
        raise RuntimeError("a bug of the grader")

    monkeypatch.setattr(running, "copy_python", broken_copy)
    [result] = grade_batch(kit, [honest], options=OPTIONS, jobs=1)
    assert result.status == "grader_error" and result.score == 0
    write_reports([result], tmp_path / "out")
    log = (tmp_path / "out" / "logs" / "grader_fault.log").read_text()
    assert "Traceback" in log and "RuntimeError: a bug of the grader" in log
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err


def test_a_comparison_message_quotes_only_a_few_names():
    import numpy as np

    want = [["weight", np.zeros(2)], ["bias", np.zeros(1)]]
    got = [[f"{'w' * 500}{i}", np.zeros(2)] for i in range(5000)]
    message = _same("parameters", got, want, 1e-5, 1e-6)
    assert message.startswith("parameters: expected a list of 2 results")
    got = [[f"{'w' * 500}{i}", np.zeros(2)] for i in range(2)]
    message = _same("parameters", got, want, 1e-5, 1e-6)
    assert "expected the parameters ['weight', 'bias']" in message and len(message) < 400


# --- (f) two grading runs at once -----------------------------------------------------------------


@requires_jail
def test_two_grade_runs_at_once_grade_alike_on_disjoint_uids(kit, folder, batch):
    honest = make_submission("correct", folder / "twice_correct")
    broken = make_submission("broken_backward", folder / "twice_broken")
    runs = [grade_elsewhere(kit, [honest, broken]) for _ in range(2)]
    first, second = (answer_of(run) for run in runs)
    assert first["results"] == second["results"]
    # the same as the honest neighbour of the other batch, graded before
    alone = batch["results"][CLASSMATE]
    assert first["results"]["twice_correct"]["score"] == alone.score == alone.max_score
    lost = {c[0] for c in first["results"]["twice_broken"]["checks"] if c[1] != "passed"}
    assert lost == {c.name for c in kit.checks if c.task.endswith("MSELoss.backward")}
    if JAIL_KIND == "uid" or first["uids"]:
        (a, n), (b, m) = first["uids"], second["uids"]
        assert a + n <= b or b + m <= a  # no uid of one run is the other's


# --- (g) the command lines student code can read ------------------------------------------------


@requires_jail
def test_no_command_line_a_jail_can_read_names_a_classmate(batch):
    result = batch["results"]["cmdline_reader"]
    [first, *_] = check(result, "stage3/MSELoss.forward")
    assert first.message.startswith("RuntimeError: cmdline read"), first.message
    assert "classmate named 0 times" in first.message
    assert batch["results"][CLASSMATE].score == batch["results"][CLASSMATE].max_score > 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc is Linux's")
def test_grade_can_hide_its_command_line_from_other_users():
    program = ("import sys\nfrom instructor.grading.jail import hide_command_line\n"
               "print(hide_command_line('python -m instructor grade --stage 3'), flush=True)\n"
               "sys.stdin.read()\nprint(sys.argv[1:])\n")
    run = subprocess.Popen([sys.executable, "-c", program, "alice/", "bob.zip"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert run.stdout.readline().strip() == "True"
        shown = Path(f"/proc/{run.pid}/cmdline").read_bytes()
        assert shown.rstrip(b"\0") == b"python -m instructor grade --stage 3"
        out, _ = run.communicate("", timeout=30)
    finally:
        run.kill()
    assert out.strip() == "['alice/', 'bob.zip']"  # the grader itself keeps its arguments
