"""The term template (templates/term): what a bake holds, and what its pre-generation hook refuses.

A term is baked once per configuration (the module fixtures below) and inspected by many tests.
The nox runs inside a bake are in test_term_template_nox.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from instructor.cli import main
from instructor.release.leakcheck import check_artifact
from instructor.release.release import write_release
from instructor.release.solutions import BEGIN_MARKER, END_MARKER, STUB_LINE

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "templates" / "term"
HIDDEN_TESTS = REPO / "instructor" / "hidden_tests"
ALL_STAGES = sorted(
    int(path.name.removeprefix("stage"))
    for path in (REPO / "stages").glob("stage[0-9]*")
    if (path / "pyproject.toml").is_file()
)
ALL_BAKES = ["default_bake", "classroom_bake", "gradescope_bake", "plain_bake", "keys_bake"]
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
    """Every answer at its default: one repository per student, every stage, no answer keys."""
    return bake()


@pytest.fixture(scope="module")
def classroom_bake(bake) -> Path:
    """GitHub Classroom: the staff's folder with one starter repository per stage."""
    return bake(platform="github-classroom")


@pytest.fixture(scope="module")
def gradescope_bake(bake) -> Path:
    return bake(platform="gradescope", first_stage="2", last_stage="3",
                due_dates="2=2027-02-08T23:59:00-05:00, 3=2027-02-22T23:59:00-05:00",
                late_policy="late_days", late_days_budget="4")


@pytest.fixture(scope="module")
def plain_bake(bake) -> Path:
    """Platform none, stages 2..3 only, with the course answers of COURSE."""
    return bake(platform="none", first_stage="2", last_stage="3", python_version="3.10", **COURSE)


@pytest.fixture(scope="module")
def keys_bake(bake) -> Path:
    return bake(include_solutions=True, first_stage="1", last_stage="2")


def _staff(project: Path) -> Path:
    return project.parent / f"{project.name}-staff"


def _starters(classroom: Path) -> list[Path]:
    return sorted((classroom / "starters").iterdir())


def _student_artifacts(request) -> list[Path]:
    """Everything a student receives from the bakes above."""
    artifacts = [request.getfixturevalue(name)
                 for name in ("default_bake", "gradescope_bake", "plain_bake", "keys_bake")]
    return artifacts + _starters(request.getfixturevalue("classroom_bake"))


def _files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*")
                  if path.is_file() and ".git" not in path.relative_to(folder).parts)


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


def _git_log(folder: Path) -> list[str]:
    done = subprocess.run(["git", "-C", str(folder), "log", "--format=%s"], capture_output=True,
                          text=True, check=True)
    return done.stdout.splitlines()


# ----------------------------------------------------------------------------- what a bake holds


def test_default_bake_is_a_term_repository_holding_the_first_stage_only(default_bake):
    assert _names(default_bake) == {
        ".git", ".gitignore", ".mini-torch-term.json", "README.md", "carry_forward.py", "docs",
        "noxfile.py", "package_rule.py", "pyproject.toml", "shared_tests", "stage_session.py",
        "stages",
    }
    assert _names(default_bake / "stages") == {"stage1"}
    assert _names(default_bake / "shared_tests") == {"conftest.py", "stage1", "tasks.json"}
    assert _names(default_bake / "docs") == {"index.md", "stage1.md"}
    assert _git_log(default_bake) == ["Open stage 1"]
    term = json.loads((default_bake / ".mini-torch-term.json").read_text())
    assert term["stages"] == ALL_STAGES and term["opened"] == [1]


def test_default_bake_staff_folder_holds_the_schedule_and_no_key(default_bake):
    staff = _staff(default_bake)
    assert _names(staff) == {"README.md", "term.json"}
    readme = (staff / "README.md").read_text(encoding="utf-8")
    assert "open-stage --stage K" in readme and "publish-key" in readme


def test_repository_is_named_after_course_and_term(default_bake, plain_bake):
    assert default_bake.name == "cs-4xx-fall-2026"  # course_code "CS 4XX", term "Fall 2026"
    assert plain_bake.name == "dl-501-spring-2027"


def test_partial_bake_opens_its_first_stage_with_all_earlier_tests(plain_bake):
    assert _names(plain_bake / "stages") == {"stage2"}
    # stages/stage2 is tested cumulatively: the public tests of stages 1 and 2.
    assert _names(plain_bake / "shared_tests") == {"conftest.py", "stage1", "stage2",
                                                    "tasks.json"}
    assert _names(plain_bake / "docs") == {"index.md", "stage1.md", "stage2.md"}


def test_classroom_bake_is_the_staff_folder_with_one_starter_per_stage(classroom_bake):
    assert _names(classroom_bake) == {"README.md", "starters", "term.json"}
    assert [p.name for p in _starters(classroom_bake)] == [f"stage{k}" for k in ALL_STAGES]
    assert "template" in (classroom_bake / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("stage", [1, 3, ALL_STAGES[-1]])
def test_classroom_starters_are_what_the_release_tool_writes(classroom_bake, tmp_path, stage):
    """The template does not keep a copy of the code: each starter is the instructor release."""
    write_release(REPO, stage, tmp_path)
    starter = classroom_bake / "starters" / f"stage{stage}"
    own = {"README.md", "noxfile.py", ".mini-torch-term.json"}
    released = {p.relative_to(tmp_path).as_posix() for p in _files(tmp_path)}
    baked = {p.relative_to(starter).as_posix() for p in _files(starter)}
    assert {name for name in baked - released if not name.startswith(".github/")} <= own
    assert released <= baked
    for name in released - own:
        assert (starter / name).read_bytes() == (tmp_path / name).read_bytes(), name


@pytest.mark.parametrize("stage", [1, 2])
def test_term_stage_is_what_the_release_tool_writes(default_bake, plain_bake, tmp_path, stage):
    project = default_bake if stage == 1 else plain_bake
    write_release(REPO, stage, tmp_path)
    released = tmp_path / "stages" / f"stage{stage}"
    baked = project / "stages" / f"stage{stage}"
    assert [p.relative_to(baked) for p in _files(baked)] == [
        p.relative_to(released) for p in _files(released)
    ]
    for path in _files(released):
        assert (baked / path.relative_to(released)).read_bytes() == path.read_bytes(), path


def test_every_student_artifact_passes_the_leak_check(request):
    for artifact in _student_artifacts(request):
        report = check_artifact(artifact, REPO)
        assert report.stubs, artifact
        assert [f.describe() for f in report.findings] == [], artifact


@pytest.mark.parametrize("bake_name", ALL_BAKES)
def test_bake_leaves_no_jinja_unrendered(request, bake_name):
    project = request.getfixturevalue(bake_name)
    folders = [project] + ([_staff(project)] if _staff(project).is_dir() else [])
    for folder in folders:
        for path, text in _text_files(folder).items():
            # a GitHub workflow's own expressions are written ${{ ... }}
            shown = re.sub(r"\$\{\{[^}]*\}\}", "", text) if ".github" in path.parts else text
            for token in ("{{", "{%", "{#", "cookiecutter."):
                assert token not in shown, f"{path} holds {token!r}"


def test_student_artifacts_have_stubs_and_no_solution_marker(request):
    for project in _student_artifacts(request):
        stubs, markers = 0, []
        for path, text in _text_files(project).items():
            for number, line in enumerate(text.splitlines(), start=1):
                if line.strip() in (BEGIN_MARKER, END_MARKER):
                    markers.append(f"{path.relative_to(project)}:{number}")
                stubs += bool(STUB_LINE.match(line))
        assert markers == [], f"solution marker lines in a student artifact: {markers}"
        assert stubs > 0


def test_student_artifacts_hold_no_hidden_test(request):
    hidden_files = [path for path in _files(HIDDEN_TESTS) if path.suffix == ".py"]
    hidden_names = {
        name
        for path in hidden_files
        for name in re.findall(r"^def (test_\w+)", path.read_text(encoding="utf-8"), re.M)
    }
    hidden_bytes = {path.read_bytes() for path in hidden_files}
    for project in _student_artifacts(request):
        for path in _files(project):
            assert "hidden_tests" not in path.relative_to(project).parts
            assert path.suffix != ".zip", f"{path}: an archive in the students' repository"
            assert path.read_bytes() not in hidden_bytes, f"{path} is a hidden test file"
        for path, text in _text_files(project).items():
            leaked = {name for name in hidden_names if name in text}
            assert not leaked, f"{path} names hidden tests {sorted(leaked)}"


def test_answer_keys_only_in_the_staff_folder(keys_bake):
    staff = _staff(keys_bake)
    for stage in (1, 2):
        reference = REPO / "stages" / f"stage{stage}" / "src" / "mini_torch"
        key = staff / "answer-keys" / f"stage{stage}" / "stages" / f"stage{stage}"
        for path in _files(reference):
            if "__pycache__" in path.parts:
                continue
            relative = path.relative_to(reference)
            assert (key / "src" / "mini_torch" / relative).read_bytes() == path.read_bytes()
    assert _names(keys_bake / "stages") == {"stage1"}
    assert any(STUB_LINE.match(line) for path, text in _text_files(keys_bake / "stages").items()
               for line in text.splitlines())
    assert "Answer key" not in (keys_bake / "README.md").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------- README


def test_readme_starts_with_the_course_header(plain_bake):
    lines = (plain_bake / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# DL 501: Neural Networks by Hand"
    header = "\n".join(lines[:6])
    for answer in ("Spring 2027", "Ada Lovelace", "3.10", "2 to 3"):
        assert answer in header


def test_readme_schedule_lists_the_stages_and_which_are_open(plain_bake):
    text = (plain_bake / "README.md").read_text(encoding="utf-8")
    schedule = text.split("## Stage schedule", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in schedule.splitlines() if re.match(r"\| \d+ \|", line)]
    assert [int(row.split("|")[1]) for row in rows] == [2, 3]
    assert "`nox -s stage2`" in rows[0] and "not open yet" in rows[1]
    assert "stages/stage3" not in text


def test_readme_has_instructions_for_the_open_stage_only(plain_bake):
    text = (plain_bake / "README.md").read_text(encoding="utf-8")
    assert "### Stage 2:" in text and "### Stage 3:" not in text
    assert "| `stages/stage2/src/mini_torch/nn/linear.py` |" in text  # its functions to write
    assert "nox -s carry_forward -- K" in text


def test_readme_says_how_to_hand_in_on_the_platform(classroom_bake, gradescope_bake, plain_bake):
    starter = classroom_bake / "starters" / "stage2"
    assert ".github/workflows/" in (starter / "README.md").read_text(encoding="utf-8")
    assert "Gradescope assignment" in (gradescope_bake / "README.md").read_text(encoding="utf-8")
    assert "Your instructor tells you how to hand in" in (plain_bake / "README.md").read_text(
        encoding="utf-8")


# ---------------------------------------------------------------------- Python, nox, platforms


def _nox_sessions(project: Path) -> list[dict]:
    listing = subprocess.run(
        [sys.executable, "-m", "nox", "-l", "--json", "-f", str(project / "noxfile.py")],
        capture_output=True, text=True, check=True, timeout=120,
    )
    return json.loads(listing.stdout)


def test_noxfile_runs_the_course_python_or_falls_back(plain_bake):
    sessions = {s["name"]: s["python"] for s in _nox_sessions(plain_bake)}
    assert set(sessions) == {"stage2"}
    assert 'name="carry_forward"' in (plain_bake / "noxfile.py").read_text(encoding="utf-8")
    found = shutil.which("python3.10")
    has_it = found is not None and subprocess.run(
        [found, "-c", ""], capture_output=True, timeout=60).returncode == 0
    assert sessions["stage2"] == ("3.10" if has_it else None)
    assert 'COURSE_PYTHON = "3.10"' in (plain_bake / "noxfile.py").read_text(encoding="utf-8")


def test_stage_packages_keep_their_python_requirement(default_bake):
    text = (default_bake / "stages" / "stage1" / "pyproject.toml").read_text()
    reference = (REPO / "stages" / "stage1" / "pyproject.toml").read_text()
    assert text == reference


def test_each_classroom_starter_has_a_workflow_of_its_own_stage(classroom_bake):
    for starter in _starters(classroom_bake):
        stage = starter.name
        workflows = sorted((starter / ".github" / "workflows").glob("*.yml"))
        assert workflows, starter
        for workflow in workflows:
            text = workflow.read_text(encoding="utf-8")
            yaml.safe_load(text)
            assert set(re.findall(r"nox -s (stage\d+)", text)) <= {stage}, workflow


@pytest.mark.parametrize("bake_name", ["gradescope_bake", "plain_bake", "default_bake"])
def test_no_workflow_in_a_term_repository(request, bake_name):
    project = request.getfixturevalue(bake_name)
    assert not (project / ".github").exists()


def test_gradescope_bake_builds_one_autograder_per_stage_in_the_staff_folder(gradescope_bake):
    autograders = _staff(gradescope_bake) / "autograder"
    assert _names(autograders) == {"README.md", "stage2.zip", "stage3.zip"}
    for stage in (2, 3):
        with zipfile.ZipFile(autograders / f"stage{stage}.zip") as archive:
            names = set(archive.namelist())
        assert {"setup.sh", "run_autograder"} <= names


def test_the_staff_term_file_holds_the_due_dates_and_the_late_policy(gradescope_bake,
                                                                      default_bake):
    from datetime import datetime, timedelta, timezone

    from instructor.course.lateness import LatePolicy, read_term

    est = timezone(timedelta(hours=-5))
    deadlines = read_term(_staff(gradescope_bake) / "term.json")
    assert deadlines.due == {2: datetime(2027, 2, 8, 23, 59, tzinfo=est),
                             3: datetime(2027, 2, 22, 23, 59, tzinfo=est)}
    assert deadlines.policy.kind == "late_days" and deadlines.policy.budget == 4
    assert "2027-02-22T23:59:00-05:00" in (_staff(gradescope_bake) / "README.md").read_text()
    # each autograder carries its own stage's due date and the policy
    with zipfile.ZipFile(_staff(gradescope_bake) / "autograder" / "stage3.zip") as archive:
        course = json.loads(archive.read("course.json"))
    assert course["due"] == "2027-02-22T23:59:00-05:00"
    assert course["policy"]["kind"] == "late_days" and course["policy"]["budget"] == 4
    # the defaults: no due date yet, the percent policy
    default = read_term(_staff(default_bake) / "term.json")
    assert default.due == {} and default.policy == LatePolicy()


def test_no_autograder_without_gradescope(default_bake, plain_bake):
    for project in (default_bake, plain_bake):
        assert not (_staff(project) / "autograder").exists()


def test_open_stage_adds_the_next_stage_as_a_commit(default_bake, tmp_path):
    term = tmp_path / "term"
    shutil.copytree(default_bake, term)
    assert main(["open-stage", "--root", str(REPO), "--stage", "2", "--term", str(term)]) == 0
    assert _git_log(term) == ["Open stage 2", "Open stage 1"]
    assert _names(term / "stages") == {"stage1", "stage2"}
    assert check_artifact(term, REPO, stages=[2]).findings == []
    assert main(["open-stage", "--root", str(REPO), "--stage", "2", "--term", str(term)]) == 2


# ---------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"first_stage": "3", "last_stage": "2"}, "last_stage 2 comes before first_stage 3"),
        ({"last_stage": str(ALL_STAGES[-1] + 1)},
         f"last_stage {ALL_STAGES[-1] + 1} is not a stage of this repository"),
        ({"first_stage": "two"}, "first_stage 'two' is not a stage number"),
        ({"python_version": "3.9"}, "python_version '3.9' is not supported"),
        ({"python_version": "3.14"}, "python_version '3.14' is not supported"),
        ({"course_code": ""}, "course_code is empty"),
        ({"course_code": "   "}, "course_code is empty"),
        ({"due_dates": "9=2027-02-08T23:59:00-05:00"}, "'9=2027-02-08T23:59:00-05:00' does "
         "not name a stage of the term"),
        ({"due_dates": "1=2027-02-08T23:59"}, "has no UTC offset"),
        ({"late_cap_percent": "150"}, "cap_percent = 150.0; at most 100"),
        ({"late_days_budget": "many"}, "late_days_budget 'many' is not a number"),
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
    assert (tmp_path / "t-staff" / "term.json").is_file()


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
