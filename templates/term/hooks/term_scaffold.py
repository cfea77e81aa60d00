"""What the hooks of the term template do: check the answers, then build the term's repository.

The two hooks beside this file are rendered by cookiecutter; they pass the answers (a dict) and
the template folder to :func:`pre_generation` and :func:`post_generation` below, which hold all
the logic as plain Python.

The monorepo is the template folder's grandparent (``templates/term`` -> the repository root).
Its own instructor tools (``instructor/src``) write every stage of the new repository: what a
term's students get is exactly what ``python -m instructor release`` writes, never a second copy
of the code. The post-generation hook then

- releases the stages ``first_stage .. last_stage`` into the new folder (``stages/stageK``, the
  public tests ``shared_tests/stage1 .. stageN``, ``docs/``, ``noxfile.py``, ``pyproject.toml``);
- pins the course's Python version: the ``stageK`` sessions of ``noxfile.py`` run with it, and
  each ``stages/stageK/pyproject.toml`` requires at least it;
- completes the course README (the rendered template) with the stage schedule and, from the
  release tool, what to write in each stage and how to run the tests;
- keeps ``.github/workflows/classroom.yml`` for GitHub Classroom only, and for Gradescope builds
  one autograder zip per stage in ``<repo_name>-autograder/`` beside the new folder (the zips
  hold the hidden tests, so they never go into the students' repository).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PLATFORMS = ("github-classroom", "gradescope", "none")
#: Where the instructor tools live in the monorepo.
INSTRUCTOR_SRC = Path("instructor") / "src"
#: The line of the README template that the stage schedule and instructions replace.
README_SLOT = "<!-- term: stage schedule and instructions -->"
#: The folder of the workflow, kept for GitHub Classroom only.
WORKFLOW_DIR = ".github"
#: What building a Gradescope autograder needs in the Python that runs cookiecutter: the
#: instructor tools collect the tests of each stage with pytest, in a subprocess of this Python.
GRADESCOPE_MODULES = ("pytest", "pytest_timeout", "numpy", "scipy", "matplotlib", "numexpr")
INSTRUCTOR_DISTRIBUTION = "mini-torch-instructor"

# What the student noxfile of the release tool holds; the Python pin goes next to it.
_NOX_OPTIONS_LINE = "nox.options.error_on_missing_interpreters = True\n"
_NOX_SESSION_CALL = 'nox.session(name=f"stage{stage}")'
_NOX_SESSION_PINNED = 'nox.session(name=f"stage{stage}", python=PYTHON)'
_REQUIRES_PYTHON = re.compile(r'^requires-python\s*=\s*"[^"\n]*"[ \t]*$', re.MULTILINE)
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class TemplateError(Exception):
    """An answer or a repository the template cannot work with; the message says what to do."""


@dataclass(frozen=True)
class Term:
    """The checked answers."""

    course_code: str
    course_name: str
    term: str
    instructor: str
    repo_name: str
    first_stage: int
    last_stage: int
    python_version: str
    platform: str
    include_solutions: bool

    @property
    def stages(self) -> list[int]:
        return list(range(self.first_stage, self.last_stage + 1))


# ----------------------------------------------------------------------------------- the repo


def monorepo_root(template_dir: Path) -> Path:
    """The repository that holds the template at ``templates/term``.

    Raises:
        TemplateError: the template folder is not inside a Mini-Torch repository.
    """
    template_dir = template_dir.resolve()
    root = template_dir.parents[1]
    if not (root / "stages").is_dir() or not (root / INSTRUCTOR_SRC / "instructor").is_dir():
        raise TemplateError(
            f"{template_dir} is not at templates/term of a Mini-Torch repository (no "
            f"{root / 'stages'} or {root / INSTRUCTOR_SRC / 'instructor'}): run cookiecutter on "
            "the template inside the repository whose stages the term uses"
        )
    return root


def load_instructor(root: Path):
    """Import the instructor tools of ``root`` (its ``instructor/src``), whatever is installed.

    The repository's own copy goes first on ``sys.path``: it is the tool that matches the stages
    it releases, and an unrelated package named ``instructor`` may be installed.

    Raises:
        TemplateError: the package that got imported is not the repository's.
    """
    source = (root / INSTRUCTOR_SRC).resolve()
    if str(source) not in sys.path:
        sys.path.insert(0, str(source))
    module = importlib.import_module("instructor")
    location = Path(module.__file__).resolve()
    if not location.is_relative_to(source):
        raise TemplateError(
            f"imported the package instructor from {location}, not from {source}: another "
            "package of that name shadows the repository's tools; run cookiecutter from a "
            "virtualenv without it"
        )
    return module


def available_stages(root: Path) -> list[int]:
    load_instructor(root)
    from instructor.repo import stage_numbers

    return stage_numbers(root)


# -------------------------------------------------------------------------------- the answers


def _stage(answers: dict, key: str, known: list[int]) -> int:
    raw = str(answers.get(key, "")).strip()
    choices = ", ".join(str(stage) for stage in known)
    try:
        stage = int(raw)
    except ValueError:
        raise TemplateError(
            f"{key} {raw!r} is not a stage number: choose one of {choices}"
        ) from None
    if stage not in known:
        raise TemplateError(
            f"{key} {stage} is not a stage of this repository: choose one of {choices} "
            "(the folders stages/stageN)"
        )
    return stage


def _flag(answers: dict, key: str) -> bool:
    value = answers.get(key, False)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise TemplateError(f"{key} {value!r} is not yes or no: answer yes or no (default: no)")


def read_answers(answers: dict, known_stages: list[int]) -> Term:
    """Check the answers of the prompts and return them typed.

    Raises:
        TemplateError: an empty course code or folder name, an unknown stage, a last stage
            before the first, an unsupported Python version or platform.
    """
    course_code = str(answers.get("course_code", "")).strip()
    if not course_code:
        raise TemplateError(
            "course_code is empty: give the code shown in the README header, e.g. 'CS 4XX'"
        )
    repo_name = str(answers.get("repo_name", "")).strip()
    if not repo_name or repo_name.startswith(".") or any(c in repo_name for c in "/\\:"):
        raise TemplateError(
            f"repo_name {repo_name!r} is not a folder name: use letters, digits and dashes, "
            "e.g. 'cs-4xx-fall-2026'"
        )
    first = _stage(answers, "first_stage", known_stages)
    last = _stage(answers, "last_stage", known_stages)
    if last < first:
        raise TemplateError(
            f"last_stage {last} comes before first_stage {first}: the term runs the stages "
            f"first_stage .. last_stage, so choose a last_stage of at least {first}"
        )
    supported = [str(version) for version in answers.get("_python_versions", [])]
    python_version = str(answers.get("python_version", "")).strip()
    if python_version not in supported:
        raise TemplateError(
            f"python_version {python_version!r} is not supported: choose one of "
            f"{', '.join(supported)}"
        )
    platform = str(answers.get("platform", "")).strip()
    if platform not in PLATFORMS:
        raise TemplateError(
            f"platform {platform!r} is not supported: choose one of {', '.join(PLATFORMS)}"
        )
    return Term(
        course_code=course_code,
        course_name=str(answers.get("course_name", "")).strip(),
        term=str(answers.get("term", "")).strip(),
        instructor=str(answers.get("instructor", "")).strip(),
        repo_name=repo_name,
        first_stage=first,
        last_stage=last,
        python_version=python_version,
        platform=platform,
        include_solutions=_flag(answers, "include_solutions"),
    )


def check_gradescope_tools() -> None:
    """Gradescope autograders are built with pytest in this Python: refuse early if it cannot.

    Raises:
        TemplateError: a package the autograder build needs is missing, with the install command.
    """
    missing = [name for name in GRADESCOPE_MODULES if importlib.util.find_spec(name) is None]
    try:
        importlib.metadata.distribution(INSTRUCTOR_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        missing.append(f"{INSTRUCTOR_DISTRIBUTION} (the folder instructor/)")
    if missing:
        raise TemplateError(
            "platform 'gradescope' builds the autograder zips with the instructor tools, which "
            f"collect each stage's tests with pytest in this Python ({sys.executable}); it "
            f"lacks: {', '.join(missing)}. Install them beside cookiecutter: "
            f"{sys.executable} -m pip install './instructor[grade]'"
        )


def check_no_released_stage(term: Term, project: Path) -> None:
    """Refuse to generate over a folder that already holds one of the term's stages.

    Raises:
        TemplateError: ``project/stages/stageK`` exists for a stage K of the term.
    """
    existing = [project / "stages" / f"stage{k}" for k in term.stages]
    existing = [str(folder) for folder in existing if folder.exists()]
    if existing:
        raise TemplateError(
            f"{', '.join(existing)} exists: the template never replaces a released stage (it may "
            "hold a student's work); generate into a new folder"
        )


# ---------------------------------------------------------------------------------- the hooks


def _refuse(error: Exception) -> int:
    print(f"ERROR: {error}", file=sys.stderr)
    return 1


def pre_generation(answers: dict, template_dir: Path, project_dir: Path) -> int:
    """Check the answers; 0 to go on, 1 (after printing why) to stop the generation.

    ``project_dir`` exists already (cookiecutter makes it before this hook), still empty unless
    cookiecutter was asked to generate over an existing folder.
    """
    try:
        term = read_answers(answers, available_stages(monorepo_root(template_dir)))
        check_no_released_stage(term, project_dir)
        if term.platform == "gradescope":
            check_gradescope_tools()
    except TemplateError as error:
        return _refuse(error)
    return 0


def post_generation(answers: dict, template_dir: Path, project_dir: Path) -> int:
    """Build the term's repository in ``project_dir``; 0 on success, 1 after printing why not."""
    started = time.perf_counter()
    try:
        root = monorepo_root(template_dir)
        term = read_answers(answers, available_stages(root))
        from instructor.repo import InstructorError
        from instructor.solutions import MarkerError

        try:
            lines = build_term(term, root, project_dir.resolve())
        except (InstructorError, MarkerError) as error:
            raise TemplateError(f"the instructor tools refused: {error}") from error
    except TemplateError as error:
        return _refuse(error)
    for line in lines:
        print(line)
    print(f"{term.repo_name}: done in {time.perf_counter() - started:.1f} s")
    return 0


# ------------------------------------------------------------------------------- the building


def build_term(term: Term, root: Path, project: Path) -> list[str]:
    """Write the term's repository into ``project``; return the lines to print."""
    from instructor.release import write_release

    check_no_released_stage(term, project)
    template_readme = (project / "README.md").read_text(encoding="utf-8")
    lines = []
    for stage in term.stages:
        report = write_release(root, stage, project, include_solutions=term.include_solutions)
        lines.append(report.summary())
        lines += [f"warning: {warning}" for warning in report.warnings]
    pin_python(project, term)
    write_readme(project, term, template_readme)
    if term.platform != "github-classroom":
        shutil.rmtree(project / WORKFLOW_DIR, ignore_errors=True)
    if term.platform == "gradescope":
        lines += build_autograders(term, root, project)
    return lines


def _replace_once(text: str, old: str, new: str, where: Path) -> str:
    if text.count(old) != 1:
        raise TemplateError(
            f"{where}: expected {old.strip()!r} exactly once (found {text.count(old)}); the "
            "release tool's file changed, so update templates/term/hooks/term_scaffold.py"
        )
    return text.replace(old, new)


def pin_python(project: Path, term: Term) -> None:
    """The course's Python: the nox sessions run with it, the packages require at least it."""
    noxfile = project / "noxfile.py"
    text = noxfile.read_text(encoding="utf-8")
    pin = (
        f"{_NOX_OPTIONS_LINE}\n"
        "#: The course's Python version: the graders use it too. To test with another\n"
        f"#: interpreter you have: nox -s stage{term.first_stage} --force-python 3.13\n"
        f'PYTHON = "{term.python_version}"\n'
    )
    text = _replace_once(text, _NOX_OPTIONS_LINE, pin, noxfile)
    text = _replace_once(text, _NOX_SESSION_CALL, _NOX_SESSION_PINNED, noxfile)
    noxfile.write_text(text, encoding="utf-8")
    for stage in term.stages:
        pyproject = project / "stages" / f"stage{stage}" / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8")
        if len(_REQUIRES_PYTHON.findall(text)) != 1:
            raise TemplateError(
                f"{pyproject}: expected one requires-python line to set to the course's Python"
            )
        text = _REQUIRES_PYTHON.sub(f'requires-python = ">={term.python_version}"', text)
        pyproject.write_text(text, encoding="utf-8")


def stage_schedule(term: Term) -> list[str]:
    """The schedule table of the README: the term's stages in order."""
    from instructor.release import STAGE_ELEMENTS

    lines = [
        "## Stage schedule",
        "",
        "The stages open one after the other, in this order; each builds on the one before. "
        "Your instructor announces the dates.",
        "",
        "| stage | what you build | your folder | guide | your tests |",
        "|---|---|---|---|---|",
    ]
    for stage in term.stages:
        guide = f"docs/stage{stage}.md"
        lines.append(
            f"| {stage} | {STAGE_ELEMENTS.get(stage, f'stage {stage}')} | "
            f"[`stages/stage{stage}`](stages/stage{stage}) | [`{guide}`]({guide}) | "
            f"`nox -s stage{stage}` |"
        )
    lines += [
        "",
        "[`docs/index.md`](docs/index.md) shows the architecture of the whole framework and its "
        "training loop.",
        "",
    ]
    return lines


def write_readme(project: Path, term: Term, template_readme: str) -> None:
    """The course README: the template's header, then the schedule and the release's guide."""
    from instructor.release import release_readme

    release_lines = release_readme(project).splitlines()
    # The release's title and introduction give way to the course header of the template: its
    # guide starts at its first section ("## What to do").
    sections = [index for index, line in enumerate(release_lines) if line.startswith("## ")]
    release_lines = release_lines[sections[0]:] if sections else release_lines
    body = "\n".join([*stage_schedule(term), *release_lines]).rstrip("\n")
    readme = project / "README.md"
    readme.write_text(
        _replace_once(template_readme, README_SLOT, body, readme), encoding="utf-8"
    )


AUTOGRADER_README = """\
# Gradescope autograders of {repo_name}

One zip per stage: create a Gradescope "Programming Assignment" for stage K, upload `stageK.zip`
as its autograder (the default Ubuntu image works) and set the autograder timeout above the limit
given below. Students submit their `stages/stageK` folder, or a zip of it. Each zip grades with
the public tests of stages 1 .. K and the hidden tests of stage K.

These zips hold the hidden tests: never put them in the students' repository ({repo_name}/).

{summaries}
"""


def build_autograders(term: Term, root: Path, project: Path) -> list[str]:
    """One Gradescope autograder zip per stage, in ``<repo_name>-autograder/`` beside ``project``.

    The zips are built in a scratch folder first, so a failure leaves nothing half-written.
    """
    check_gradescope_tools()
    from instructor.autograder import build_autograder

    target = project.parent / f"{project.name}-autograder"
    lines = []
    with tempfile.TemporaryDirectory(prefix="term-autograder-") as scratch:
        built = []
        for stage in term.stages:
            scratch_zip = Path(scratch) / f"stage{stage}.zip"
            summary = build_autograder(root, stage, scratch_zip)
            built.append(scratch_zip)
            lines.append(summary.replace(str(scratch_zip), str(target / scratch_zip.name)))
        target.mkdir(exist_ok=True)
        for zip_path in built:
            shutil.copyfile(zip_path, target / zip_path.name)
    summaries = "\n".join(f"- {line}" for line in lines)
    (target / "README.md").write_text(
        AUTOGRADER_README.format(repo_name=project.name, summaries=summaries), encoding="utf-8"
    )
    return lines
