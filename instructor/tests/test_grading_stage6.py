"""Grading stage 6 with the trusted checks: one batch for the whole module.

The batch: the reference (full marks), the untouched student release (at most 10 %), a copy of
the reference whose dropout mask is drawn another way (Dropout's checks do not depend on the
draw, so full marks), and one whose embedding backward loses repeated indices (the scatter-add
done with ``+=``). Expected outcomes are derived from the kit's list of checks.
"""

from __future__ import annotations

import shutil

import pytest

from instructor.grading import GradeOptions, grade_batch
from instructor.grading.kit import build_kit
from instructor.release.release import write_release

from .conftest import REAL_REPO, replace_region

STAGE = 6
OPTIONS = GradeOptions(timeout=10.0, budget=200.0)
# Bodies put in place of one solution region: (file under src/mini_torch, name, body).
CHANGED = {
    "other_draw": ("nn/dropout.py", "dropout_mask",
                   "keep = rng.binomial(1, 1.0 - p, size=shape).astype(bool)\n"
                   "return keep.astype(dtype) * (0.0 if p == 1.0 else 1.0 / (1.0 - p))"),
    "no_scatter_add": ("nn/embedding.py", "embedding_backward",
                       "grad_W = np.zeros((num_embeddings, grad_output.shape[-1]),"
                       " dtype=grad_output.dtype)\n"
                       "grad_W[indices.reshape(-1)] += grad_output.reshape("
                       "-1, grad_output.shape[-1])\n"
                       "return grad_W"),
}

pytestmark = pytest.mark.skipif(not (REAL_REPO / "stages" / f"stage{STAGE}").is_dir(),
                                reason=f"no stage {STAGE}")


@pytest.fixture(scope="module")
def kit6(tmp_path_factory):
    return build_kit(REAL_REPO, STAGE, tmp_path_factory.mktemp("kit") / "kit")


@pytest.fixture(scope="module")
def batch(kit6, tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    reference = REAL_REPO / "stages" / f"stage{STAGE}"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    submissions = {"correct": shutil.copytree(reference, folder / "correct", ignore=ignore)}
    release = write_release(REAL_REPO, STAGE, folder / "release").out
    submissions["release"] = release / "stages" / f"stage{STAGE}"
    for kind, (relative, name, body) in CHANGED.items():
        copy = shutil.copytree(reference, folder / kind, ignore=ignore)
        replace_region(copy / "src" / "mini_torch" / relative, name, body)
        submissions[kind] = copy
    results = grade_batch(kit6, list(submissions.values()), options=OPTIONS, jobs=2)
    return dict(zip(submissions, results))


def failing(result, scored=True):
    return {c.name for c in result.checks if c.scored == scored and not c.passed}


def tasks_of(kit, *tasks):
    return {c.name for c in kit.checks if c.task in tasks}


def test_every_task_of_the_stage_has_a_scored_check(kit6, batch):
    scored = {c.task for c in batch["correct"].checks if c.max_points > 0}
    assert scored == set(kit6.tasks)
    assert {"examples/train_gan.py:gan_step", "examples/train_char_lm.py:lm_step"} <= scored
    earlier = [c for c in batch["correct"].checks
               if not c.name.removeprefix("hidden/").startswith("stage6/")]
    assert earlier and all(c.max_points == 0 for c in earlier)


def test_the_reference_gets_full_marks(batch):
    result = batch["correct"]
    assert result.status == "graded", result.message
    assert result.max_score > 0 and result.score == result.max_score, failing(result)
    assert not failing(result, scored=False)


def test_the_untouched_release_gets_at_most_a_tenth(batch):
    result = batch["release"]
    assert result.status == "graded", result.message
    assert result.score <= 0.1 * result.max_score
    stub = next(c for c in result.checks if c.task.endswith("Embedding.backward") and c.scored)
    assert "NotImplementedError" in stub.message
    assert stub.where.startswith("src/mini_torch/nn/embedding.py:")
    assert not failing(result, scored=False)  # the earlier stages' code is carried solved


def test_dropout_is_graded_whatever_way_the_mask_is_drawn(batch):
    result = batch["other_draw"]
    assert result.score == result.max_score, failing(result)


def test_an_embedding_backward_that_drops_repeated_indices_loses_its_checks(kit6, batch):
    lost = failing(batch["no_scatter_add"])
    own = tasks_of(kit6, "mini_torch.nn.embedding.embedding_backward")
    assert own <= lost
    # Only that task and what calls it: the module's backward and the language model's step.
    assert lost <= own | tasks_of(kit6, "mini_torch.nn.embedding.Embedding.backward",
                                  "examples/train_char_lm.py:lm_step")
