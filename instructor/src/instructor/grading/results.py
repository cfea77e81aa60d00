"""The result model of grading: one :class:`CheckResult` per check, a :class:`SubmissionResult`
per submission. No logic beyond sums; :mod:`instructor.grading.scoring` gives the points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

OUTCOME_PASSED = "passed"

#: ``status`` of a submission: ``graded``; ``integrity`` (a prohibited import under the ``zero``
#: policy); ``refused`` (a link, a device or an oversized archive in it); ``no_package``;
#: ``grader_error`` (a problem of the grader itself).
STATUSES = ("graded", "integrity", "refused", "no_package", "grader_error")


@dataclass
class CheckResult:
    """The outcome of one check for one submission.

    ``outcome``: ``passed``, ``failed`` (a wrong result), ``error`` (the code raised),
    ``timeout`` (past its CPU time limit), ``syntax_error`` (the file does not compile),
    ``not_run`` (over the budget, or the submission was not run), ``retry`` (the grader's
    problem, a wall-clock backstop or a worker that died: the check is run again at the end of
    the batch, and only that gives its verdict) or ``grader_error`` (it failed again: not
    scored, reported to staff). ``scored``: whether the check carries points at this stage
    (stage K's own tasks) or is only reported (code handed out solved, earlier stages' files).
    ``cpu``: CPU seconds the jail used for it; ``seconds``: wall-clock seconds.
    """

    name: str
    task: str
    file: str
    outcome: str
    message: str = ""
    where: str = ""
    details: str = ""
    points: float = 0.0
    max_points: float = 0.0
    hidden: bool = False
    scored: bool = True
    seconds: float = 0.0
    cpu: float = 0.0
    guide: str = ""  # the guide section that teaches the task (docs/stage3.md#...)
    keyword: str = ""  # the pytest -k that selects the task's public tests
    retried: bool = False  # its verdict comes from a second run (the first was the grader's)

    @property
    def passed(self) -> bool:
        return self.outcome == OUTCOME_PASSED

    @property
    def group(self) -> str:
        """``hidden``, ``stageK`` (scored checks of stage K's tasks) or ``reported``."""
        if self.hidden:
            return "hidden"
        if not self.scored:
            return "reported"
        return self.name.split("/", 1)[0]


@dataclass
class SubmissionResult:
    """The grade of one submission."""

    student: str
    source: Path
    stage: int
    status: str = "graded"
    message: str = ""
    checks: list[CheckResult] = field(default_factory=list)
    integrity: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    isolation: str = ""  # how student code was shut in (the jail's description)
    jail: str = ""  # the same in a few words, for the gradebook (Jail.summary)
    isolated: bool = True
    log: list[str] = field(default_factory=list)  # for staff only: worker stderr, tracebacks
    findings: list[str] = field(default_factory=list)  # for staff only: what looks forged

    @property
    def cpu(self) -> float:
        """CPU seconds the submission's checks used."""
        return sum(c.cpu for c in self.checks)

    @property
    def pending(self) -> list[CheckResult]:
        """The checks to run again (the grader's problem the first time)."""
        return [c for c in self.checks if c.outcome == "retry"]

    @property
    def score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.checks)

    def groups(self) -> list[str]:
        """The gradebook columns: the scored public checks, then the hidden ones."""
        return [f"stage{self.stage}", "hidden"]

    def subtotal(self, group: str) -> tuple[float, float]:
        """(points, max points) of the checks of one group."""
        found = [c for c in self.checks if c.group == group]
        return sum(c.points for c in found), sum(c.max_points for c in found)

    def public_subtotal(self) -> tuple[float, float]:
        found = [c for c in self.checks if not c.hidden]
        return sum(c.points for c in found), sum(c.max_points for c in found)
