"""The oracle: every check run once on the reference stage, at grading time.

The reference is the grader's own code (the kit's copy of the reference stage), so its worker
runs as the grader, outside any jail; it still runs in a worker process, so the
grader's process never imports ``mini_torch``. The results are decoded and kept in memory, one
set per kit, for every submission of the batch.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from instructor.grading.checks import Check
from instructor.grading.jail import (
    UnreadableAnswer,
    Worker,
    WorkerBackstop,
    WorkerCrash,
    WorkerTimeout,
)
from instructor.grading.verdicts import BadAnswer, decode, judge
from instructor.stages.dependencies import distribution_names, runtime_dependencies
from instructor.stages.repo import InstructorError


def _distributions(reference: Path) -> tuple[str, ...]:
    """The reference stage's dependencies (a kit's reference and a stage folder both hold its
    pyproject.toml); empty for a bare package folder (the repository's newest stage's then)."""
    if (reference / "pyproject.toml").is_file():
        return distribution_names(runtime_dependencies(reference))
    return ()

#: Seconds one check may take on the reference.
REFERENCE_LIMIT = 60.0

_CACHE: dict[tuple, dict[str, dict]] = {}
_COSTS: dict[tuple, dict[str, float]] = {}
_LOCK = threading.Lock()


def compute(checks: Sequence[Check], reference: Path) -> dict[str, dict]:
    """{check name: {output name: decoded value}} of the reference stage at ``reference``.

    Raises:
        InstructorError: the reference fails a check (the check is wrong, or the reference).
    """
    key = _key(checks, reference)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        results: dict[str, dict] = {}
        costs: dict[str, float] = {}
        with tempfile.TemporaryDirectory(prefix="mini-torch-oracle-") as scratch:
            worker = Worker(Path(scratch) / "install", Path(scratch) / "run",
                            site=reference / "src", examples=reference / "examples",
                            distributions=_distributions(reference))
            try:
                for check in checks:
                    try:
                        reply = worker.request({"steps": check.steps, "outputs": check.outputs},
                                               REFERENCE_LIMIT)
                    except (WorkerTimeout, WorkerCrash, WorkerBackstop,
                            UnreadableAnswer) as error:
                        raise InstructorError(
                            f"check {check.name}: the reference did not answer ({error!r})"
                        ) from error
                    if not reply.ok:
                        raise InstructorError(
                            f"check {check.name}: the reference raised "
                            f"{reply.error.get('type')}: {reply.error.get('message')}")
                    try:
                        outputs = {k: decode(v) for k, v in reply.outputs.items()}
                    except BadAnswer as error:
                        raise InstructorError(f"check {check.name}: {error}") from error
                    problem = judge(check, outputs, outputs)
                    if problem:
                        raise InstructorError(
                            f"check {check.name}: the reference fails it: {problem}")
                    results[check.name] = outputs
                    costs[check.name] = reply.cpu
            finally:
                worker.stop()
        _CACHE[key] = results
        _COSTS[key] = costs
        return results


def costs(checks: Sequence[Check], reference: Path) -> dict[str, float]:
    """{check name: CPU seconds the reference took for it} (computing the answers if needed)."""
    compute(checks, reference)
    return _COSTS[_key(checks, reference)]


def _key(checks: Sequence[Check], reference: Path) -> tuple:
    programs = json.dumps([[c.name, c.steps, c.outputs] for c in checks], sort_keys=True)
    return (str(reference.resolve()), hashlib.sha256(programs.encode()).hexdigest())
