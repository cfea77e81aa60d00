"""The staff's folder of a term: the schedule, ``term.json`` and, when asked for, the answer keys.

``term.json`` holds the course, its stages and what ``collect --term``, ``grade --term`` and the
autograders read (:mod:`instructor.course.lateness`): each stage's due date and the late
policy. The answer keys (``answer-keys/stageK``) are the release layout with the solutions in;
the folder is private to the staff (folders 0700, files 0600).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from instructor.release.readme import STAGE_ELEMENTS
from instructor.stages.repo import private_tree
from instructor.term.repository import TermConfig, write_answer_key


def write_staff_folder(
    root: Path, staff: Path, config: TermConfig, *, answer_keys: bool, layout: str,
    student_repo: str, due: dict[int, str] | None = None, late_policy: dict | None = None,
) -> list[str]:
    """The staff's private folder: README (schedule and steps), ``term.json``, answer keys.

    ``term.json`` holds the term's course and stages and the file that ``collect --term``,
    ``grade --term`` and the autograders read (:mod:`instructor.course.lateness`): each stage's
    due date (``due``) and the late policy (``late_policy``).
    """
    staff.mkdir(parents=True, exist_ok=True)
    due = due or {}
    course = {**asdict(config), "due": {str(k): v for k, v in sorted(due.items())},
              "late_policy": late_policy or {}}
    (staff / "term.json").write_text(json.dumps(course, indent=1) + "\n", encoding="utf-8")
    lines = [f"due dates of stages {sorted(due)} and the late policy: {staff / 'term.json'}"
             if due else f"no due dates given: add them under \"due\" in {staff / 'term.json'}"]
    if answer_keys:
        for stage in config.stages:
            write_answer_key(root, stage, staff / "answer-keys" / f"stage{stage}")
            lines.append(f"answer key of stage {stage}: {staff / 'answer-keys' / f'stage{stage}'}")
    (staff / "README.md").write_text(
        staff_readme(config, answer_keys=answer_keys, layout=layout, student_repo=student_repo,
                     due=due),
        encoding="utf-8")
    private_tree(staff)
    return lines


def staff_readme(config: TermConfig, *, answer_keys: bool, layout: str, student_repo: str,
                 due: dict[int, str] | None = None) -> str:
    """The staff folder's README: what to publish when, for the term's layout."""
    due = due or {}
    header = (f"# {config.course_code} ({config.term}): staff folder\n\n"
              "Private to the course staff: never push it where students can read it.\n\n")
    rows = ["| stage | what it adds | opens | due |", "|---|---|---|---|"]
    rows += [f"| {k} | {STAGE_ELEMENTS.get(k, f'stage {k}')} | | {due.get(k, '')} |"
             for k in config.stages]
    schedule = ("## Schedule\n\nThe due dates and the late policy are in `term.json` (\"due\", "
                "\"late_policy\"), which `collect --term`, `grade --term` and the autograders "
                "read; change them there.\n\n" + "\n".join(rows) + "\n\n")
    if layout == "classroom":
        steps = (
            "## Publishing a stage (GitHub Classroom)\n\n"
            "Each `starters/stageK` folder is the release of stage K. When stage K opens: push "
            "it to a new repository of the course's organisation, mark that repository as a "
            "template, and create the stage-K assignment from it. A fix to an opened stage: "
            "re-release it (`python -m instructor release --stage K --out DIR --force`), push it "
            "to the template repository, and tell students which files changed (starters "
            "already accepted do not update themselves).\n\n"
        )
    else:
        steps = (
            "## Opening a stage (one repository per student)\n\n"
            f"`{student_repo}/` starts with stage {config.stages[0]}. Push it and give each "
            "student a copy. When stage K opens, from the monorepo:\n\n"
            "```bash\n"
            f"python -m instructor open-stage --stage K --term {student_repo}\n"
            "```\n\n"
            "adds stage K as one commit (leak-checked first); push it, and the students pull. "
            "Stage K's folder holds stage K-1's code solved: open it only after stage K-1's "
            "deadline. A fix to an opened stage: `open-stage --stage K --update`, another commit "
            "they pull.\n\n"
        )
    keys = (
        "## Answer keys\n\n"
        + ("`answer-keys/stageK` holds the reference solutions of stage K in the release's "
           "layout. " if answer_keys else
           "None were written (bake with `include_solutions=yes`, or run "
           "`python -m instructor release --stage K --solutions --out DIR`). ")
        + "Publish a key only after its stage's deadline: `python -m instructor publish-key "
        "--stage K --term DIR` adds it to a term repository and refuses while stage K is the "
        "newest open stage.\n"
    )
    return header + schedule + steps + keys

