"""``autograder``: the Gradescope autograder zip of a stage, with the course's rules."""

from __future__ import annotations

import argparse
from pathlib import Path

from instructor.cli.common import EXIT_OK, add_root_option
from instructor.cli.grading import add_grading_options
from instructor.gradescope.autograder import build_autograder
from instructor.stages.repo import resolve_root


def add_autograder_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``autograder --stage N --out FILE.zip [options]``."""
    parser = subparsers.add_parser(
        "autograder",
        help="build a Gradescope autograder zip for a stage",
        description="Write a zip holding setup.sh, run_autograder, the instructor package and "
        "a grading kit (the checks, hidden ones included, and the reference stage). On "
        "Gradescope, setup.sh creates an unprivileged user for student code; run_autograder "
        "grades /autograder/submission exactly as `grade` does and always writes "
        "/autograder/results/results.json.",
    )
    add_root_option(parser)
    parser.add_argument("--stage", type=int, required=True, metavar="N")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.zip")
    add_grading_options(parser)
    parser.add_argument("--term", type=Path, metavar="FILE",
                        help="the term's term.json: the stage's due date and the late policy, "
                        "charged from Gradescope's submission time")
    parser.add_argument("--extensions", type=Path, metavar="FILE",
                        help="student,stage,due rows (with --term and --roster): a student's own "
                        "due date, matched on Gradescope by the roster's email")
    parser.add_argument("--roster", type=Path, metavar="FILE",
                        help="the course's roster (CSV, or Canvas's export): maps the extensions' "
                        "student ids to the emails Gradescope gives")
    parser.add_argument("--max-submissions", type=int, metavar="N",
                        help="grade at most N submissions of a student; a later one keeps the "
                        "last graded results (counted from Gradescope's previous_submissions)")
    parser.set_defaults(handler=run_autograder)


def run_autograder(args: argparse.Namespace) -> int:
    """Build the zip and print what it holds."""
    from instructor.course.roster import read_roster
    from instructor.gradescope.rules import build_rules

    rules = build_rules(args.stage, term=args.term, extensions=args.extensions,
                        roster=read_roster(args.roster) if args.roster else None,
                        max_submissions=args.max_submissions)
    report = build_autograder(
        resolve_root(args.root), args.stage, args.out, weights=args.weights,
        timeout=args.timeout, budget=args.budget, policy=args.policy,
        select=args.select, hidden=not args.no_hidden, course=rules,
    )
    print(report)
    return EXIT_OK
