"""Grading real stage-3 submissions with the trusted checks, one batch for the whole module.

The batch: the reference (full marks), the untouched student release (at most 10 %), forged
copies of the release (none above the release), and copies of the reference with one thing
changed. Expected outcomes are derived from the kit's own list of checks, not pasted numbers.
"""

from __future__ import annotations

import csv
import shutil

import pytest

from instructor.grading import GradeOptions, grade_batch
from instructor.grading.kit import build_kit
from instructor.grading.reports import gradescope_results, write_reports
from instructor.grading.pipeline import grade_submission
from instructor.grading.jail import isolation_notes

from .conftest import FORGED_KINDS, REAL_REPO, make_forged, make_release, make_submission

KINDS = ("correct", "broken_backward", "earlier_broken", "syntax_error", "example_syntax_error",
         "infinite_loop", "prohibited_import", "tampering")
# The batch runs under the "flag" policy: the forged submissions import pytest, which the "zero"
# policy would score 0 without running them; here they run, and must still earn nothing.
OPTIONS = GradeOptions(timeout=6.0, budget=200.0, policy="flag")


@pytest.fixture(scope="module")
def kit3(tmp_path_factory):
    return build_kit(REAL_REPO, 3, tmp_path_factory.mktemp("kit") / "kit")


@pytest.fixture(scope="module")
def release3(tmp_path_factory):
    return make_release(tmp_path_factory.mktemp("release") / "out")


@pytest.fixture(scope="module")
def batch(kit3, release3, tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    submissions = [make_submission(kind, folder / kind) for kind in KINDS]
    submissions.append(shutil.copytree(release3, folder / "release"))
    submissions += [make_forged(kind, release3, folder / f"forged_{kind}")
                    for kind in FORGED_KINDS]
    results = grade_batch(kit3, submissions, options=OPTIONS, jobs=2)
    return {result.student: result for result in results}


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


@pytest.mark.parametrize("kind", FORGED_KINDS)
def test_a_forged_release_scores_no_more_than_the_untouched_one(batch, kind):
    assert batch[f"forged_{kind}"].score <= batch["release"].score


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


def test_isolation_is_reported_when_it_is_missing(batch):
    notes = batch["correct"].notes
    assert notes == [n for n in notes if n in isolation_notes()]


def test_reports_of_the_batch(batch, tmp_path):
    results = list(batch.values())
    write_reports(results, tmp_path)
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

