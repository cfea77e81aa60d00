"""What Gradescope tells an autograder about a submission: when, for what due date, how often.

Gradescope writes ``/autograder/submission_metadata.json`` beside every submission (its documented
fields: ``created_at``, the submission time; ``assignment`` with ``due_date``, ``late_due_date``,
``title`` and ``total_points``; ``users``, each with ``email``, ``id`` and ``name``;
``previous_submissions``, each with ``submission_time``, ``score`` and ``results``).
:func:`read_metadata` reads the fields the course needs and refuses a file without them;
:func:`decide` applies the term's late policy to ``created_at`` and an optional limit on the
number of submissions.

As Gradescope's own guide advises for rate limits, every time is taken from the metadata, never
from the clock, so that a rerun of the autograder gives the same result; and a submission over
the limit is not graded: the student keeps the results of their last graded submission, with a
message saying why.

A student's extension comes from the term's extensions file (matched by the user's email or
Gradescope id) when the autograder was built with one, else from the assignment's own
``due_date``. A late-day budget spans the whole term, which one assignment's autograder cannot
see: on Gradescope each stage is held to ``max_days`` and the budget is settled when the term's
grades are exported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from instructor.course.lateness import Lateness, LatePolicy, assess, parse_time
from instructor.stages.repo import InstructorError

#: A metadata file is small (a few kB, plus the previous results); a larger one is not read.
MAX_METADATA_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Previous:
    submitted: datetime
    score: float
    results: dict


@dataclass(frozen=True)
class SubmissionMetadata:
    created_at: datetime
    due: datetime | None
    late_due: datetime | None
    title: str
    emails: tuple[str, ...]
    user_ids: tuple[str, ...]
    previous: tuple[Previous, ...] = field(default=())


def _time(value, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise InstructorError(f"{where}: expected an ISO time, found {value!r}")
    return parse_time(value, where)


def read_metadata(path: str | Path) -> SubmissionMetadata:
    """The fields of ``submission_metadata.json`` the late policy and the limit need."""
    path = Path(path)
    if path.stat().st_size > MAX_METADATA_BYTES:
        raise InstructorError(f"{path}: larger than {MAX_METADATA_BYTES} bytes")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        assignment = data.get("assignment") or {}
        users = data.get("users") or []
        created = _time(data["created_at"], f"{path}: created_at")
        previous = tuple(
            Previous(_time(entry["submission_time"], f"{path}: previous submission_time"),
                     float(entry.get("score") or 0.0), entry.get("results") or {})
            for entry in data.get("previous_submissions") or [])
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise InstructorError(f"{path}: not Gradescope's submission metadata ({error!r}); "
                              f"expected created_at, assignment and previous_submissions") \
            from error
    if created is None:
        raise InstructorError(f"{path}: created_at is empty")
    return SubmissionMetadata(
        created_at=created,
        due=_time(assignment.get("due_date"), f"{path}: assignment.due_date"),
        late_due=_time(assignment.get("late_due_date"), f"{path}: assignment.late_due_date"),
        title=str(assignment.get("title") or ""),
        emails=tuple(str(u.get("email") or "").casefold() for u in users if isinstance(u, dict)),
        user_ids=tuple(str(u.get("id") or "") for u in users if isinstance(u, dict)),
        previous=previous,
    )


@dataclass(frozen=True)
class Decision:
    """Grade it (with its lateness), or keep the last graded results (over the limit)."""

    grade: bool
    lateness: Lateness | None  # None: no due date is known
    message: str = ""
    kept: Previous | None = None  # over the limit: the results the student keeps


def decide(meta: SubmissionMetadata, policy: LatePolicy, *, max_submissions: int | None = None,
           extensions: dict[str, datetime] | None = None) -> Decision:
    """Apply the limit (counted over ``previous_submissions``) and the late policy.

    ``extensions`` maps a student's email (case folded) or Gradescope user id to their own due
    date for this stage.
    """
    if max_submissions is not None and len(meta.previous) >= max_submissions:
        kept = max(meta.previous, key=lambda p: p.submitted)
        return Decision(False, None, (
            f"This is submission {len(meta.previous) + 1}; this assignment grades at most "
            f"{max_submissions}. It was not graded: your score stays that of your submission "
            f"of {kept.submitted.isoformat()}."), kept)
    due = meta.due
    for key in (*meta.emails, *meta.user_ids):
        if extensions and key in extensions:
            due = extensions[key]
            break
    if due is None:
        return Decision(True, None)
    lateness = assess(meta.created_at, due, policy)
    if not lateness.accepted:
        message = (f"Submitted {lateness.days_late} day(s) after the due date "
                   f"{due.isoformat()}; the course takes work at most {policy.max_days} day(s) "
                   f"late, so this submission scores 0.")
    elif lateness.days_late and policy.kind == "late_days":
        message = f"{lateness.days_late} late day(s) used on this stage."
    elif lateness.days_late:
        message = (f"{lateness.days_late} day(s) late: {lateness.penalty_percent:g} % of the "
                   f"score is taken off.")
    else:
        message = ""
    return Decision(True, lateness, message)
