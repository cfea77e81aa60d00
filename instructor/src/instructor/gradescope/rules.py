"""The course's rules on Gradescope: the late policy, each student's extension, a submission limit.

Built into the autograder zip as ``course.json`` (beside the kit, readable by root only) by
``autograder --term term.json [--extensions FILE --roster FILE] [--max-submissions N]``::

    {"stage": 3, "policy": {"kind": "percent", ...}, "due": "2027-02-22T23:59:00-05:00",
     "extensions": {"alice@uni.edu": "2027-02-25T23:59:00-05:00"}, "max_submissions": 5}

The due date is the term file's for the stage (the one ``collect`` uses), so that a stage
graded on Gradescope and one collected from Classroom are held to the same deadline; without a
term file the assignment's own ``due_date`` from the metadata counts. The extensions file names
students by roster id; the roster maps each to the email Gradescope's metadata gives, so the
zip carries the emails of the students with an extension and nothing else of the roster.

At grading time, :func:`grade_on_gradescope` reads ``submission_metadata.json``, decides
(:func:`instructor.gradescope.metadata.decide`), and either grades and charges the lateness on
the score of ``results.json``, or, over the limit, writes back the results the student keeps.
A zip built without any of these options writes no ``course.json`` and grades as before.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from instructor.course.lateness import LatePolicy, parse_time, read_term
from instructor.course.roster import Roster
from instructor.gradescope.metadata import Decision, decide, read_metadata
from instructor.grading.safe import replace_file, safe_text
from instructor.stages.repo import InstructorError

#: The rules' file name in the zip (``source/course.json`` on Gradescope).
RULES_FILE = "course.json"


@dataclass(frozen=True)
class GradescopeRules:
    stage: int
    policy: LatePolicy
    due: datetime | None = None  # None: the assignment's own due_date
    extensions: dict[str, datetime] = field(default_factory=dict)  # email or Gradescope id
    max_submissions: int | None = None

    def to_json(self) -> str:
        return json.dumps({
            "stage": self.stage,
            "policy": dataclasses.asdict(self.policy),
            "due": self.due.isoformat() if self.due else None,
            "extensions": {key: when.isoformat() for key, when in sorted(self.extensions.items())},
            "max_submissions": self.max_submissions,
        }, indent=1) + "\n"


def build_rules(stage: int, *, term: Path | None = None, extensions: Path | None = None,
                roster: Roster | None = None,
                max_submissions: int | None = None) -> GradescopeRules | None:
    """The rules an autograder of ``stage`` carries; None when nothing was asked for.

    Raises:
        InstructorError: extensions without a term file or a roster, a student of the
            extensions file the roster does not hold or holds without an email, a limit < 1.
    """
    if term is None and extensions is None and max_submissions is None:
        return None
    if max_submissions is not None and max_submissions < 1:
        raise InstructorError(f"--max-submissions {max_submissions}: expected 1 or more")
    if extensions is not None and (term is None or roster is None):
        raise InstructorError("--extensions on Gradescope needs --term FILE (the late policy) "
                              "and --roster FILE (Gradescope names students by email)")
    if term is None:
        return GradescopeRules(stage, LatePolicy(), max_submissions=max_submissions)
    deadlines = read_term(term, extensions)
    own: dict[str, datetime] = {}
    ids = {row.id: row for row in roster.students} if roster is not None else {}
    for (student, extended_stage), when in deadlines.extensions.items():
        if extended_stage != stage:
            continue
        row = ids.get(student)
        if row is None:
            raise InstructorError(f"{extensions}: student {student!r} is not in the roster; "
                                  f"its ids look like {sorted(ids)[:3]}")
        if not row.email:
            raise InstructorError(f"{extensions}: {student} has no email in the roster; "
                                  "Gradescope names students by email: add it")
        own[row.email.casefold()] = when
    return GradescopeRules(stage, deadlines.policy, deadlines.due.get(stage), own,
                           max_submissions)


def read_rules(path: Path) -> GradescopeRules:
    """The rules of a built autograder (``course.json``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return GradescopeRules(
            stage=int(data["stage"]),
            policy=LatePolicy.from_dict(data["policy"]),
            due=parse_time(data["due"], f"{path}: due") if data.get("due") else None,
            extensions={key: parse_time(value, f"{path}: extension of {key}")
                        for key, value in data.get("extensions", {}).items()},
            max_submissions=data.get("max_submissions"),
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise InstructorError(f"{path}: not the autograder's course rules ({error!r})") from error


def decision_for(metadata: Path, rules: GradescopeRules) -> Decision:
    """What the rules say of the submission the metadata describes."""
    meta = read_metadata(metadata)
    if rules.due is not None:
        meta = dataclasses.replace(meta, due=rules.due)
    return decide(meta, rules.policy, max_submissions=rules.max_submissions,
                  extensions=rules.extensions)


def kept_results(decision: Decision) -> dict:
    """The results of the student's last graded submission, with why this one was not graded."""
    kept = dict(decision.kept.results) if decision.kept is not None else {}
    kept.setdefault("score", decision.kept.score if decision.kept is not None else 0.0)
    kept.setdefault("tests", [])
    kept["output"] = safe_text(decision.message + "\n\n" + str(kept.get("output", "")))
    kept.setdefault("visibility", "visible")
    return kept


def with_lateness(results: dict, decision: Decision) -> dict:
    """``results.json`` with the late policy applied to its total (the tests keep their points,
    and Gradescope takes the top-level ``score`` over their sum)."""
    if decision.lateness is None:
        return results
    raw = float(results.get("score", 0.0))
    final = decision.lateness.final(raw)
    results = dict(results)
    results["score"] = round(final, 4)
    if decision.message:
        results["output"] = safe_text(
            f"{decision.message} Score before the late policy: {raw:g}; after: {final:g}.\n\n"
            + str(results.get("output", "")))
    return results


def grade_on_gradescope(results_path: Path, metadata: Path, rules_path: Path, grade) -> int:
    """Decide, then grade with ``grade()`` (a callable returning the grading's exit status) or
    write back the kept results; charge the lateness on the written results."""
    rules = read_rules(rules_path)
    decision = decision_for(metadata, rules)
    if not decision.grade:
        replace_file(results_path, json.dumps(kept_results(decision), indent=1) + "\n")
        print(f"not graded: {decision.message}")
        return 0
    status = grade()
    results = json.loads(results_path.read_text(encoding="utf-8"))
    replace_file(results_path, json.dumps(with_lateness(results, decision), indent=1) + "\n")
    if decision.lateness is not None:
        print(f"lateness: {decision.lateness.days_late} day(s), "
              f"penalty {decision.lateness.penalty_percent:g} %, accepted "
              f"{decision.lateness.accepted}")
    return status
