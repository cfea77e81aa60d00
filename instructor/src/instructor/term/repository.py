"""A term: what the students of one course receive, stage by stage, and the staff's folder.

Two ways to run a term (docs/instructor.md), both leak-checked
(:mod:`instructor.release.leakcheck`) before anything a student receives is written:

**One repository per student for the whole term** (:func:`write_term_repository`,
:func:`open_stage`). The repository starts with the first stage only: ``stages/stageF``, the
public tests of stages 1..F, the guides 1..F, a README, a noxfile and ``carry_forward.py``.
``python -m instructor open-stage --stage K --term DIR`` adds stage K when it opens, as one git
commit the students pull: ``stages/stageK`` (with stage K-1's files solved: its deadline has
passed), ``shared_tests/stageK``, ``docs/stageK.md``, and the updated README, docs index and task
order. ``open-stage --update`` re-writes an opened stage after a fix, as another commit. The
files a student works in (the earlier ``stages/stageJ``) are never written.

**One GitHub Classroom assignment per stage** (:func:`write_classroom_starters`):
``starters/stageK`` is the release of stage K, ready to push as the template repository of the
stage-K assignment.

The staff's folder is :mod:`instructor.term.staff`. Answer keys go to students only through
``publish-key`` after the stage's deadline, which refuses a key that would give away a stage
still open in the term repository.

The term file ``.mini-torch-term.json`` at the root of a term repository records the course, its
Python version, its stages and which are open.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from instructor.release.leakcheck import LeakReport, refuse_leaks
from instructor.release.markdown import fit_links
from instructor.release.readme import STAGE_ELEMENTS, release_readme
from instructor.release.release import (
    ReleaseReport,
    assemble_release,
    render_stage,
    write_release,
)
from instructor.stages.repo import InstructorError, stage_numbers

#: The term file at the root of a term repository.
TERM_FILE = ".mini-torch-term.json"
#: What the tools write into a README between these two lines is regenerated at each opening.
README_BEGIN = "<!-- term: begin (written by the instructor tools; edits here are replaced) -->"
README_END = "<!-- term: end -->"
_NOX_PYTHON_LINE = "PYTHON = None\n"


@dataclass
class TermConfig:
    """A term's course, Python version, stages and the stages open so far."""

    course_code: str = "CS 4XX"
    course_name: str = ""
    term: str = ""
    instructor: str = ""
    python_version: str = "3.12"
    stages: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    opened: list[int] = field(default_factory=list)
    platform: str = "none"

    def save(self, folder: Path) -> None:
        (folder / TERM_FILE).write_text(json.dumps(asdict(self), indent=1) + "\n",
                                        encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> TermConfig:
        path = folder / TERM_FILE
        if not path.is_file():
            raise InstructorError(
                f"{folder} is not a term repository (no {TERM_FILE}); bake one with the term "
                "template (templates/term) first"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})


@dataclass
class OpenReport:
    """What :func:`open_stage` (or the first stage of a bake) wrote."""

    stage: int
    term: Path
    release: ReleaseReport
    leak: LeakReport
    written: list[str]
    commit: str | None = None

    def summary(self) -> str:
        committed = (f", commit {self.commit}" if self.commit
                     else " (not a git repository: no commit)")
        return (f"stage {self.stage} opened in {self.term}: {len(self.release.stubs)} stubs, "
                f"{len(self.written)} paths written, leak check clean{committed}")


# --------------------------------------------------------------------------------- the noxfile


def pin_python(noxfile: Path, version: str) -> None:
    """Run the test sessions with the course's Python when the machine has it, else with the
    interpreter that runs nox, saying which one to install."""
    text = noxfile.read_text(encoding="utf-8")
    if text.count(_NOX_PYTHON_LINE) != 1:
        raise InstructorError(f"{noxfile}: expected one line {_NOX_PYTHON_LINE.strip()!r}")
    pin = (
        f'#: The course\'s Python version. When this machine lacks it the sessions run with the\n'
        f'#: interpreter that runs nox, and say so; install Python {version} to match the\n'
        f'#: graders.\n'
        f'COURSE_PYTHON = "{version}"\n'
        f'\n'
        f'\n'
        f'def _runs(command: str | None) -> bool:\n'
        f'    """Whether an interpreter on PATH starts (a version manager\'s shim may not)."""\n'
        f'    try:\n'
        f'        return command is not None and subprocess.run(\n'
        f'            [command, "-c", ""], capture_output=True, timeout=60).returncode == 0\n'
        f'    except (OSError, subprocess.SubprocessError):\n'
        f'        return False\n'
        f'\n'
        f'\n'
        f'PYTHON = COURSE_PYTHON if _runs(shutil.which(f"python{{COURSE_PYTHON}}")) else None\n'
        f'if PYTHON is None:\n'
        f'    print(f"note: no working python{{COURSE_PYTHON}} on PATH; the sessions use "\n'
        f'          f"{{sys.executable}} instead. Install Python {{COURSE_PYTHON}} to test with "\n'
        f'          "the course\'s version.", file=sys.stderr)\n'
    )
    text = text.replace(_NOX_PYTHON_LINE, pin)
    if "import shutil\n" not in text:
        text = text.replace("import sys\n", "import shutil\nimport subprocess\nimport sys\n", 1)
    noxfile.write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------- the README


def readme_body(folder: Path, config: TermConfig) -> str:
    """The part of a term README the tools write: the schedule and what to do, stage by stage."""
    lines = [
        "## Stage schedule",
        "",
        "The stages open one after the other; each builds on the one before. When a stage opens, "
        "pull: a new commit adds `stages/stageK` (holding the earlier stages' code solved, since "
        "their deadlines have passed), its tests and its guide. Your instructor announces the "
        "dates.",
        "",
        "| stage | what you build | status | guide | tests |",
        "|---|---|---|---|---|",
    ]
    for stage in config.stages:
        element = STAGE_ELEMENTS.get(stage, f"stage {stage}")
        if stage in config.opened:
            guide = f"docs/stage{stage}.md"
            lines.append(f"| {stage} | {element} | open: [`stages/stage{stage}`]"
                         f"(stages/stage{stage}) | [`{guide}`]({guide}) | "
                         f"`nox -s stage{stage}` |")
        else:
            lines.append(f"| {stage} | {element} | not open yet | | |")
    lines += [
        "",
        "[`docs/index.md`](docs/index.md) shows the architecture of the framework and its "
        "training loop.",
        "",
        "## Carry your own code forward",
        "",
        "A new stage's folder holds the earlier stages' files solved. To work on with your own "
        "versions instead, run `nox -s carry_forward -- K` (or `python carry_forward.py K`) once "
        "stage K is open: it copies each file you wrote in an earlier stage into `stages/stageK`, "
        "prints every copy, and never overwrites a file you already changed in stage K. With "
        "one repository per stage, name your earlier one: `nox -s carry_forward -- K --from "
        "../my-stage1-repo`.",
        "",
    ]
    guide = release_readme(folder).splitlines()
    sections = [index for index, line in enumerate(guide) if line.startswith("## ")]
    lines += guide[sections[0]:] if sections else guide
    return "\n".join(lines).rstrip("\n")


def write_readme(folder: Path, config: TermConfig, template: str | None = None) -> None:
    """Fill the tools' part of the README of ``folder`` (the course header around it stays).

    ``template`` is the rendered README of the term template, holding the line
    ``<!-- term: stage schedule and instructions -->`` the first time.
    """
    readme = folder / "README.md"
    if template is not None:
        text = template
    elif readme.is_file():
        text = readme.read_text(encoding="utf-8")
    else:
        title = ": ".join(part for part in (config.course_code, config.course_name) if part)
        text = f"# {title or 'Mini-Torch'}\n\n{config.term}\n"
    body = f"{README_BEGIN}\n{readme_body(folder, config)}\n{README_END}"
    slot = "<!-- term: stage schedule and instructions -->"
    if README_BEGIN in text and README_END in text:
        head, rest = text.split(README_BEGIN, 1)
        tail = rest.split(README_END, 1)[1]
        text = head + body + tail
    elif slot in text:
        text = text.replace(slot, body, 1)
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    readme.write_text(text, encoding="utf-8")
    fit_links(folder, readme)


# ------------------------------------------------------------------------------------- git


def _git(folder: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise InstructorError(f"git {' '.join(args)} failed in {folder}: {result.stderr.strip()}")
    return result.stdout.strip()


def commit_all(folder: Path, message: str, paths: list[str]) -> str | None:
    """Commit ``paths`` of ``folder`` if it is a git repository; the short hash, or None."""
    if not (folder / ".git").exists() or shutil.which("git") is None:
        return None
    _git(folder, "add", "--all", "--", *paths)
    if not _git(folder, "status", "--porcelain", "--", *paths):
        return None
    _git(folder, "-c", "user.name=Mini-Torch instructor tools",
         "-c", "user.email=instructor@localhost", "commit", "--quiet", "-m", message)
    return _git(folder, "rev-parse", "--short", "HEAD")


# ------------------------------------------------------------------------------ the openings


_COPY_IGNORE = shutil.ignore_patterns(".git", ".nox", ".venv", "__pycache__", "*.pyc")


def _stage_into(root: Path, stage: int, folder: Path, config: TermConfig,
                template_readme: str | None) -> tuple[ReleaseReport, list[str]]:
    """Write stage ``stage`` and the shared files into ``folder`` (a scratch copy)."""
    files, stubs, solved = render_stage(root, stage)
    report = ReleaseReport(stage=stage, out=folder, stubs=stubs, solved_files=solved)
    written = assemble_release(root, stage, files, folder, report, readme=False)
    pin_python(folder / "noxfile.py", config.python_version)
    config.save(folder)
    write_readme(folder, config, template_readme)
    return report, [*written, "README.md", TERM_FILE]


def _publish(scratch: Path, folder: Path, written: list[str]) -> None:
    for relative in written:
        source, target = scratch / relative, folder / relative
        if source.is_dir():
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target, ignore=_COPY_IGNORE)
        elif source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def open_stage(
    root: Path,
    term: Path,
    stage: int,
    *,
    update: bool = False,
    commit: bool = True,
    template_readme: str | None = None,
    config: TermConfig | None = None,
) -> OpenReport:
    """Open ``stage`` in the term repository ``term`` (or re-write it with ``update``).

    Everything is written into a scratch copy first and leak-checked there (stage ``stage``'s
    stubs are protected; the files written are scanned); only then are the written paths copied
    into ``term`` and, if it is a git repository, committed.

    Raises:
        InstructorError: not a term repository, a stage outside the term, a stage already open
            (without ``update``) or not open yet (with ``update``), a stage opened out of order.
        LeakError: what would be written gives a stub away; ``term`` is unchanged.
    """
    term = term.resolve()
    config = config or TermConfig.load(term)
    if stage not in config.stages:
        raise InstructorError(f"stage {stage} is not a stage of this term ({config.stages})")
    if stage not in stage_numbers(root):
        raise InstructorError(f"stage {stage} does not exist in {root}/stages")
    if update and stage not in config.opened:
        raise InstructorError(f"stage {stage} is not open yet: open it without --update")
    if not update:
        if stage in config.opened:
            raise InstructorError(
                f"stage {stage} is open already; to send students a fix, pass --update"
            )
        before = [k for k in config.stages if k < stage and k not in config.opened]
        if before:
            raise InstructorError(
                f"stage {stage} opens after stage(s) {before}: open those first"
            )
        config.opened = sorted({*config.opened, stage})
    with tempfile.TemporaryDirectory(prefix="mini-torch-term-") as scratch_name:
        scratch = Path(scratch_name) / "term"
        shutil.copytree(term, scratch, ignore=_COPY_IGNORE)
        release, written = _stage_into(root, stage, scratch, config, template_readme)
        leak = refuse_leaks(scratch, root, what=f"stage {stage} into the term at {term}",
                            stages=[stage], only=written)
        _publish(scratch, term, written)
    leak.artifact = term
    verb = "Update" if update else "Open"
    hash_ = commit_all(term, f"{verb} stage {stage}", written) if commit else None
    return OpenReport(stage=stage, term=term, release=release, leak=leak, written=written,
                      commit=hash_)


def write_term_repository(
    root: Path, project: Path, config: TermConfig, *, template_readme: str | None = None,
    git: bool = True,
) -> OpenReport:
    """Make ``project`` the term repository of ``config``, holding its first stage only.

    With ``git`` the folder becomes a git repository (``git init``) with that first stage as its
    first commit, ready to push.
    """
    project.mkdir(parents=True, exist_ok=True)
    config.opened = []
    if git and shutil.which("git") is not None and not (project / ".git").exists():
        _git(project, "init", "--quiet", "-b", "main")
    return open_stage(root, project, config.stages[0], template_readme=template_readme,
                      config=config, commit=git)


# ------------------------------------------------------------------------- answer keys


def write_answer_key(root: Path, stage: int, out: Path) -> ReleaseReport:
    """The reference solutions of ``stage`` in the layout of its release (staff only)."""
    return write_release(root, stage, out, include_solutions=True, overwrite=True)


def publish_key(root: Path, term: Path, stage: int, *, commit: bool = True) -> OpenReport:
    """Add the answer key of ``stage`` to the term repository as ``answer-keys/stageK``.

    Refused while ``stage`` is the newest open stage or not open (its deadline cannot have
    passed) and whenever the key would give away a stub of an open stage.
    """
    term = term.resolve()
    config = TermConfig.load(term)
    if stage not in config.opened:
        raise InstructorError(f"stage {stage} is not open: there is no deadline behind it yet")
    if stage == max(config.opened):
        raise InstructorError(
            f"stage {stage} is the newest open stage: publish its key after its deadline, when "
            "the next stage opens"
        )
    relative = f"answer-keys/stage{stage}"
    with tempfile.TemporaryDirectory(prefix="mini-torch-key-") as scratch_name:
        key_folder = Path(scratch_name) / "key"
        report = write_answer_key(root, stage, key_folder)
        scratch = Path(scratch_name) / "term"
        shutil.copytree(term, scratch, ignore=_COPY_IGNORE)
        if (scratch / relative).exists():
            shutil.rmtree(scratch / relative)
        shutil.copytree(key_folder / "stages" / f"stage{stage}", scratch / relative)
        leak = refuse_leaks(scratch, root, what=f"the answer key of stage {stage} into {term}",
                            stages=[max(config.opened)], only=[relative])
        _publish(scratch, term, [relative])
    leak.artifact = term
    hash_ = commit_all(term, f"Answer key of stage {stage}", [relative]) if commit else None
    return OpenReport(stage=stage, term=term, release=report, leak=leak, written=[relative],
                      commit=hash_)


# ------------------------------------------------------------------------- GitHub Classroom


def write_classroom_starters(
    root: Path,
    project: Path,
    config: TermConfig,
    *,
    template_readme: str | None = None,
    workflows: dict[int, dict[str, str]] | None = None,
) -> list[ReleaseReport]:
    """``project/starters/stageK``: the release of each stage, ready to push as the template
    repository of the stage-K assignment (its README with the course header, its noxfile on
    the course's Python, and ``workflows[K]``: ``{relative path: text}`` of its workflow files).
    Each starter is leak-checked as a whole."""
    reports = []
    for stage in config.stages:
        starter = project / "starters" / f"stage{stage}"
        if starter.exists():
            raise InstructorError(f"{starter} exists: a starter is never overwritten")
        with tempfile.TemporaryDirectory(prefix="mini-torch-starter-") as scratch_name:
            scratch = Path(scratch_name) / "starter"
            report = write_release(root, stage, scratch, check=False)
            pin_python(scratch / "noxfile.py", config.python_version)
            one = TermConfig(**{**asdict(config), "stages": [stage], "opened": [stage]})
            one.save(scratch)
            write_readme(scratch, one, template_readme)
            for relative, text in (workflows or {}).get(stage, {}).items():
                (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
                (scratch / relative).write_text(text, encoding="utf-8")
            refuse_leaks(scratch, root, what=f"the Classroom starter of stage {stage}")
            starter.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(scratch, starter)
        reports.append(report)
    return reports


# ------------------------------------------------------------------------- the staff folder


__all__ = [
    "OpenReport",
    "TermConfig",
    "open_stage",
    "publish_key",
    "write_answer_key",
    "write_classroom_starters",
    "write_term_repository",
]
