"""Due dates, extensions and the late policy of a term.

The term's file (``term.json`` in the staff folder, written by the term template from its
configuration) holds each stage's due date and the late policy::

    {"due": {"1": "2027-01-25T23:59:00-05:00", "2": "2027-02-08T23:59:00-05:00"},
     "late_policy": {"kind": "percent", "percent_per_day": 10, "cap_percent": 50,
                     "max_days": 5, "grace_minutes": 15}}

An extensions file (CSV, ``student,stage,due``; ``student`` is the roster id) gives one student a
due date of their own for one stage.

Two policies, as courses run them on Gradescope and GitHub Classroom:

- ``percent`` (the default): every day or part of a day late costs ``percent_per_day`` of the
  raw score, at most ``cap_percent``; work more than ``max_days`` late is not taken;
- ``late_days``: each student has ``budget`` late days for the whole term, spent a whole day at
  a time (a day or part of one late spends one); work is taken while the student has days left,
  at most ``max_days`` on one stage, and costs nothing.

A submission within ``grace_minutes`` of its due date is on time (uploads and pushes take a
moment). :func:`cutoff` is the last moment work is still taken, which ``collect`` uses as the
student's own deadline; :func:`assess` says what a submission's time costs.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from instructor.stages.repo import InstructorError

DAY = timedelta(days=1)
KINDS = ("percent", "late_days")


def parse_time(text: str, where: str) -> datetime:
    """An ISO 8601 time with its UTC offset (a time without one is refused: whose midnight?)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as error:
        raise InstructorError(f"{where}: {text!r} is not an ISO time "
                              f"(like 2027-01-25T23:59:00-05:00)") from error
    if moment.tzinfo is None:
        raise InstructorError(f"{where}: {text!r} has no UTC offset; write it as "
                              f"{text.strip()}+00:00 or with the course's own offset")
    return moment


@dataclass(frozen=True)
class LatePolicy:
    kind: str = "percent"
    percent_per_day: float = 10.0  # percent: what one day late costs
    cap_percent: float = 50.0  # percent: the most a late submission loses
    budget: int = 5  # late_days: the days each student may spend in the term
    max_days: int = 5  # both: work later than this many days is not taken
    grace_minutes: float = 15.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InstructorError(f"late policy: kind {self.kind!r}; expected one of {KINDS}")
        for name in ("percent_per_day", "cap_percent", "budget", "max_days", "grace_minutes"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise InstructorError(f"late policy: {name} = {value!r}; expected a number >= 0")
        if self.cap_percent > 100:
            raise InstructorError(f"late policy: cap_percent = {self.cap_percent}; at most 100")

    @classmethod
    def from_dict(cls, data: dict) -> LatePolicy:
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise InstructorError(f"late policy: unknown keys {unknown}; known: "
                                  f"{sorted(cls.__dataclass_fields__)}")
        return cls(**data)


@dataclass(frozen=True)
class Lateness:
    """What a submission's time costs."""

    days_late: int  # whole days (a part of a day counts as one); 0: on time
    accepted: bool  # False: later than the policy takes (graded as not handed in)
    penalty_percent: float  # of the raw score
    late_days_used: int = 0  # late_days: spent on this stage
    late_days_left: int | None = None  # late_days: left after this stage; None: percent policy

    def final(self, raw: float) -> float:
        return 0.0 if not self.accepted else raw * (1.0 - self.penalty_percent / 100.0)


def days_late(submitted: datetime, due: datetime, policy: LatePolicy) -> int:
    late = submitted - due - timedelta(minutes=policy.grace_minutes)
    if late <= timedelta(0):
        return 0
    return math.ceil(late / DAY)


def allowed_days(policy: LatePolicy, used_before: int = 0) -> int:
    """How many days late work of a stage may be, given the late days spent on earlier ones."""
    if policy.kind == "late_days":
        return max(0, min(policy.max_days, policy.budget - used_before))
    return policy.max_days


def cutoff(due: datetime, policy: LatePolicy, used_before: int = 0) -> datetime:
    """The last moment work is taken: the due date, the grace, and the days the policy allows."""
    return due + timedelta(minutes=policy.grace_minutes) + allowed_days(policy, used_before) * DAY


def assess(submitted: datetime, due: datetime, policy: LatePolicy,
           used_before: int = 0) -> Lateness:
    """The lateness of work handed in at ``submitted`` for a stage due at ``due``."""
    late = days_late(submitted, due, policy)
    accepted = late <= allowed_days(policy, used_before)
    if policy.kind == "late_days":
        used = late if accepted else 0
        return Lateness(late, accepted, 0.0, used, policy.budget - used_before - used)
    penalty = min(policy.cap_percent, late * policy.percent_per_day) if accepted else 100.0
    return Lateness(late, accepted, penalty)


@dataclass
class Deadlines:
    """Each stage's due date, the students' own where an extension gives one, and the policy."""

    due: dict[int, datetime]
    policy: LatePolicy
    extensions: dict[tuple[str, int], datetime]

    def due_for(self, student: str, stage: int) -> datetime:
        if (student, stage) in self.extensions:
            return self.extensions[(student, stage)]
        if stage not in self.due:
            raise InstructorError(f"no due date for stage {stage} (the term file gives stages "
                                  f"{sorted(self.due)}); add it under \"due\"")
        return self.due[stage]


def read_term(path: str | Path, extensions: str | Path | None = None) -> Deadlines:
    """The due dates and the late policy of ``term.json``, with an optional extensions file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InstructorError(f"{path}: cannot read the term file ({error})") from error
    if not isinstance(data, dict) or not isinstance(data.get("due"), dict):
        raise InstructorError(f"{path}: expected an object with \"due\": {{\"1\": ISO time, "
                              f"...}} and optionally \"late_policy\"")
    due = {}
    for stage, text in data["due"].items():
        if not str(stage).isdigit():
            raise InstructorError(f"{path}: due date key {stage!r}; expected a stage number")
        due[int(stage)] = parse_time(str(text), f"{path}: due date of stage {stage}")
    policy = LatePolicy.from_dict(data.get("late_policy", {}))
    return Deadlines(due, policy, read_extensions(extensions) if extensions else {})


def read_extensions(path: str | Path) -> dict[tuple[str, int], datetime]:
    """``student,stage,due`` rows: one student's own due date for one stage."""
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    found: dict[tuple[str, int], datetime] = {}
    for number, row in enumerate(rows, start=2):
        try:
            student, stage, when = row["student"].strip(), row["stage"].strip(), row["due"]
        except (KeyError, AttributeError) as error:
            raise InstructorError(f"{path}: expected the columns student,stage,due; line "
                                  f"{number} is {row}") from error
        if not stage.isdigit():
            raise InstructorError(f"{path}, line {number}: stage {stage!r} is not a number")
        key = (student, int(stage))
        if key in found:
            raise InstructorError(f"{path}, line {number}: a second extension of {student} "
                                  f"for stage {stage}; keep one")
        found[key] = parse_time(when, f"{path}, line {number}")
    return found
