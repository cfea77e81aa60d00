"""The parts of grading, on small inputs: weights, the import scan, finding the package, scoring
a run's log, the reports, and the pytest plugin that streams results."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from instructor import grading
from instructor.grading import (
    GradeOptions,
    SubmissionResult,
    TestResult,
    find_package,
    read_log,
    score_results,
    unique_names,
)
from instructor.kit import Kit
from instructor.repo import InstructorError
from instructor.reports import feedback_text, gradescope_results, headline, write_reports
from instructor.scan import prohibited_imports_in, scan_package
from instructor.weights import DEFAULT_POINTS, load_weights

# --- weights -------------------------------------------------------------------------------------


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_first_matching_pattern_gives_the_points(tmp_path):
    weights = load_weights(write_json(tmp_path / "w.json", {
        "hidden_tests/*": 3, "*cross_entropy*": 2, "shared_tests/stage3/*": 0.5,
    }))
    assert weights.points("hidden_tests/stage3/test_x.py::test_cross_entropy") == 3
    assert weights.points("shared_tests/stage3/test_cross_entropy_loss.py::test_a[1]") == 2
    assert weights.points("shared_tests/stage3/test_mse_loss.py::test_b") == 0.5
    assert weights.points("shared_tests/stage1/test_rules.py::test_c") == DEFAULT_POINTS


def test_no_weights_file_gives_one_point_per_test():
    assert load_weights(None).points("shared_tests/stage1/test_a.py::test_b") == 1


def test_patterns_that_match_nothing_are_listed(tmp_path):
    weights = load_weights(write_json(tmp_path / "w.json", {"*typo*": 2, "*mse*": 1}))
    assert weights.unused(["shared_tests/stage3/test_mse_loss.py::test_a"]) == ["*typo*"]


@pytest.mark.parametrize("content", ['["a"]', '{"a": -1}', '{"a": "two"}', '{"a": true}', "{"],
                         ids=["list", "negative", "string", "bool", "not-json"])
def test_bad_weights_files_are_refused_with_the_reason(tmp_path, content):
    path = tmp_path / "w.json"
    path.write_text(content)
    with pytest.raises(InstructorError, match="--weights"):
        load_weights(path)


# --- the prohibited-import scan ------------------------------------------------------------------


def test_every_form_of_a_prohibited_import_is_found():
    source = textwrap.dedent(
        """
        import numpy as np
        import torch
        from tensorflow import keras
        import os, sklearn.linear_model
        __import__("jax")
        import importlib
        importlib.import_module("autograd.numpy")


        def later():
            from keras import layers
        """
    )
    found = prohibited_imports_in(source)
    assert [module for _, module in found] == [
        "torch", "tensorflow", "sklearn.linear_model", "jax", "autograd.numpy", "keras",
    ]


def test_lookalike_names_and_relative_imports_pass():
    source = "import torchvision_like\nfrom . import torch\nname = 'torch'\nimport numpy as jax\n"
    assert prohibited_imports_in(source) == []


def make_package(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_scan_names_file_and_line_and_flags_pytest_in_the_package(tmp_path):
    package = make_package(tmp_path, {
        "src/mini_torch/__init__.py": "",
        "src/mini_torch/nn/loss.py": "import numpy\n\nimport torch.nn\n",
        "src/mini_torch/hack.py": "import _pytest.runner\n",
        "examples/train.py": "import pytest\nimport sklearn\n",
        "tests/test_x.py": "import torch\n",  # not part of what is graded
    })
    violations, notes = scan_package(package)
    described = sorted(v.describe() for v in violations)
    assert described == [
        "examples/train.py:2: imports sklearn",
        "src/mini_torch/hack.py:1: imports _pytest.runner",
        "src/mini_torch/nn/loss.py:3: imports torch.nn",
    ]
    assert [v.tampering for v in sorted(violations, key=lambda v: v.path)] == [False, True, False]
    assert notes == []


def test_scan_notes_a_file_it_cannot_parse(tmp_path):
    package = make_package(tmp_path, {"src/mini_torch/__init__.py": "def broken(:\n"})
    violations, notes = scan_package(package)
    assert violations == []
    assert notes == ["src/mini_torch/__init__.py: not valid Python (SyntaxError), not scanned"]


# --- finding the package -------------------------------------------------------------------------


def test_the_shallowest_package_is_graded(tmp_path):
    make_package(tmp_path, {
        "alice/stage3/src/mini_torch/__init__.py": "",
        "alice/stage3/old/copy/src/mini_torch/__init__.py": "",
        "alice/stage3/mini_torch/__init__.py": "",  # not under src/: ignored
    })
    assert find_package(tmp_path) == tmp_path / "alice" / "stage3"


def test_a_package_without_src_gets_a_hint(tmp_path):
    make_package(tmp_path, {"work/mini_torch/__init__.py": ""})
    with pytest.raises(InstructorError, match=r"found work/mini_torch without the src/ folder"):
        find_package(tmp_path)


def test_two_packages_at_the_same_depth_are_refused(tmp_path):
    make_package(tmp_path, {"a/src/mini_torch/__init__.py": "", "b/src/mini_torch/__init__.py": ""})
    with pytest.raises(InstructorError, match="several packages"):
        find_package(tmp_path)


def test_in_a_release_of_several_stages_the_graded_stage_is_chosen(tmp_path):
    make_package(tmp_path, {f"repo/stages/stage{k}/src/mini_torch/__init__.py": ""
                            for k in (1, 2, 3)})
    assert find_package(tmp_path, stage=2) == tmp_path / "repo" / "stages" / "stage2"
    with pytest.raises(InstructorError, match="several packages"):
        find_package(tmp_path)


def test_a_grader_without_a_needed_module_refuses_to_start(monkeypatch):
    monkeypatch.setattr(grading, "GRADER_MODULES", ("json", "no_such_module_for_grading"))
    with pytest.raises(InstructorError, match=r"lacks no_such_module_for_grading: .* -m pip "
                       r"install no-such-module-for-grading"):
        grading.check_grader_environment()


def test_macos_resource_folders_are_ignored(tmp_path):
    make_package(tmp_path, {"s/src/mini_torch/__init__.py": "",
                            "__MACOSX/s/src/mini_torch/__init__.py": ""})
    assert find_package(tmp_path) == tmp_path / "s"


def test_student_names_come_from_folders_and_zip_stems_and_stay_unique():
    paths = [Path("x/alice"), Path("y/bob.zip"), Path("z/alice")]
    assert unique_names(paths) == ["alice", "bob", "alice-2"]


# --- scoring a run -------------------------------------------------------------------------------

TESTS = [
    "shared_tests/stage1/test_a.py::test_one",
    "shared_tests/stage1/test_a.py::test_two",
    "shared_tests/stage2/test_b.py::test_three",
    "hidden_tests/stage2/test_h.py::test_four",
]


def scored(events, *, killed=False, weights=None, tail="") -> SubmissionResult:
    kit = Kit(path=Path("kit"), stage=2, tests=list(TESTS))
    result = SubmissionResult("alice", Path("alice"), 2)
    score_results(result, kit, weights or load_weights(None), events, killed=killed,
                  options=GradeOptions(timeout=5, submission_timeout=60), output_tail=tail)
    return result


def result_event(nodeid, outcome, message="", where="", details=""):
    return {"event": "result", "nodeid": nodeid, "outcome": outcome, "message": message,
            "where": where, "details": details}


def test_passed_tests_earn_their_points_and_the_rest_none(tmp_path):
    weights = load_weights(write_json(tmp_path / "w.json", {"hidden_tests/*": 3}))
    result = scored([
        {"event": "collected", "nodeids": TESTS},
        result_event(TESTS[0], "passed"),
        result_event(TESTS[1], "failed", "AssertionError: 1 != 2"),
        result_event(TESTS[2], "skipped", "not today"),
        result_event(TESTS[3], "passed"),
    ], weights=weights)
    assert [t.points for t in result.tests] == [1, 0, 0, 3]
    assert (result.score, result.max_score) == (4, 6)
    assert result.subtotal("stage1") == (1, 2)
    assert result.subtotal("hidden") == (3, 3)
    assert result.tests[2].message.startswith("skipped (not today)")
    assert result.status == "graded"


def test_a_per_test_timeout_reads_as_a_timeout_pointing_at_the_students_code():
    details = ("shared_tests/stage1/test_a.py:3: in test_one\n    f()\n"
               "src/mini_torch/functional.py:12: in relu\n    while True:\n"
               "E   Failed: Timeout (>5.0s) from pytest-timeout.")
    result = scored([
        {"event": "collected", "nodeids": TESTS},
        result_event(TESTS[0], "failed", "Failed: Timeout (>5.0s) from pytest-timeout.",
                     "/usr/lib/python3/selectors.py:415", details),
    ])
    test = result.tests[0]
    assert test.outcome == "timeout"
    assert "longer than 5 s" in test.message and "endless loop" in test.message
    assert test.where == "src/mini_torch/functional.py:12"


def test_a_run_killed_at_the_time_limit_scores_what_finished():
    result = scored([
        {"event": "collected", "nodeids": TESTS},
        {"event": "start", "nodeid": TESTS[0]},
        result_event(TESTS[0], "passed"),
        {"event": "start", "nodeid": TESTS[1]},
    ], killed=True)
    assert [t.outcome for t in result.tests] == ["passed", "timeout", "not_run", "not_run"]
    assert "60 s limit while this test was running" in result.tests[1].message
    assert "before this test started" in result.tests[2].message
    assert result.status == "time_limit"
    assert result.score == 1


def test_a_test_file_that_cannot_load_fails_each_of_its_tests_with_the_reason():
    result = scored([
        {"event": "collect_error", "nodeid": "shared_tests/stage1/test_a.py",
         "message": "ImportError: cannot import name 'relu'", "where": ""},
        {"event": "collected", "nodeids": TESTS[2:]},
        result_event(TESTS[2], "passed"),
        result_event(TESTS[3], "passed"),
    ])
    assert [t.outcome for t in result.tests] == ["error", "error", "passed", "passed"]
    assert result.tests[0].message == (
        "the test file could not be loaded: ImportError: cannot import name 'relu'")


def test_a_run_that_stopped_before_collecting_says_why():
    result = scored([], tail="Exit: mini_torch was imported from /elsewhere")
    assert all(t.outcome == "not_run" for t in result.tests)
    assert "imported from /elsewhere" in result.tests[0].message
    assert result.score == 0


def test_a_truncated_log_line_is_skipped(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"event": "start", "nodeid": "a"}\n{"event": "res')
    assert read_log(log) == [{"event": "start", "nodeid": "a"}]


# --- reports -------------------------------------------------------------------------------------


def sample_result() -> SubmissionResult:
    result = SubmissionResult("alice", Path("alice"), 2)
    stub = "NotImplementedError: Stage 2: implement mini_torch.nn.linear.Linear.forward"
    result.tests = [
        TestResult(TESTS[0], "passed", points=1, max_points=1),
        TestResult(TESTS[1], "failed", stub, "src/mini_torch/nn/linear.py:60", max_points=1),
        TestResult(TESTS[2], "failed", stub, "src/mini_torch/nn/linear.py:60", max_points=2),
        TestResult(TESTS[3], "failed", "AssertionError: hidden detail", max_points=3),
    ]
    return result


def test_gradebook_has_a_row_per_student_with_stage_and_hidden_subtotals(tmp_path):
    write_reports([sample_result()], tmp_path)
    with open(tmp_path / "gradebook.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["student", "score", "max", "stage1", "stage2", "hidden", "status",
                       "message"]
    assert rows[1] == ["alice", "1", "7", "1", "0", "0", "graded", ""]
    assert (tmp_path / "feedback" / "alice.txt").is_file()
    assert (tmp_path / "results" / "alice" / "results.json").is_file()


def test_feedback_groups_failures_by_error_with_where_and_how_to_rerun():
    text = feedback_text(sample_result())
    assert "Score: 1 / 7 (stage1 1/2, stage2 0/2, hidden 0/3)" in text
    assert "1. [failed] 2 tests: NotImplementedError: Stage 2: implement" in text
    assert "raised at src/mini_torch/nn/linear.py:60" in text
    assert 'Rerun it: nox -s stage2 -- --submission PATH -k "test_two"' in text
    assert "hidden_tests/stage2/test_h.py::test_four (hidden test)" in text


def test_headline_joins_an_empty_assertion_line_with_the_next():
    assert headline("AssertionError: \nNot equal to tolerance\nmore") == (
        "AssertionError: Not equal to tolerance")
    assert headline("ValueError: bad shape") == "ValueError: bad shape"


def test_gradescope_results_have_scores_and_hide_hidden_tests_until_the_due_date():
    data = gradescope_results(sample_result())
    assert (data["score"], data["max_score"]) == (1, 7)
    assert isinstance(data["output"], str) and "Score: 1 / 7" in data["output"]
    assert [t["visibility"] for t in data["tests"]] == ["visible"] * 3 + ["after_due_date"]
    assert [t["score"] for t in data["tests"]] == [1, 0, 0, 0]
    assert [t["max_score"] for t in data["tests"]] == [1, 1, 2, 3]
    assert {"name", "score", "max_score", "output", "visibility"} <= set(data["tests"][0])
    assert "Stage 2: implement" in data["tests"][1]["output"]
    json.dumps(data)


def test_a_submission_that_did_not_run_gets_feedback_on_the_reason():
    result = SubmissionResult("bob", Path("bob"), 2, status="import_error",
                              message="import mini_torch failed: SyntaxError (at x.py:3)")
    result.tests = [TestResult(TESTS[0], "not_run", "not run: import failed")]
    text = feedback_text(result)
    assert "import fails" in text and "SyntaxError (at x.py:3)" in text
    assert "Fix this first" in text


# --- the pytest plugin ---------------------------------------------------------------------------

PLUGIN_TESTS = {
    "test_sample.py": textwrap.dedent(
        """
        import pytest


        @pytest.fixture
        def broken():
            raise RuntimeError("fixture broke")


        def test_passes():
            assert True


        def test_fails():
            assert 1 == 2, "one is not two"


        def test_errors_in_setup(broken):
            pass


        def test_skips():
            pytest.skip("not here")


        def test_deselected():
            pass
        """
    ),
    "test_unloadable.py": "import no_such_module_anywhere\n",
}


def test_plugin_streams_every_outcome_and_selects_by_pattern(tmp_path):
    for name, text in PLUGIN_TESTS.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    log = tmp_path / "log.jsonl"
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-c", "pytest.ini", "--rootdir", ".", "-p",
         "no:cacheprovider", "-p", "instructor.pytest_grader", "--grader-log", str(log),
         "--grader-select=*test_sample.py::test_[pfes]*", "--continue-on-collection-errors",
         "-q", "."],
        cwd=tmp_path, env=env, capture_output=True, check=False, timeout=120,
    )
    events = read_log(log)
    results = {e["nodeid"]: e for e in events if e["event"] == "result"}
    assert {n.split("::")[1]: e["outcome"] for n, e in results.items()} == {
        "test_passes": "passed", "test_fails": "failed", "test_errors_in_setup": "error",
        "test_skips": "skipped",
    }
    assert "one is not two" in results["test_sample.py::test_fails"]["message"]
    assert_line = PLUGIN_TESTS["test_sample.py"].splitlines().index(
        '    assert 1 == 2, "one is not two"') + 1
    assert results["test_sample.py::test_fails"]["where"].endswith(f"test_sample.py:{assert_line}")
    assert "fixture broke" in results["test_sample.py::test_errors_in_setup"]["message"]
    errors = [e for e in events if e["event"] == "collect_error"]
    assert [e["nodeid"] for e in errors] == ["test_unloadable.py"]
    assert "no_such_module_anywhere" in errors[0]["message"]
    collected = next(e["nodeids"] for e in events if e["event"] == "collected")
    assert "test_sample.py::test_deselected" not in collected
