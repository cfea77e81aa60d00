"""Grading the corpus of stages 3 and 6: equivalents get full marks, mutants lose their task's.

The corpus (``fixtures/corpus.py``) holds, for every graded task of stages 3 and 6, at least three
correct implementations written differently from the reference and at least one real bug. For
each stage one kit grades, in one batch:

- three submissions of equivalents: submission ``i`` is ``stages/stageN`` with the ``i``-th
  equivalent of EVERY task swapped in; each must get full marks (the grading contract: "every
  mathematically equivalent implementation passes");
- one submission per mutant: the reference with that one body swapped in; it must lose points on
  checks of its own task, and only on checks that run its task (its task's own checks and those
  of the tasks that call it, e.g. ``lm_step`` for a wrong ``layer_norm_backward``). Which checks
  run which task is read from the code: every check's program traced on the reference
  (``fixtures/trace_tasks.py``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from instructor.grading import GradeOptions, SubmissionResult, grade_batch
from instructor.grading.kit import Kit, build_kit
from instructor.grading.scoring import own_tasks

from .conftest import REAL_REPO, replace_region
from .fixtures.corpus import EQUIVALENT, MUTANTS, REGIONS, task_name

STAGES = (3, 6)
EQUIVALENT_SUBMISSIONS = 3
OPTIONS = GradeOptions(timeout=10.0, budget=200.0)
TRACER = Path(__file__).resolve().parent / "fixtures" / "trace_tasks.py"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")

pytestmark = pytest.mark.skipif(
    not all((REAL_REPO / "stages" / f"stage{stage}").is_dir() for stage in STAGES),
    reason="stages 3 and 6 are needed")


@dataclass
class Graded:
    """One stage's batch: the kit, the results by submission, and which tasks each check runs."""

    kit: Kit
    equivalents: list[SubmissionResult]
    mutants: dict[str, SubmissionResult]
    runs: dict[str, set[str]]  # check name -> the tasks its program calls on the reference


def swapped(folder: Path, stage: int, bodies: list[tuple[str, str, str]]) -> Path:
    """A copy of ``stages/stage<stage>`` at ``folder`` with each (file, region, body) put in."""
    shutil.copytree(REAL_REPO / "stages" / f"stage{stage}", folder, ignore=IGNORE)
    for file, region, body in bodies:
        replace_region(folder / file, region, body)
    return folder


def traced_tasks(kit: Kit, stage: int) -> dict[str, set[str]]:
    """{check name: the graded tasks its program calls} on the reference stage."""
    request = {"tasks": kit.tasks,
               "checks": [[c.name, c.steps, c.outputs] for c in kit.checks]}
    done = subprocess.run([sys.executable, str(TRACER), str(REAL_REPO / "stages" /
                                                            f"stage{stage}")],
                          input=json.dumps(request), capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return {name: set(tasks) for name, tasks in json.loads(done.stdout).items()}


def grade_stage(stage: int, folder: Path) -> Graded:
    kit = build_kit(REAL_REPO, stage, folder / "kit")
    submissions = []
    for index in range(EQUIVALENT_SUBMISSIONS):
        bodies = [(*REGIONS[task], versions[index][1])
                  for task, versions in EQUIVALENT[stage].items()]
        submissions.append(swapped(folder / f"equivalent-{index}", stage, bodies))
    for number, (_, file, region, body) in enumerate(MUTANTS[stage]):
        submissions.append(swapped(folder / f"mutant-{number}", stage, [(file, region, body)]))
    results = grade_batch(kit, submissions, options=OPTIONS, jobs=2)
    labels = [label for label, *_ in MUTANTS[stage]]
    return Graded(kit, results[:EQUIVALENT_SUBMISSIONS],
                  dict(zip(labels, results[EQUIVALENT_SUBMISSIONS:])), traced_tasks(kit, stage))


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Callable[[int], Graded]:
    """``graded(stage)``: the stage's batch, graded once for the whole module."""
    done: dict[int, Graded] = {}

    def batch(stage: int) -> Graded:
        if stage not in done:
            done[stage] = grade_stage(stage, tmp_path_factory.mktemp(f"corpus-stage{stage}"))
        return done[stage]

    return batch


def lost(result: SubmissionResult) -> dict[str, tuple[str, str, str]]:
    """{check name: (task, outcome, message)} of the scored checks ``result`` did not pass."""
    return {c.name: (c.task, c.outcome, c.message) for c in result.checks
            if c.scored and not c.passed}


def describe(checks: dict[str, tuple[str, str, str]]) -> str:
    return "\n".join(f"  {name} [{outcome}]: {message}"
                     for name, (_, outcome, message) in sorted(checks.items()))


# --- the corpus itself --------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_the_corpus_covers_every_graded_task_of_the_stage(stage):
    tasks = own_tasks(REAL_REPO, stage)
    assert sorted(EQUIVALENT[stage]) == sorted(tasks)
    short = {task: len(v) for task, v in EQUIVALENT[stage].items() if len(v) < 3}
    assert not short, f"tasks with fewer than 3 equivalents: {short}"
    for task, versions in EQUIVALENT[stage].items():
        assert task_name(*REGIONS[task]) == task
        labels = [label for label, _ in versions]
        assert len(set(labels)) == len(labels), f"{task}: two equivalents share a label"
    mutated = [task_name(file, region) for _, file, region, _ in MUTANTS[stage]]
    assert set(mutated) <= set(tasks), set(mutated) - set(tasks)
    assert not set(tasks) - set(mutated), f"tasks without a mutant: {set(tasks) - set(mutated)}"
    labels = [label for label, *_ in MUTANTS[stage]]
    assert len(set(labels)) == len(labels), "two mutants share a label"


@pytest.mark.parametrize("stage", STAGES)
def test_every_scored_check_runs_the_task_it_grades(stage, graded):
    """The trace sees each check's own task (else the callers derived from it mean nothing)."""
    batch = graded(stage)
    missing = [c.name for c in batch.kit.checks
               if c.task in batch.kit.tasks and c.task not in batch.runs[c.name]]
    assert not missing, missing


# --- equivalents: full marks --------------------------------------------------------------------


@pytest.mark.parametrize("index", range(EQUIVALENT_SUBMISSIONS))
@pytest.mark.parametrize("stage", STAGES)
def test_a_submission_of_equivalents_gets_full_marks(stage, index, graded):
    result = graded(stage).equivalents[index]
    assert result.status == "graded", result.message
    labels = {task: versions[index][0] for task, versions in EQUIVALENT[stage].items()}
    failing = lost(result)
    assert result.max_score > 0 and result.score == result.max_score, (
        f"equivalents #{index} scored {result.score}/{result.max_score}; failing checks, "
        f"with the equivalent of the check's own task in brackets (a check also runs the "
        f"tasks its task calls):\n"
        + "\n".join(f"  {name} [{labels.get(task, task)}] {outcome}: {message}"
                    for name, (task, outcome, message) in sorted(failing.items())))


# --- mutants: the points of their task, and only what runs their task --------------------------


def _mutants() -> list:
    return [pytest.param(stage, label, task_name(file, region), id=f"{stage}-{label}")
            for stage in STAGES for label, file, region, _ in MUTANTS[stage]]


@pytest.mark.parametrize(("stage", "label", "task"), _mutants())
def test_a_mutant_loses_points_on_its_own_task(stage, label, task, graded):
    result = graded(stage).mutants[label]
    assert result.status == "graded", result.message
    failing = lost(result)
    own = {name for name, (check_task, _, _) in failing.items() if check_task == task}
    assert own, (f"mutant {label} of {task} passes every check of its task "
                 f"({result.score}/{result.max_score}); it fails:\n{describe(failing)}")


@pytest.mark.parametrize(("stage", "label", "task"), _mutants())
def test_a_mutant_loses_only_checks_that_run_its_task(stage, label, task, graded):
    batch = graded(stage)
    failing = lost(batch.mutants[label])
    elsewhere = {name: entry for name, entry in failing.items()
                 if task not in batch.runs[name]}
    assert not elsewhere, (f"mutant {label} of {task} fails checks that never call "
                           f"{task}:\n{describe(elsewhere)}")
