"""The parts of grading, on small inputs: weights, the import scan, finding the package, the wire
format, the worker, verdicts, scoring rules, messages and the reports."""

from __future__ import annotations

import base64
import csv
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from instructor.gradescope.results import gradescope_results
from instructor.grading import (
    CheckResult,
    PackageNotFound,
    SubmissionResult,
    find_package,
    student_names,
)
from instructor.grading import pipeline as runner
from instructor.grading.checks import Check, Program, check
from instructor.grading.jail import Worker, WorkerTimeout
from instructor.grading.messages import describe_error
from instructor.grading.outfolder import write_reports
from instructor.grading.reports import feedback_text, headline
from instructor.grading.scan import prohibited_imports_in, scan_package
from instructor.grading.scoring import DEFAULT_POINTS, is_scored, load_weights, own_tasks
from instructor.grading.verdicts import BadAnswer, decode, judge
from instructor.grading.worker import decode_array, encode_array, encode_value
from instructor.stages.repo import InstructorError

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
    with pytest.raises(PackageNotFound, match=r"found work/mini_torch without the src/ folder"):
        find_package(tmp_path)


def test_two_packages_at_the_same_depth_are_refused(tmp_path):
    make_package(tmp_path, {"a/src/mini_torch/__init__.py": "", "b/src/mini_torch/__init__.py": ""})
    with pytest.raises(PackageNotFound, match="several packages"):
        find_package(tmp_path)


def test_in_a_release_of_several_stages_the_graded_stage_is_chosen(tmp_path):
    make_package(tmp_path, {f"repo/stages/stage{k}/src/mini_torch/__init__.py": ""
                            for k in (1, 2, 3)})
    assert find_package(tmp_path, stage=2) == tmp_path / "repo" / "stages" / "stage2"
    with pytest.raises(PackageNotFound, match="several packages"):
        find_package(tmp_path)


def test_a_grader_without_a_needed_module_refuses_to_start():
    with pytest.raises(InstructorError, match=r"lacks no_such_module_for_grading: .* -m pip "
                       r"install no_such_module_for_grading"):
        runner.check_grader_environment(("json", "no_such_module_for_grading"))
    runner.check_grader_environment(("json",))  # everything there: no complaint


def test_macos_resource_folders_are_ignored(tmp_path):
    make_package(tmp_path, {"s/src/mini_torch/__init__.py": "",
                            "__MACOSX/s/src/mini_torch/__init__.py": ""})
    assert find_package(tmp_path) == tmp_path / "s"


def test_student_names_come_from_folders_and_zip_stems_and_a_shared_name_is_refused():
    paths = [Path("x/alice"), Path("y/bob.zip"), Path("z/Alice.zip"), Path("w/carol")]
    names, refused = student_names(paths)
    assert names == ["alice", "bob", "Alice", "carol"]
    assert sorted(refused) == [0, 2]  # one file name on a file system that ignores case
    assert "alice, Alice.zip" in refused[0] and refused[0] == refused[2]


# --- the wire format ----------------------------------------------------------------------------


@pytest.mark.parametrize("array", [
    np.arange(6, dtype=np.float32).reshape(2, 3), np.float32(2.5), np.array([True, False]),
    np.arange(4, dtype=np.int64), np.zeros((0, 3), dtype=np.float64),
    np.arange(6, dtype=">f8").reshape(3, 2),
])
def test_arrays_survive_the_wire_with_dtype_and_shape(array):
    back = decode_array(json.loads(json.dumps(encode_array(array))))
    assert back.shape == np.shape(array) and back.dtype.kind == np.asarray(array).dtype.kind
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("data", [
    {"dtype": "object", "shape": [1], "data": ""},
    {"dtype": "float32", "shape": [3], "data": base64.b64encode(b"12345678").decode()},
    {"dtype": "float32", "shape": [-1], "data": ""},
    {"dtype": "float32", "shape": [1], "data": "not base64!"},
    {"dtype": "float32", "shape": [1]},
])
def test_malformed_arrays_are_refused(data):
    with pytest.raises(ValueError):
        decode_array(data)


def test_values_decode_strictly():
    assert decode(encode_value("ValueError")) == "ValueError"
    assert decode(encode_value(None)) is None
    items = decode(encode_value([np.ones(2), np.zeros((1, 1))]))
    assert [a.shape for a in items] == [(2,), (1, 1)]
    with pytest.raises(BadAnswer):
        decode({"kind": "pickle", "data": "gASV"})
    with pytest.raises(TypeError):
        encode_value(object())


# --- the worker ----------------------------------------------------------------------------------


TOY_PACKAGE = (
    "import numpy as np\n\n\n"
    "def double(x):\n    return 2 * np.asarray(x)\n\n\n"
    "def hang():\n    while True:\n        pass\n\n\n"
    "def stubborn():\n    while True:\n        try:\n            while True:\n"
    "                pass\n        except BaseException:\n            pass\n\n\n"
    "def fail():\n    raise ValueError('bad input')\n"
)


def toy_line(text: str) -> int:
    """The 1-based line of the toy package holding ``text``."""
    return next(n for n, line in enumerate(TOY_PACKAGE.splitlines(), 1) if text in line)


@pytest.fixture
def toy_worker(tmp_path):
    """A worker on a tiny package ``mini_torch`` (pure Python and numpy) and one example."""
    package = tmp_path / "site" / "mini_torch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(TOY_PACKAGE)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "script.py").write_text(
        "def step(x):\n    return x + 1\n\n\nif __name__ == '__main__':\n    raise SystemExit(3)\n")
    worker = Worker(tmp_path, tmp_path / "scratch")
    yield worker
    worker.stop()


def ask(worker: Worker, program: Program, outputs: list[str], limit: float = 20.0):
    return worker.request({"steps": program.steps, "outputs": outputs}, limit)


def test_the_worker_evaluates_calls_and_returns_plain_arrays(toy_worker):
    program = Program()
    doubled = program.call("mini_torch.double", np.arange(3, dtype=np.float32))
    stepped = program.call("examples/script.py:step", doubled)
    raised = program.call("mini_torch.fail", catch=True)
    reply = ask(toy_worker, program, [doubled.name, stepped.name, raised.name])
    assert reply.ok
    outputs = {k: decode(v) for k, v in reply.outputs.items()}
    np.testing.assert_array_equal(outputs[doubled.name], [0, 2, 4])
    np.testing.assert_array_equal(outputs[stepped.name], [1, 3, 5])
    assert outputs[raised.name] == "ValueError"


def test_the_libraries_are_imported_before_any_clock_starts(toy_worker):
    program = Program()
    program.call("mini_torch.double", 1.0)
    ask(toy_worker, program, [])
    assert toy_worker.ready["ready"] is True and toy_worker.ready["missing"] == []
    # matplotlib (what viz imports) cost the grader, at start: the request costs next to nothing
    assert toy_worker.ready["cpu"] > 0.05
    reply = ask(toy_worker, program, [])
    assert reply.cpu < toy_worker.ready["cpu"]


def test_an_error_names_the_student_frame(toy_worker):
    program = Program()
    program.call("mini_torch.fail")
    reply = ask(toy_worker, program, [])
    assert not reply.ok
    message, where, details = describe_error(
        reply.error, site=str(toy_worker.site), examples=str(toy_worker.examples),
        own_files={"src/mini_torch/__init__.py"})
    assert message == "ValueError: bad input"
    assert where == f"src/mini_torch/__init__.py:{toy_line('raise ValueError')} in fail"
    assert "raise ValueError('bad input')" in details and "worker.py" not in details


def test_a_hang_is_interrupted_at_its_line_after_its_cpu_time(toy_worker):
    program = Program()
    program.call("mini_torch.hang")
    reply = ask(toy_worker, program, [], 0.5)
    # not before its limit (the clock's last digits aside: 0.4999999999999999 is 0.5)
    assert reply.error["type"] == "Timeout" and reply.cpu >= 0.5 - 1e-6
    message, where, _ = describe_error(reply.error, site=str(toy_worker.site),
                                       examples=str(toy_worker.examples),
                                       own_files={"src/mini_torch/__init__.py"}, limit=0.5)
    loop = {toy_line("while True:"), toy_line("pass")}
    assert where.startswith("src/mini_torch/__init__.py:") and "endless loop" in message
    assert "0.5 CPU seconds" in message
    assert int(where.split(":")[1].split()[0]) in loop


def test_a_hang_that_swallows_the_interruption_is_ended_and_named(toy_worker):
    program = Program()
    program.call("mini_torch.stubborn")
    reply = ask(toy_worker, program, [], 0.5)
    assert reply.error["type"] == "Timeout" and reply.error.get("hard")
    message, where, _ = describe_error(reply.error, site=str(toy_worker.site),
                                       examples=str(toy_worker.examples),
                                       own_files={"src/mini_torch/__init__.py"}, limit=0.5)
    assert "in stubborn" in where and "caught the interruption" in message
    # the watchdog ended that worker; the next request starts a fresh one
    toy_worker.stop()
    again = Program()
    result = again.call("mini_torch.double", 1.0)
    assert ask(toy_worker, again, [result.name]).ok


def test_a_loop_the_worker_cannot_interrupt_is_killed_by_its_cpu_time(tmp_path):
    package = tmp_path / "site" / "mini_torch"
    package.mkdir(parents=True)
    # A loop in compiled code that holds the interpreter's lock: neither the interruption nor
    # the watchdog thread gets to run, only the trusted side can end it.
    (package / "__init__.py").write_text("def deaf():\n    return sum(range(10**13))\n")
    (tmp_path / "examples").mkdir()
    worker = Worker(tmp_path, tmp_path / "scratch")
    program = Program()
    program.call("mini_torch.deaf")
    try:
        with pytest.raises(WorkerTimeout) as raised:
            ask(worker, program, [], 0.5)
        assert raised.value.cpu > 0.5
        assert worker.process is None  # killed; the next request starts a fresh one
    finally:
        worker.stop()


def test_a_wall_clock_backstop_is_the_grader_s_problem(tmp_path, monkeypatch):
    from instructor.grading import jail
    from instructor.grading.jail import workers

    package = tmp_path / "site" / "mini_torch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("import time\ndef nap():\n    time.sleep(30)\n")
    (tmp_path / "examples").mkdir()
    monkeypatch.setattr(workers, "MIN_BACKSTOP", 1.0)
    worker = Worker(tmp_path, tmp_path / "scratch")
    program = Program()
    program.call("mini_torch.nap")
    try:
        with pytest.raises(jail.WorkerBackstop) as raised:
            ask(worker, program, [], 0.1)
        assert raised.value.cpu < 0.1 and raised.value.wall >= 1.0  # asleep, not computing
    finally:
        worker.stop()


# --- verdicts and scoring ------------------------------------------------------------------------


def make_check(**options) -> Check:
    return check("stage3/x[a]", "mini_torch.nn.loss.MSELoss.forward",
                 "src/mini_torch/nn/loss.py", Program(), ["value"], **options)


def test_a_match_needs_the_shape_the_dtype_and_the_values():
    want = {"value": np.array([1.0, 2.0], dtype=np.float32)}
    assert judge(make_check(), {"value": np.array([1.0, 2.0000001], np.float32)}, want) is None
    assert "shape" in judge(make_check(), {"value": np.array([[1.0, 2.0]], np.float32)}, want)
    assert "float32" in judge(make_check(), {"value": np.array([1.0, 2.0])}, want)
    assert "wrong values" in judge(make_check(), {"value": np.array([1.0, 2.5], np.float32)},
                                   want)
    assert "non-finite" in judge(make_check(), {"value": np.array([1.0, np.nan], np.float32)},
                                 want)
    assert "missing" in judge(make_check(), {}, want)
    # A 0-d reference accepts a 0-d or one-element answer (a numpy scalar or a float).
    assert judge(make_check(), {"value": np.array(3.0)}, {"value": np.array(3.0, np.float32)}) \
        is None


def test_values_are_compared_at_the_scale_of_the_whole_array():
    # A gradient entry whose true value is 0 comes out as rounding noise of the array's scale:
    # about 0 at that scale is right, whatever its size relative to itself.
    want = {"value": np.array([0.0, 0.5, -2.0], np.float32)}
    assert judge(make_check(rtol=1e-4, atol=1e-7), {"value": np.array([1e-5, 0.5, -2.0],
                                                                     np.float32)}, want) is None
    problem = judge(make_check(rtol=1e-4, atol=1e-7),
                    {"value": np.array([1e-3, 0.5, -2.0], np.float32)}, want)
    assert problem.startswith("value[0]: wrong values") and "x 2" in problem, problem


def test_named_parameters_are_named_in_the_verdict():
    want = {"value": [["0.W", np.ones((2, 3), np.float32)], ["0.b", np.zeros((1, 3), np.float32)]]}
    got = [["0.W", np.ones((2, 3), np.float32)],
           ["0.b", np.array([[0.0, 0.5, 0.5]], np.float32)]]
    problem = judge(make_check(), {"value": got}, want)
    assert problem.startswith("0.b[0, 1:3]: wrong values"), problem


def test_a_training_run_must_match_the_reference_s_losses_not_just_fall():
    run = check("stage3/x[run]", "examples/train_sine.py:train_step", "examples/train_sine.py",
                Program(), ["losses"], rtol=2e-3, atol=1e-4)
    reference = {"losses": np.array([1.0, 0.6, 0.4])}
    assert judge(run, {"losses": np.array([1.0, 0.6005, 0.4])}, reference) is None
    # 1 / calls falls faster than the reference: it is no training step.
    problem = judge(run, {"losses": np.array([1.0, 0.5, 1 / 3])}, reference)
    assert problem.startswith("losses[1:3]: wrong values") and "expected 0.6" in problem
    assert "non-finite" in judge(run, {"losses": np.array([1.0, np.inf, 0.4])}, reference)


def test_only_the_stage_own_tasks_are_scored(real_repo):
    tasks = set(own_tasks(real_repo, 3))
    assert "mini_torch.nn.loss.MSELoss.forward" in tasks
    assert "examples/train_sine.py:train_step" in tasks
    assert not any(t.startswith("mini_torch.functional") for t in tasks)
    assert is_scored(make_check(), tasks)
    assert not is_scored(make_check(given=True), tasks)
    earlier = check("stage1/relu[a]", "mini_torch.functional.relu", "src/mini_torch/functional.py",
                    Program(), ["v"])
    assert not is_scored(earlier, tasks)


# --- reports -------------------------------------------------------------------------------------


def sample_result() -> SubmissionResult:
    result = SubmissionResult("alice", Path("alice"), 3)
    stub = "NotImplementedError: Stage 3: implement mini_torch.nn.loss.MSELoss.forward"
    task = "mini_torch.nn.loss.MSELoss.forward"
    loss = "src/mini_torch/nn/loss.py"
    result.checks = [
        CheckResult("stage3/MSELoss.forward[a]", task, loss, "passed", points=1, max_points=1,
                    cpu=0.25),
        CheckResult("stage3/MSELoss.forward[b]", task, loss, "error", stub,
                    "src/mini_torch/nn/loss.py:93 in forward", max_points=1),
        CheckResult("stage3/MSELoss.forward[c]", task, loss, "error", stub,
                    "src/mini_torch/nn/loss.py:93 in forward", max_points=2),
        CheckResult("hidden/stage3/MSELoss.forward[d]", task, loss, "failed",
                    "value: wrong values", max_points=3, hidden=True),
        CheckResult("stage1/relu[a]", "mini_torch.functional.relu",
                    "src/mini_torch/functional.py", "failed", "v: wrong values", scored=False),
    ]
    return result


def test_gradebook_has_a_row_per_student_with_public_hidden_and_reported_columns(tmp_path):
    tmp_path = tmp_path / "out"
    write_reports([sample_result()], tmp_path)
    with open(tmp_path / "gradebook.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["student", "score", "max", "stage3", "hidden", "reported", "integrity",
                       "status", "message", "seconds", "cpu_seconds", "isolation"]
    assert rows[1][:8] == ["alice", "1", "7", "1", "0", "0/1", "", "graded"]
    # the CPU seconds of its checks, summed
    assert rows[1][10] == f"{sum(c.cpu for c in sample_result().checks):.1f}" != "0.0"
    assert (tmp_path / "feedback" / "alice.txt").is_file()
    assert (tmp_path / "results" / "alice" / "results.json").is_file()


def test_feedback_groups_failures_by_error_with_where():
    text = feedback_text(sample_result())
    assert "Score: 1 / 7 (stage3 1/4, hidden 0/3" in text
    assert "1. [error] 2 checks: NotImplementedError: Stage 3: implement" in text
    assert "at src/mini_torch/nn/loss.py:93 in forward" in text
    # Checks in words; a failed hidden check by its task alone: no name, no message.
    assert 'MSELoss.forward, case "b"' in text and "stage3/MSELoss.forward[b]" not in text
    assert "1 hidden check(s) of MSELoss.forward did not pass" in text
    assert "[d]" not in text and "wrong values" not in text.split("Not scored")[0]
    assert "Not scored" in text and 'relu, case "a"' in text
    # The rerun hint selects the task's own test file (named after the class).
    assert 'nox -s stage3 -- --submission PATH -k "mse_loss"' in text


def test_headline_joins_an_empty_assertion_line_with_the_next():
    assert headline("AssertionError: \nNot equal to tolerance\nmore") == (
        "AssertionError: Not equal to tolerance")
    assert headline("ValueError: bad shape") == "ValueError: bad shape"


def test_gradescope_results_hide_hidden_checks_until_published():
    data = gradescope_results(sample_result())
    assert (data["score"], data["max_score"]) == (1, 7)
    assert "Public checks: 1 / 4 points" in data["output"]
    assert "0 / 3" not in data["output"] and "1 / 7" not in data["output"]
    assert [t["visibility"] for t in data["tests"]] == ["visible"] * 3 + ["after_published",
                                                                          "visible"]
    assert [t["max_score"] for t in data["tests"]] == [1, 1, 2, 3, 0]
    assert {"name", "score", "max_score", "output", "visibility"} <= set(data["tests"][0])
    assert "Stage 3: implement" in data["tests"][1]["output"]
    assert isinstance(data["execution_time"], int)
    json.dumps(data)


def test_a_submission_that_was_not_graded_gets_feedback_on_the_reason():
    result = SubmissionResult("bob", Path("bob"), 3, status="integrity",
                              message="src/mini_torch/nn/loss.py:3: imports torch",
                              integrity=["src/mini_torch/nn/loss.py:3: imports torch"])
    text = feedback_text(result)
    assert "not graded" in text and "imports torch" in text


def test_a_verdict_names_an_unnamed_result_in_words_not_by_its_step():
    raised = check("stage3/x[refuses]", "mini_torch.nn.loss.MSELoss.forward",
                   "src/mini_torch/nn/loss.py", Program(), ["v1"])
    problem = judge(raised, {"v1": "NotImplementedError"}, {"v1": "ValueError"})
    assert problem == "the result: expected 'ValueError', got 'NotImplementedError'"


def test_the_suggested_test_keyword_selects_the_task_s_test_module_where_there_is_one():
    from instructor.grading.kit import test_keyword

    modules = {"attention", "batch_norm", "layer_norm", "dropout", "clip_grad_norm", "mse_loss",
               "functional_gradients", "training"}
    assert test_keyword("mini_torch.nn.attention.MultiHeadSelfAttention.backward",
                        modules) == "attention"
    assert test_keyword("mini_torch.nn.batchnorm.BatchNorm1d.forward", modules) == "batch_norm"
    assert test_keyword("mini_torch.nn.normalization.layer_norm_backward",
                        modules) == "layer_norm"
    assert test_keyword("mini_torch.nn.dropout.dropout_mask", modules) == "dropout"
    assert test_keyword("mini_torch.nn.utils.clip_grad_norm_", modules) == "clip_grad_norm"
    assert test_keyword("mini_torch.nn.loss.MSELoss.backward", modules) == "mse_loss"
    # no module of its own: the name itself, as the tests are named
    assert test_keyword("mini_torch.functional.relu_backward", modules) == "relu_backward"
    assert test_keyword("examples/train_sine.py:train_step", modules) == "train_sine"
