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
:mod:`instructor.release.solutions`) of a file of ``src/mini_torch`` that stage N-1 does not
have (for stage 1: every file) and of stage N's ``examples/*.py``. Those regions become stubs that
raise ``NotImplementedError("Stage N: implement <qualified name> (see docs/stageN.md#section)")``,
the section being the one that teaches it (:func:`guide_section_of`: a heading that names the
function or its class, else the section whose text names it most, else "What you implement").
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
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath

from instructor.release.leakcheck import (
    github_slug,
    markdown_links,
    refuse_leaks,
    resolve_link,
)
from instructor.release.solutions import (
    STUB_LINE,
    MarkerError,
    find_regions,
    strip_markers,
    stub_solutions,
)
from instructor.stages.repo import (
    PACKAGE_SUBDIR,
    InstructorError,
    is_build_artifact,
    package_files,
    stage_dir,
    stage_numbers,
)

#: What each stage adds: the one source of the stage tables (a release's README, a term's, and
#: the tables of README.md and docs/index.md, which a test holds to these words). Every public
#: class a stage adds is named (the test reads each stage's ``__all__``).
STAGE_ELEMENTS = {
    1: ("the functional core: forward/backward pairs, `init`, seeding, synthetic data, plots,"
        " `gradcheck`"),
    2: ("`Module`, `Sequential`, `ModuleList`, `Linear`, `Flatten`, `Identity`, the "
        "activations `Activation`, `ReLU`, `LeakyReLU`, `Sigmoid`, `Tanh`, `GELU`, and "
        "`no_grad`"),
    3: "the losses `Loss`, `MSELoss`, `CrossEntropyLoss`, `BCEWithLogitsLoss`, `BCELoss`",
    4: "the optimizers `Optimizer`, `SGD`, `Adam`, `AdamW`",
    5: ("`Dataset`, `ArrayDataset`, `TensorDataset`, `DataLoader`, `MNISTDataset` + the "
        "bundled MNIST subset, `save` / `load`"),
    6: ("generative building blocks: `Embedding`, `LayerNorm`, `BatchNorm1d`, `Dropout`, "
        "`MultiHeadSelfAttention`, `TransformerBlock`, `nn.utils.clip_grad_norm_`, "
        "`CharVocab`, `CharDataset` + the bundled Shakespeare text"),
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


_HEADING = re.compile(r"^(#{2,6})\s+(?P<title>.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")


def guide_sections(text: str) -> list[tuple[int, str, str]]:
    """The ``##``-and-deeper headings of a guide: ``(line, title, anchor)`` in order."""
    sections = []
    counts: dict[str, int] = {}
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            if not in_fence and line.startswith("# "):
                counts[github_slug(line[2:])] = counts.get(github_slug(line[2:]), 0) + 1
            continue
        slug = github_slug(match["title"])
        seen = counts.get(slug, 0)
        counts[slug] = seen + 1
        sections.append((number, match["title"], slug if seen == 0 else f"{slug}-{seen}"))
    return sections


def _task_words(name: str) -> list[str]:
    """What a guide's headings call a stub: ``mini_torch.nn.linear.Linear.forward`` ->
    ``Linear``; ``mini_torch.functional.linear_backward`` -> ``linear``; ``MSELoss`` -> ``MSE``."""
    if ":" in name:
        return [name.split(":", 1)[1]]
    parts = name.split(".")
    classes = [part for part in parts[1:-1] if part[:1].isupper()][-1:]
    if classes:
        return [*classes, classes[0].removesuffix("Loss")] if classes[0] != "Loss" else classes
    return [parts[-1].removesuffix("_backward")]


def _implement_section(sections: list[tuple[int, str, str]]) -> tuple[int, str, str] | None:
    return next((section for section in sections if "implement" in section[1].lower()), None)


# Sections that list every task of a stage rather than teach one.
_OVERVIEW_TITLES = ("implement", "contents", "what this stage adds")


def _word_pattern(word: str) -> re.Pattern[str]:
    """``word`` as a whole word, its parts (split at inner ``_`` and at case changes) joined by
    nothing, a space, a hyphen or an underscore: ``layer_norm`` names "LayerNorm",
    ``log_softmax`` "log-softmax", ``MultiHeadSelfAttention`` "Multi-head self-attention"."""
    core, trailing = word.rstrip("_"), word[len(word.rstrip("_")):]
    parts = [part for part in re.split(r"_|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", core)
             if part]
    joined = r"[\s_-]?".join(re.escape(part) for part in parts) + re.escape(trailing)
    return re.compile(rf"(?<![A-Za-z0-9_]){joined}(?![A-Za-z0-9_])", re.I)


def _section_bodies(text: str, sections: list[tuple[int, str, str]]) -> list[str]:
    """The text of each section up to the next heading, without its fenced code blocks."""
    lines = text.splitlines()
    bodies = []
    for index, (line, _title, _anchor) in enumerate(sections):
        end = sections[index + 1][0] - 1 if index + 1 < len(sections) else len(lines)
        kept, in_fence = [], False
        for body_line in lines[line:end]:
            if _FENCE.match(body_line):
                in_fence = not in_fence
            elif not in_fence:
                kept.append(body_line)
        bodies.append("\n".join(kept))
    return bodies


def guide_section_of(text: str, name: str) -> tuple[int, str] | None:
    """The guide section that teaches a stub: ``(line, anchor)``, or None.

    The words of a stub are its class (``Linear``, and ``MSE`` for ``MSELoss``) or its
    function without ``_backward`` (``layer_norm``); a heading names a word when the word's
    parts appear in it joined by nothing, a space, a hyphen or an underscore (see
    :func:`_word_pattern`). The section is, in this order:

    1. for a backward (``*_backward``, ``*.backward``): the first heading that names a word and
       says "backward" ("LayerNorm backward"), else the first such heading whose body names
       the stub in a code span (```MultiHeadSelfAttention.backward```);
    2. the first heading that names a word;
    3. the section, other than the overviews ("What you implement", "Contents", "What this
       stage adds"), whose body names the stub (its qualified name, else a word) in the most
       code spans; on a tie, the one that names it nearest the start of its body;
    4. the section "What you implement".
    """
    sections = guide_sections(text)
    bodies = _section_bodies(text, sections)
    words = _task_words(name)
    tail = name.split(":", 1)[1] if ":" in name else name.split(".")[-1]
    qualified = f"{words[0]}.{tail}" if words[0] != tail.removesuffix("_backward") else tail
    word_patterns = [_word_pattern(word) for word in words]
    qualified_pattern = re.compile(
        rf"(?<![A-Za-z0-9_.]){re.escape(qualified)}(?![A-Za-z0-9_])", re.I
    )

    def spans_naming(body: str, pattern: re.Pattern[str]) -> int:
        return sum(1 for span in re.findall(r"`([^`\n]+)`", body) if pattern.search(span))

    def first_span(body: str, pattern: re.Pattern[str]) -> int:
        found = [m.start() for m in re.finditer(r"`([^`\n]+)`", body) if pattern.search(m[1])]
        return min(found, default=len(body))

    if tail == "backward" or tail.endswith("_backward"):
        says_backward = [
            (section, body) for section, body in zip(sections, bodies)
            if re.search(r"\bbackward\b", section[1], re.I)
        ]
        for (line, title, anchor), _body in says_backward:
            if any(pattern.search(title) for pattern in word_patterns):
                return line, anchor
        for (line, _title, anchor), body in says_backward:
            if spans_naming(body, qualified_pattern):
                return line, anchor
    for pattern in word_patterns:
        for line, title, anchor in sections:
            if pattern.search(title):
                return line, anchor
    for pattern in [qualified_pattern, *word_patterns]:
        counts = [
            (spans_naming(body, pattern), -first_span(body, pattern), -line, anchor)
            for (line, title, anchor), body in zip(sections, bodies)
            if not any(overview in title.lower() for overview in _OVERVIEW_TITLES)
        ]
        best = max(counts, default=(0, 0, 0, ""))
        if best[0]:
            return -best[2], best[3]
    implement = _implement_section(sections)
    return (implement[0], implement[2]) if implement else None


def _task_rank(text: str, stub: Stub) -> int:
    """Where the guide's "What you implement" section first names the stub or its file."""
    sections = guide_sections(text)
    implement = _implement_section(sections)
    if implement is None:
        return 0
    lines = text.splitlines()
    after = [section[0] for section in sections if section[0] > implement[0]]
    body_lines, in_fence = [], False
    for line in lines[implement[0]:(after[0] - 1) if after else len(lines)]:
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            body_lines.append(line)
    body = "\n".join(body_lines)
    short = _short_name(stub)
    file_name = PurePosixPath(stub.path).name
    candidates = [body.find(short), body.find(short.split(".")[0]), body.find(file_name)]
    found = [index for index in candidates if index >= 0]
    return min(found) if found else len(body) + 1


def stub_doc(root: Path, stage: int) -> Callable[[str], str]:
    """The guide (with its section) a stub of ``stage`` points to: ``docs/stage1.md#linear``."""
    doc = f"docs/stage{stage}.md"
    guide = root / doc
    text = guide.read_text(encoding="utf-8") if guide.is_file() else ""

    def where(name: str) -> str:
        found = guide_section_of(text, name)
        return f"{doc}#{found[1]}" if found else doc

    return where


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


def copy_images(source: Path, target: Path, text: str, *, shown: str) -> list[str]:
    """Copy the images a Markdown page of ``source`` shows (``![alt](images/x.png)``) into
    ``target``; return what was copied, relative to the release (``docs/images/x.png``)."""
    copied = []
    for _, link in markdown_links(text):
        path_part = link.partition("#")[0]
        if not path_part or _SCHEME.match(path_part) or path_part.endswith(".md"):
            continue
        image = (source / path_part).resolve()
        if not image.is_file() or not image.is_relative_to(source.resolve()):
            continue
        relative = image.relative_to(source.resolve())
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, target / relative)
        copied.append(f"{shown}/{relative.as_posix()}")
    return copied


#: A passage of a guide or README for the maintainers only: the release leaves it out.
MAINTAINERS_BEGIN = "<!-- maintainers -->"
MAINTAINERS_END = "<!-- /maintainers -->"
_BEGIN, _END = re.escape(MAINTAINERS_BEGIN), re.escape(MAINTAINERS_END)
#: A passage of whole lines (the comment lines go too), then one inside a line.
_MAINTAINER_LINES = re.compile(rf"^[ \t]*{_BEGIN}[ \t]*\n.*?^[ \t]*{_END}[ \t]*(?:\n|\Z)",
                               re.S | re.M)
_MAINTAINER_WORDS = re.compile(rf"{_BEGIN}.*?{_END}", re.S)


def strip_maintainer_passages(page: Path, *, shown: str) -> None:
    """Leave out of a released Markdown page what sits between ``<!-- maintainers -->`` and
    ``<!-- /maintainers -->`` (within a line or across lines, the comments included), keeping
    its line breaks so that every other line keeps its number.

    Raises:
        InstructorError: a passage opened and never closed, or closed and never opened.
    """
    text = page.read_text(encoding="utf-8")
    if MAINTAINERS_BEGIN not in text and MAINTAINERS_END not in text:
        return
    opened = None
    for marker in re.finditer(rf"{_BEGIN}|{_END}", text):
        is_begin = marker.group(0) == MAINTAINERS_BEGIN
        if is_begin == (opened is not None):  # a BEGIN inside a passage, an END outside one
            break
        opened = marker if is_begin else None
    else:
        marker = opened
    if marker is not None:
        line = text.count("\n", 0, marker.start()) + 1
        raise InstructorError(f"{shown}:{line}: {marker.group(0)} without its pair: close each "
                              f"{MAINTAINERS_BEGIN} with {MAINTAINERS_END}")
    # The passage's line breaks stay (a blank line in Markdown, or a space inside a paragraph),
    # so a line of the release is the same line of the source: a finding names the source's.
    def breaks(passage: re.Match[str]) -> str:
        return "\n" * passage.group(0).count("\n")

    kept = _MAINTAINER_WORDS.sub(breaks, _MAINTAINER_LINES.sub(breaks, text))
    page.write_text(kept, encoding="utf-8")


#: The sections of the monorepo's docs/index.md that a release's docs index keeps: they hold
#: for every stage. The others (the stage table, the repository layout, the monorepo's test
#: commands) are replaced by the release's own.
INDEX_SECTIONS = ("The architecture", "The standard training loop", "Design patterns")


def release_index(root: Path, out: Path) -> str:
    """The docs index of a release: the guides it holds, its tests, the shared overview."""
    source = root / "docs" / "index.md"
    text = source.read_text(encoding="utf-8") if source.is_file() else "# Mini-Torch\n"
    chunks = re.split(r"(?m)^(?=## )", text)
    intro, sections = chunks[0], chunks[1:]
    stages = sorted(int(path.name.removeprefix("stage")) for path in
                    (out / "stages").glob("stage[0-9]*") if path.is_dir())
    newest = stages[-1] if stages else 1
    lines = ["## The stages of this release", "",
             "Each stage is a complete package in `stages/stageK` that adds one element to the one "
             "before. The guide of a stage explains its math and design and lists what you write; "
             "the guides of the earlier stages derive the code this release hands out solved.", "",
             "| stage | guide | what it adds | where |", "|---|---|---|---|"]
    for stage in range(1, newest + 1):
        guide = f"stage{stage}.md"
        if stage not in stages and not (out / "docs" / guide).is_file():
            continue
        shown = f"[`docs/{guide}`]({guide})" if (out / "docs" / guide).is_file() else "none"
        later = [k for k in stages if k >= stage]
        where = (f"`stages/stage{stage}`, tested by `nox -s stage{stage}`" if stage in stages
                 else f"handed out solved in `stages/stage{later[0]}`" if later else "")
        lines.append(f"| {stage} | {shown} | {STAGE_ELEMENTS.get(stage, f'stage {stage}')} | "
                     f"{where} |")
    lines += ["", "What to write, file by file, and how to run the tests: the "
              "[README](../README.md) of this release.", "", ""]
    kept = [section for section in sections
            if any(section[3:].startswith(title) for title in INDEX_SECTIONS)]
    running = ["## Running the tests", "",
               "With [nox](https://nox.thea.codes) (`python -m pip install nox`), from the folder "
               "that holds `noxfile.py`:", "", "```bash",
               f"nox -s stage{newest}                 # install stages/stage{newest} fresh, "
               f"run shared_tests/stage1 .. stage{newest}",
               f"nox -s stage{newest} -- -x -k linear # anything after -- goes to pytest",
               "```", "",
               "The tests run in the order the guide teaches the tasks: the first failure is the "
               "next thing to write, and each failure names its guide section.", ""]
    return intro + "\n".join(lines) + "".join(kept).rstrip("\n") + "\n\n" + "\n".join(running)


#: What a released stage folder held, for carry_forward.py: stages/stageK/.release.json.
MANIFEST_FILE = ".release.json"


def write_manifest(
    target: Path, files: dict[PurePosixPath, bytes], stubs: list[Stub], stage: int
) -> None:
    """Record the sha256 of every package file of a released stage and which hold tasks."""
    package = {}
    for relative, data in files.items():
        parts = relative.parts[: len(PACKAGE_SUBDIR.parts)]
        if parts == PACKAGE_SUBDIR.parts:
            inner = PurePosixPath(*relative.parts[len(PACKAGE_SUBDIR.parts):]).as_posix()
            package[inner] = hashlib.sha256(data).hexdigest()
    prefix = f"stages/stage{stage}/{PACKAGE_SUBDIR}/"
    tasks = sorted({stub.path.removeprefix(prefix) for stub in stubs
                    if stub.path.startswith(prefix)})
    manifest = {"stage": stage, "files": dict(sorted(package.items())), "tasks": tasks}
    (target / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


#: The task order of each stage in a release, read by shared_tests/conftest.py.
TASKS_FILE = "tasks.json"


def task_order(root: Path, stage: int, stubs: list[Stub]) -> list[dict[str, str]]:
    """The stubs of ``stage`` in the order its guide teaches them, with the section of each.

    ``[{"name": "linear", "qualified": "mini_torch.functional.linear",
    "guide": "docs/stage1.md#linear"}, ...]``: sorted by where the guide's "What you implement"
    section first names each (or its file), then by their order in the files. The shared
    conftest runs the tests in this order and
    names the section of each failure.
    """
    guide = root / "docs" / f"stage{stage}.md"
    text = guide.read_text(encoding="utf-8") if guide.is_file() else ""
    ranked = []
    for index, stub in enumerate(stubs):
        found = guide_section_of(text, stub.name)
        where = f"docs/stage{stage}.md" + (f"#{found[1]}" if found else "")
        ranked.append(((_task_rank(text, stub), index),
                       {"name": _short_name(stub), "qualified": stub.name, "guide": where}))
    return [entry for _, entry in sorted(ranked, key=lambda item: item[0])]


_GUIDE = re.compile(r"stage\d+\.md")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_MD_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)(\s+\"[^\"]*\")?\)")


def fit_links(out: Path, page: Path) -> None:
    """Make a Markdown page of a release hold only links that resolve inside the release.

    A list item that only links to a stage guide the release does not hold (a later stage's) is
    dropped; any other link to such a guide keeps its text, without the link. Other links
    (a doc or an image the release does not ship) are left for the leak check to refuse.
    """
    relative = PurePosixPath(page.relative_to(out).as_posix())
    text = page.read_text(encoding="utf-8")
    broken = {target for _, target in markdown_links(text)
              if _GUIDE.fullmatch(PurePosixPath(target.partition("#")[0]).name)
              and resolve_link(out, relative, target) is not None}
    if not broken:
        return
    kept = []
    in_fence = False
    for line in text.splitlines(keepends=True):
        if _FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            kept.append(line)
            continue
        links = _MD_LINK.findall(line)
        if links and line.lstrip().startswith(("- ", "* ")) and all(
            target in broken for _, _, target, _ in links
        ):
            continue
        kept.append(_MD_LINK.sub(
            lambda m: m.group(2) if m.group(3) in broken else m.group(0), line
        ))
    page.write_text("".join(kept), encoding="utf-8")


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
