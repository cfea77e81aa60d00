"""The term template (templates/term): what a bake holds, and what its pre-generation hook refuses.

A term is baked once per configuration (the module fixtures below) and inspected by many tests.
The nox runs inside a bake are in test_term_template_nox.py.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from instructor.release import write_release
from instructor.solutions import BEGIN_MARKER, END_MARKER, STUB_LINE

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "templates" / "term"
HIDDEN_TESTS = REPO / "instructor" / "hidden_tests"
ALL_STAGES = sorted(
    int(path.name.removeprefix("stage"))
    for path in (REPO / "stages").glob("stage[0-9]*")
    if (path / "pyproject.toml").is_file()
)
# The answers of the bake whose README is checked word for word.
COURSE = {
    "course_code": "DL 501",
    "course_name": "Neural Networks by Hand",
    "term": "Spring 2027",
    "instructor": "Ada Lovelace",
}


# ------------------------------------------------------------------------------------- bakes


@pytest.fixture(scope="module")
def default_bake(bake) -> Path:
    """Every answer at its default: the stages 1..5, GitHub Classroom, no solutions."""
    return bake()


@pytest.fixture(scope="module")
def gradescope_bake(bake) -> Path:
    return bake(platform="gradescope", first_stage="2", last_stage="3")


@pytest.fixture(scope="module")
def plain_bake(bake) -> Path:
    """Platform none, stages 2..3 only, with the course answers of COURSE."""
    return bake(platform="none", first_stage="2", last_stage="3", python_version="3.10", **COURSE)


@pytest.fixture(scope="module")
def solutions_bake(bake) -> Path:
    return bake(include_solutions=True, first_stage="1", last_stage="2")


STUDENT_BAKES = ["default_bake", "gradescope_bake", "plain_bake"]
ALL_BAKES = [*STUDENT_BAKES, "solutions_bake"]


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def _text_files(folder: Path) -> dict[Path, str]:
    """Every file of ``folder`` that is UTF-8 text, with its text (data files are skipped)."""
    texts = {}
    for path in _files(folder):
        try:
            texts[path] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def _names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


# ----------------------------------------------------------------------------- what a bake holds


def test_default_bake_holds_the_release_of_every_stage(default_bake):
    assert _names(default_bake) == {
        ".github", ".gitignore", "README.md", "docs", "noxfile.py", "pyproject.toml",
        "shared_tests", "stages",
    }
    assert _names(default_bake / "stages") == {f"stage{k}" for k in ALL_STAGES}
    assert _names(default_bake / "shared_tests") == {"conftest.py"} | {
        f"stage{k}" for k in ALL_STAGES
    }
    assert _names(default_bake / "docs") == {"index.md"} | {f"stage{k}.md" for k in ALL_STAGES}


def test_repository_is_named_after_course_and_term(default_bake, plain_bake):
    assert default_bake.name == "cs-4xx-fall-2026"  # course_code "CS 4XX", term "Fall 2026"
    assert plain_bake.name == "dl-501-spring-2027"


def test_partial_bake_releases_only_the_chosen_stages_with_all_their_tests(plain_bake):
    assert _names(plain_bake / "stages") == {"stage2", "stage3"}
    # stages/stage3 is tested cumulatively: the public tests of stages 1, 2 and 3.
    assert _names(plain_bake / "shared_tests") == {"conftest.py", "stage1", "stage2", "stage3"}
    assert _names(plain_bake / "docs") == {"index.md", "stage2.md", "stage3.md"}


@pytest.mark.parametrize("stage", [1, 3, 5])
def test_bake_stages_are_what_the_release_tool_writes(default_bake, tmp_path, stage):
    """The template does not keep a copy of the code: each stage is the instructor release."""
    write_release(REPO, stage, tmp_path)
    released = tmp_path / "stages" / f"stage{stage}"
    baked = default_bake / "stages" / f"stage{stage}"
    assert [p.relative_to(baked) for p in _files(baked)] == [
        p.relative_to(released) for p in _files(released)
    ]
    for path in _files(released):
        if path.name == "pyproject.toml":
            continue  # requires-python differs: the course's version (tested below)
        assert (baked / path.relative_to(released)).read_bytes() == path.read_bytes(), path


@pytest.mark.parametrize("bake_name", ALL_BAKES)
def test_bake_leaves_no_jinja_unrendered(request, bake_name):
    project = request.getfixturevalue(bake_name)
    for path, text in _text_files(project).items():
        for token in ("{{", "{%", "{#", "cookiecutter."):
            assert token not in text, f"{path} holds {token!r}"


@pytest.mark.parametrize("bake_name", STUDENT_BAKES)
def test_student_bake_has_stubs_and_no_solution_marker(request, bake_name):
    project = request.getfixturevalue(bake_name)
    stubs, markers = 0, []
    for path, text in _text_files(project).items():
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip() in (BEGIN_MARKER, END_MARKER):
                markers.append(f"{path.relative_to(project)}:{number}")
            stubs += bool(STUB_LINE.match(line))
    # A marker line shows where solution code sits: none may reach students, docs included.
    assert markers == [], f"solution marker lines in a student bake: {markers}"
    assert stubs > 0


@pytest.mark.parametrize("bake_name", STUDENT_BAKES)
def test_student_bake_holds_no_hidden_test(request, bake_name):
    project = request.getfixturevalue(bake_name)
    hidden_files = [path for path in _files(HIDDEN_TESTS) if path.suffix == ".py"]
    hidden_names = {
        name
        for path in hidden_files
        for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M)
    }
    assert hidden_names, "instructor/hidden_tests has no test to look for"
    hidden_bytes = {path.read_bytes() for path in hidden_files}
    for path in _files(project):
        assert "hidden_tests" not in path.relative_to(project).parts
        assert path.suffix != ".zip", f"{path}: an archive in the students' repository"
        assert path.read_bytes() not in hidden_bytes, f"{path} is a hidden test file"
    for path, text in _text_files(project).items():
        leaked = {name for name in hidden_names if name in text}
        assert not leaked, f"{path} names hidden tests {sorted(leaked)}"


def test_solutions_bake_keeps_the_reference_code(solutions_bake):
    for stage in (1, 2):
        reference = REPO / "stages" / f"stage{stage}" / "src" / "mini_torch"
        baked = solutions_bake / "stages" / f"stage{stage}" / "src" / "mini_torch"
        for path in _files(reference):
            if "__pycache__" in path.parts:
                continue
            assert (baked / path.relative_to(reference)).read_bytes() == path.read_bytes(), path
    for path, text in _text_files(solutions_bake / "stages").items():
        assert not any(STUB_LINE.match(line) for line in text.splitlines()), path


def test_solutions_bake_readme_says_it_is_an_answer_key(solutions_bake, default_bake):
    assert "Answer key" in (solutions_bake / "README.md").read_text(encoding="utf-8")
    assert "Answer key" not in (default_bake / "README.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------- README


def test_readme_starts_with_the_course_header(plain_bake):
    lines = (plain_bake / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# DL 501: Neural Networks by Hand"
    header = "\n".join(lines[:6])
    for answer in ("Spring 2027", "Ada Lovelace", "3.10", "2 to 3"):
        assert answer in header


def test_readme_schedule_lists_the_chosen_stages_in_order(plain_bake):
    text = (plain_bake / "README.md").read_text(encoding="utf-8")
    schedule = text.split("## Stage schedule", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in schedule.splitlines() if re.match(r"\| \d+ \|", line)]
    assert [int(row.split("|")[1]) for row in rows] == [2, 3]
    assert all("`nox -s stage" in row for row in rows)


def test_readme_links_to_guides_that_exist(plain_bake):
    text = (plain_bake / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?:docs|stages)/[^)#]+)\)", text)
    assert "docs/stage2.md" in links and "docs/stage3.md" in links
    for link in links:
        assert (plain_bake / link).exists(), link


def test_readme_has_instructions_for_each_chosen_stage(plain_bake):
    text = (plain_bake / "README.md").read_text(encoding="utf-8")
    assert "### Stage 2:" in text and "### Stage 3:" in text
    assert "### Stage 1:" not in text and "### Stage 4:" not in text
    assert "| `stages/stage3/src/mini_torch/nn/loss.py` |" in text  # its functions to write


@pytest.mark.parametrize(
    ("bake_name", "words"),
    [
        ("default_bake", ".github/workflows/classroom.yml"),
        ("gradescope_bake", "Gradescope assignment"),
        ("plain_bake", "Your instructor tells you how to hand in"),
    ],
)
def test_readme_says_how_to_hand_in_on_the_platform(request, bake_name, words):
    project = request.getfixturevalue(bake_name)
    assert words in (project / "README.md").read_text(encoding="utf-8")


# ---------------------------------------------------------------------- Python, nox, platforms


def _nox_sessions(project: Path) -> list[dict]:
    listing = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json", "-f", str(project / "noxfile.py")],
        capture_output=True, text=True, check=True, timeout=120,
    )
    return json.loads(listing.stdout)


def test_noxfile_has_one_session_per_stage_on_the_course_python(plain_bake):
    sessions = _nox_sessions(plain_bake)
    assert [(s["name"], s["python"]) for s in sessions] == [("stage2", "3.10"), ("stage3", "3.10")]


def test_stage_packages_require_the_course_python(default_bake):
    for stage in ALL_STAGES:
        text = (default_bake / "stages" / f"stage{stage}" / "pyproject.toml").read_text()
        assert re.findall(r"^requires-python = (.*)$", text, re.M) == ['">=3.12"']


def test_classroom_workflow_has_one_graded_step_per_stage(default_bake):
    workflow = yaml.safe_load(
        (default_bake / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8")
    )
    # YAML 1.1 reads the key "on" as True.
    assert workflow.get("on", workflow.get(True)) == ["push", "workflow_dispatch"]
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    setup = [step for step in steps if step.get("uses", "").startswith("actions/setup-python")]
    assert [step["with"]["python-version"] for step in setup] == ["3.12"]
    graded = [step for step in steps if step.get("run", "").startswith("nox -s")]
    assert [step["run"] for step in graded] == [f"nox -s stage{k}" for k in ALL_STAGES]
    assert [step["name"] for step in graded] == [f"Stage {k}" for k in ALL_STAGES]
    # Each stage runs even when an earlier one failed, so every stage reports its result.
    assert all("!cancelled()" in step["if"] for step in graded)
    install = steps.index(next(step for step in steps if "pip install nox" in step.get("run", "")))
    assert install < steps.index(graded[0])


@pytest.mark.parametrize("bake_name", ["gradescope_bake", "plain_bake"])
def test_classroom_workflow_only_for_github_classroom(request, bake_name):
    project = request.getfixturevalue(bake_name)
    assert not (project / ".github").exists()


def test_gradescope_bake_builds_one_autograder_per_stage_beside_the_repository(gradescope_bake):
    autograders = gradescope_bake.parent / f"{gradescope_bake.name}-autograder"
    assert _names(autograders) == {"README.md", "stage2.zip", "stage3.zip"}
    for stage in (2, 3):
        with zipfile.ZipFile(autograders / f"stage{stage}.zip") as archive:
            names = set(archive.namelist())
            kit = json.loads(archive.read("kit/kit.json"))
        assert {"setup.sh", "run_autograder", "requirements.txt"} <= names
        assert kit["stage"] == stage
    # Stage 3 has hidden tests: they are in its autograder, and only there.
    with zipfile.ZipFile(autograders / "stage3.zip") as archive:
        assert any(name.startswith("kit/tests/hidden_tests/stage3/") for name in archive.namelist())


@pytest.mark.parametrize("bake_name", ["default_bake", "plain_bake"])
def test_no_autograder_without_gradescope(request, bake_name):
    project = request.getfixturevalue(bake_name)
    assert not (project.parent / f"{project.name}-autograder").exists()


# ---------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"first_stage": "3", "last_stage": "2"}, "last_stage 2 comes before first_stage 3"),
        ({"last_stage": "6"}, "last_stage 6 is not a stage of this repository"),
        ({"first_stage": "two"}, "first_stage 'two' is not a stage number"),
        ({"python_version": "3.9"}, "python_version '3.9' is not supported"),
        ({"python_version": "3.14"}, "python_version '3.14' is not supported"),
        ({"course_code": ""}, "course_code is empty"),
        ({"course_code": "   "}, "course_code is empty"),
    ],
)
def test_pre_generation_hook_refuses(tmp_path, cookiecutter_config, capfd, answers, message):
    with pytest.raises(FailedHookException, match="exit status: 1"):
        cookiecutter(
            str(TEMPLATE), no_input=True, extra_context=answers, output_dir=str(tmp_path),
            config_file=str(cookiecutter_config),
        )
    assert message in capfd.readouterr().err
    assert list(tmp_path.iterdir()) == []  # cookiecutter removed the half-made folder


def _cli(tmp_path: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    """The cookiecutter command, run from the repository root on the relative template path."""
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--config-file", str(config),
         "-o", str(tmp_path), "templates/term", *args],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )


def test_command_line_refusal_exits_1_with_the_message(tmp_path, cookiecutter_config):
    done = _cli(tmp_path, cookiecutter_config, "first_stage=4", "last_stage=1")
    assert done.returncode == 1
    assert "last_stage 1 comes before first_stage 4" in done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []


def test_command_line_bake_finds_the_repository_from_a_relative_template_path(
    tmp_path, cookiecutter_config
):
    done = _cli(tmp_path, cookiecutter_config, "first_stage=1", "last_stage=1", "repo_name=t")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _names(tmp_path / "t" / "stages") == {"stage1"}


def test_pre_generation_hook_refuses_to_generate_over_released_stages(
    tmp_path, cookiecutter_config, capfd
):
    def generate() -> str:
        return cookiecutter(
            str(TEMPLATE), no_input=True, output_dir=str(tmp_path), overwrite_if_exists=True,
            extra_context={"first_stage": "1", "last_stage": "1"},
            config_file=str(cookiecutter_config),
        )

    project = Path(generate())
    work = project / "stages" / "stage1" / "src" / "mini_torch" / "functional.py"
    work.write_text("# a student's work\n", encoding="utf-8")
    readme = (project / "README.md").read_text(encoding="utf-8")
    capfd.readouterr()
    with pytest.raises(FailedHookException):
        generate()
    assert "the template never replaces a released stage" in capfd.readouterr().err
    assert work.read_text(encoding="utf-8") == "# a student's work\n"
    assert (project / "README.md").read_text(encoding="utf-8") == readme
