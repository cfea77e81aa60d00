"""``collect``, ``similarity`` and ``export``: a term's submissions in, its grades out."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from instructor.cli.common import EXIT_OK, say


def add_collect_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``collect --before DATE --out DIR [--branch B] [--from FILE] REPO...``."""
    parser = subparsers.add_parser(
        "collect",
        help="check out each student's last commit before the due date",
        description="Clone each repository (URL or local path) into DIR/<name> at the last "
        "commit of its default branch (or --branch) dated before DATE, and write "
        "DIR/collected.csv. Grade the folders with `grade`. Commit dates are set by the "
        "committer: compare with the push times GitHub records where it matters.",
    )
    parser.add_argument("repositories", nargs="*", metavar="REPO")
    parser.add_argument("--before", metavar="DATE",
                        help="the due date, ISO 8601 (2026-03-01T23:59:00+01:00), the same for "
                        "everyone; or give --term and --stage")
    parser.add_argument("--roster", type=Path, metavar="FILE",
                        help="the course's roster (CSV, or Canvas's gradebook export): each "
                        "repository is checked out as its student's id")
    parser.add_argument("--term", type=Path, metavar="FILE",
                        help="the term's term.json (due dates and late policy): each student's "
                        "own cutoff, their extension and the late days the policy takes")
    parser.add_argument("--extensions", type=Path, metavar="FILE",
                        help="student,stage,due rows: a student's own due date (with --term)")
    parser.add_argument("--stage", type=int, metavar="K", help="the stage (with --term)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--branch", metavar="B", help="the branch (default: the default one)")
    parser.add_argument("--from", dest="from_file", type=Path, metavar="FILE",
                        help="read the repositories from FILE, one a line (# comments)")
    parser.set_defaults(handler=run_collect, parser=parser)


def run_collect(args: argparse.Namespace) -> int:
    """Collect every repository and print one line each."""
    from instructor.collect import collect, parse_date, read_repository_list
    from instructor.course.lateness import read_term
    from instructor.course.roster import read_roster

    repositories = list(args.repositories)
    if args.from_file is not None:
        repositories += read_repository_list(args.from_file)
    if not repositories:
        args.parser.error("give REPO... or --from FILE")
    if (args.before is None) == (args.term is None):
        args.parser.error("give either --before DATE or --term FILE --stage K")
    if args.term is not None and args.stage is None:
        args.parser.error("--term needs --stage K")
    roster = read_roster(args.roster) if args.roster is not None else None
    deadlines = read_term(args.term, args.extensions) if args.term is not None else None
    before = parse_date(args.before) if args.before is not None else None
    results = collect(repositories, before, args.out, branch=args.branch, roster=roster,
                      deadlines=deadlines, stage=args.stage)
    for entry in results:
        print(f"{entry.name}: {entry.commit[:12] or '-'} {entry.date} {entry.status}")
    print(f"wrote {args.out / 'collected.csv'}: "
          f"{sum(e.status == 'collected' for e in results)} of {len(results)} collected")
    return EXIT_OK


def add_similarity_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``similarity OUT --stage N SUBMISSION...``."""
    from instructor.similarity.command import DESCRIPTION, HELP, add_arguments, run

    parser = subparsers.add_parser("similarity", help=HELP, description=DESCRIPTION)
    add_arguments(parser)
    parser.set_defaults(handler=run, parser=parser)


def add_export_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``export --lms canvas|moodle OUT --roster FILE --stage K=GRADES...``."""
    parser = subparsers.add_parser(
        "export",
        help="write the term's grades as Canvas's or Moodle's grade import reads them",
        description="Read each stage's gradebook (grade's OUT/gradebook.csv) and write one CSV "
        "row per roster student: Canvas's gradebook import (Student, ID, SIS User ID, SIS "
        "Login ID, Section, then one column per stage and a Points Possible row) or Moodle's "
        "CSV grade import (map Email address or ID number to the user). A student who handed "
        "nothing in gets 0; submissions without a roster row are listed, not exported.",
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="the CSV file to write")
    parser.add_argument("--lms", choices=("canvas", "moodle"), required=True)
    parser.add_argument("--roster", type=Path, required=True, metavar="FILE")
    parser.add_argument("--stage", action="append", required=True, metavar="K=GRADES",
                        help="stage K's grade output folder (repeatable)")
    parser.add_argument("--title", action="append", default=[], metavar="K=NAME",
                        help="the LMS's assignment name of stage K (default: Mini-Torch stage "
                        "K; on Canvas, 'Name (assignment id)' matches an existing assignment)")
    parser.set_defaults(handler=run_export, parser=parser)


def _pairs(values: Sequence[str], option: str, parser) -> dict[int, str]:
    found = {}
    for value in values:
        stage, sep, rest = value.partition("=")
        if not sep or not stage.isdigit() or not rest:
            parser.error(f"{option} {value!r}: expected K=VALUE, like {option} 3=grades/stage3")
        found[int(stage)] = rest
    return found


def run_export(args: argparse.Namespace) -> int:
    from instructor.course.lms import export_grades

    print(export_grades(args.lms, args.out, args.roster, _pairs(args.stage, "--stage", args.parser),
                        _pairs(args.title, "--title", args.parser), say))
    return EXIT_OK
