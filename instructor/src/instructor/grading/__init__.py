"""Grading: submissions graded with trusted checks, student code shut in a jail per submission.

Follow a submission through the modules in the order it meets them:

1. :mod:`~instructor.grading.intake`: the submission is copied in as data (links, devices and
   oversized zips refused); :mod:`~instructor.grading.package_rule` finds its package (the same
   rule the noxfiles use);
2. :mod:`~instructor.grading.scan`: prohibited imports, read with :mod:`ast`, never run;
3. :mod:`~instructor.grading.kit`: the grader's copy of the checks
   (:mod:`instructor.grading.checks`) and of the reference stage, prepared once;
4. :mod:`~instructor.grading.jail`: the submission's jail (bubblewrap, a uid of its own, or
   none with ``--unisolated``), and the worker process inside it;
   :mod:`~instructor.grading.resources`: the jail's cgroup, the CPU meter of its checks and
   the sweep after it; :mod:`~instructor.grading.uids`: the run's own range of uids;
5. :mod:`~instructor.grading.worker`: the protocol, and the only code that shares a process
   with the student's: it runs the calls of a check and sends back plain arrays;
6. :mod:`~instructor.grading.oracle` and :mod:`~instructor.grading.verdicts`: the reference's
   answers and the comparison, in the trusted process;
7. :mod:`~instructor.grading.scoring`: which checks carry points (stage K's own tasks), and
   how many (the weights file);
8. :mod:`~instructor.grading.results`, :mod:`~instructor.grading.messages` and
   :mod:`~instructor.grading.reports`: the outcome, the student's words for it, the
   gradebook and the feedback; :mod:`instructor.gradescope.results` the Gradescope file;
   :mod:`~instructor.grading.outfolder` writes them after every jail is gone;

and :mod:`~instructor.grading.pipeline` runs the steps for one submission
(:mod:`~instructor.grading.running` its checks), :mod:`~instructor.grading.batch_run` a batch;
:func:`~instructor.grading.batch.grade` is the one entry the command line, nox and Gradescope
call: kit, weights, the jail chosen once for the batch, the grading and the reports.
"""

from __future__ import annotations

from instructor.grading.batch import BatchOptions, grade
from instructor.grading.batch_run import grade_batch
from instructor.grading.package_rule import PackageNotFound, find_package
from instructor.grading.pipeline import (
    GradeOptions,
    check_grader_environment,
    grade_submission,
    student_name,
    student_names,
)
from instructor.grading.results import CheckResult, SubmissionResult

__all__ = [
    "BatchOptions",
    "CheckResult",
    "GradeOptions",
    "PackageNotFound",
    "SubmissionResult",
    "check_grader_environment",
    "find_package",
    "grade",
    "grade_batch",
    "grade_submission",
    "student_name",
    "student_names",
]
