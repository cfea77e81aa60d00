"""``carry``: copy a file of a stage into the later stages; refuse paths outside the package."""

from __future__ import annotations

import pytest

DRIFT = "# a fix made in one stage only\n"


def drift(path):
    """Append a line to ``path`` so it no longer matches the other stages' copies."""
    path.write_text(path.read_text() + DRIFT)


def test_carry_fixes_a_drifted_file_so_check_passes(repo, run_cli, stage_file):
    drift(stage_file(repo, 2, "text.py"))
    assert run_cli("check", "--root", repo)[0] == 1

    code, out, _ = run_cli("carry", "--root", repo, "text.py")

    assert code == 0
    assert "stage1 -> stage2: src/mini_torch/text.py copied" in out.splitlines()
    carried = stage_file(repo, 2, "text.py").read_bytes()
    assert carried == stage_file(repo, 1, "text.py").read_bytes()
    assert run_cli("check", "--root", repo)[0] == 0


def test_carry_a_nested_path(repo, run_cli, stage_file):
    drift(stage_file(repo, 2, "tools/numbers.py"))
    code, out, _ = run_cli("carry", "--root", repo, "tools/numbers.py")
    assert code == 0
    assert "stage1 -> stage2: src/mini_torch/tools/numbers.py copied" in out
    assert run_cli("check", "--root", repo)[0] == 0


def test_carry_accepts_the_path_the_check_prints(repo, run_cli, stage_file):
    drift(stage_file(repo, 2, "text.py"))
    code, _, _ = run_cli("carry", "--root", repo, "src/mini_torch/text.py")
    assert code == 0
    assert run_cli("check", "--root", repo)[0] == 0


def test_carry_copies_from_the_lowest_stage_that_has_the_file(
    make_repo, run_cli, stage_file, stage1_files, stage2_files
):
    repo = make_repo({1: stage1_files, 2: stage2_files, 3: stage2_files})
    drift(stage_file(repo, 3, "layers.py"))  # layers.py first appears in stage 2
    code, out, _ = run_cli("carry", "--root", repo, "layers.py")
    assert code == 0
    assert out.splitlines()[0] == "stage2 -> stage3: src/mini_torch/layers.py copied"
    assert DRIFT not in stage_file(repo, 3, "layers.py").read_text()


def test_a_stage_file_path_carries_that_stages_copy(
    make_repo, run_cli, stage_file, stage2_files, monkeypatch
):
    repo = make_repo({1: stage2_files, 2: stage2_files, 3: stage2_files})
    drift(stage_file(repo, 2, "text.py"))  # the fix is made in stage 2
    monkeypatch.chdir(repo)
    code, out, _ = run_cli("carry", "stages/stage2/src/mini_torch/text.py")
    assert code == 0
    assert out.splitlines()[0] == "stage2 -> stage3: src/mini_torch/text.py copied"
    assert stage_file(repo, 3, "text.py").read_text().endswith(DRIFT)
    assert not stage_file(repo, 1, "text.py").read_text().endswith(DRIFT)


def test_from_stage_chooses_the_source(make_repo, run_cli, stage_file, stage2_files):
    repo = make_repo({1: stage2_files, 2: stage2_files, 3: stage2_files})
    drift(stage_file(repo, 2, "text.py"))
    code, _, _ = run_cli("carry", "--root", repo, "--from-stage", "2", "text.py")
    assert code == 0
    assert stage_file(repo, 3, "text.py").read_text().endswith(DRIFT)
    assert not stage_file(repo, 1, "text.py").read_text().endswith(DRIFT)


def test_carry_skips_stages_without_the_file_unless_add(repo, run_cli, stage_file):
    stage_file(repo, 1, "extra.py").write_text("def extra():\n    return 1\n")

    code, out, _ = run_cli("carry", "--root", repo, "extra.py")
    assert code == 0
    assert not stage_file(repo, 2, "extra.py").exists()
    assert "pass --add" in out

    code, out, _ = run_cli("carry", "--root", repo, "--add", "extra.py")
    assert code == 0
    assert "stage1 -> stage2: src/mini_torch/extra.py created" in out.splitlines()
    assert stage_file(repo, 2, "extra.py").read_text() == "def extra():\n    return 1\n"


def test_carry_leaves_identical_copies_alone(repo, run_cli):
    code, out, _ = run_cli("carry", "--root", repo, "text.py")
    assert code == 0
    assert out.strip() == "nothing copied: every later copy is already identical"


def test_carry_all_brings_every_stage_in_line(repo, run_cli, stage_file):
    drift(stage_file(repo, 2, "text.py"))
    stage_file(repo, 2, "tools/numbers.py").unlink()
    stage_file(repo, 2, "tools/__init__.py").unlink()
    stage_file(repo, 2, "tools/table.csv").unlink()
    stage_file(repo, 2, "tools").rmdir()

    code, out, _ = run_cli("carry", "--root", repo, "--all")

    assert code == 0
    lines = out.splitlines()
    assert "stage1 -> stage2: src/mini_torch/text.py copied" in lines
    assert "stage1 -> stage2: src/mini_torch/tools/__init__.py created" in lines
    assert "stage1 -> stage2: src/mini_torch/tools/numbers.py created" in lines
    assert run_cli("check", "--root", repo)[0] == 0


def test_carry_all_never_overwrites_an_existing_init(repo, run_cli, stage_file):
    init2 = stage_file(repo, 2, "__init__.py")
    before = init2.read_bytes()
    run_cli("carry", "--root", repo, "--all")
    assert init2.read_bytes() == before


def test_carry_all_from_stage_leaves_earlier_stages_as_sources_alone(
    make_repo, run_cli, stage_file, stage2_files
):
    repo = make_repo({1: stage2_files, 2: stage2_files, 3: stage2_files})
    drift(stage_file(repo, 2, "text.py"))
    code, _, _ = run_cli("carry", "--root", repo, "--all", "--from-stage", "2")
    assert code == 0
    assert stage_file(repo, 3, "text.py").read_text().endswith(DRIFT)
    assert stage_file(repo, 2, "text.py").read_text().endswith(DRIFT)


@pytest.mark.parametrize(
    "path",
    ["../pyproject.toml", "src/mini_torch/../../pyproject.toml", "stages/stage1/pyproject.toml"],
)
def test_carry_refuses_a_path_outside_the_package(repo, run_cli, path, monkeypatch):
    monkeypatch.chdir(repo)
    code, _, err = run_cli("carry", path)
    assert code == 2
    assert "outside src/mini_torch" in err


def test_carry_refuses_an_absolute_path_outside_the_package(repo, run_cli, tmp_path):
    elsewhere = tmp_path / "text.py"
    elsewhere.write_text("print('not part of any stage')\n")
    code, _, err = run_cli("carry", "--root", repo, elsewhere)
    assert code == 2
    assert "outside src/mini_torch" in err


def test_carry_refuses_a_file_that_does_not_exist(repo, run_cli):
    code, _, err = run_cli("carry", "--root", repo, "nope.py")
    assert code == 2
    assert "src/mini_torch/nope.py does not exist in any stage" in err


def test_carry_refuses_a_file_missing_from_the_named_stage(repo, run_cli):
    code, _, err = run_cli("carry", "--root", repo, "--from-stage", "1", "layers.py")
    assert code == 2
    assert "src/mini_torch/layers.py does not exist in stage1" in err


def test_carry_refuses_an_unknown_stage(repo, run_cli):
    code, _, err = run_cli("carry", "--root", repo, "--from-stage", "7", "text.py")
    assert code == 2
    assert "--from-stage 7: no such stage" in err


def test_carry_refuses_an_init_file(repo, run_cli, stage_file):
    code, _, err = run_cli("carry", "--root", repo, "__init__.py")
    assert code == 2
    assert "__init__.py" in err
    assert b"Fake stage 2" in stage_file(repo, 2, "__init__.py").read_bytes()


def test_carry_checks_every_path_before_copying(repo, run_cli, stage_file):
    drift(stage_file(repo, 2, "text.py"))
    code, _, _ = run_cli("carry", "--root", repo, "text.py", "nope.py")
    assert code == 2
    assert stage_file(repo, 2, "text.py").read_text().endswith(DRIFT)


@pytest.mark.parametrize("args", [[], ["--all", "text.py"]])
def test_carry_needs_either_paths_or_all(repo, run_cli, args):
    with pytest.raises(SystemExit) as error:
        run_cli("carry", "--root", repo, *args)
    assert error.value.code == 2
