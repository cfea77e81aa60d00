"""The stage consistency check: what stage K fixed, stage K+1 still holds, unchanged.

For every pair of consecutive stages K, K+1 (consecutive among the stages that exist):

1. **Carried files.** Every file under ``stages/stageK/src/mini_torch`` exists byte-identical in
   ``stages/stageK+1/src/mini_torch``. The ``__init__.py`` files only have to exist: they re-export
   more names in each stage.
2. **Public names.** Every public name of stage K (the top-level package, every public submodule,
   the public methods of every public class) still exists in stage K+1 with the same signature.
   Each stage is imported in its own subprocess (:mod:`instructor.stages.introspect`), with
   only that stage's ``src`` folder on ``PYTHONPATH``, so two stages never share an interpreter.

:func:`check_repo` returns a :class:`CheckReport`; the ``check`` command prints it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from instructor.stages.repo import (
    InstructorError,
    display_path,
    package_dir,
    package_files,
    stage_dir,
    stage_numbers,
)

#: The script that prints one stage's public API as JSON, run as a file in a subprocess.
INTROSPECT_SCRIPT = Path(__file__).with_name("introspect.py")

#: Seconds one stage may take to import before the check gives up on it.
INTROSPECT_TIMEOUT = 300

# The name of an ``__init__.py`` file: it must be carried forward, but its content may change.
INIT_FILE = "__init__.py"


class IntrospectionError(Exception):
    """A stage could not be imported (or its API not read) in the subprocess."""


@dataclass
class CheckReport:
    """The outcome of :func:`check_repo`.

    Attributes:
        stages: the stage numbers that were compared, ascending.
        problems: one human-readable line per offending file or name.
        files_checked: how many (file, next stage) pairs were compared.
        names_checked: how many (public name, next stage) pairs were compared.
        signatures_checked: False when the signature part was skipped (``--files-only``).
    """

    stages: list[int]
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    names_checked: int = 0
    signatures_checked: bool = True

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def summary(self) -> str:
        """The last line the ``check`` command prints."""
        if len(self.stages) < 2:
            only = ", ".join(f"stage{stage}" for stage in self.stages) or "no stage"
            return f"nothing to compare: {only} only"
        span = f"stages {self.stages[0]}-{self.stages[-1]}"
        counts = f"{self.files_checked} carried files, "
        if self.signatures_checked:
            counts += f"{self.names_checked} public names"
        else:
            counts += "signatures not checked"
        if self.ok:
            return f"{span} consistent: {counts}"
        return (
            f"{span} inconsistent: {len(self.problems)} problem(s) in {counts}; "
            "copy a fixed file forward with `python -m instructor carry [--from-stage K] PATH`"
        )


def compare_files(root: Path, old: int, new: int) -> tuple[list[str], int]:
    """Compare the package files of stage ``old`` with those of stage ``new``.

    Returns:
        (problems, number of files compared). A problem reads
        ``stage1 -> stage2: src/mini_torch/functional.py differs`` (or ``is missing``).
    """
    old_package, new_package = package_dir(root, old), package_dir(root, new)
    prefix = f"stage{old} -> stage{new}"
    problems = []
    files = package_files(old_package)
    for relative in files:
        new_file = new_package / relative
        if not new_file.is_file():
            problems.append(f"{prefix}: {display_path(relative)} is missing")
        elif relative.name != INIT_FILE and (
            new_file.read_bytes() != (old_package / relative).read_bytes()
        ):
            problems.append(f"{prefix}: {display_path(relative)} differs")
    return problems, len(files)


def introspect_stage(root: Path, stage: int) -> dict[str, str]:
    """The public API of one stage, read by importing it in a fresh subprocess.

    Returns:
        ``{qualified name: signature or "<class>" / "<module>" / "<value>"}``.

    Raises:
        IntrospectionError: the stage (or one of its modules) failed to import.
    """
    src = stage_dir(root, stage) / "src"
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(src),  # this stage only
        MPLBACKEND="Agg",  # importing matplotlib must not need a display
        PYTHONDONTWRITEBYTECODE="1",  # leave no __pycache__ behind in the stage folders
    )
    try:
        result = subprocess.run(
            [sys.executable, str(INTROSPECT_SCRIPT), str(src)],
            env=env,
            capture_output=True,
            text=True,
            timeout=INTROSPECT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise IntrospectionError(f"importing took more than {error.timeout} s") from error
    if result.returncode != 0:
        message = "; ".join(line for line in result.stderr.splitlines() if line.strip())
        raise IntrospectionError(message or f"exit status {result.returncode}")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as error:
        raise IntrospectionError(f"unreadable output ({error}): {result.stdout[:200]!r}") from error


def compare_api(old_api: dict[str, str], new_api: dict[str, str], prefix: str) -> list[str]:
    """Problems for every name of ``old_api`` that ``new_api`` lacks or describes differently.

    A problem reads ``stage1 -> stage2: mini_torch.functional.relu removed`` or
    ``stage1 -> stage2: mini_torch.functional.relu signature changed: (x) -> (x, y)``.
    Names that only ``new_api`` has are fine: a later stage may add to the API.
    """
    problems = []
    for name, old_signature in sorted(old_api.items()):
        if name not in new_api:
            problems.append(f"{prefix}: {name} removed")
        elif new_api[name] != old_signature:
            problems.append(
                f"{prefix}: {name} signature changed: {old_signature} -> {new_api[name]}"
            )
    return problems


def _stage_apis(root: Path, stages: list[int]) -> tuple[dict[int, dict[str, str]], list[str]]:
    """Introspect every stage once; return the APIs that could be read and a problem per failure.

    The subprocesses run side by side: each spends most of its time importing numpy, scipy and
    matplotlib, so waiting for them one after the other would multiply that time by the stages.
    """
    apis, problems = {}, []
    with ThreadPoolExecutor(max_workers=len(stages)) as pool:
        futures = {stage: pool.submit(introspect_stage, root, stage) for stage in stages}
    for stage, future in futures.items():
        try:
            apis[stage] = future.result()
        except IntrospectionError as error:
            problems.append(f"stage{stage}: cannot read the public names: {error}")
    return apis, problems


def check_repo(root: Path, *, files_only: bool = False) -> CheckReport:
    """Check every pair of consecutive stages of the repository at ``root``.

    Args:
        root: the monorepo root (holds ``stages/``).
        files_only: compare the carried files only; skip importing the stages.

    Raises:
        InstructorError: the repository has no stage at all.
    """
    stages = stage_numbers(root)
    if not stages:
        raise InstructorError(f"{root / 'stages'}: no stage folder with src/mini_torch in it")
    report = CheckReport(stages=stages, signatures_checked=not files_only)
    pairs = list(zip(stages, stages[1:]))

    for old, new in pairs:
        problems, count = compare_files(root, old, new)
        report.problems += problems
        report.files_checked += count

    if files_only or not pairs:
        return report
    apis, problems = _stage_apis(root, stages)
    report.problems += problems
    for old, new in pairs:
        if old in apis and new in apis:
            report.problems += compare_api(apis[old], apis[new], f"stage{old} -> stage{new}")
            report.names_checked += len(apis[old])
    return report
