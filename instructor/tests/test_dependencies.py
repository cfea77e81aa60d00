"""The stages' runtime dependencies are written once, in each stage's pyproject.toml, and every
tool that needs them (the autograder's requirements, setup.sh's import check, the jail's
site-packages, the grader's start check, a Gradescope term's check) reads them from there."""

from __future__ import annotations

import textwrap
import zipfile

import pytest

from instructor.gradescope.autograder import stage_requirements
from instructor.grading.jail import default_distributions
from instructor.stages import dependencies, distribution_names, import_names, runtime_dependencies
from instructor.stages.repo import InstructorError, stage_numbers
from instructor.term.bake import gradescope_modules

from .conftest import REAL_REPO

TRICKY = textwrap.dedent(
    """
    [build-system]
    requires = ["hatchling>=1.18"]

    [tool.other]
    dependencies = ["not-this-one"]

    [project]
    name = "mini-torch"
    dependencies = [
        "numpy>=1.24",  # the arrays
        'PyYAML>=6',
        "scikit-learn ; python_version >= '3.10'",
    ]

    [project.optional-dependencies]
    dev = ["pytest"]
    """
)
TRICKY_DEPENDENCIES = ["numpy>=1.24", "PyYAML>=6", "scikit-learn ; python_version >= '3.10'"]


def _stage(tmp_path, text):
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_project_table_s_dependencies_are_read_and_no_other_table_s(tmp_path):
    assert runtime_dependencies(_stage(tmp_path, TRICKY)) == TRICKY_DEPENDENCIES


def test_the_python_3_10_reader_agrees_with_tomllib(tmp_path):
    assert dependencies._read_dependencies_310(TRICKY) == TRICKY_DEPENDENCIES
    assert dependencies._read_dependencies_310("[project]\nname = 'x'\n") is None
    tomllib = pytest.importorskip("tomllib")
    for stage in stage_numbers(REAL_REPO):
        text = (REAL_REPO / "stages" / f"stage{stage}" / "pyproject.toml").read_text()
        assert dependencies._read_dependencies_310(text) == (
            tomllib.loads(text)["project"]["dependencies"]), stage


def test_a_stage_without_a_dependency_list_is_refused_with_the_fix(tmp_path):
    with pytest.raises(InstructorError, match="cannot read the stage's dependencies"):
        runtime_dependencies(tmp_path)
    with pytest.raises(InstructorError, match=r"expected a \[project\] table with dependencies"):
        runtime_dependencies(_stage(tmp_path, "[project]\nname = 'x'\n"))


def test_distribution_and_import_names():
    assert distribution_names(TRICKY_DEPENDENCIES) == ("numpy", "PyYAML", "scikit-learn")
    assert import_names(TRICKY_DEPENDENCIES) == ("numpy", "yaml", "sklearn")
    assert import_names(["numexpr>=2.8", "typing-extensions"]) == ("numexpr",
                                                                     "typing_extensions")
    with pytest.raises(InstructorError, match="is not a requirement"):
        distribution_names([">=1.0"])


def test_every_tool_reads_the_stage_s_own_list():
    stage3 = runtime_dependencies(REAL_REPO / "stages" / "stage3")
    assert "numpy>=1.24" in stage3
    assert stage_requirements(REAL_REPO, 3) == stage3
    newest = max(stage_numbers(REAL_REPO))
    assert default_distributions() == distribution_names(
        runtime_dependencies(REAL_REPO / "stages" / f"stage{newest}"))
    modules = gradescope_modules(REAL_REPO, [1, 2])
    assert modules[:2] == ["pytest", "pytest_timeout"]
    assert set(modules[2:]) == set(import_names(runtime_dependencies(
        REAL_REPO / "stages" / "stage2")))


def test_the_autograder_zip_checks_and_installs_the_stage_s_list(tmp_path, run_cli):
    code, _, _ = run_cli("autograder", "--root", REAL_REPO, "--stage", 1, "--out",
                         tmp_path / "a.zip", "--select", "stage1/relu*", "--no-hidden")
    assert code == 0
    wanted = runtime_dependencies(REAL_REPO / "stages" / "stage1")
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.read("requirements.txt").decode().split() == wanted
        setup = archive.read("setup.sh").decode()
        reference = archive.read("kit/reference/pyproject.toml")
    assert f'-c "import {", ".join(["instructor", *import_names(wanted)])}"' in setup
    assert reference == (REAL_REPO / "stages" / "stage1" / "pyproject.toml").read_bytes()
