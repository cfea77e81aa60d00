"""Grading, the public entry points: grade submissions with trusted checks.

The parts, one module each:

- :mod:`instructor.grading.results`: the result model (a check's outcome, a submission's grade);
- :mod:`instructor.checks`: what is checked (calls, inputs, tolerances), stage by stage;
- :mod:`instructor.grading.kit`: the grader's copy of the checks and of the reference stage;
- :mod:`instructor.grading.worker` and :mod:`instructor.grading.jail`: where student code runs (an
  unprivileged worker process that only evaluates calls and returns plain arrays);
- :mod:`instructor.grading.oracle` and :mod:`instructor.grading.verdicts`: the reference's results and the
  comparison, in the trusted process;
- :mod:`instructor.grading.messages`: error messages pointing at the student's own lines;
- :mod:`instructor.grading.scoring`: which checks carry points (stage K's own tasks) and how many;
- :mod:`instructor.grading.pipeline`: one submission and a batch, end to end.
"""

from __future__ import annotations

from instructor.grading.results import CheckResult, SubmissionResult
from instructor.grading.pipeline import (
    GradeOptions,
    check_grader_environment,
    find_package,
    grade_batch,
    grade_submission,
    student_name,
    unique_names,
)

__all__ = [
    "CheckResult",
    "GradeOptions",
    "SubmissionResult",
    "check_grader_environment",
    "find_package",
    "grade_batch",
    "grade_submission",
    "student_name",
    "unique_names",
]
