"""``release``: a student release stubs what its stage adds and carries the rest solved.

These tests use a small fake repository of pure-Python files (no numpy); test_release_real.py
cuts, installs and tests releases of the real stages.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from instructor.release.release import read_stubs, write_release
from instructor.release.solutions import MarkerError


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


OPS = dedent(
    '''
    """Stage 1's math."""


    def double(x):
        """Twice x."""
        # BEGIN SOLUTION
        return 2 * x
        # END SOLUTION
    '''
)

LAYERS = dedent(
    '''
    """Stage 2's layers."""
    from mini_torch.ops import double


    class Doubler:
        def forward(self, x):
            if x is None:
                raise ValueError("Doubler.forward: x is None")
            # BEGIN SOLUTION
            return double(x)
            # END SOLUTION
    '''
)


def example(stage: int) -> str:
    return dedent(
        f'''
        """Stage {stage} example."""


        def train_step(value):
            # BEGIN SOLUTION
            return value + {stage}
            # END SOLUTION


        if __name__ == "__main__":
            print(train_step(1))
        '''
    )


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def marked_repo(tmp_path: Path) -> Path:
    """Stages 1 and 2 with solution regions, their tests, docs and a hidden test of stage 2."""
    root = tmp_path / "repo"
    write(root / "noxfile.py", "")
    for stage, files in {1: {"ops.py": OPS}, 2: {"ops.py": OPS, "layers.py": LAYERS}}.items():
        folder = root / "stages" / f"stage{stage}"
        write(folder / "pyproject.toml",
              f'[project]\nname = "mini-torch"\nversion = "0.{stage}.0"\n')
        # A README may mention the markers (it is text, not a region), for the maintainers.
        write(folder / "README.md", f"# stage {stage}: the code<!-- maintainers -->, between "
              "# BEGIN SOLUTION lines<!-- /maintainers -->\n")
        write(folder / "src" / "mini_torch" / "__init__.py", f"STAGE = {stage}\n")
        for name, text in files.items():
            write(folder / "src" / "mini_torch" / name, text)
        write(folder / "examples" / "train.py", example(stage))
        write(root / "shared_tests" / f"stage{stage}" / f"test_stage{stage}.py",
              "def test_nothing():\n    pass\n")
        write(root / "docs" / f"stage{stage}.md", f"# Stage {stage}\n")
    write(root / "shared_tests" / "conftest.py", "# shared fixtures\n")
    write(root / "docs" / "index.md", "# Overview\n")
    write(root / "instructor" / "hidden_tests" / "stage2" / "test_secret.py",
          "def test_secret():\n    pass\n")
    return root


def marker_lines(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.strip() in ("# BEGIN SOLUTION", "# END SOLUTION"):
                found.append(f"{path}:{number}")
    return found


def test_stage2_stubs_its_new_file_and_examples_and_keeps_stage1_solved(marked_repo, tmp_path):
    out = tmp_path / "release"
    report = write_release(marked_repo, 2, out)
    package = out / "stages" / "stage2" / "src" / "mini_torch"
    assert "return double(x)" not in (package / "layers.py").read_text()
    assert (
        '        raise NotImplementedError("Stage 2: implement mini_torch.layers.Doubler.forward '
        '(see docs/stage2.md)")'
    ) in (package / "layers.py").read_text().splitlines()
    assert (package / "ops.py").read_text() == OPS.replace(
        "    # BEGIN SOLUTION\n", "").replace("    # END SOLUTION\n", "")
    train = (out / "stages" / "stage2" / "examples" / "train.py").read_text()
    assert 'raise NotImplementedError("Stage 2: implement examples/train.py:train_step' in train
    assert [(s.path, s.name) for s in report.stubs] == [
        ("stages/stage2/examples/train.py", "examples/train.py:train_step"),
        ("stages/stage2/src/mini_torch/layers.py", "mini_torch.layers.Doubler.forward"),
    ]
    assert report.solved_files == ["stages/stage2/src/mini_torch/ops.py"]


def test_stage1_stubs_every_region(marked_repo, tmp_path):
    report = write_release(marked_repo, 1, tmp_path / "release")
    assert sorted(s.name for s in report.stubs) == [
        "examples/train.py:train_step", "mini_torch.ops.double",
    ]


@pytest.mark.parametrize("stage", [1, 2])
def test_no_marker_line_survives_and_every_file_parses(marked_repo, tmp_path, stage):
    out = tmp_path / "release"
    write_release(marked_repo, stage, out)
    assert marker_lines(out) == []
    for path in out.rglob("*.py"):
        ast.parse(path.read_text(), filename=str(path))


def test_the_validation_before_a_region_stays(marked_repo, tmp_path):
    write_release(marked_repo, 2, tmp_path / "release")
    layers = tmp_path / "release" / "stages" / "stage2" / "src" / "mini_torch" / "layers.py"
    assert 'raise ValueError("Doubler.forward: x is None")' in layers.read_text()


def test_release_layout(marked_repo, tmp_path):
    out = tmp_path / "release"
    write_release(marked_repo, 2, out)
    for relative in [
        "stages/stage2/pyproject.toml", "stages/stage2/README.md",
        "stages/stage2/examples/train.py",
        "stages/stage2/src/mini_torch/__init__.py", "shared_tests/conftest.py",
        "shared_tests/stage1/test_stage1.py", "shared_tests/stage2/test_stage2.py",
        "docs/stage2.md", "docs/index.md", "README.md", "noxfile.py", "pyproject.toml",
        "package_rule.py", "stage_session.py",
    ]:
        assert (out / relative).is_file(), relative
    assert "--import-mode=importlib" in (out / "pyproject.toml").read_text()
    assert not (out / "stages" / "stage1").exists()
    assert (out / "docs" / "stage1.md").exists()  # the earlier guides derive the solved code


def test_hidden_tests_never_go_into_a_release(marked_repo, tmp_path):
    out = tmp_path / "release"
    write_release(marked_repo, 2, out)
    assert not list(out.rglob("test_secret.py"))
    assert not [p for p in out.rglob("*") if "hidden" in p.relative_to(out).as_posix()]


def test_readme_lists_the_functions_to_write_and_how_to_run_the_tests(marked_repo, tmp_path):
    out = tmp_path / "release"
    write_release(marked_repo, 2, out)
    readme = (out / "README.md").read_text()
    assert "### Stage 2" in readme
    assert "| `stages/stage2/src/mini_torch/layers.py` | `Doubler.forward` |" in readme
    assert "| `stages/stage2/examples/train.py` | `train_step` |" in readme
    assert "nox -s stage2" in readme
    assert "shared_tests/stage1 shared_tests/stage2" in readme
    assert "[`docs/stage2.md`](docs/stage2.md)" in readme


def test_two_stages_in_one_folder_keep_both_and_list_both(marked_repo, tmp_path):
    out = tmp_path / "release"
    write_release(marked_repo, 1, out)
    write_release(marked_repo, 2, out)
    assert (out / "stages" / "stage1").is_dir() and (out / "stages" / "stage2").is_dir()
    readme = (out / "README.md").read_text()
    assert "# Mini-Torch: stages 1-2" in readme
    assert "### Stage 1" in readme and "### Stage 2" in readme
    assert sorted(read_stubs(out)) == [1, 2]
    assert (out / "docs" / "stage1.md").is_file() and (out / "docs" / "stage2.md").is_file()


def test_an_existing_stage_folder_is_kept_unless_forced(marked_repo, tmp_path, run_cli):
    out = tmp_path / "release"
    write_release(marked_repo, 2, out)
    work = out / "stages" / "stage2" / "src" / "mini_torch" / "layers.py"
    work.write_text("# a student's work\n")
    code, _, err = run_cli("release", "--root", marked_repo, "--stage", 2, "--out", out)
    assert code == 2 and "--force" in err
    assert work.read_text() == "# a student's work\n"
    code, _, _ = run_cli("release", "--root", marked_repo, "--stage", 2, "--out", out, "--force")
    assert code == 0 and "NotImplementedError" in work.read_text()


def test_a_solutions_release_keeps_the_code(marked_repo, tmp_path):
    out = tmp_path / "key"
    report = write_release(marked_repo, 2, out, include_solutions=True)
    layers = out / "stages" / "stage2" / "src" / "mini_torch" / "layers.py"
    assert layers.read_text() == LAYERS
    assert report.stubs == []


@pytest.mark.parametrize(
    "offset, bad, words",
    [(1, "        # BEGIN SOLUTION\n", "cannot nest"),
     (0, "        # END SOLUTION\n", "without a # BEGIN SOLUTION")],
    ids=["nested", "unbalanced"],
)
def test_malformed_markers_abort_naming_file_and_line_and_write_nothing(
    marked_repo, tmp_path, run_cli, offset, bad, words
):
    layers = marked_repo / "stages" / "stage2" / "src" / "mini_torch" / "layers.py"
    lines = layers.read_text().splitlines(keepends=True)
    begin = lines.index("        # BEGIN SOLUTION\n")  # 0-based
    # The bad marker goes just after the BEGIN line (nested) or just before it (unbalanced);
    # either way it becomes line number begin + offset + 1.
    at = begin + offset
    layers.write_text("".join([*lines[:at], bad, *lines[at:]]))
    out = tmp_path / "release"
    code, _, err = run_cli("release", "--root", marked_repo, "--stage", 2, "--out", out)
    assert code == 1
    assert f"stages/stage2/src/mini_torch/layers.py:{at + 1}: " in err
    assert words in err
    assert not out.exists()
    with pytest.raises(MarkerError):
        write_release(marked_repo, 2, out)


def test_markers_of_a_carried_file_are_checked_too(marked_repo, tmp_path):
    ops = marked_repo / "stages" / "stage2" / "src" / "mini_torch" / "ops.py"
    ops.write_text(ops.read_text() + "    # END SOLUTION\n")
    with pytest.raises(MarkerError, match=r"stages/stage2/src/mini_torch/ops\.py:\d+"):
        write_release(marked_repo, 2, tmp_path / "release")


def test_unknown_stage_is_a_usage_error(marked_repo, tmp_path, run_cli):
    code, _, err = run_cli("release", "--root", marked_repo, "--stage", 7, "--out", tmp_path)
    assert code == 2 and "no such stage" in err


def test_cli_prints_every_stub_and_a_summary(marked_repo, tmp_path, run_cli):
    code, out, _ = run_cli("release", "--root", marked_repo, "--stage", 2, "--out",
                           tmp_path / "release")
    lines = out.splitlines()
    assert code == 0
    stub = "stub: stages/stage2/src/mini_torch/layers.py: mini_torch.layers.Doubler.forward"
    assert stub in lines
    assert lines[-1].startswith("stage 2 released into ")


def test_missing_docs_are_reported(marked_repo, tmp_path):
    (marked_repo / "docs" / "stage2.md").unlink()
    report = write_release(marked_repo, 2, tmp_path / "release")
    assert report.warnings == ["docs/stage2.md does not exist: the release has no copy of it"]


def test_student_noxfile_has_stage_sessions_and_the_submission_option(marked_repo, tmp_path):
    out = tmp_path / "release"
    write_release(marked_repo, 2, out)
    text = (out / "noxfile.py").read_text()
    ast.parse(text)
    assert "--submission" in text and 'nox.session(name=f"stage{stage}", python=PYTHON)' in text
    assert "session.posargs" in text
    for absent in ("lint", "instructor", "demo", "ruff"):
        assert f"def {absent}" not in text
