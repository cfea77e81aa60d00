"""Building a term: check the template's answers, then write the term's repository.

The cookiecutter hooks of ``templates/term`` find this repository's instructor tools and call
:func:`pre_generation` and :func:`post_generation` below, which hold all the logic. What a
term's students get is exactly what ``python -m instructor release`` / ``open-stage`` write
(:mod:`instructor.term.repository`), never a second copy of the code, and every student
artifact is leak-checked before it is written.

- GitHub Classroom (one assignment per stage): the new folder is the staff's folder, holding
  ``starters/stageK`` (each the release of stage K with the course README, its Python and its
  workflow, ready to push as the template repository of the stage-K assignment), the schedule
  and, when asked for, the answer keys.
- Otherwise (one repository per student for the whole term): the new folder is the term
  repository with the first stage only, a git repository with one commit;
  ``python -m instructor open-stage`` adds each later stage. The staff's folder
  ``<repo_name>-staff`` beside it holds the schedule, the answer keys when asked for and, for
  Gradescope, one autograder zip per stage (they hold the hidden tests).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

from instructor.term.answers import TemplateError, Term, available_stages, read_answers

#: The folder of the workflow, kept for GitHub Classroom only.
WORKFLOW_DIR = ".github"
#: What building a Gradescope autograder needs in the Python that runs cookiecutter besides
#: the stages' runtime dependencies (:func:`gradescope_modules`): the instructor tools collect
#: the tests of each stage with pytest, in a subprocess of this Python.
GRADESCOPE_TOOLS = ("pytest", "pytest_timeout")
INSTRUCTOR_DISTRIBUTION = "mini-torch-instructor"

def gradescope_modules(root: Path, stages: list[int]) -> list[str]:
    """The modules building the autograders of ``stages`` imports: pytest and the stages'
    runtime dependencies (each stage's pyproject.toml)."""
    from instructor.stages import import_names, runtime_dependencies
    from instructor.stages.repo import stage_dir

    modules = list(GRADESCOPE_TOOLS)
    for stage in stages:
        modules += import_names(runtime_dependencies(stage_dir(root, stage)))
    return list(dict.fromkeys(modules))


def check_gradescope_tools(root: Path, stages: list[int]) -> None:
    """Gradescope autograders are built with pytest in this Python: refuse early if it cannot.

    Raises:
        TemplateError: a package the autograder build needs is missing, with the install command.
    """
    missing = [name for name in gradescope_modules(root, stages)
               if importlib.util.find_spec(name) is None]
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


def pre_generation(answers: dict, root: Path, project_dir: Path) -> int:
    """Check the answers; 0 to go on, 1 (after printing why) to stop the generation.

    ``root`` is the monorepo whose stages the term uses.

    ``project_dir`` exists already (cookiecutter makes it before this hook), still empty unless
    cookiecutter was asked to generate over an existing folder.
    """
    try:
        term = read_answers(answers, available_stages(root))
        check_no_released_stage(term, project_dir)
        if term.platform == "gradescope":
            check_gradescope_tools(root, term.stages)
    except TemplateError as error:
        return _refuse(error)
    return 0


def post_generation(answers: dict, root: Path, template_dir: Path, project_dir: Path) -> int:
    """Build the term's repository in ``project_dir``; 0 on success, 1 after printing why not.

    ``root`` is the monorepo whose stages the term uses, ``template_dir`` the template (its
    workflow files are rendered for GitHub Classroom).
    """
    started = time.perf_counter()
    try:
        term = read_answers(answers, available_stages(root))
        from instructor.release.solutions import MarkerError
        from instructor.stages.repo import InstructorError

        try:
            lines = build_term(term, root, project_dir.resolve(), answers, template_dir)
        except (InstructorError, MarkerError) as error:
            raise TemplateError(f"the instructor tools refused: {error}") from error
    except TemplateError as error:
        return _refuse(error)
    for line in lines:
        print(line)
    print(f"{term.repo_name}: done in {time.perf_counter() - started:.1f} s")
    return 0


# ------------------------------------------------------------------------------- the building


def staff_folder(project: Path) -> Path:
    """Where a term-repository bake puts the staff's material: ``<repo_name>-staff`` beside it."""
    return project.parent / f"{project.name}-staff"


def term_config(term: Term):
    from instructor.term.repository import TermConfig

    return TermConfig(
        course_code=term.course_code, course_name=term.course_name, term=term.term,
        instructor=term.instructor, python_version=term.python_version, stages=term.stages,
        platform=term.platform,
    )


def render_workflows(answers: dict, template_dir: Path, stage: int) -> dict[str, str]:
    """The template's ``.github`` files rendered for a repository that holds stage ``stage``."""
    source = template_dir / "{{cookiecutter.repo_name}}" / WORKFLOW_DIR
    if not source.is_dir():
        return {}
    try:
        from cookiecutter.environment import StrictEnvironment

        # without the template's own extension (it needs the template folder on sys.path)
        plain = {key: value for key, value in answers.items() if key != "_extensions"}
        environment = StrictEnvironment(context={"cookiecutter": plain},
                                        keep_trailing_newline=True)
    except ImportError:  # rendering outside cookiecutter (the tools' own tests)
        from jinja2 import Environment

        environment = Environment(keep_trailing_newline=True)
    context = {"cookiecutter": {**answers, "first_stage": str(stage), "last_stage": str(stage)}}
    rendered = {}
    for path in sorted(source.rglob("*")):
        if path.is_file():
            relative = path.relative_to(source.parent).as_posix()
            text = path.read_text(encoding="utf-8")
            rendered[relative] = environment.from_string(text).render(**context)
    return rendered


def build_term(term: Term, root: Path, project: Path, answers: dict | None = None,
               template_dir: Path | None = None) -> list[str]:
    """Write the term into ``project``; return the lines to print.

    GitHub Classroom (one assignment per stage): ``project`` is the staff's folder, holding
    ``starters/stageK`` (the release of each stage, with its workflow), the schedule and, when
    asked for, the answer keys. Otherwise (one repository per student): ``project`` is the
    term repository with the first stage only (a git repository with one commit), and the
    staff's folder ``<repo_name>-staff`` beside it holds the schedule, the answer keys when
    asked for, and for Gradescope the autograder zips.
    """
    from instructor.term.repository import write_classroom_starters, write_term_repository
    from instructor.term.staff import write_staff_folder

    check_no_released_stage(term, project)
    template_readme = (project / "README.md").read_text(encoding="utf-8")
    config = term_config(term)
    lines = []
    if term.platform == "github-classroom":
        template_dir = template_dir or root / "templates" / "term"
        workflows = {stage: render_workflows(answers or {}, template_dir, stage)
                     for stage in term.stages}
        shutil.rmtree(project / WORKFLOW_DIR, ignore_errors=True)
        (project / "README.md").unlink()
        reports = write_classroom_starters(root, project, config,
                                           template_readme=template_readme,
                                           workflows=workflows)
        lines += [f"starter of stage {r.stage}: {project / 'starters' / f'stage{r.stage}'} "
                  f"({len(r.stubs)} stubs), leak check clean" for r in reports]
        lines += write_staff_folder(root, project, config, answer_keys=term.include_solutions,
                                    layout="classroom", student_repo="starters/stageK",
                                    due=term.due, late_policy=term.late_policy)
        return lines
    shutil.rmtree(project / WORKFLOW_DIR, ignore_errors=True)
    staff = staff_folder(project)
    report = write_term_repository(root, project, config, template_readme=template_readme)
    lines.append(report.summary())
    lines += write_staff_folder(root, staff, config, answer_keys=term.include_solutions,
                                layout="term", student_repo=f"../{project.name}",
                                due=term.due, late_policy=term.late_policy)
    if term.platform == "gradescope":
        lines += build_autograders(term, root, staff / "autograder", project.name,
                                   term_file=staff / "term.json")
    lines.append(f"staff folder (private): {staff}")
    return lines


AUTOGRADER_README = """\
# Gradescope autograders of {repo_name}

One zip per stage: create a Gradescope "Programming Assignment" for stage K, upload `stageK.zip`
as its autograder (the default Ubuntu image works) and set the autograder timeout above the limit
given below. Students submit their `stages/stageK` folder, or a zip of it. Each zip grades with
the public tests of stages 1 .. K and the hidden tests of stage K.

These zips hold the hidden tests: never put them in the students' repository ({repo_name}/).

{summaries}
"""


def build_autograders(term: Term, root: Path, target: Path, repo_name: str,
                      term_file: Path | None = None) -> list[str]:
    """One Gradescope autograder zip per stage, in ``target`` (inside the staff's folder), each
    holding the term's due date of its stage and the late policy (from ``term_file``).

    The zips are built in a scratch folder first, so a failure leaves nothing half-written.
    """
    check_gradescope_tools(root, term.stages)
    from instructor.gradescope.autograder import build_autograder
    from instructor.gradescope.rules import build_rules

    lines = []
    with tempfile.TemporaryDirectory(prefix="term-autograder-") as scratch:
        built = []
        for stage in term.stages:
            scratch_zip = Path(scratch) / f"stage{stage}.zip"
            course = build_rules(stage, term=term_file) if term_file is not None else None
            summary = build_autograder(root, stage, scratch_zip, course=course)
            built.append(scratch_zip)
            lines.append(summary.replace(str(scratch_zip), str(target / scratch_zip.name)))
        target.mkdir(exist_ok=True)
        for zip_path in built:
            shutil.copyfile(zip_path, target / zip_path.name)
    summaries = "\n".join(f"- {line}" for line in lines)
    (target / "README.md").write_text(
        AUTOGRADER_README.format(repo_name=repo_name, summaries=summaries), encoding="utf-8"
    )
    return lines
