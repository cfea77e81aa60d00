"""Student releases: the package of one stage with its new solutions replaced by stubs.

``python -m instructor release --stage 3 --out DIR`` (or :func:`write_release`) writes::

    DIR/stages/stage3/      the package: pyproject.toml, README.md, src/mini_torch, examples/,
                            .release.json (the sha256 of each package file, for carry_forward.py)
    DIR/shared_tests/       conftest.py, the public tests stage1 .. stage3, tasks.json (the
                            stage's tasks in the guide's order, with the section of each)
    DIR/docs/               index.md (the release's own) and the guides stage1.md .. stage3.md
    DIR/README.md           what to do, stage by stage, and how to run the tests
    DIR/noxfile.py          ``nox -s stage3`` installs stages/stage3 and runs the tests;
                            ``nox -s carry_forward -- 3``
    DIR/carry_forward.py    copies the student's own earlier code into a new stage
    DIR/package_rule.py     how the noxfile finds a --submission's package (the grader's rule)
    DIR/stage_session.py    the body of the noxfile's stage sessions (the monorepo's noxfile too)
    DIR/pyproject.toml      the pytest configuration (``--import-mode=importlib``)

What a student writes in stage N is "the element stage N adds": every solution region (see
:mod:`instructor.stages.markers`) of a file of ``src/mini_torch`` that stage N-1 does not
have (for stage 1: every file) and of stage N's ``examples/*.py``. Those regions become stubs that
raise ``NotImplementedError("Stage N: implement <qualified name> (see docs/stageN.md#section)")``,
the section being the one that teaches it (:func:`instructor.stages.guides.guide_section_of`: a
heading that names the function or its class, else the section whose text names it most, else
"What you implement").
The files carried from earlier stages stay solved; their marker lines are dropped. No marker
line is left in a student release, and the hidden tests of ``instructor/hidden_tests`` never go
into one.

The release is assembled in a scratch folder and leak-checked there
(:mod:`instructor.release.leakcheck`); a release that leaks is refused and nothing is written.
Links of the docs to a later stage's guide are turned into plain text; the images the guides show
are shipped with them; the maintainers' passages of every Markdown file (between
``<!-- maintainers -->`` and ``<!-- /maintainers -->``) are left out.

Several stages can go into one DIR (call :func:`write_release` once per stage): the README then
lists every stage found in DIR.

This module renders a stage and writes the release; the rest is beside it (and re-exported here):
:mod:`~instructor.release.markdown` (the links, images and maintainers' passages of the docs),
:mod:`~instructor.release.readme` (the README and docs index, :data:`STAGE_ELEMENTS`),
:mod:`~instructor.release.records` (``tasks.json`` and ``.release.json``) and
:mod:`~instructor.release.stubs` (the stubs read back from a release).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath

from instructor.release.leakcheck import refuse_leaks
from instructor.release.markdown import (
    MAINTAINERS_BEGIN,
    MAINTAINERS_END,
    copy_images,
    fit_links,
    guide_sections,
    strip_maintainer_passages,
)
from instructor.release.readme import INDEX_SECTIONS, STAGE_ELEMENTS, release_index, release_readme
from instructor.release.records import MANIFEST_FILE, TASKS_FILE, task_order, write_manifest
from instructor.release.solutions import MarkerError, find_regions, strip_markers, stub_solutions
from instructor.release.stubs import Stub, module_name, read_stubs
from instructor.stages.guides import guide_section_of, stub_doc
from instructor.stages.repo import (
    PACKAGE_SUBDIR,
    InstructorError,
    is_build_artifact,
    package_files,
    stage_dir,
    stage_numbers,
)

# Folders and files of a stage that are never part of a release: tool state and run outputs.
_SKIPPED_NAMES = frozenset({
    "build", "dist", "outputs", ".nox", ".venv", ".pytest_cache", ".ruff_cache", ".mypy_cache",
})

#: The pytest configuration of a release (DIR/pyproject.toml).
RELEASE_PYPROJECT = """\
# Test configuration only: the package is stages/stageN (its own pyproject.toml).
[tool.pytest.ini_options]
addopts = "--import-mode=importlib -ra"
testpaths = ["shared_tests"]
"""

RELEASE_GITIGNORE = """\
__pycache__/
*.pyc
*.egg-info/
build/
dist/
.nox/
.venv/
.pytest_cache/
outputs/
"""


@dataclass
class ReleaseReport:
    """What :func:`write_release` wrote."""

    stage: int
    out: Path
    stubs: list[Stub] = field(default_factory=list)
    solved_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The last line the ``release`` command prints."""
        return (
            f"stage {self.stage} released into {self.out}: {len(self.stubs)} stubs to implement, "
            f"{len(self.solved_files)} files carried solved from earlier stages"
        )


def _is_skipped(relative: PurePosixPath) -> bool:
    return (
        is_build_artifact(relative)
        or any(part in _SKIPPED_NAMES or part.endswith(".egg-info") for part in relative.parts)
    )


def _stage_files(folder: Path) -> list[PurePosixPath]:
    """Every file of a stage folder that belongs in a release, relative to it, sorted."""
    return [relative for relative in package_files(folder) if not _is_skipped(relative)]


def new_package_files(root: Path, stage: int) -> set[PurePosixPath]:
    """The files of ``src/mini_torch`` that stage ``stage`` adds (absent from the stage before)."""
    package = stage_dir(root, stage) / PACKAGE_SUBDIR
    earlier = [s for s in stage_numbers(root) if s < stage]
    previous = stage_dir(root, earlier[-1]) / PACKAGE_SUBDIR if earlier else None
    files = set()
    for path in package.rglob("*.py"):
        relative = PurePosixPath(path.relative_to(package).as_posix())
        if is_build_artifact(relative):
            continue
        if previous is None or not (previous / relative).is_file():
            files.add(relative)
    return files


def render_stage(
    root: Path, stage: int, *, include_solutions: bool = False
) -> tuple[dict[PurePosixPath, bytes], list[Stub], list[str]]:
    """The files of the released package of ``stage``, in memory (nothing is written).

    Returns:
        ({path relative to the stage folder: content}, the stubs, the solved .py files that
        carried marker lines).

    Raises:
        InstructorError: the stage does not exist.
        MarkerError: unbalanced, nested or malformed markers (``file:line`` in the message).
    """
    folder = stage_dir(root, stage)
    if stage not in stage_numbers(root):
        known = ", ".join(str(s) for s in stage_numbers(root)) or "none"
        raise InstructorError(f"--stage {stage}: no such stage (existing: {known})")
    new_files = new_package_files(root, stage)
    doc = stub_doc(root, stage)
    files: dict[PurePosixPath, bytes] = {}
    stubs: list[Stub] = []
    solved: list[str] = []
    for relative in _stage_files(folder):
        data = (folder / relative).read_bytes()
        in_package = relative.parts[: len(PACKAGE_SUBDIR.parts)] == PACKAGE_SUBDIR.parts
        in_examples = relative.parts[0] == "examples"
        if relative.suffix != ".py" or not (in_package or in_examples):
            files[relative] = data
            continue
        text = data.decode("utf-8")
        shown = f"stages/stage{stage}/{relative}"
        if include_solutions:
            find_regions(text, shown)  # a solutions release is checked all the same
            files[relative] = data
            continue
        if in_package:
            package_relative = PurePosixPath(*relative.parts[len(PACKAGE_SUBDIR.parts) :])
            stubbed = package_relative in new_files
            owner = module_name(package_relative)
        else:
            stubbed, owner = True, f"{relative}:"
        if stubbed:
            text, names = stub_solutions(text, owner=owner, stage=stage, doc=doc, filename=shown)
            stubs += [Stub(f"stages/stage{stage}/{relative}", name) for name in names]
        elif find_regions(text, shown):
            text = strip_markers(text, shown)
            solved.append(f"stages/stage{stage}/{relative}")
        files[relative] = text.encode("utf-8")
    return files, stubs, solved


def _copy_tree(source: Path, target: Path) -> None:
    """Copy ``source`` into ``target`` without compiled files."""
    shutil.copytree(
        source, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )


def _template(name: str) -> str:
    return resources.files("instructor").joinpath("term", name).read_text(encoding="utf-8")


def write_release(
    root: Path,
    stage: int,
    out: Path,
    *,
    include_solutions: bool = False,
    overwrite: bool = False,
    check: bool = True,
) -> ReleaseReport:
    """Write the student release of ``stage`` of the monorepo at ``root`` into ``out``.

    The release is written into a scratch copy of ``out`` first and leak-checked there
    (:mod:`instructor.release.leakcheck`); only a release that passes is copied into ``out``.

    Args:
        root: the monorepo root.
        stage: the stage to release.
        out: the release folder; other stages already released into it are kept.
        include_solutions: keep the solutions (and their markers) instead of stubbing them: an
            answer key with the layout of a student release (for staff; not leak-checked).
        overwrite: replace ``out/stages/stage<stage>`` if it exists (refused otherwise, so that a
            student's work is never overwritten by accident).
        check: run the leak check (always on for a student release written by the CLI).

    Raises:
        InstructorError: no such stage, or the stage folder exists in ``out`` and ``overwrite`` is
            False.
        LeakError: the release would give away a stub (nothing has been written then).
        MarkerError: malformed markers; nothing has been written then.
    """
    files, stubs, solved = render_stage(root, stage, include_solutions=include_solutions)
    out = out.resolve()
    target = out / "stages" / f"stage{stage}"
    if target.exists() and not overwrite:
        raise InstructorError(f"{target} exists; pass --force (overwrite=True) to replace it")
    report = ReleaseReport(stage=stage, out=out, stubs=stubs, solved_files=solved)
    with tempfile.TemporaryDirectory(prefix="mini-torch-release-") as scratch:
        staging = Path(scratch) / "release"
        if out.is_dir():  # what DIR holds already (other stages), for the checks
            shutil.copytree(out, staging, ignore=shutil.ignore_patterns(
                ".git", ".nox", ".venv", "__pycache__", "*.pyc"))
        staging.mkdir(parents=True, exist_ok=True)
        written = assemble_release(root, stage, files, staging, report)
        if check and not include_solutions:
            refuse_leaks(staging, root, what=f"the release of stage {stage} into {out}",
                         stages=[stage], only=written)
        if target.exists():
            shutil.rmtree(target)
        out.mkdir(parents=True, exist_ok=True)
        for relative in written:
            source = staging / relative
            if source.is_dir():
                _copy_tree(source, out / relative)
            elif source.is_file():
                (out / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, out / relative)
    return report


def assemble_release(
    root: Path,
    stage: int,
    files: dict[PurePosixPath, bytes],
    out: Path,
    report: ReleaseReport,
    *,
    readme: bool = True,
) -> list[str]:
    """Write a rendered stage and what goes with it into ``out``; return what was written.

    ``out/stages/stage<stage>`` (replaced), ``shared_tests`` (conftest.py, the public tests of
    stages 1 .. stage, the task order), ``docs`` (an index and the guides of stages 1 .. stage,
    their links to what the release does not hold turned into text), ``pyproject.toml``,
    ``.gitignore``, ``noxfile.py`` and (with ``readme``) ``README.md``.
    """
    target = out / "stages" / f"stage{stage}"
    if target.exists():
        shutil.rmtree(target)
    for relative, data in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    tests = out / "shared_tests"
    tests.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / "shared_tests" / "conftest.py", tests / "conftest.py")
    written = [f"stages/stage{stage}", "shared_tests/conftest.py"]
    for k in stage_numbers(root):
        if k <= stage and (root / "shared_tests" / f"stage{k}").is_dir():
            if (tests / f"stage{k}").exists():
                shutil.rmtree(tests / f"stage{k}")
            _copy_tree(root / "shared_tests" / f"stage{k}", tests / f"stage{k}")
            written.append(f"shared_tests/stage{k}")
        elif k <= stage:
            report.warnings.append(f"shared_tests/stage{k} does not exist: no tests for stage {k}")
    tasks_file = tests / TASKS_FILE
    tasks = json.loads(tasks_file.read_text(encoding="utf-8")) if tasks_file.is_file() else {}
    tasks[str(stage)] = task_order(root, stage, report.stubs)
    tasks_file.write_text(json.dumps(tasks, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    written.append(f"shared_tests/{TASKS_FILE}")

    docs = out / "docs"
    docs.mkdir(exist_ok=True)
    for k in stage_numbers(root):
        name = f"stage{k}.md"
        if k > stage:
            continue
        if (root / "docs" / name).is_file():
            text = (root / "docs" / name).read_text(encoding="utf-8")
            if not (out / "stages" / f"stage{k}").is_dir():
                # an earlier stage handed out solved: its tests run in this stage's session
                text = re.sub(rf"\bnox -s stage{k}\b", f"nox -s stage{stage}", text)
            (docs / name).write_text(text, encoding="utf-8")
            written.append(f"docs/{name}")
            written += copy_images(root / "docs", docs, text, shown="docs")
        elif k == stage:
            report.warnings.append(f"docs/{name} does not exist: the release has no copy of it")
    (docs / "index.md").write_text(release_index(root, out), encoding="utf-8")
    written.append("docs/index.md")

    (out / "pyproject.toml").write_text(RELEASE_PYPROJECT, encoding="utf-8")
    (out / ".gitignore").write_text(RELEASE_GITIGNORE, encoding="utf-8")
    (out / "noxfile.py").write_text(_template("student_noxfile.py"), encoding="utf-8")
    (out / "carry_forward.py").write_text(_template("carry_forward.py"), encoding="utf-8")
    # The noxfile finds a --submission's package by the grader's own rule, shipped beside it.
    (out / "package_rule.py").write_text(
        resources.files("instructor").joinpath("grading", "package_rule.py")
        .read_text(encoding="utf-8"), encoding="utf-8")
    # The body of its stage sessions, the same file the monorepo's noxfile runs.
    (out / "stage_session.py").write_text(_template("stage_session.py"), encoding="utf-8")
    written += ["pyproject.toml", ".gitignore", "noxfile.py", "carry_forward.py",
                "package_rule.py", "stage_session.py"]
    write_manifest(target, files, report.stubs, stage)
    if readme:
        (out / "README.md").write_text(release_readme(out), encoding="utf-8")
        written.append("README.md")
    for relative in written:
        path = out / relative
        markdown = [path] if path.suffix == ".md" else sorted(path.rglob("*.md")) \
            if path.is_dir() else []
        for page in markdown:
            strip_maintainer_passages(page, shown=page.relative_to(out).as_posix())
            fit_links(out, page)
    return written


__all__ = [
    "INDEX_SECTIONS",
    "MAINTAINERS_BEGIN",
    "MAINTAINERS_END",
    "MANIFEST_FILE",
    "RELEASE_GITIGNORE",
    "RELEASE_PYPROJECT",
    "STAGE_ELEMENTS",
    "TASKS_FILE",
    "MarkerError",
    "ReleaseReport",
    "Stub",
    "assemble_release",
    "copy_images",
    "fit_links",
    "guide_section_of",
    "guide_sections",
    "new_package_files",
    "read_stubs",
    "release_index",
    "release_readme",
    "render_stage",
    "strip_maintainer_passages",
    "stub_doc",
    "task_order",
    "write_manifest",
    "write_release",
]
