"""The grading kit: the grader's own copy of everything a grading run needs, prepared once.

A kit is a folder (only the grader reads it; no jail holds it)::

    KIT/kit.json        the stage, its own tasks and files, the names of the checks
    KIT/reference/      the reference stage: src/mini_torch (solution markers kept),
                        examples/ and pyproject.toml (the stage's runtime dependencies, what
                        a jail holds); the oracle the checks are compared with at grading time
    KIT/tests/hidden_tests/stageK/hidden_checks.py
                        the hidden checks' source, when the stage has some
    KIT/weights.json    the points per check (see instructor.grading.scoring): the file given,
                        else the stage's default weights

A kit holds no inputs: the checks are programs drawn afresh for every grading run from a secret
that never leaves the grader (:meth:`Kit.draw`; the public checks come from
:mod:`instructor.grading.checks`, the hidden ones from the kit's file), and the reference
answers them at grading time. :func:`build_kit` makes a kit from the monorepo and runs the checks
of a few draws on the reference, so a check that the reference itself fails is refused before any
student is graded.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from instructor.grading.checks import Check, has_checks, hidden_checks, stage_checks
from instructor.grading.oracle import compute
from instructor.grading.scoring import default_weights_file, own_files, own_tasks
from instructor.stages.dependencies import distribution_names, runtime_dependencies
from instructor.stages.guides import stub_doc
from instructor.stages.repo import InstructorError, private_tree, stage_dir, stage_numbers

KIT_FILE = "kit.json"
KIT_FORMAT = 4
#: How many draws :func:`build_kit` tries on the reference before it accepts the checks.
VALIDATION_DRAWS = 3

#: Where the hidden checks of stage N live in the monorepo.
HIDDEN_TESTS = Path("instructor") / "hidden_tests"
HIDDEN_FILE = "hidden_checks.py"


@dataclass
class Kit:
    """A prepared grading kit (see the module docstring), and the checks of one draw.

    ``checks`` are the checks of the draw ``seed`` (:meth:`draw` makes another); their names,
    ``names``, are the same in every draw.
    """

    path: Path
    stage: int
    tasks: list[str]
    own_files: list[str]
    names: list[str] = field(default_factory=list)
    select: list[str] = field(default_factory=list)
    guides: dict[str, str] = field(default_factory=dict)  # task -> docs/stageK.md#section
    keywords: dict[str, str] = field(default_factory=dict)  # task -> pytest -k of its tests
    hidden: bool = True
    seed: int = 0
    checks: list[Check] = field(default_factory=list)

    @property
    def reference_dir(self) -> Path:
        return self.path / "reference"

    @property
    def dependencies(self) -> list[str]:
        """The reference stage's runtime dependencies (its pyproject.toml, copied in)."""
        return runtime_dependencies(self.reference_dir)

    @property
    def distributions(self) -> tuple[str, ...]:
        """What pip calls :attr:`dependencies`: the distributions a jail holds."""
        return distribution_names(self.dependencies)

    @property
    def weights_file(self) -> Path:
        return self.path / "weights.json"

    @property
    def hidden_file(self) -> Path:
        return self.path / "tests" / "hidden_tests" / f"stage{self.stage}" / HIDDEN_FILE

    @property
    def tests(self) -> list[str]:
        """The names of the checks (what the weights patterns match)."""
        return list(self.names)

    def draw(self, seed: int | None = None) -> Kit:
        """This kit with the checks of draw ``seed`` (default: a fresh secret one).

        Raises:
            InstructorError: the draw's checks are not the kit's (a check module changed since
                the kit was built).
        """
        seed = secrets.randbits(64) if seed is None else seed
        checks = draw_checks(self.stage, seed, self.hidden_file if self.hidden else None,
                             self.select)
        if self.names and [c.name for c in checks] != self.names:
            raise InstructorError(
                f"{self.path}: the checks of this instructor package are not the kit's (built "
                "with another version of instructor/grading/checks?): build the kit again")
        return Kit(path=self.path, stage=self.stage, tasks=self.tasks, own_files=self.own_files,
                   names=[c.name for c in checks], select=self.select, guides=self.guides,
                   keywords=self.keywords, hidden=self.hidden, seed=seed, checks=checks)

    def save(self) -> None:
        data = {"format": KIT_FORMAT, "stage": self.stage, "select": self.select,
                "tasks": self.tasks, "own_files": self.own_files, "checks": self.names,
                "guides": self.guides, "keywords": self.keywords, "hidden": self.hidden}
        (self.path / KIT_FILE).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def draw_checks(stage: int, seed: int, hidden: Path | None = None,
                select: Sequence[str] = ()) -> list[Check]:
    """The checks of ``stage`` (public, then hidden from the file ``hidden``) of draw ``seed``,
    only those matching a ``select`` pattern when there are any."""
    import numpy as np

    generator = np.random.default_rng(seed)
    checks = stage_checks(stage, generator)
    if hidden is not None and hidden.is_file():
        checks += hidden_checks(hidden, generator)
    if select:
        checks = [c for c in checks if any(fnmatchcase(c.name, p) for p in select)]
    return checks


def load_kit(path: Path, seed: int | None = None) -> Kit:
    """Read the kit at ``path`` and draw its checks (a fresh secret draw unless ``seed``).

    Raises:
        InstructorError: ``path`` holds no readable kit.
    """
    try:
        data = json.loads((path / KIT_FILE).read_text(encoding="utf-8"))
        if data.get("format") != KIT_FORMAT:
            raise ValueError(f"kit format {data.get('format')}, expected {KIT_FORMAT}")
        kit = Kit(path=path.resolve(), stage=int(data["stage"]), tasks=list(data["tasks"]),
                  own_files=list(data["own_files"]), names=list(data["checks"]),
                  select=list(data.get("select", [])), guides=dict(data.get("guides", {})),
                  keywords=dict(data.get("keywords", {})),
                  hidden=bool(data.get("hidden", True)))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InstructorError(f"{path}: not a grading kit ({error})") from error
    return kit.draw(seed)


def _check_stage(check: Check, default: int) -> int:
    """The stage of the task a check grades: from ``stage3/...`` or ``hidden/stage3/...``."""
    head = check.name.removeprefix("hidden/").split("/", 1)[0]
    number = head.removeprefix("stage")
    return int(number) if head.startswith("stage") and number.isdigit() else default


def test_keyword(task: str, modules: set[str]) -> str:
    """The ``pytest -k`` that selects the public tests of ``task``.

    The task's name in test words (``MSELoss.backward`` -> ``mse_loss``, ``relu_backward``,
    ``train_sine``); where part of it names a test module of the stages
    (``layer_norm_backward`` -> ``test_layer_norm.py``, ``MultiHeadSelfAttention`` ->
    ``test_attention.py``, ``BatchNorm1d`` -> ``test_batch_norm.py``), that part, which selects
    the whole module: the test that shows a bug need not carry the function's name.
    """
    if ":" in task:
        name = task.partition(":")[0].rsplit("/", 1)[-1].removesuffix(".py")
    else:
        parts = [p for p in task.split(".") if p != "mini_torch"]
        classes = [p for p in parts if p[:1].isupper()]
        name = classes[0] if classes else parts[-1]
        name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()
    words = [re.sub(r"(?<=[a-z])\d+d$", "", w) for w in name.split("_") if w]
    for size in range(len(words), 0, -1):
        for start in range(len(words) - size + 1):
            candidate = "_".join(words[start:start + size])
            if candidate in modules:
                return candidate
    return name


def test_keywords(root: Path, checks: Sequence[Check], stage: int) -> dict[str, str]:
    """{task: the ``-k`` of its public tests} (see :func:`test_keyword`), for feedback."""
    modules = {path.stem.removeprefix("test_")
               for k in range(1, stage + 1)
               for path in (root / "shared_tests" / f"stage{k}").glob("test_*.py")}
    return {c.task: test_keyword(c.task, modules) for c in checks}


def guide_sections(root: Path, checks: Sequence[Check], stage: int) -> dict[str, str]:
    """{task: the guide section that teaches it} (``docs/stage3.md#mse-...``), for feedback."""
    finders: dict[int, Callable[[str], str]] = {}
    guides = {}
    for item in checks:
        number = _check_stage(item, stage)
        if number not in finders:
            finders[number] = stub_doc(root, number)
        guides[item.task] = finders[number](item.task)
    return guides


def build_kit(
    root: Path,
    stage: int,
    dest: Path,
    *,
    hidden: bool = True,
    select: Sequence[str] = (),
    weights: Path | None = None,
    validate: bool = True,
) -> Kit:
    """Prepare a grading kit for ``stage`` of the monorepo at ``root`` in the new folder ``dest``.

    Args:
        hidden: include ``instructor/hidden_tests/stage<stage>/hidden_checks.py`` when it exists.
        select: fnmatch patterns of check names; only matching checks are graded (default: all).
        weights: a weights file to ship with the kit (default: the stage's own,
            :func:`instructor.grading.scoring.default_weights_file`).
        validate: run every check on the reference and refuse a check it fails.

    Raises:
        InstructorError: no such stage, no checks for it, or a check the reference fails.
    """
    if stage not in stage_numbers(root):
        known = ", ".join(str(s) for s in stage_numbers(root)) or "none"
        raise InstructorError(f"--stage {stage}: no such stage (existing: {known})")
    if not has_checks(stage):
        raise InstructorError(
            f"stage {stage} has no grading checks: write instructor/src/instructor/grading/checks/"
            f"stage{stage}.py (see instructor/grading/checks/stage3.py)")
    reference = stage_dir(root, stage)
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(reference / "src" / "mini_torch", dest / "reference" / "src" / "mini_torch",
                    ignore=ignore)
    if (reference / "examples").is_dir():
        shutil.copytree(reference / "examples", dest / "reference" / "examples", ignore=ignore)
    # the one list of what the stage may use: the jail and the grader read it from the kit
    shutil.copyfile(reference / "pyproject.toml", dest / "reference" / "pyproject.toml")
    hidden_source = root / HIDDEN_TESTS / f"stage{stage}" / HIDDEN_FILE
    hidden = hidden and hidden_source.is_file()
    if hidden:
        target = dest / "tests" / "hidden_tests" / f"stage{stage}"
        target.mkdir(parents=True)
        shutil.copyfile(hidden_source, target / HIDDEN_FILE)
    kit = Kit(path=dest.resolve(), stage=stage, tasks=own_tasks(root, stage),
              own_files=own_files(root, stage), select=list(select), hidden=hidden)
    kit = kit.draw()
    if not kit.checks:
        raise InstructorError(f"no check of stage {stage} matches --select {list(select)}")
    names = kit.names
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InstructorError(f"two checks share a name: {', '.join(duplicates)}")
    weights = weights if weights is not None else default_weights_file(stage)
    if weights is not None:
        shutil.copyfile(weights, dest / "weights.json")
    kit.guides = guide_sections(root, kit.checks, stage)
    kit.keywords = test_keywords(root, kit.checks, stage)
    kit.save()
    private_tree(dest)
    if validate:  # refuses a check the reference fails, in any of a few draws
        for _ in range(VALIDATION_DRAWS):
            drawn = kit.draw()
            compute(drawn.checks, drawn.reference_dir)
    return kit
