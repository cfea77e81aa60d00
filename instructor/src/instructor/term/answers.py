"""The term template's answers, checked and typed: the course, its stages, its Python and
platform, the due dates and the late policy.

Every answer is checked before anything is written (:func:`read_answers`), with a message that
says what to answer instead; :class:`Term` is what the rest of the bake
(:mod:`instructor.term.bake`) works from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PLATFORMS = ("github-classroom", "gradescope", "none")

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class TemplateError(Exception):
    """An answer or a repository the template cannot work with; the message says what to do."""


@dataclass(frozen=True)
class Term:
    """The checked answers."""

    course_code: str
    course_name: str
    term: str
    instructor: str
    repo_name: str
    first_stage: int
    last_stage: int
    python_version: str
    platform: str
    include_solutions: bool
    due: dict[int, str] = field(default_factory=dict)  # stage -> ISO time with its offset
    late_policy: dict = field(default_factory=dict)  # instructor.course.lateness.LatePolicy

    @property
    def stages(self) -> list[int]:
        return list(range(self.first_stage, self.last_stage + 1))


# ----------------------------------------------------------------------------------- the repo


def available_stages(root: Path) -> list[int]:
    from instructor.stages.repo import stage_numbers

    return stage_numbers(root)


# -------------------------------------------------------------------------------- the answers


def _stage(answers: dict, key: str, known: list[int]) -> int:
    raw = str(answers.get(key, "")).strip()
    choices = ", ".join(str(stage) for stage in known)
    try:
        stage = int(raw)
    except ValueError:
        raise TemplateError(
            f"{key} {raw!r} is not a stage number: choose one of {choices}"
        ) from None
    if stage not in known:
        raise TemplateError(
            f"{key} {stage} is not a stage of this repository: choose one of {choices} "
            "(the folders stages/stageN)"
        )
    return stage


def _flag(answers: dict, key: str) -> bool:
    value = answers.get(key, False)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise TemplateError(f"{key} {value!r} is not yes or no: answer yes or no (default: no)")


def read_answers(answers: dict, known_stages: list[int]) -> Term:
    """Check the answers of the prompts and return them typed.

    Raises:
        TemplateError: an empty course code or folder name, an unknown stage, a last stage
            before the first, an unsupported Python version or platform.
    """
    course_code = str(answers.get("course_code", "")).strip()
    if not course_code:
        raise TemplateError(
            "course_code is empty: give the code shown in the README header, e.g. 'CS 4XX'"
        )
    repo_name = str(answers.get("repo_name", "")).strip()
    if not repo_name or repo_name.startswith(".") or any(c in repo_name for c in "/\\:"):
        raise TemplateError(
            f"repo_name {repo_name!r} is not a folder name: use letters, digits and dashes, "
            "e.g. 'cs-4xx-fall-2026'"
        )
    first = _stage(answers, "first_stage", known_stages)
    last = _stage(answers, "last_stage", known_stages)
    if last < first:
        raise TemplateError(
            f"last_stage {last} comes before first_stage {first}: the term runs the stages "
            f"first_stage .. last_stage, so choose a last_stage of at least {first}"
        )
    supported = [str(version) for version in answers.get("_python_versions", [])]
    python_version = str(answers.get("python_version", "")).strip()
    if python_version not in supported:
        raise TemplateError(
            f"python_version {python_version!r} is not supported: choose one of "
            f"{', '.join(supported)}"
        )
    platform = str(answers.get("platform", "")).strip()
    if platform not in PLATFORMS:
        raise TemplateError(
            f"platform {platform!r} is not supported: choose one of {', '.join(PLATFORMS)}"
        )
    due, late_policy = read_schedule(answers, list(range(first, last + 1)))
    return Term(
        course_code=course_code,
        course_name=str(answers.get("course_name", "")).strip(),
        term=str(answers.get("term", "")).strip(),
        instructor=str(answers.get("instructor", "")).strip(),
        repo_name=repo_name,
        first_stage=first,
        last_stage=last,
        python_version=python_version,
        platform=platform,
        include_solutions=_flag(answers, "include_solutions"),
        due=due,
        late_policy=late_policy,
    )


_POLICY_ANSWERS = {"late_percent_per_day": "percent_per_day", "late_cap_percent": "cap_percent",
                   "late_days_budget": "budget", "late_max_days": "max_days",
                   "late_grace_minutes": "grace_minutes"}


def read_schedule(answers: dict, stages: list[int]) -> tuple[dict[int, str], dict]:
    """The due dates (``1=2027-01-25T23:59:00-05:00, 2=...``) and the late policy answered.

    Raises:
        TemplateError: a due date that is not ``stage=ISO time with its offset`` or names a
            stage outside the term, a policy number that is not a number >= 0.
    """
    from instructor.course.lateness import LatePolicy, parse_time
    from instructor.stages.repo import InstructorError

    due: dict[int, str] = {}
    for item in str(answers.get("due_dates", "")).replace(";", ",").split(","):
        if not item.strip():
            continue
        stage, _, when = item.partition("=")
        if not stage.strip().isdigit() or int(stage) not in stages:
            raise TemplateError(
                f"due_dates: {item.strip()!r} does not name a stage of the term "
                f"({stages[0]}..{stages[-1]}); write stage=time, e.g. "
                f"{stages[0]}=2027-01-25T23:59:00-05:00")
        try:
            due[int(stage)] = parse_time(when, f"due_dates, stage {stage.strip()}").isoformat()
        except InstructorError as error:
            raise TemplateError(str(error)) from None
    policy: dict = {"kind": str(answers.get("late_policy", "percent")).strip() or "percent"}
    for answer, key in _POLICY_ANSWERS.items():
        if answer in answers:
            try:
                number = float(str(answers[answer]).strip())
            except ValueError:
                raise TemplateError(f"{answer} {answers[answer]!r} is not a number") from None
            policy[key] = int(number) if key in ("budget", "max_days") else number
    try:
        LatePolicy.from_dict(policy)
    except InstructorError as error:
        raise TemplateError(f"late policy: {error}") from None
    return due, policy
