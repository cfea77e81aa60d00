"""The Gradescope autograder: a zip that grades one submission the way ``grade`` does.

``python -m instructor autograder --stage 3 --out stage3-autograder.zip`` writes a zip holding::

    setup.sh           run once by Gradescope: Python, the packages, the instructor tools in a
                       virtualenv every user can read; creates the unprivileged user student
                       code runs as (``minitorch-student``); makes the kit readable by root only
    run_autograder     run per submission: ``python -m instructor grade --kit ...`` on
                       /autograder/submission; always leaves /autograder/results/results.json
    requirements.txt   the third-party packages (the stage's dependencies)
    instructor/        this package's source, installed by setup.sh
    kit/               the grading kit (instructor.grading.kit): the checks, hidden ones
                       included, and the reference stage they are compared with; the weights (the
                       stage's own unless --weights names a file)
    course.json        with --term, --extensions/--roster or --max-submissions: the late
                       policy, the due date, the students' own and the limit
                       (instructor.gradescope.rules), applied to submission_metadata.json

Both scripts take their root folder from ``AUTOGRADER_ROOT`` (default ``/autograder``), so they
can be tried on a local folder laid out like Gradescope's (``source/``, ``submission/``,
``results/``); ``AUTOGRADER_SKIP_INSTALL=1`` makes setup.sh skip installing, and
``AUTOGRADER_PYTHON`` names the interpreter to use.

Time: Gradescope's default limit is 10 minutes a submission. The checks get ``budget`` seconds
(default 420) and each ``timeout`` seconds (default 10); run_autograder stops the whole run
at ``budget + OVERALL_MARGIN`` seconds (default 540) and still writes a results.json.
"""

from __future__ import annotations

import stat
import tempfile
import zipfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from instructor.gradescope.rules import RULES_FILE, GradescopeRules
from instructor.grading.kit import build_kit
from instructor.grading.scoring import default_weights_file, is_scored, load_weights
from instructor.stages.dependencies import import_names, runtime_dependencies
from instructor.stages.repo import InstructorError, is_build_artifact, stage_dir

#: What the grading runs need besides the stage's own dependencies (nothing: the worker and
#: the grader use the standard library and numpy).
GRADER_REQUIREMENTS: list[str] = []

#: Seconds the scripts allow beyond the checks' budget: unpacking, the oracle, the reports.
OVERALL_MARGIN = 120
#: Gradescope's default time limit of a submission, in seconds.
GRADESCOPE_LIMIT = 600
#: The unprivileged account setup.sh creates; student code runs as it.
STUDENT_USER = "minitorch-student"

_EXECUTABLE = 0o755
_REGULAR = 0o644


def stage_requirements(root: Path, stage: int) -> list[str]:
    """The ``[project] dependencies`` of the stage's pyproject.toml, plus the grader's own."""
    return runtime_dependencies(stage_dir(root, stage)) + GRADER_REQUIREMENTS


def _script(name: str, values: dict[str, str]) -> str:
    text = resources.files("instructor").joinpath("gradescope", name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def _add(archive: zipfile.ZipFile, name: str, data: bytes, mode: int = _REGULAR) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def _add_tree(archive: zipfile.ZipFile, folder: Path, prefix: str) -> int:
    count = 0
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not is_build_artifact(Path(relative.as_posix())):
            mode = _EXECUTABLE if path.stat().st_mode & stat.S_IXUSR else _REGULAR
            _add(archive, f"{prefix}/{relative.as_posix()}", path.read_bytes(), mode)
            count += 1
    return count


def build_autograder(
    root: Path,
    stage: int,
    out: Path,
    *,
    weights: Path | None = None,
    timeout: float = 10.0,
    budget: float = 420.0,
    policy: str = "zero",
    select: Sequence[str] = (),
    hidden: bool = True,
    course: GradescopeRules | None = None,
) -> str:
    """Write the autograder zip of ``stage`` to ``out``; return a one-line summary.

    Raises:
        InstructorError: no such stage, a bad weights file, a check the reference fails, or a
            budget that does not fit Gradescope's default limit.
    """
    if budget + OVERALL_MARGIN > GRADESCOPE_LIMIT:
        raise InstructorError(
            f"--budget {budget:g}: with {OVERALL_MARGIN} s for the rest, a submission would take "
            f"up to {budget + OVERALL_MARGIN:g} s, over Gradescope's default limit of "
            f"{GRADESCOPE_LIMIT} s; use --budget {GRADESCOPE_LIMIT - OVERALL_MARGIN} or less "
            "(or raise the assignment's limit and build with a larger value knowingly)")
    if out.suffix != ".zip":
        raise InstructorError(f"--out {out}: the autograder must be a .zip file")
    package = root / "instructor"
    if not (package / "pyproject.toml").is_file():
        raise InstructorError(f"{package}: the instructor package source is missing")
    weights = weights if weights is not None else default_weights_file(stage)
    rules = load_weights(weights)  # refuse a bad weights file before anything is built
    with tempfile.TemporaryDirectory(prefix="autograder-") as scratch:
        kit = build_kit(root, stage, Path(scratch) / "kit", hidden=hidden, select=select,
                        weights=weights)
        tasks = set(kit.tasks)
        max_score = sum(rules.points(c.name) for c in kit.checks if is_scored(c, tasks))
        values = {
            "STAGE": str(stage),
            "TIMEOUT": f"{timeout:g}",
            "BUDGET": f"{budget:g}",
            "POLICY": policy,
            "MAX_SCORE": f"{max_score:g}",
            "OVERALL_LIMIT": str(int(budget) + OVERALL_MARGIN),
            "STUDENT_USER": STUDENT_USER,
            # what setup.sh checks the grading Python imports
            "IMPORTS": ", ".join(["instructor", *import_names(stage_requirements(root, stage))]),
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w") as archive:
            _add(archive, "setup.sh", _script("setup.sh", values).encode(), _EXECUTABLE)
            _add(archive, "run_autograder", _script("run_autograder", values).encode(),
                 _EXECUTABLE)
            requirements = "\n".join(stage_requirements(root, stage)) + "\n"
            _add(archive, "requirements.txt", requirements.encode())
            _add(archive, "instructor/pyproject.toml", (package / "pyproject.toml").read_bytes())
            _add_tree(archive, package / "src", "instructor/src")
            files = _add_tree(archive, kit.path, "kit")
            if course is not None:
                _add(archive, RULES_FILE, course.to_json().encode())
    hidden_count = sum(1 for c in kit.checks if c.hidden)
    rules_text = "" if course is None else (
        f"; due {course.due.isoformat() if course.due else 'as the assignment says'}, "
        f"{course.policy.kind} policy, {len(course.extensions)} extension(s), "
        f"{course.max_submissions or 'unlimited'} submission(s)")
    return (
        f"wrote {out}: stage {stage}, {len(kit.checks)} checks ({hidden_count} hidden)"
        f"{rules_text}, "
        f"max score {max_score:g}, {files} kit files; upload it as the Gradescope autograder "
        f"(a submission takes at most {int(budget) + OVERALL_MARGIN} s, within Gradescope's "
        f"default {GRADESCOPE_LIMIT} s)"
    )
