"""Facts the repository needs in several places are written once and read everywhere else.

- the stages' runtime dependencies: each stage's ``pyproject.toml`` (``[project] dependencies``);
  the noxfile reads them from there and spells none of them itself;
- the PyTorch pin: ``TORCH`` in ``noxfile.py``; every ``torch==`` the docs write agrees with it;
- the body of a stage session: ``term/stage_session.py``, run by the monorepo's noxfile and
  by the students' noxfile alike (neither keeps a copy of its own).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import pytest
import tomllib

from .conftest import REAL_REPO

NOXFILE = REAL_REPO / "noxfile.py"
TEMPLATES = REAL_REPO / "instructor" / "src" / "instructor" / "term"
STAGES = sorted(path for path in (REAL_REPO / "stages").glob("stage[0-9]*")
                if (path / "pyproject.toml").is_file())


def _dependencies(stage_dir) -> list[str]:
    with (stage_dir / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)["project"]["dependencies"]


def _string_literals(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_every_stage_declares_the_same_runtime_dependencies():
    first = _dependencies(STAGES[0])
    assert first, f"{STAGES[0]}/pyproject.toml declares no dependencies"
    for stage_dir in STAGES[1:]:
        assert _dependencies(stage_dir) == first, (
            f"{stage_dir.name}/pyproject.toml lists {_dependencies(stage_dir)}, "
            f"{STAGES[0].name} lists {first}: a stage never changes what an earlier one fixed")


def test_the_noxfile_reads_the_dependencies_instead_of_spelling_them():
    literals = _string_literals(NOXFILE)
    for requirement in _dependencies(STAGES[-1]):
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)[0]
        spelled = sorted(literal for literal in literals
                         if re.match(rf"{re.escape(name)}\s*([<>=!~;\[]|$)", literal))
        assert spelled == [], (
            f"noxfile.py spells {spelled}: read the stages' pyproject.toml instead "
            f"(STAGE_RUNTIME_DEPS)")


def _torch_pin() -> str:
    for node in ast.parse(NOXFILE.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "TORCH":
            return node.value.value
    pytest.fail("noxfile.py has no TORCH = 'torch==...' assignment")


def test_the_pytorch_pin_is_written_once_in_code_and_the_docs_agree():
    pin = _torch_pin()
    assert re.fullmatch(r"torch==\d+\.\d+\.\d+", pin), pin
    files = [path for pattern in ("*.md", "**/*.md", "**/*.py", "**/*.toml", "**/*.txt")
             for path in REAL_REPO.glob(pattern)
             if ".nox" not in path.parts and ".git" not in path.parts]
    wrong, in_code = [], []
    for path in sorted(set(files)):
        text = path.read_text(encoding="utf-8", errors="replace")
        for found in re.findall(r"torch==[0-9][0-9.]*[0-9]", text):
            if found != pin:
                wrong.append(f"{path.relative_to(REAL_REPO)}: {found}")
            if path.suffix == ".py" and path != NOXFILE:
                in_code.append(str(path.relative_to(REAL_REPO)))
    assert wrong == [], f"these disagree with noxfile.py's TORCH = {pin!r}: {wrong}"
    assert in_code == [], f"only noxfile.py pins PyTorch; read TORCH there instead: {in_code}"


@pytest.mark.parametrize("noxfile", [NOXFILE, TEMPLATES / "student_noxfile.py"],
                         ids=["monorepo", "students"])
def test_both_noxfiles_run_the_one_stage_session(noxfile):
    text = noxfile.read_text(encoding="utf-8")
    tree = ast.parse(text)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "attr", getattr(node.func, "id", None)) == "run_stage"]
    assert calls, f"{noxfile.name} does not call stage_session.run_stage"
    # What the shared body does, no noxfile does again: unpack zips, parse --submission, install.
    for own in ("zipfile", "extractall", "invoked_from", "session.install"):
        if noxfile == NOXFILE and own == "session.install":
            continue  # its other sessions install tools; its stage sessions do not
        assert own not in text, f"{noxfile.name} repeats the stage session's {own!r}"


def test_the_stage_session_installs_editable_and_says_where():
    text = (TEMPLATES / "stage_session.py").read_text(encoding="utf-8")
    assert '"--editable"' in text and "MINI_TORCH_EXPECT_PATH" in text


def test_the_noxfile_reads_them_with_the_tools_own_reader_before_they_are_installed():
    # nox has only nox: the noxfile loads stages/dependencies.py by path, so that file must
    # work with the standard library alone (-S: no site-packages, no installed tools)
    source = REAL_REPO / "instructor" / "src" / "instructor" / "stages" / "dependencies.py"
    assert "def _runtime_dependencies" not in NOXFILE.read_text(encoding="utf-8")
    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location("
            f"'deps', {str(source)!r}); module = importlib.util.module_from_spec(spec); "
            "spec.loader.exec_module(module); "
            f"print(module.runtime_dependencies({str(STAGES[-1])!r}))")
    done = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(_dependencies(STAGES[-1]))
