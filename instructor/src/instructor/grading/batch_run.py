"""Grading a batch: its submissions side by side, each in a jail of its own, then again, one
at a time, the checks whose first run was the grader's problem.

:func:`grade_batch` is what :func:`instructor.grading.batch.grade` (the one public entry)
runs once it has the kit, the weights and the batch's jail plan; :class:`Batch` is what that
entry returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading import oracle
from instructor.grading.jail import JailPlan
from instructor.grading.kit import Kit
from instructor.grading.pipeline import GradeOptions, grade_submission, plan_jails, student_names
from instructor.grading.results import SubmissionResult
from instructor.grading.scoring import Weights


@dataclass
class Batch:
    """A graded batch: the results in the submissions' order, how it was run, and where
    its reports are (:func:`instructor.grading.batch.grade`)."""

    results: list[SubmissionResult]
    plan: JailPlan
    retried: list[str] = field(default_factory=list)  # students whose checks ran twice
    out: Path | None = None  # the reports' folder


def grade_batch(
    kit: Kit,
    submissions: Sequence[Path],
    weights: Weights | None = None,
    options: GradeOptions | None = None,
    *,
    jobs: int = 2,
    progress: Callable[[SubmissionResult], None] | None = None,
    plan: JailPlan | None = None,
) -> list[SubmissionResult]:
    """Grade every submission, ``jobs`` at a time; results in the order of ``submissions``.

    Each submission gets a jail of its own. The checks whose first run was the grader's
    problem run again at the end, one submission at a time, and that run gives their verdict.
    When this returns, every jail is gone, so the reports can be written.

    Raises:
        InstructorError: no jail is possible here and ``options.unisolated`` is not set.
    """
    options = options or GradeOptions()
    owned = plan is None
    plan = plan or plan_jails(kit, options, len(submissions))
    names, clashes = student_names(submissions)
    try:
        oracle.compute(kit.checks, kit.reference_dir)  # once, before the submissions share it

        def grade(index: int) -> SubmissionResult:
            if index in clashes:
                result = SubmissionResult(names[index], Path(submissions[index]), kit.stage,
                                          status="refused", message=clashes[index])
                if progress is not None:
                    progress(result)
                return result
            result = grade_submission(kit, Path(submissions[index]), weights, options,
                                      student=names[index], jail=plan.for_submission(index))
            if progress is not None and not result.pending:
                progress(result)
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(grade, range(len(submissions))))
        for index, result in enumerate(results):
            pending = {c.name for c in result.pending}
            if not pending:
                continue
            result.notes.append(f"graded again, alone: {len(pending)} check(s) whose first "
                                "run was the grader's problem (" + ", ".join(sorted(pending))
                                [:200] + ")")
            grade_submission(kit, Path(submissions[index]), weights, options,
                             jail=plan.for_submission(index), only=pending, into=result)
            if progress is not None:
                progress(result)
        return results
    finally:
        if owned:
            plan.close()
