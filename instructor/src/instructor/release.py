"""Student releases: the package of one stage with its new solutions replaced by stubs.

``python -m instructor release --stage 3 --out DIR`` (or :func:`write_release`) writes::

    DIR/stages/stage3/      the package: pyproject.toml, README.md, src/mini_torch, examples/
    DIR/shared_tests/       conftest.py and the public tests stage1 .. stage3
    DIR/docs/stage3.md      the student guide of the stage, and docs/index.md
    DIR/README.md           what to do, stage by stage, and how to run the tests
    DIR/noxfile.py          ``nox -s stage3`` installs stages/stage3 and runs the tests
    DIR/pyproject.toml      the pytest configuration (``--import-mode=importlib``)

What a student writes in stage N is "the element stage N adds": every solution region (see
:mod:`instructor.solutions`) of a file of ``src/mini_torch`` that stage N-1 does not have (for
stage 1: every file) and of stage N's ``examples/*.py``. Those regions become stubs that raise
``NotImplementedError("Stage N: implement <qualified name> (see docs/stageN.md)")``. The files
carried from earlier stages stay solved; their marker lines are dropped. No marker line is left
in a student release, and the hidden tests of ``instructor/hidden_tests`` never go into one.

Several stages can go into one DIR (call :func:`write_release` once per stage): the README then
lists every stage found in DIR.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath

from instructor.repo import (
    PACKAGE_SUBDIR,
    InstructorError,
    is_build_artifact,
    package_files,
    stage_dir,
    stage_numbers,
)
from instructor.solutions import STUB_LINE, MarkerError, find_regions, strip_markers, stub_solutions

#: What each stage adds, for the README of a release (DESIGN.md §1).
STAGE_ELEMENTS = {
    1: "the functional core: forward/backward pairs, init, seeding, data, plots, gradcheck",
    2: "Module, Sequential, Linear and the activation modules",
    3: "the loss objects Loss, MSELoss, CrossEntropyLoss, BCEWithLogitsLoss",
    4: "the optimizers Optimizer, SGD, Adam, AdamW",
    5: "Dataset, ArrayDataset, DataLoader, MNISTDataset and save / load",
}

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


@dataclass(frozen=True)
class Stub:
    """One function a student writes: the file (relative to DIR) and its qualified name."""

    path: str
    name: str


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


def _module_name(package_relative: PurePosixPath) -> str:
    """``nn/linear.py`` -> ``mini_torch.nn.linear``; ``nn/__init__.py`` -> ``mini_torch.nn``."""
    parts = list(package_relative.with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(["mini_torch", *parts])


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
    doc = f"docs/stage{stage}.md"
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
            owner = _module_name(package_relative)
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
    return resources.files("instructor").joinpath("templates", name).read_text(encoding="utf-8")


def write_release(
    root: Path,
    stage: int,
    out: Path,
    *,
    include_solutions: bool = False,
    overwrite: bool = False,
) -> ReleaseReport:
    """Write the student release of ``stage`` of the monorepo at ``root`` into ``out``.

    Args:
        root: the monorepo root.
        stage: the stage to release.
        out: the release folder; other stages already released into it are kept.
        include_solutions: keep the solutions (and their markers) instead of stubbing them: an
            answer key with the layout of a student release.
        overwrite: replace ``out/stages/stage<stage>`` if it exists (refused otherwise, so that a
            student's work is never overwritten by accident).

    Raises:
        InstructorError: no such stage, or the stage folder exists in ``out`` and ``overwrite`` is
            False.
        MarkerError: malformed markers; nothing has been written then.
    """
    files, stubs, solved = render_stage(root, stage, include_solutions=include_solutions)
    out = out.resolve()
    target = out / "stages" / f"stage{stage}"
    if target.exists():
        if not overwrite:
            raise InstructorError(
                f"{target} exists; pass --force (overwrite=True) to replace it"
            )
        shutil.rmtree(target)
    report = ReleaseReport(stage=stage, out=out, stubs=stubs, solved_files=solved)

    for relative, data in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    tests = out / "shared_tests"
    tests.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / "shared_tests" / "conftest.py", tests / "conftest.py")
    for k in stage_numbers(root):
        if k <= stage and (root / "shared_tests" / f"stage{k}").is_dir():
            _copy_tree(root / "shared_tests" / f"stage{k}", tests / f"stage{k}")
        elif k <= stage:
            report.warnings.append(f"shared_tests/stage{k} does not exist: no tests for stage {k}")

    docs = out / "docs"
    docs.mkdir(exist_ok=True)
    for name in ("index.md", f"stage{stage}.md"):
        if (root / "docs" / name).is_file():
            shutil.copyfile(root / "docs" / name, docs / name)
        else:
            report.warnings.append(f"docs/{name} does not exist: the release has no copy of it")

    (out / "pyproject.toml").write_text(RELEASE_PYPROJECT, encoding="utf-8")
    (out / ".gitignore").write_text(RELEASE_GITIGNORE, encoding="utf-8")
    (out / "noxfile.py").write_text(_template("student_noxfile.py"), encoding="utf-8")
    (out / "README.md").write_text(release_readme(out), encoding="utf-8")
    return report


def read_stubs(out: Path) -> dict[int, list[Stub]]:
    """The stubs of every stage released into ``out``, read back from its files."""
    found: dict[int, list[Stub]] = {}
    for folder in sorted((out / "stages").glob("stage[0-9]*")):
        stage = int(folder.name.removeprefix("stage"))
        stubs = []
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(out).as_posix()
            for line in path.read_text(encoding="utf-8").splitlines():
                match = STUB_LINE.match(line)
                if match and int(match["stage"]) == stage:
                    stubs.append(Stub(relative, match["name"]))
        found[stage] = stubs
    return found


def _short_name(stub: Stub) -> str:
    """The name as the file shows it: ``Linear.forward`` in nn/linear.py, ``train_step``."""
    if ":" in stub.name:
        return stub.name.split(":", 1)[1]
    marker = f"/{PACKAGE_SUBDIR}/"
    if marker in stub.path:
        module = _module_name(PurePosixPath(stub.path.split(marker, 1)[1]))
        return stub.name.removeprefix(module + ".")
    return stub.name


def _stage_section(stage: int, stubs: list[Stub], out: Path) -> list[str]:
    element = STAGE_ELEMENTS.get(stage, f"stage {stage}")
    lines = [f"### Stage {stage}: {element}", ""]
    guide = f"docs/stage{stage}.md"
    if (out / guide).is_file():
        lines.append(f"Read [`{guide}`]({guide}) first: it explains the math and the design.")
    if not stubs:
        lines += ["", "This stage is complete in your copy: nothing raises NotImplementedError.",
                  ""]
        return lines
    lines += [
        f"Then write the body of each function below. Each one now raises "
        f'`NotImplementedError("Stage {stage}: implement ...")`: replace that line with your '
        "code. The docstring above it says what the function must compute, and the input "
        "checks before it are already written.",
        "",
        "| file | functions to write |",
        "|---|---|",
    ]
    by_file: dict[str, list[str]] = {}
    for stub in stubs:
        by_file.setdefault(stub.path, []).append(f"`{_short_name(stub)}`")
    for path, names in by_file.items():
        lines.append(f"| `{path}` | {', '.join(names)} |")
    lines += [
        "",
        "The code of the earlier stages is given, solved: read it, you will call it.",
        "",
    ]
    return lines


def release_readme(out: Path) -> str:
    """The README of a release folder: every stage in it, its stubs, and how to run the tests."""
    stubs = read_stubs(out)
    stages = sorted(stubs)
    newest = stages[-1] if stages else 1
    span = f"stage {newest}" if len(stages) <= 1 else f"stages {stages[0]}-{newest}"
    folders = " ".join(f"shared_tests/stage{k}" for k in range(1, newest + 1))
    lines = [
        f"# Mini-Torch: {span}",
        "",
        "Mini-Torch is a small deep-learning framework with the PyTorch API, written with numpy "
        "only: every backward pass is written by hand and a batch is a matrix with one sample per "
        "row (`y = x @ W + b`, `x` of shape `(N, in)`). You build it stage by stage.",
        "",
        "## What to do",
        "",
    ]
    for stage in stages:
        lines += _stage_section(stage, stubs[stage], out)
    lines += [
        "Work in `stages/stageN/src/mini_torch` and `stages/stageN/examples`. Do not edit the "
        "tests: they are the specification, and your work is graded with its own copy of them "
        "(plus hidden tests of the same kind).",
        "",
        "## Run the tests",
        "",
        "With [nox](https://nox.thea.codes) (`python -m pip install nox`), from this folder:",
        "",
        "```bash",
        f"nox -s stage{newest}                          # install stages/stage{newest} fresh, "
        f"run shared_tests/stage1 .. stage{newest}",
        f"nox -s stage{newest} -- -k cross_entropy -x   # anything after -- goes to pytest",
        "```",
        "",
        "Without nox, in a virtualenv (reinstall after every change: the tests use the installed "
        "package, not the folder you edit):",
        "",
        "```bash",
        "python -m venv .venv",
        f".venv/bin/python -m pip install pytest pytest-timeout ./stages/stage{newest}",
        f".venv/bin/python -m pytest {folders}",
        f".venv/bin/python -m pip install --force-reinstall --no-deps ./stages/stage{newest}"
        "   # after a change",
        "```",
        "",
        "A test that fails with `NotImplementedError: Stage N: implement <name>` names the next "
        "function to write. When every test passes, run the examples of the stage "
        f"(`python stages/stage{newest}/examples/<script>.py --help`).",
        "",
    ]
    return "\n".join(lines)


__all__ = [
    "MarkerError",
    "ReleaseReport",
    "Stub",
    "read_stubs",
    "release_readme",
    "render_stage",
    "write_release",
]
