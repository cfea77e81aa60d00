"""A grade does not depend on the machine's load: a small batch graded beside CPU-bound loops.

Four ``while True: pass`` processes run beside the grader (a shared department server, a laptop
with a browser open) while it grades identical correct copies of stage 3, one with a wrong
``MSELoss.backward`` and a forged one that starts many CPU-bound processes in its own jail.
Limits are CPU time of each jail, so every correct copy gets its full marks and the honest one
with a bug loses exactly what it loses on a quiet machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from instructor.grading import GradeOptions, grade_batch
from instructor.grading.kit import build_kit
from instructor.grading.pipeline import grade_submission

from .conftest import REAL_REPO, make_release, make_submission
from .test_grading_real import processes_with, requires_jail

#: CPU-bound processes started beside the grader.
LOOPS = 4
MARKER = f"mini-torch-test-load-{os.getpid()}"
WORK_ROOT = Path(tempfile.gettempdir()) / f"mini-torch-test-load-{os.getpid()}"
OPTIONS = GradeOptions(timeout=10.0, budget=20.0, work_root=WORK_ROOT)

#: A payload for the untouched release: at import, 24 processes that spin until killed.
HOG = '''

# --- forged: occupy the machine's CPUs from inside the jail ----------------------------------
def _forge_hog():
    import os

    for _ in range(24):
        try:
            if os.fork() == 0:
                while True:
                    pass
        except OSError:
            break


_forge_hog()
'''


@pytest.fixture(scope="module")
def kit3(tmp_path_factory):
    return build_kit(REAL_REPO, 3, tmp_path_factory.mktemp("kit") / "kit")


@pytest.fixture(scope="module")
def graded(kit3, tmp_path_factory):
    folder = tmp_path_factory.mktemp("load")
    submissions = [make_submission("correct", folder / f"correct{i}") for i in range(4)]
    submissions.append(make_submission("broken_backward", folder / "broken"))
    hog = shutil.copytree(make_release(folder / "release"), folder / "hog")
    loss = hog / "src" / "mini_torch" / "nn" / "loss.py"
    loss.write_text(loss.read_text() + HOG)
    submissions.append(hog)
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass", MARKER])
             for _ in range(LOOPS)]
    try:
        results = grade_batch(kit3, submissions, options=OPTIONS, jobs=2)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    quiet = grade_submission(kit3, folder / "broken", options=OPTIONS)
    return {r.student: r for r in results}, quiet


@requires_jail
def test_every_correct_copy_gets_full_marks_beside_busy_loops(graded):
    results, _ = graded
    for name in (f"correct{i}" for i in range(4)):
        result = results[name]
        assert result.status == "graded", result.message
        assert result.score == result.max_score > 0, [
            (c.name, c.outcome, c.message) for c in result.checks if not c.passed]


@requires_jail
def test_an_honest_bug_loses_what_it_loses_on_a_quiet_machine(graded):
    results, quiet = graded
    busy = results["broken"]
    assert busy.score == quiet.score < busy.max_score
    assert [(c.name, c.outcome) for c in busy.checks] == [(c.name, c.outcome)
                                                          for c in quiet.checks]


@requires_jail
def test_a_jail_full_of_busy_processes_costs_only_itself(graded):
    results, _ = graded
    assert results["hog"].score == 0
    # the checks' CPU seconds are its own: the neighbours used next to none
    assert results["hog"].cpu > 10 * max(results[f"correct{i}"].cpu for i in range(4))
    assert processes_with(str(WORK_ROOT)) == []  # nothing of any jail is left
