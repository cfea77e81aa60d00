"""Checks drawn afresh for every grading run: inputs, shapes, hidden checks and points per stage.

Every check module takes ``checks(g)`` and draws its inputs (and, within small bounds, its
shapes) from the generator the kit seeds for each run; the names never depend on the draw. Each
stage has hidden checks of its own tasks, and its points follow the weights the instructor guide
documents. A task that passes its public checks and fails hidden ones is a finding for staff.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from instructor.gradescope.results import gradescope_text
from instructor.grading import GradeOptions, grade_batch
from instructor.grading.checks import Check, hidden_checks
from instructor.grading.kit import HIDDEN_FILE, HIDDEN_TESTS, build_kit, draw_checks
from instructor.grading.oracle import compute
from instructor.grading.reports import feedback_text
from instructor.grading.scoring import (
    default_weights_file,
    is_scored,
    load_weights,
    own_files,
    own_tasks,
)
from instructor.grading.worker import decode_array
from instructor.release.solutions import find_regions
from instructor.stages.repo import InstructorError, stage_dir

from .conftest import REAL_REPO, replace_region

STAGES = tuple(range(1, 7))

pytestmark = pytest.mark.skipif(
    not all((REAL_REPO / "stages" / f"stage{stage}").is_dir() for stage in STAGES),
    reason="the six stages are needed")


def hidden_file(stage: int) -> Path:
    return REAL_REPO / HIDDEN_TESTS / f"stage{stage}" / HIDDEN_FILE


def drawn(stage: int, seed: int) -> list[Check]:
    return draw_checks(stage, seed, hidden_file(stage))


def input_shapes(check: Check) -> list[tuple[int, ...]]:
    """The shapes of every array the check's program sends, in order."""
    shapes = []

    def walk(value) -> None:
        if isinstance(value, dict) and set(value) == {"array"}:
            shapes.append(decode_array(value["array"]).shape)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(check.steps)
    return shapes


# --- draws -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_two_draws_give_other_inputs_under_the_same_names(stage):
    first, second = drawn(stage, 1), drawn(stage, 2)
    assert [c.name for c in first] == [c.name for c in second]
    assert [c.task for c in first] == [c.task for c in second]
    own = set(own_tasks(REAL_REPO, stage))
    same = [a.name for a, b in zip(first, second)
            if is_scored(a, own) and json.dumps(a.steps) == json.dumps(b.steps)]
    assert not same, f"checks whose program is the same in two draws: {same}"


@pytest.mark.parametrize("name", [
    "stage1/relu[random]", "stage1/cross_entropy[indices]", "stage2/Linear.forward[sequence]",
    "stage3/CrossEntropyLoss.forward[ignore-index]", "stage4/SGD.step[plain]",
    "stage5/DataLoader.__iter__[in-order]", "stage6/scaled_dot_product_attention[causal-float32]",
    "stage6/MultiHeadSelfAttention.forward[full-float64]",
    "stage6/train_char_lm.py:lm_step[clipped]",
    "hidden/stage1/softmax[shifted-rows]", "hidden/stage6/embedding[3d]",
])
def test_the_shapes_of_a_check_are_drawn_too(name):
    stage = int(name.removeprefix("hidden/")[5])
    shapes = set()
    for seed in range(6):
        (check,) = [c for c in drawn(stage, seed) if c.name == name]
        shapes.add(tuple(input_shapes(check)))
    assert len(shapes) > 1, f"{name}: the same shapes in 6 draws: {shapes}"


def test_the_extreme_cases_keep_their_values_at_drawn_places():
    """sigmoid at +-800 and the probabilities 0 and 1 of BCELoss stay in every draw."""
    for seed in range(3):
        checks = {c.name: c for c in drawn(3, seed) + drawn(1, seed)}
        sigmoid = decode_array(checks["stage1/sigmoid[extreme]"].steps[0]["args"][0]["array"])
        assert {-800.0, 0.0, 800.0} <= set(sigmoid.ravel().tolist())
        forward = checks["stage3/BCELoss.forward[saturated]"].steps[1]["args"]
        predictions = decode_array(forward[0]["array"]).ravel()
        assert {0.0, 1.0} <= set(predictions.tolist())


@pytest.mark.parametrize("stage", STAGES)
def test_the_reference_passes_every_check_of_two_draws(stage):
    reference = REAL_REPO / "stages" / f"stage{stage}"
    for seed in (11, 12):
        compute(drawn(stage, seed), reference)  # raises on a check the reference fails


def test_a_kit_is_built_and_validated_with_hidden_checks(tmp_path):
    kit = build_kit(REAL_REPO, 5, tmp_path / "kit")
    assert kit.hidden and kit.hidden_file.is_file()
    assert any(c.hidden for c in kit.checks)
    assert json.loads(kit.weights_file.read_text()) == json.loads(
        default_weights_file(5).read_text())
    again = kit.draw()
    assert again.names == kit.names and again.seed != kit.seed


def test_a_module_whose_checks_take_no_generator_is_refused(tmp_path):
    path = tmp_path / HIDDEN_FILE
    path.write_text("def checks():\n    return []\n")
    with pytest.raises(InstructorError, match=r"checks\(\) takes no generator; write checks\(g\)"):
        hidden_checks(path, np.random.default_rng(0))


# --- hidden checks -----------------------------------------------------------------------------


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_has_hidden_checks_of_its_own_tasks(stage):
    assert hidden_file(stage).is_file()
    own = set(own_tasks(REAL_REPO, stage))
    hidden = [c for c in drawn(stage, 3) if c.hidden]
    assert hidden
    assert all(c.name.startswith(f"hidden/stage{stage}/") for c in hidden)
    not_scored = [c.name for c in hidden if not is_scored(c, own)]
    assert not not_scored, f"hidden checks that score nothing at stage {stage}: {not_scored}"


# --- points ------------------------------------------------------------------------------------


def solution_lines(stage: int) -> int:
    """Lines of code (not blank, not comments) in the solution regions of the stage's own files."""
    folder = stage_dir(REAL_REPO, stage)
    count = 0
    for file in own_files(REAL_REPO, stage):
        lines = (folder / file).read_text(encoding="utf-8").splitlines()
        for region in find_regions("\n".join(lines), file):
            body = lines[region.begin:region.end - 1]  # between the two marker lines (1-based)
            count += sum(1 for line in body if line.strip() and not line.strip().startswith("#"))
    return count


def documented_points() -> dict[int, tuple[int, int, int, float, float]]:
    """{stage: (lines, public checks, hidden checks, points per check, total)} of the guide's
    table in "Weights"."""
    text = (REAL_REPO / "docs" / "instructor.md").read_text(encoding="utf-8")
    section = text.split("## Weights", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d) \| (\d+) \| (\d+) \+ (\d+) \| ([\d.]+) \| ([\d.]+) \|$",
                      section, re.MULTILINE)
    return {int(s): (int(a), int(b), int(c), float(d), float(e)) for s, a, b, c, d, e in rows}


@pytest.mark.parametrize("stage", STAGES)
def test_the_stage_total_follows_the_documented_weights(stage):
    lines, public, hidden, per_check, total = documented_points()[stage]
    assert solution_lines(stage) == lines
    own = set(own_tasks(REAL_REPO, stage))
    scored = [c for c in drawn(stage, 4) if is_scored(c, own)]
    assert (sum(not c.hidden for c in scored), sum(c.hidden for c in scored)) == (public, hidden)
    weights = load_weights(default_weights_file(stage))
    assert {weights.points(c.name) for c in scored} == {per_check}
    assert sum(weights.points(c.name) for c in scored) == total == per_check * (public + hidden)
    # about one point per line of the reference's solution
    assert 0.9 * lines <= total <= 1.1 * lines


# --- an answer keyed on the public checks ------------------------------------------------------

#: MSELoss.forward right on the widths the public checks send (D <= 4), wrong on wider batches.
KEYED_FORWARD = """\
value = F.mse_loss(predictions, targets, self.reduction)
if predictions.ndim == 2 and predictions.shape[1] > 4:
    value = value * 0.5
self.predictions, self.targets = predictions, targets
return value
"""


def test_a_task_right_only_on_the_public_inputs_is_a_finding_for_staff(tmp_path):
    kit = build_kit(REAL_REPO, 3, tmp_path / "kit",
                    select=["stage3/MSELoss.*", "hidden/stage3/MSELoss.*"])
    keyed = shutil.copytree(REAL_REPO / "stages" / "stage3", tmp_path / "keyed",
                            ignore=shutil.ignore_patterns("__pycache__"))
    replace_region(keyed / "src" / "mini_torch" / "nn" / "loss.py", "MSELoss.forward",
                   KEYED_FORWARD)
    reference = REAL_REPO / "stages" / "stage3"
    weights = load_weights(kit.weights_file)
    honest, forged = grade_batch(kit, [reference, keyed], weights,
                                 GradeOptions(timeout=10.0), jobs=2)
    assert honest.score == honest.max_score > 0 and honest.findings == []
    task = "mini_torch.nn.loss.MSELoss.forward"
    public = [c for c in forged.checks if c.task == task and not c.hidden]
    lost = [c for c in forged.checks if c.hidden and not c.passed]
    assert public and all(c.passed for c in public)
    assert lost and {c.task for c in lost} == {task} and all(c.points == 0 for c in lost)
    assert forged.score == forged.max_score - sum(c.max_points for c in lost)
    assert forged.findings == [
        f"passes its public checks, fails {len(lost)} hidden check(s) of {task}: a possible "
        "answer keyed on the public checks"]
    for text in (feedback_text(forged), gradescope_text(forged)):  # for staff only
        assert "possible answer" not in text and forged.findings[0] not in text
