"""The output folder of ``grade``, written as each submission finishes::

    gradebook.csv                  student, score, max, stageN, hidden, reported, integrity,
                                   status, message, seconds, cpu_seconds, isolation
    feedback/<student>.txt         the failed checks grouped by their error, with what to do
    results/<student>/results.json Gradescope's format (hidden checks shown after publication)
    logs/<student>.log             for staff, when there is anything: why a worker ended (the end
                                   of its standard error), the grader's own tracebacks

The texts are :mod:`instructor.grading.reports` and :mod:`instructor.gradescope.results`; every
file is created by :mod:`instructor.grading.safe`, so nothing planted in the folder is followed
or overwritten.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from instructor.gradescope.results import gradescope_text
from instructor.grading.reports import feedback_text, gradebook_text, log_text
from instructor.grading.results import SubmissionResult
from instructor.grading.safe import file_key, file_name, make_out_folder, write_new_file


class Reports:
    """The output folder of a batch, written as each submission finishes (:meth:`add`), the
    gradebook at the end (:meth:`finish`): a batch that stops half way keeps the reports of
    what it graded, and one report that cannot be written is that submission's
    ``grader_error``, never the batch's end.

    Every file is named by :func:`~instructor.grading.safe.file_name` of its student, which
    cannot collide; two results whose names differ only in case (one file on macOS or
    Windows) get no files of their own (the gradebook names both: the grader refuses such a
    pair, see :func:`instructor.grading.pipeline.student_names`).

    Raises:
        InstructorError: ``out`` cannot be the grader's own new folder.
    """

    def __init__(self, out: Path) -> None:
        make_out_folder(out)
        os.mkdir(out / "feedback", 0o700)
        os.mkdir(out / "results", 0o700)
        self.out = out
        self._owners: dict[str, Path] = {}  # file_key -> the source that owns those files
        self._added: set[int] = set()
        self._lock = threading.Lock()

    def add(self, result: SubmissionResult) -> None:
        """Write (or write again, after a retry) the files of one submission."""
        with self._lock:
            self._added.add(id(result))
            key = file_key(result.student)
            owner = self._owners.setdefault(key, result.source)
            if owner != result.source:
                result.notes.append("no feedback or results file: another submission's name "
                                    "gives the same file name")
                return
            try:
                self._write(result, file_name(result.student))
            except (OSError, ValueError) as error:
                result.status = "grader_error"
                result.message = f"the grader could not write this submission's reports ({error})"
                result.log.append(f"writing the reports: {error!r}")

    def _write(self, result: SubmissionResult, name: str) -> None:
        feedback = self.out / "feedback" / f"{name}.txt"
        folder = self.out / "results" / name
        log = self.out / "logs" / f"{name}.log"
        for path in (feedback, folder / "results.json", log):
            if path.is_file() and not path.is_symlink():
                path.unlink()  # the first run's file of this same submission, after a retry
        write_new_file(feedback, feedback_text(result))
        if not folder.is_dir():
            os.mkdir(folder, 0o700)
        write_new_file(folder / "results.json", gradescope_text(result))
        if result.log or any(c.retried for c in result.checks):
            if not (self.out / "logs").is_dir():
                os.mkdir(self.out / "logs", 0o700)
            write_new_file(log, log_text(result))

    def finish(self, results: Sequence[SubmissionResult]) -> None:
        """Write the files of any result not added yet, then the gradebook: one row per result."""
        for result in results:
            if id(result) not in self._added:
                self.add(result)
        with self._lock:
            write_new_file(self.out / "gradebook.csv", gradebook_text(results))


def write_reports(results: Sequence[SubmissionResult], out: Path) -> None:
    """Write the gradebook, the feedback and the Gradescope results of a batch into ``out``,
    a folder this creates (see :class:`Reports`).

    Raises:
        InstructorError: ``out`` cannot be the grader's own new folder.
    """
    reports = Reports(out)
    for result in results:
        reports.add(result)
    reports.finish(results)
