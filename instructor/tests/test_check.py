"""``check``: carried files stay byte-identical and public names keep their signatures."""

from __future__ import annotations

import subprocess
import sys

from instructor.stages.consistency import compare_api, introspect_stage

CHECK_PREFIX = "stage1 -> stage2"


def test_consistent_stages_pass(repo, run_cli):
    code, out, _ = run_cli("check", "--root", repo)
    assert code == 0
    assert out.splitlines()[-1].startswith("stages 1-2 consistent: ")


def test_summary_counts_carried_files_and_public_names(repo, run_cli, stage1_files):
    api = introspect_stage(repo, 1)
    _, out, _ = run_cli("check", "--root", repo)
    assert out.strip() == (
        f"stages 1-2 consistent: {len(stage1_files)} carried files, {len(api)} public names"
    )


def test_init_differences_alone_pass(repo, run_cli, stage_file):
    init1, init2 = stage_file(repo, 1, "__init__.py"), stage_file(repo, 2, "__init__.py")
    assert init1.read_bytes() != init2.read_bytes()
    code, _, _ = run_cli("check", "--root", repo)
    assert code == 0


def test_file_edited_in_one_stage_fails_naming_the_file(repo, run_cli, stage_file):
    text = stage_file(repo, 2, "text.py")
    text.write_text(text.read_text() + "# a fix made in stage 2 only\n")
    code, out, _ = run_cli("check", "--root", repo)
    assert code == 1
    assert f"{CHECK_PREFIX}: src/mini_torch/text.py differs" in out.splitlines()


def test_data_file_edited_in_one_stage_fails(repo, run_cli, stage_file):
    stage_file(repo, 2, "tools/table.csv").write_text("a,b\n1,3\n")
    code, out, _ = run_cli("check", "--root", repo, "--files-only")
    assert code == 1
    assert f"{CHECK_PREFIX}: src/mini_torch/tools/table.csv differs" in out.splitlines()


def test_deleted_carried_file_fails_naming_the_file(repo, run_cli, stage_file):
    stage_file(repo, 2, "tools/table.csv").unlink()
    code, out, _ = run_cli("check", "--root", repo)
    assert code == 1
    assert f"{CHECK_PREFIX}: src/mini_torch/tools/table.csv is missing" in out.splitlines()


def test_missing_init_file_fails(repo, run_cli, stage_file):
    stage_file(repo, 2, "tools/__init__.py").unlink()
    code, out, _ = run_cli("check", "--root", repo, "--files-only")
    assert code == 1
    assert f"{CHECK_PREFIX}: src/mini_torch/tools/__init__.py is missing" in out.splitlines()


def test_compiled_files_are_ignored(repo, run_cli, stage_file):
    cache = stage_file(repo, 1, "__pycache__/text.cpython-311.pyc")
    cache.parent.mkdir()
    cache.write_bytes(b"\x00compiled")
    stage_file(repo, 1, "stray.pyc").write_bytes(b"\x00compiled")
    code, _, _ = run_cli("check", "--root", repo, "--files-only")
    assert code == 0


def test_changed_function_signature_fails_naming_the_qualified_name(repo, run_cli, stage_file):
    text = stage_file(repo, 2, "text.py")
    text.write_text(text.read_text().replace("def shout(message):", "def shout(message, times=2):"))
    code, out, _ = run_cli("check", "--root", repo)
    assert code == 1
    lines = out.splitlines()
    change = "signature changed: (message) -> (message, times=2)"
    assert f"{CHECK_PREFIX}: mini_torch.text.shout {change}" in lines
    # The top level re-exports shout, so its public name changed too.
    assert f"{CHECK_PREFIX}: mini_torch.shout {change}" in lines


def test_changed_method_signature_fails_naming_class_and_method(repo, run_cli, stage_file):
    shapes = stage_file(repo, 2, "shapes.py")
    shapes.write_text(shapes.read_text().replace("def area(self):", "def area(self, scale):"))
    code, out, _ = run_cli("check", "--root", repo)
    assert code == 1
    change = "signature changed: (self) -> (self, scale)"
    assert f"{CHECK_PREFIX}: mini_torch.shapes.Box.area {change}" in out.splitlines()


def test_removed_public_function_fails(repo, run_cli, stage_file):
    text = stage_file(repo, 2, "text.py")
    text.write_text(text.read_text().replace("def whisper(", "def _whisper("))
    code, out, _ = run_cli("check", "--root", repo)
    assert code == 1
    assert f"{CHECK_PREFIX}: mini_torch.text.whisper removed" in out.splitlines()


def test_name_dropped_from_init_all_fails(make_repo, run_cli, stage1_files, stage2_files):
    stage2_files["__init__.py"] = stage2_files["__init__.py"].replace('"shout", ', "")
    repo = make_repo({1: stage1_files, 2: stage2_files})
    code, out, _ = run_cli("check", "--root", repo)
    assert code == 1
    assert out.splitlines()[0] == f"{CHECK_PREFIX}: mini_torch.shout removed"


def test_removed_public_method_fails(repo, run_cli, stage_file):
    shapes = stage_file(repo, 2, "shapes.py")
    shapes.write_text(shapes.read_text().replace("def __len__(self):", "def _len(self):"))
    code, out, _ = run_cli("check", "--root", repo)
    assert code == 1
    assert f"{CHECK_PREFIX}: mini_torch.shapes.Box.__len__ removed" in out.splitlines()


def test_private_and_unexported_names_are_not_compared(repo):
    api = introspect_stage(repo, 1)
    assert "mini_torch._internal" not in api  # leading underscore
    assert "mini_torch.shapes.not_exported" not in api  # not in __all__
    assert "mini_torch.shapes.Box._private" not in api  # private method
    assert "mini_torch.text.json" not in api  # an imported module
    assert not any(name.startswith("mini_torch._helpers") for name in api)  # private module


def test_introspection_describes_modules_classes_values_and_signatures(repo):
    api = introspect_stage(repo, 1)
    assert api["mini_torch.tools"] == "<module>"
    assert api["mini_torch.shapes.Box"] == "<class>"
    assert api["mini_torch.STAGE"] == "<value>"
    assert api["mini_torch.shapes.Box.__init__"] == "(self, width, height=1)"
    assert api["mini_torch.text.whisper"] == "(message, *, times=1)"


def test_each_stage_is_introspected_on_its_own(repo):
    assert "mini_torch.layers.Layer" not in introspect_stage(repo, 1)
    assert introspect_stage(repo, 2)["mini_torch.layers.Layer.__call__"] == "(self, x)"


def test_names_added_by_the_later_stage_are_fine():
    old = {"mini_torch.relu": "(x)"}
    new = {"mini_torch.relu": "(x)", "mini_torch.tanh": "(x)"}
    assert compare_api(old, new, CHECK_PREFIX) == []


def test_module_that_fails_to_import_is_reported(repo, run_cli, stage_file):
    stage_file(repo, 2, "broken.py").write_text("raise RuntimeError('stage 2 is half-written')\n")
    code, out, _ = run_cli("check", "--root", repo)
    assert code == 1
    assert "stage2: cannot read the public names: cannot import mini_torch.broken: " in out
    assert "RuntimeError: stage 2 is half-written" in out


def test_files_only_does_not_import_the_stages(repo, run_cli, stage_file):
    stage_file(repo, 2, "broken.py").write_text("raise RuntimeError('stage 2 is half-written')\n")
    code, out, _ = run_cli("check", "--root", repo, "--files-only")
    assert code == 0
    assert out.strip().endswith("signatures not checked")


def test_every_consecutive_pair_is_compared(
    make_repo, run_cli, stage_file, stage1_files, stage2_files
):
    repo = make_repo({1: stage1_files, 2: stage2_files, 3: stage2_files})
    layers = stage_file(repo, 3, "layers.py")
    layers.write_text(layers.read_text() + "# drift\n")
    code, out, _ = run_cli("check", "--root", repo, "--files-only")
    assert code == 1
    assert out.splitlines()[0] == "stage2 -> stage3: src/mini_torch/layers.py differs"
    assert out.splitlines()[-1].startswith("stages 1-3 inconsistent: 1 problem(s)")


def test_stages_missing_in_between_are_skipped(make_repo, run_cli, stage1_files, stage2_files):
    del stage2_files["text.py"]
    repo = make_repo({1: stage1_files, 3: stage2_files})
    code, out, _ = run_cli("check", "--root", repo, "--files-only")
    assert code == 1
    assert out.splitlines()[0] == "stage1 -> stage3: src/mini_torch/text.py is missing"


def test_a_single_stage_has_nothing_to_compare(make_repo, run_cli, stage1_files):
    repo = make_repo({1: stage1_files})
    code, out, _ = run_cli("check", "--root", repo)
    assert code == 0
    assert out.strip() == "nothing to compare: stage1 only"


def test_root_is_found_by_walking_up(repo, run_cli, stage_file, monkeypatch):
    monkeypatch.chdir(stage_file(repo, 2, "tools"))
    code, out, _ = run_cli("check", "--files-only")
    assert code == 0
    assert out.startswith("stages 1-2 consistent")


def test_outside_a_repository_exits_2(tmp_path, run_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli("check")
    assert code == 2
    assert "pass --root REPO" in err


def test_root_that_is_not_a_repository_exits_2(tmp_path, run_cli):
    code, _, err = run_cli("check", "--root", tmp_path)
    assert code == 2
    assert "not a Mini-Torch repository" in err


def test_python_dash_m_instructor_runs_the_check(repo):
    result = subprocess.run(
        [sys.executable, "-m", "instructor", "check", "--root", str(repo), "--files-only"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stages 1-2 consistent")
