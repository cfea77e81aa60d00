"""``grade`` on fixture submissions built from the real stage 3: each gets the score it deserves.

One batch grades every kind of fixture submission side by side with a subset of the suite (the
tests that exercise what the fixtures break, plus the hidden tests), to keep the session short:
the correct one (as a folder and as a zip), a wrong backward, a syntax error, an endless loop, a
prohibited import and a tampering one. The reference stage 3 is graded once with the whole
cumulative suite, and a run that exceeds its time limit once more on its own.
"""

from __future__ import annotations

import csv
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from instructor.grading import GradeOptions, SubmissionResult, grade_batch, grade_submission
from instructor.kit import build_kit
from instructor.reports import write_reports

# instructor/tests/test_grading_real.py -> the repository root two folders up.
REAL_REPO = Path(__file__).resolve().parents[2]

#: The tests the fixture batch runs: ReLU's (the wrong backward), the loss base class (the
#: endless loop sits in MSELoss.backward) and the hidden tests.
SELECT = ["*relu*", "shared_tests/stage3/test_loss_base.py::*", "hidden_tests/*"]
TEST_TIMEOUT = 3.0


def zip_folder(folder: Path, target: Path) -> Path:
    """Zip ``folder`` with its name as the top folder inside, as students usually do."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, Path(folder.name) / path.relative_to(folder))
    return target


@pytest.fixture(scope="module")
def kit3(tmp_path_factory):
    return build_kit(REAL_REPO, 3, tmp_path_factory.mktemp("kit") / "kit", select=SELECT)


@pytest.fixture(scope="module")
def batch(kit3, tmp_path_factory, submission_factory) -> dict[str, SubmissionResult]:
    base = tmp_path_factory.mktemp("submissions")
    kinds = ["correct", "broken_backward", "import_error", "infinite_loop",
             "prohibited_import", "tampering"]
    paths = [submission_factory(kind, base / kind) for kind in kinds]
    paths.append(zip_folder(base / "correct", base / "zipped.zip"))
    options = GradeOptions(timeout=TEST_TIMEOUT, submission_timeout=300, keep=True,
                           work_root=tmp_path_factory.mktemp("work"))
    results = grade_batch(kit3, paths, options=options, jobs=2)
    return {result.student: result for result in results}


def failing(result: SubmissionResult) -> set[str]:
    return {t.nodeid for t in result.tests if not t.passed}


def test_the_batch_grades_every_submission(batch, kit3):
    assert sorted(batch) == sorted(["correct", "broken_backward", "import_error",
                                    "infinite_loop", "prohibited_import", "tampering", "zipped"])
    for result in batch.values():
        assert [t.nodeid for t in result.tests] == kit3.tests
        assert result.max_score == len(kit3.tests)


def test_the_kit_holds_the_selected_and_the_hidden_tests(kit3):
    assert any(t.startswith("hidden_tests/stage3/") for t in kit3.tests)
    assert any("relu" in t for t in kit3.tests)
    assert all("relu" in t or "test_loss_base" in t or t.startswith("hidden_tests/")
               for t in kit3.tests)


def test_correct_submission_gets_full_marks_as_a_folder_and_as_a_zip(batch):
    for name in ("correct", "zipped"):
        assert batch[name].status == "graded"
        assert batch[name].score == batch[name].max_score, failing(batch[name])


def test_wrong_backward_loses_exactly_the_tests_that_check_it(batch):
    result = batch["broken_backward"]
    lost = failing(result)
    assert result.status == "graded"
    assert lost and all("relu" in nodeid for nodeid in lost)
    assert result.subtotal("hidden")[0] == result.subtotal("hidden")[1]
    assert 0 < result.score < result.max_score


def test_syntax_error_scores_zero_with_the_file_and_line(batch):
    result = batch["import_error"]
    assert result.status == "import_error"
    assert result.score == 0
    assert result.message.startswith("import mini_torch failed: SyntaxError")
    assert "src/mini_torch/nn/loss.py:" in result.message


def test_endless_loop_loses_the_tests_that_reach_it_and_nothing_else(batch):
    result = batch["infinite_loop"]
    timeouts = [t for t in result.tests if t.outcome == "timeout"]
    assert timeouts
    assert all("MSELoss" in t.nodeid for t in timeouts)
    assert all(t.where.startswith("src/mini_torch/nn/loss.py:") for t in timeouts)
    assert all(f"longer than {TEST_TIMEOUT:g} s" in t.message for t in timeouts)
    assert failing(result) == {t.nodeid for t in timeouts}


def test_prohibited_import_scores_zero_without_running(batch):
    result = batch["prohibited_import"]
    assert result.status == "prohibited_import"
    assert result.score == 0
    assert result.message.startswith("src/mini_torch/nn/loss.py:")
    assert "imports torch" in result.message
    assert all(t.outcome == "not_run" for t in result.tests)


def test_tampering_submission_scores_what_its_src_package_deserves(batch):
    tampering, broken = batch["tampering"], batch["broken_backward"]
    assert tampering.status == "graded"
    assert failing(tampering) == failing(broken)
    assert tampering.score == broken.score < tampering.max_score


def test_only_mini_torch_is_installed_for_a_tampering_submission(batch):
    work = next(Path(note.split(": ", 1)[1]) for note in batch["tampering"].notes
                if note.startswith("work folder kept: "))
    installed = sorted(p.name for p in (work / "site").iterdir())
    assert installed[0] == "mini_torch" and len(installed) == 2
    assert installed[1].endswith(".dist-info")
    # The submission's own files never reached the folder the tests ran in.
    assert not (work / "tests" / "pytest.ini").read_text().count("addopts")
    assert sorted(p.name for p in (work / "tests").iterdir()) == [
        "conftest.py", "hidden_tests", "pytest.ini", "reference", "shared_tests",
    ]


def test_reports_of_the_batch(batch, tmp_path):
    write_reports(list(batch.values()), tmp_path)
    with open(tmp_path / "gradebook.csv", newline="") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(batch)
    assert rows["prohibited_import"]["status"] == "prohibited_import"
    assert float(rows["correct"]["score"]) == float(rows["correct"]["max"])
    for column in ("stage1", "stage2", "stage3", "hidden"):
        assert column in rows["correct"]
    loop_feedback = (tmp_path / "feedback" / "infinite_loop.txt").read_text()
    assert "[timeout]" in loop_feedback and "src/mini_torch/nn/loss.py" in loop_feedback
    broken = json.loads((tmp_path / "results" / "broken_backward" / "results.json").read_text())
    assert broken["score"] == batch["broken_backward"].score
    hidden = [t for t in broken["tests"] if t["name"].startswith("hidden_tests/")]
    assert hidden and {t["visibility"] for t in hidden} == {"after_due_date"}


def test_reference_stage3_gets_full_marks_on_the_whole_suite(tmp_path):
    kit = build_kit(REAL_REPO, 3, tmp_path / "kit")
    assert any(t.startswith("hidden_tests/") for t in kit.tests)
    result = grade_submission(kit, REAL_REPO / "stages" / "stage3")
    assert result.status == "graded"
    assert result.score == result.max_score, sorted(failing(result))[:20]


def test_a_run_over_its_time_limit_is_stopped_and_the_batch_goes_on(tmp_path, submission_factory):
    kit = build_kit(REAL_REPO, 3, tmp_path / "kit",
                    select=["shared_tests/stage3/test_loss_base.py::*MSELoss*"])
    loop = submission_factory("infinite_loop", tmp_path / "loop")
    correct = tmp_path / "correct"
    shutil.copytree(REAL_REPO / "stages" / "stage3", correct)
    options = GradeOptions(timeout=60, submission_timeout=6)
    looped, fine = grade_batch(kit, [loop, correct], options=options, jobs=2)
    assert looped.status == "time_limit"
    outcomes = [t.outcome for t in looped.tests]
    assert outcomes.count("timeout") == 1
    assert "not_run" in outcomes[outcomes.index("timeout"):]
    assert looped.seconds < 60
    assert fine.status == "graded" and fine.score == fine.max_score
