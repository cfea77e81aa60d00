"""Grading a batch for a roster: which submissions are graded, and the term gradebook after.

``grade --roster FILE [--term FILE --extensions FILE --late-days-from GRADES]``:
:func:`select_submissions` matches each submission to its roster student before grading (two
submissions of one student are both refused, each naming the other; a submission with no roster
row is graded and reported as ``unknown``); :func:`write_term_results` then replaces grade's
gradebook by the term's, one row per roster student (:mod:`instructor.course.gradebook`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from instructor.course.gradebook import write_term_gradebook
from instructor.course.lateness import read_term
from instructor.course.roster import Matching, match_submissions, read_roster
from instructor.grading.pipeline import student_name
from instructor.grading.results import SubmissionResult
from instructor.stages.repo import InstructorError


def select_submissions(submissions: Sequence[Path], roster: Path,
                       say: Callable[[str], None] = print) -> tuple[Matching, list[Path]]:
    """The roster's matching, and the submissions to grade (the refused ones left out).

    Raises:
        InstructorError: every submission was refused.
    """
    matching = match_submissions([student_name(path) for path in submissions],
                                 read_roster(roster))
    refused = {name for row in matching.rows if row.refused
               for name in row.submission.split(", ")}
    for row in matching.rows:
        if row.refused:
            say(f"refused: {row.refused}")
    for name in matching.unknown:
        say(f"{name}: no roster row matches it: graded, reported as unknown")
    kept = [path for path in submissions if student_name(path) not in refused]
    if not kept:
        raise InstructorError("every submission was refused: nothing to grade")
    return matching, kept


def write_term_results(out: Path, matching: Matching, stage: int | None,
                       results: Sequence[SubmissionResult], submissions: Sequence[Path], *,
                       term: Path | None = None, extensions: Path | None = None,
                       late_days_from: Sequence[Path] = ()) -> None:
    """The term gradebook of a graded batch, with the lateness of ``term`` when given."""
    write_term_gradebook(
        out, matching, results[0].stage if results else stage,
        max((r.max_score for r in results), default=0.0), submissions,
        deadlines=read_term(term, extensions) if term is not None else None,
        earlier=late_days_from)
