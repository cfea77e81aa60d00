"""Scoring: which checks carry points at a stage, and how many.

- A check of one of stage K's own tasks (a function the stage-K release stubs, see
  :func:`own_tasks`) carries points. Every other check (code handed out
  solved: earlier stages' files, given input checks) weighs 0 and is only reported. A hidden
  check is scored by the same rule (it names the task it checks).
- Points per scored check come from a weights file (fnmatch patterns of check names, first
  match wins, default 1; see below); a stage graded without one gets its default weights
  (:func:`default_weights_file`).
- A prohibited import is an integrity finding; the policy says what it costs: ``zero`` (score 0,
  the checks are not run) or ``flag`` (reported, the checks score as usual).
"""

from __future__ import annotations

import fnmatch
import json
import math
from pathlib import Path

from instructor.grading.checks import Check
from instructor.stages.markers import enclosing_names, find_regions
from instructor.stages.repo import PACKAGE_SUBDIR, InstructorError, stage_dir

POLICIES = ("zero", "flag")


# --- points per check: the weights file ---------------------------------------------------------
#
# A weights file is a JSON object mapping fnmatch patterns of check names to points::
#
#     {
#       "hidden/*": 2,
#       "stage3/CrossEntropyLoss.*[smoothing]": 1.5,
#       "stage3/*": 1
#     }
#
# The patterns are tried in the file's order and the first that matches a check gives its points;
# a check no pattern matches is worth :data:`DEFAULT_POINTS`. ``*`` matches across ``/``. A check
# name reads ``stage3/MSELoss.forward[mean]`` (``hidden/`` in front for a hidden check).

DEFAULT_POINTS = 1.0

#: The weights each stage is graded with when no weights file is given: ``weights/stageK.json``
#: beside this module. Every scored check of stage K is worth the same points, chosen so that
#: the stage's total (public and hidden checks) is about one point per line of code of the
#: reference's solution regions: the stage's work, whatever number of checks it takes to cover
#: it (docs/instructor.md, "Weights").
STAGE_WEIGHTS = Path(__file__).resolve().parent / "weights"


def default_weights_file(stage: int) -> Path | None:
    """The weights file of stage ``stage`` shipped with the instructor package, if any."""
    path = STAGE_WEIGHTS / f"stage{stage}.json"
    return path if path.is_file() else None


class Weights:
    """The ordered (pattern, points) rules of a weights file."""

    def __init__(self, rules: list[tuple[str, float]] | None = None) -> None:
        self.rules = list(rules or [])

    def points(self, nodeid: str) -> float:
        """The points ``nodeid`` is worth: the first matching rule's, else the default."""
        for pattern, points in self.rules:
            if fnmatch.fnmatchcase(nodeid, pattern):
                return points
        return DEFAULT_POINTS

    def unused(self, nodeids: list[str]) -> list[str]:
        """The patterns that match none of ``nodeids`` (most likely a typo)."""
        return [p for p, _ in self.rules if not any(fnmatch.fnmatchcase(n, p) for n in nodeids)]


def load_weights(path: Path | None) -> Weights:
    """Read a weights file; ``None`` gives 1 point per test.

    Raises:
        InstructorError: the file is missing, not JSON, or not an object of numbers >= 0.
    """
    if path is None:
        return Weights()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InstructorError(f"--weights {path}: cannot read it as JSON ({error})") from error
    if not isinstance(data, dict):
        raise InstructorError(
            f'--weights {path}: expected a JSON object {{"pattern": points, ...}}, '
            f"got {type(data).__name__}"
        )
    rules = []
    for pattern, points in data.items():
        valid = isinstance(points, (int, float)) and not isinstance(points, bool)
        if not valid or not math.isfinite(points) or points < 0:
            raise InstructorError(
                f"--weights {path}: {pattern!r} is worth {points!r}; points must be numbers >= 0"
            )
        rules.append((pattern, float(points)))
    return Weights(rules)


# --- which checks carry points -----------------------------------------------------------------


def own_files(root: Path, stage: int) -> list[str]:
    """Stage ``stage``'s own files (``src/mini_torch/...`` new in it, and its examples)."""
    folder = stage_dir(root, stage)
    previous = stage_dir(root, stage - 1) if stage > 1 else None
    files = []
    package = folder / PACKAGE_SUBDIR
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if previous is not None and (previous / PACKAGE_SUBDIR / relative).is_file():
            continue
        files.append(f"src/mini_torch/{relative}")
    files += [f"examples/{p.name}" for p in sorted((folder / "examples").glob("*.py"))]
    return files


def own_tasks(root: Path, stage: int) -> list[str]:
    """The qualified names of the solution regions of stage ``stage``'s own files.

    The same names the release's stubs carry: ``mini_torch.nn.loss.MSELoss.forward``,
    ``examples/train_sine.py:train_step``.
    """
    folder = stage_dir(root, stage)
    tasks = []
    for file in own_files(root, stage):
        text = (folder / file).read_text(encoding="utf-8")
        regions = find_regions(text, file)
        if not regions:
            continue
        names = enclosing_names(text, file)
        if file.startswith("examples/"):
            owner = f"{file}:"
        else:
            owner = "mini_torch." + file[len("src/mini_torch/"):-3].replace("/", ".")
            owner = owner.removesuffix(".__init__")
        for region in regions:
            scope = names.get(region.begin, "")
            if owner.endswith(":"):
                tasks.append(f"{owner}{scope}" if scope else owner.rstrip(":"))
            else:
                tasks.append(f"{owner}.{scope}" if scope else owner)
    return tasks


def is_scored(check: Check, tasks: set[str]) -> bool:
    """Whether ``check`` carries points when the tasks of the graded stage are ``tasks``."""
    return not check.given and check.task in tasks


def max_points(check: Check, tasks: set[str], weights: Weights) -> float:
    return weights.points(check.name) if is_scored(check, tasks) else 0.0
