"""Grading real stage-3 submissions with the trusted checks, one batch for the whole module.

The batch: the reference (full marks), the untouched student release (at most 10 %), forged
copies of the release (code that attacks the grader, its neighbours and the machine, and
submissions made of links, special files and archives), and copies of the reference with one
thing changed, the honest neighbours. Expected outcomes are derived from the kit's own list of
checks and from the same submissions graded alone, not pasted numbers.

The forgeries need a jail; where this machine has none (no bubblewrap, not root), the batch is
graded ``unisolated`` so the rest still runs, and the tests of the jail say why they skip.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import pytest

from instructor.gradescope.results import gradescope_results
from instructor.grading import GradeOptions, grade_batch
from instructor.grading.jail import choose_jail
from instructor.grading.kit import build_kit
from instructor.grading.outfolder import write_reports
from instructor.grading.pipeline import grade_submission
from instructor.stages.repo import InstructorError

from .conftest import (
    DAEMON_MARKER,
    FORGED_KINDS,
    REAL_REPO,
    REFUSED_KINDS,
    make_forged,
    make_refused,
    make_release,
    make_submission,
)

KINDS = ("correct", "broken_backward", "earlier_broken", "syntax_error", "example_syntax_error",
         "infinite_loop", "prohibited_import", "tampering")
# The batch runs under the "flag" policy: the forged submissions import pytest, which the "zero"
# policy would score 0 without running them; here they run, and must still earn nothing.
#: Where this module's grading work folders go: every process of its jails has this path on
#: its command line (bwrap binds an install from it; a uid jail's worker runs a copy there).
WORK_ROOT = Path(tempfile.gettempdir()) / f"mini-torch-test-grading-{os.getpid()}"


def _jail_plan():
    try:
        return choose_jail()
    except InstructorError as error:
        return error


JAIL = _jail_plan()
requires_jail = pytest.mark.skipif(
    isinstance(JAIL, InstructorError),
    reason=f"no jail on this machine, the forgeries would run free: {JAIL}")
OPTIONS = GradeOptions(timeout=6.0, budget=200.0, policy="flag", work_root=WORK_ROOT,
                       unisolated=isinstance(JAIL, InstructorError))


def fingerprint(*folders) -> dict[str, str]:
    """{path: sha256 or link target} of every file under ``folders`` (links not followed)."""
    found = {}
    for folder in folders:
        for current, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in files + [d for d in dirs if os.path.islink(os.path.join(current, d))]:
                path = os.path.join(current, name)
                info = os.lstat(path)
                if stat.S_ISLNK(info.st_mode):
                    found[path] = "-> " + os.readlink(path)
                elif stat.S_ISREG(info.st_mode):
                    with open(path, "rb") as handle:
                        found[path] = hashlib.sha256(handle.read()).hexdigest()
                else:
                    found[path] = f"mode {info.st_mode:o}"
    return found


def processes_with(*markers: str) -> list[str]:
    """The command lines of running processes that hold any of ``markers``."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                line = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(marker in line for marker in markers):
            found.append(f"{pid}: {line[:200]}")
    return found


@pytest.fixture(scope="module")
def kit3(tmp_path_factory):
    return build_kit(REAL_REPO, 3, tmp_path_factory.mktemp("kit") / "kit")


@pytest.fixture(scope="module")
def release3(tmp_path_factory):
    return make_release(tmp_path_factory.mktemp("release") / "out")


@pytest.fixture(scope="module")
def submissions_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("submissions")


@pytest.fixture(scope="module")
def graded(kit3, release3, submissions_folder, tmp_path_factory):
    """The batch graded, with what the machine looked like before and after."""
    folder = submissions_folder
    submissions = [make_submission(kind, folder / kind) for kind in KINDS]
    submissions.append(shutil.copytree(release3, folder / "release"))
    submissions += [make_forged(kind, release3, folder / f"forged_{kind}")
                    for kind in FORGED_KINDS]
    submissions += [make_refused(kind, release3, REAL_REPO / "stages" / "stage3",
                                 folder / f"refused_{kind}") for kind in REFUSED_KINDS]
    sentinel = tmp_path_factory.mktemp("sentinel")  # a folder anyone may write into
    sentinel.chmod(0o1777)
    (sentinel / "keep.txt").write_text("unchanged\n")
    watched = (REAL_REPO / "stages" / "stage3", kit3.path, folder, sentinel, "/etc/hostname")
    before = fingerprint(*watched[:-1]) | {"/etc/hostname": open("/etc/hostname").read()}
    temp_before = set(os.listdir(tempfile.gettempdir()))
    results = grade_batch(kit3, submissions, options=OPTIONS, jobs=2)
    alive = processes_with(DAEMON_MARKER, str(WORK_ROOT))
    time.sleep(5)  # the forged daemon would have written by now, had it survived
    after = fingerprint(*watched[:-1]) | {"/etc/hostname": open("/etc/hostname").read()}
    return {
        "results": {result.student: result for result in results},
        "before": before, "after": after, "alive": alive, "paths": submissions,
        "new_temp": set(os.listdir(tempfile.gettempdir())) - temp_before,
    }


@pytest.fixture(scope="module")
def batch(graded):
    return graded["results"]


def failing(result, scored=True):
    return {c.name for c in result.checks if c.scored == scored and not c.passed}


def tasks_of(kit, *tasks):
    return {c.name for c in kit.checks if c.task in tasks}


def test_only_the_stage_own_tasks_carry_points(kit3, batch):
    result = batch["correct"]
    scored = {c.task for c in result.checks if c.max_points > 0}
    assert scored == set(kit3.tasks)
    earlier = [c for c in result.checks if c.name.startswith(("stage1/", "stage2/"))]
    assert earlier and all(c.max_points == 0 for c in earlier)
    assert any(c.hidden and c.max_points > 0 for c in result.checks)


def test_the_reference_gets_full_marks(batch):
    result = batch["correct"]
    assert result.status == "graded"
    assert result.max_score > 0 and result.score == result.max_score, failing(result)
    assert not failing(result, scored=False)


def test_the_untouched_release_gets_at_most_a_tenth(batch):
    result = batch["release"]
    assert result.score <= 0.1 * result.max_score
    stub = next(c for c in result.checks if c.task.endswith("MSELoss.forward") and c.scored)
    assert "NotImplementedError" in stub.message
    assert stub.where.startswith("src/mini_torch/nn/loss.py:")


@requires_jail
@pytest.mark.parametrize("kind", FORGED_KINDS)
def test_a_forged_release_scores_no_more_than_the_untouched_one(batch, kind):
    assert batch[f"forged_{kind}"].score <= batch["release"].score, [
        c.name for c in batch[f"forged_{kind}"].checks if c.passed and c.scored]


@pytest.mark.parametrize("kind", REFUSED_KINDS)
def test_links_special_files_and_oversized_archives_are_refused_unrun(batch, kind):
    result = batch[f"refused_{kind}"]
    assert result.status == "refused" and result.score == 0, (result.status, result.message)
    assert all(c.outcome == "not_run" for c in result.checks)
    # The message names the entry and says what to do.
    words = {"linked_folder": "nn is a symbolic link", "linked_file": "loss.py is a symbolic",
             "dangling_link": "data is a symbolic link", "fifo": "pipe is a FIFO",
             "hard_link": "loss.py is a hard link", "zip_bomb": "bytes",
             "zip_symlink": "solved.py is a symbolic link", "zip_slip": "points outside",
             "zip_entries": "entries"}
    assert words[kind] in result.message, result.message


@requires_jail
@pytest.mark.parametrize("kind", ("correct", "broken_backward", "infinite_loop"))
def test_honest_neighbours_score_in_the_batch_what_they_score_alone(kit3, batch,
                                                                    submissions_folder, kind):
    alone = grade_submission(kit3, submissions_folder / kind, options=OPTIONS)
    in_batch = batch[kind]
    assert in_batch.score == alone.score
    assert [(c.name, c.outcome) for c in in_batch.checks] == [
        (c.name, c.outcome) for c in alone.checks]


@requires_jail
def test_no_file_outside_the_out_folder_changes(graded):
    changed = {path for path in graded["before"].keys() | graded["after"].keys()
               if graded["before"].get(path) != graded["after"].get(path)}
    assert not changed
    assert not any("zip-slip" in name or name.startswith(("filler-", "grades", "results"))
                   for name in graded["new_temp"]), graded["new_temp"]


@requires_jail
def test_no_process_of_a_jail_is_alive_after_grading(graded):
    assert graded["alive"] == []
    assert processes_with(DAEMON_MARKER) == []


def test_tampering_around_the_package_changes_nothing(kit3, batch):
    # Its loss is broken (MSELoss.backward); a conftest, a pytest.ini, sitecustomize files and a
    # correct mini_torch beside src/ earn nothing.
    assert failing(batch["tampering"]) == failing(batch["broken_backward"])


def test_a_wrong_backward_loses_the_checks_of_that_task_and_its_callers(kit3, batch):
    lost = failing(batch["broken_backward"])
    assert tasks_of(kit3, "mini_torch.nn.loss.MSELoss.backward") <= lost
    assert lost <= tasks_of(kit3, "mini_torch.nn.loss.MSELoss.backward",
                            "examples/train_sine.py:train_step")


def test_broken_code_of_an_earlier_stage_is_reported_not_scored(batch):
    result = batch["earlier_broken"]
    assert result.score == result.max_score, [
        (c.name, c.message) for c in result.checks if c.scored and not c.passed]
    assert {n.split("[")[0] for n in failing(result, scored=False)} == {"stage1/relu_backward",
                                                                         "stage2/ReLU.backward"}


def test_a_syntax_error_costs_the_checks_of_its_file(kit3, batch):
    result = batch["example_syntax_error"]
    assert failing(result) == tasks_of(kit3, "examples/train_sine.py:train_step")
    check = next(c for c in result.checks if c.name in failing(result))
    assert check.outcome == "syntax_error" and "examples/train_sine.py:" in check.message
    result = batch["syntax_error"]
    loss_checks = {c.name for c in kit3.checks
                   if c.file == "src/mini_torch/nn/loss.py" and not c.given}
    assert loss_checks <= failing(result)
    # Only the loss and the training steps that call it fail; those say why.
    steps = {c.name for c in kit3.checks if c.file.startswith("examples/")}
    assert failing(result) <= loss_checks | steps
    assert all("does not compile" in c.message for c in result.checks
               if c.name in steps and not c.passed)


def test_a_hang_costs_the_checks_that_hang_and_hidden_checks_still_run(kit3, batch):
    result = batch["infinite_loop"]
    hanging = tasks_of(kit3, "mini_torch.nn.loss.MSELoss.backward")
    assert hanging <= failing(result)
    assert failing(result) <= hanging | tasks_of(kit3, "examples/train_sine.py:train_step")
    timeouts = [c for c in result.checks if c.name in hanging]
    assert all(c.outcome == "timeout" for c in timeouts)
    assert any(c.where.startswith("src/mini_torch/nn/loss.py:") for c in timeouts)
    hidden = [c for c in result.checks if c.hidden and c.name not in hanging]
    assert hidden and all(c.passed for c in hidden)


def test_a_loop_that_swallows_the_interruption_loses_only_its_own_task(kit3, tmp_path):
    """Not the first task the checks call, and a loop no KeyboardInterrupt ends: the watchdog
    ends it, and every check of the other tasks, after it too, still passes."""
    from .conftest import replace_region

    folder = make_submission("correct", tmp_path / "stubborn")
    replace_region(folder / "src" / "mini_torch" / "nn" / "loss.py",
                   "BCEWithLogitsLoss.forward",
                   "while True:\n    try:\n        sum(range(10000))\n"
                   "    except BaseException:\n        pass")
    options = GradeOptions(timeout=2.0, budget=200.0, work_root=WORK_ROOT,
                           unisolated=OPTIONS.unisolated)
    [result] = grade_batch(kit3, [folder], options=options, jobs=1)
    own = tasks_of(kit3, "mini_torch.nn.loss.BCEWithLogitsLoss.forward",
                   "mini_torch.nn.loss.BCEWithLogitsLoss.backward")
    callers = tasks_of(kit3, "examples/train_moons.py:train_step")
    assert result.status == "graded"
    assert tasks_of(kit3, "mini_torch.nn.loss.BCEWithLogitsLoss.forward") <= failing(result)
    assert failing(result) <= own | callers
    assert all(c.passed for c in result.checks if c.scored and c.name not in own | callers)
    stopped = [c for c in result.checks if c.name in own and not c.passed]
    assert all(c.outcome == "timeout" for c in stopped)
    assert any("BCEWithLogitsLoss.forward" in c.message + c.where for c in stopped)
    assert not any("did not finish loading" in c.message for c in result.checks)


def test_under_the_zero_policy_a_prohibited_import_scores_zero_unrun(kit3, tmp_path):
    submission = make_submission("prohibited_import", tmp_path / "zero")
    result = grade_submission(kit3, submission, options=GradeOptions(policy="zero"))
    assert result.status == "integrity" and result.score == 0
    assert all(c.outcome == "not_run" for c in result.checks)
    assert len(result.integrity) == 1
    assert result.integrity[0].startswith("src/mini_torch/nn/loss.py:")
    assert result.integrity[0].endswith("imports torch")


def test_under_the_flag_policy_a_prohibited_import_is_only_reported(batch):
    result = batch["prohibited_import"]
    assert result.status == "graded" and result.score == result.max_score, failing(result)
    assert result.integrity[0].endswith("imports torch")
    assert any("integrity" in note for note in result.notes)


def test_the_forged_releases_ran_under_the_flag_policy(batch):
    flagged = [batch[f"forged_{kind}"] for kind in ("runner_patch", "comparison_patch")]
    assert all(r.status == "graded" and r.integrity for r in flagged)


@requires_jail
def test_an_installed_library_no_stage_may_use_is_absent_from_the_jail(batch):
    """The grading environment holds pytest (as an instructor's may hold PyTorch); a jail holds
    only what the stages may use, so an import the source scan cannot read still fails, and
    the attempt is a finding for staff."""
    result = batch["forged_hidden_library"]
    assert not result.integrity  # the scan saw no import: the spelling hid it
    messages = [c.message for c in result.checks]
    assert not any("reached a prohibited library" in m for m in messages)
    assert any("No module named 'pytest'" in m for m in messages), messages[:3]
    assert any("tried to import pytest" in f for f in result.findings), result.findings


@requires_jail
def test_every_submission_had_a_jail_and_its_reports_say_which(batch):
    for result in batch.values():
        assert result.isolated and result.isolation.startswith("isolated: student code ran ")
        assert "in a bubblewrap jail" in result.isolation or " as uid " in result.isolation


@requires_jail
def test_no_feedback_holds_another_submission_s_path_or_the_machine_s(graded, tmp_path):
    results = list(graded["results"].values())
    write_reports(results, tmp_path / "out")
    paths = [str(p) for p in graded["paths"]]
    for result in results:
        text = (tmp_path / "out" / "feedback" / f"{result.student}.txt").read_text()
        text += (tmp_path / "out" / "results" / result.student / "results.json").read_text()
        others = [p for p in paths if p in text and not str(result.source).startswith(p)]
        assert not others, (result.student, others)
        assert "/tmp/grade-" not in text and tempfile.gettempdir() + "/" not in text
    leak = (tmp_path / "out" / "feedback" / "forged_leaky_error.txt").read_text()
    assert "RuntimeError: leak:" in leak and "<path>" in leak
    assert "'PATH'" not in leak and os.environ.get("HOME", "~~") not in leak


def test_reports_of_the_batch(batch, tmp_path):
    results = list(batch.values())
    write_reports(results, tmp_path / "out")
    tmp_path = tmp_path / "out"
    rows = list(csv.DictReader((tmp_path / "gradebook.csv").open()))
    assert [row["student"] for row in rows] == [r.student for r in results]
    correct = next(row for row in rows if row["student"] == "correct")
    assert float(correct["score"]) == float(correct["max"]) > 0
    feedback = (tmp_path / "feedback" / "broken_backward.txt").read_text()
    assert "MSELoss.backward" in feedback


def test_gradescope_results_state_no_hidden_result_before_publication(batch):
    data = gradescope_results(batch["infinite_loop"])
    hidden = [t for t in data["tests"] if t["name"].startswith("hidden/")]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)
    assert all(t["visibility"] == "visible" for t in data["tests"] if t not in hidden)
    public = sum(t["score"] for t in data["tests"] if t not in hidden)
    most = sum(t["max_score"] for t in data["tests"] if t not in hidden)
    assert f"{public:g} / {most:g}" in data["output"]
    # No hidden check's name, and no total or subtotal that counts them, in the visible output.
    assert not any(t["name"] in data["output"] for t in hidden)
    hidden_points = sum(t["score"] for t in hidden)
    assert hidden_points > 0
    numbers = {float(w) for w in data["output"].replace("/", " ").split()
               if w.replace(".", "", 1).isdigit()}
    assert numbers <= {public, most, float(len([t for t in data["tests"]
                                                  if t not in hidden and t["status"] == "failed"
                                                  and t["max_score"] > 0]))}
    assert isinstance(data["execution_time"], int)


def test_a_submission_without_a_package_is_graded_zero(kit3, tmp_path):
    (tmp_path / "empty").mkdir()
    result = grade_submission(kit3, tmp_path / "empty", options=OPTIONS)
    assert result.status == "no_package" and result.score == 0
    assert all(c.outcome == "not_run" for c in result.checks)


def test_the_checks_never_import_the_package_into_the_grader(batch):
    import sys

    assert not any(name == "mini_torch" or name.startswith("mini_torch.") for name in sys.modules)



# --- the grader's own trouble ----------------------------------------------------------------


def _stall_first_runs(monkeypatch, stalled: int, always: bool = False) -> list[str]:
    """Make the first run of the first ``stalled`` distinct check programs hit the wall-clock
    backstop (the grader's trouble: a busy machine), or every run of them with ``always``.
    Returns the keys of the programs stalled."""
    import json

    from instructor.grading import jail

    seen: list[str] = []
    real = jail.Worker.request

    def request(self, body, limit):
        if "steps" in body:
            key = json.dumps(body["steps"], sort_keys=True)[:2000]
            first = key not in seen
            if first and len(seen) < stalled:
                seen.append(key)
                raise jail.WorkerBackstop("no answer in 61 s (simulated)", cpu=0.0, wall=61.0,
                                          log="worker stderr: simulated stall")
            if always and key in seen:
                raise jail.WorkerBackstop("no answer in 61 s (simulated)", cpu=0.0, wall=61.0)
        return real(self, body, limit)

    monkeypatch.setattr(jail.Worker, "request", request)
    return seen


def test_a_check_the_grader_stalled_is_graded_again_alone_and_keeps_its_marks(
        kit3, tmp_path, monkeypatch):
    from instructor.grading.reports import feedback_text

    reference = make_submission("correct", tmp_path / "correct")
    stalled = _stall_first_runs(monkeypatch, 2)
    [result] = grade_batch(kit3, [reference], options=OPTIONS, jobs=1)
    assert len(stalled) == 2
    retried = [c for c in result.checks if c.retried]
    assert len(retried) == 2 and all(c.passed for c in retried)
    assert result.status == "graded" and result.score == result.max_score
    assert "graded a second time" in feedback_text(result)
    write_reports([result], tmp_path / "out")
    log = (tmp_path / "out" / "logs" / "correct.log").read_text()
    assert "graded again" in log and "simulated stall" in log


def test_a_worker_the_grader_cannot_start_twice_is_a_grader_error_not_a_zero(
        kit3, tmp_path, monkeypatch):
    from instructor.grading import jail

    reference = make_submission("correct", tmp_path / "correct")
    real = jail.Worker.request

    def request(self, body, limit):
        if "load" in body and "install-" in str(self.install):
            raise jail.WorkerBackstop("the worker did not start in 120 s (simulated)")
        return real(self, body, limit)

    monkeypatch.setattr(jail.Worker, "request", request)
    [result] = grade_batch(kit3, [reference], options=OPTIONS, jobs=1)
    stuck = [c for c in result.checks if not c.passed]
    assert stuck and all(c.outcome == "grader_error" and c.retried for c in stuck)
    assert result.status == "grader_error"  # to regrade, not a grade of record
    assert stuck[0].name in result.message


def test_a_check_that_sleeps_past_the_backstop_twice_is_the_student_s_timeout(
        kit3, tmp_path, monkeypatch):
    reference = make_submission("correct", tmp_path / "correct")
    _stall_first_runs(monkeypatch, 1, always=True)
    [result] = grade_batch(kit3, [reference], options=OPTIONS, jobs=1)
    [stuck] = [c for c in result.checks if not c.passed]
    assert stuck.outcome == "timeout" and stuck.retried  # alone, on a fresh worker, again
    assert "wall-clock" in stuck.message and "sleep" in stuck.message


def test_one_worker_answers_both_installs_only_when_they_hold_the_same_package(
        kit3, tmp_path, monkeypatch):
    from instructor.grading import jail

    started: list[str] = []
    real = jail.Worker.start

    def start(self, *args, **kwargs):
        started.append(Path(self.install).name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(jail.Worker, "start", start)
    same = make_submission("correct", tmp_path / "same")
    changed = make_submission("earlier_broken", tmp_path / "changed")
    results = grade_batch(kit3, [same], options=OPTIONS, jobs=1)
    assert started == ["install-scored"] and results[0].score == results[0].max_score
    started.clear()
    [result] = grade_batch(kit3, [changed], options=OPTIONS, jobs=1)
    assert sorted(started) == ["install-full", "install-scored"]
    assert any(not c.scored and not c.passed for c in result.checks)  # its own earlier code
