"""``verify``: could the grades of an out folder be produced again?

:func:`verify_run` takes a sample of the submissions ``OUT/run.json`` records, checks that each
is still what was graded (the digest of the zip or the folder, and the commit), grades the
unchanged ones again into a temporary folder exactly as the run did (the stage, the options,
the weights, the hidden checks and the draw's seed it records) and compares each score and
status with the recorded ones: those of ``run.json`` and of the gradebook. A submission that
changed is reported as such, never graded as if it were the one of record.

Before the students, the report says what differs in what grades: the reference stage, the
hidden checks or the weights (digests in ``run.json``), and the monorepo's commit; grades made
with another reference cannot be expected to reproduce. It also compares, for every student
(sampled or not), the gradebook's score with ``run.json``'s (a student regraded since: with
the last regrade's new score, :mod:`~instructor.grading.regrade`).
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from instructor.course.gradebook import read_gradebook, score_text, unquote
from instructor.grading.batch import grade, options_from_record
from instructor.grading.record import RECORD_FILE, digest_of, read_record
from instructor.grading.regrade import KIT_PARTS, check_out_folder, own_gradebook, read_history
from instructor.stages.repo import InstructorError

#: How many submissions ``verify`` grades again when not told.
DEFAULT_SAMPLE = 5

SAME, DIFFERENT = "same", "DIFFERENT"
CHANGED, MISSING, UNKNOWN = "CHANGED SUBMISSION", "MISSING SUBMISSION", "NOT CHECKED"


@dataclass
class StudentCheck:
    """One sampled student: the recorded and the reproduced score, and the verdict."""

    student: str
    recorded: float | None  # run.json's score
    reproduced: float | None = None
    verdict: str = UNKNOWN
    detail: str = ""

    def line(self) -> str:
        def shown(value: float | None) -> str:
            return "-" if value is None else score_text(value)

        text = (f"{self.student}: recorded {shown(self.recorded)}, reproduced "
                f"{shown(self.reproduced)}: {self.verdict}")
        return text + (f" ({self.detail})" if self.detail else "")


@dataclass
class VerifyReport:
    """What :func:`verify_run` found: warnings first, then each sampled student."""

    out: Path
    warnings: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)  # gradebook against run.json
    students: list[StudentCheck] = field(default_factory=list)
    total: int = 0  # submissions in run.json

    @property
    def ok(self) -> bool:
        return not self.mismatches and all(s.verdict == SAME for s in self.students)

    def lines(self) -> list[str]:
        return ([f"warning: {text}" for text in self.warnings] + self.mismatches
                + [check.line() for check in self.students])

    def summary(self) -> str:
        same = sum(s.verdict == SAME for s in self.students)
        text = (f"{same} of {len(self.students)} sampled submission(s) (of {self.total}) "
                "reproduce")
        if self.mismatches:
            text += f"; {len(self.mismatches)} gradebook row(s) disagree with the record"
        return text + (": the grades of record reproduce" if self.ok else "")


def _same(one: float | None, other: float | None) -> bool:
    return one is not None and other is not None and round(one, 6) == round(other, 6)


def _gradebook_scores(out: Path) -> dict[str, float]:
    scores = {}
    for row in read_gradebook(own_gradebook(out)):
        try:
            scores[unquote(row["student"])] = float(row["score"])
        except (KeyError, ValueError):
            scores[unquote(row.get("student", ""))] = float("nan")
    return scores


def _term_mismatches(out: Path, scores: dict[str, float]) -> list[str]:
    """After a ``--roster`` run: each term gradebook row whose raw score is not grade's own
    score of its submission (``submissions.csv``)."""
    own, term = own_gradebook(out), out / "gradebook.csv"
    if own == term:
        return []
    found = []
    for row in read_gradebook(term):
        submission = unquote(row.get("submission", ""))
        if submission not in scores or row.get("status") in ("missing", "refused"):
            continue
        try:
            raw = float(row.get("raw", ""))
        except ValueError:
            raw = float("nan")
        if not _same(raw, scores[submission]):
            found.append(f"{submission}: the term gradebook's raw score is {row.get('raw')}, "
                         f"{own.name} says {score_text(scores[submission])}: DIFFERENT")
    return found


def choose_sample(students: list[str], size: int | None, seed: int | None) -> list[str]:
    """``size`` of ``students`` (default: :data:`DEFAULT_SAMPLE`, at most all), drawn with
    ``seed`` (default: a fresh draw), in sorted order."""
    students = sorted(students)
    size = min(DEFAULT_SAMPLE if size is None else size, len(students))
    if size == len(students):
        return students
    return sorted(random.Random(seed).sample(students, size))


def verify_run(out: Path, *, sample: int | None = None, seed: int | None = None,
               root: Path | None = None, jobs: int = 2,
               say: Callable[[str], None] | None = None) -> VerifyReport:
    """Grade a sample of the submissions of ``out`` again and compare (see the module
    docstring). ``root``: the monorepo, instead of the one the run used; ``say``: where
    grade's own progress lines go (default: nowhere).

    Raises:
        InstructorError: ``out`` is not a grade out folder, or ``sample`` is below 1.
    """
    if sample is not None and sample < 1:
        raise InstructorError(f"--sample {sample}: give at least 1")
    out = Path(out)
    record = check_out_folder(out)
    report = VerifyReport(out, total=len(record.submissions))
    gradebook = _gradebook_scores(out)
    latest = {row["student"]: row for row in read_history(out)}  # the last row of each wins
    for student in sorted(set(gradebook) | set(record.submissions)):
        entry = record.submissions.get(student)
        if entry is None:
            report.mismatches.append(f"{student}: in the gradebook, not in {RECORD_FILE}")
            continue
        if student not in gradebook:
            report.mismatches.append(f"{student}: in {RECORD_FILE}, not in the gradebook")
            continue
        regraded = latest.get(student)
        expected = float(regraded["new_score"]) if regraded else entry.get("score")
        if not _same(gradebook[student], expected):
            source = f"the regrade in {regraded['folder']}" if regraded else RECORD_FILE
            said = "nothing" if expected is None else score_text(float(expected))
            report.mismatches.append(
                f"{student}: the gradebook says {score_text(gradebook[student])}, {source} "
                f"says {said}: DIFFERENT")
    report.mismatches += _term_mismatches(out, gradebook)

    checks: dict[str, StudentCheck] = {}
    to_grade: dict[str, Path] = {}
    for student in choose_sample(list(record.submissions), sample, seed):
        entry = record.submissions[student]
        check = checks[student] = StudentCheck(student, entry.get("score"))
        if student in latest:
            check.detail = (f"regraded since, see {latest[student]['folder']}: verify that "
                            "folder for the current grade")
        source = entry.get("source")
        digests = {k: v for k, v in entry.items() if k in ("sha256", "tree-sha256", "commit")}
        if source is None or not digests:
            check.detail = (f"{RECORD_FILE} records no path or no digest of it: it cannot "
                            "be graded again")
            continue
        path = Path(source)
        if not path.exists():
            check.verdict, check.detail = MISSING, f"{path} is gone"
            continue
        now = digest_of(path)
        differ = [k for k, v in digests.items() if now.get(k) != v]
        if differ:
            check.verdict = CHANGED
            check.detail = "; ".join(filter(None, [
                f"{', '.join(differ)} of {path} differ from what was graded: not graded again",
                check.detail]))
            continue
        to_grade[student] = path
    report.students = list(checks.values())
    if not to_grade:
        return report

    with tempfile.TemporaryDirectory(prefix="mini-torch-verify-") as scratch:
        folder = Path(scratch) / "out"
        options = options_from_record(record.options, root=root, out=folder, jobs=jobs,
                                      say=say or (lambda text: None),
                                      seed=record.kit.get("seed"))
        batch = grade(list(to_grade.values()), record.stage, options)
        again = read_record(folder)
    for part, words in KIT_PARTS.items():
        then, now_digest = record.kit.get(part), again.kit.get(part)
        if then != now_digest:
            report.warnings.append(
                f"{words} differ from those that graded {out} (sha256 {then} then, "
                f"{now_digest} now): grades made with another reference cannot be expected "
                "to reproduce")
    then_commit, now_commit = record.tool.get("commit"), again.tool.get("commit")
    if then_commit != now_commit:
        report.warnings.append(f"graded at monorepo commit {then_commit}, verified at "
                               f"{now_commit}")
    for result in batch.results:
        check = checks[result.student]
        check.reproduced = result.score
        entry = record.submissions[result.student]
        recorded_status = entry.get("status")
        if _same(check.recorded, result.score) and recorded_status == result.status:
            check.verdict = SAME
        else:
            check.verdict = DIFFERENT
            if recorded_status != result.status:
                check.detail = "; ".join(filter(None, [
                    f"status {recorded_status} then, {result.status} now", check.detail]))
    return report
