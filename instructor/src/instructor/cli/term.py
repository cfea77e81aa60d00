"""``open-stage`` and ``publish-key``: a term repository's next stage and a published answer key."""

from __future__ import annotations

import argparse
from pathlib import Path

from instructor.cli.common import EXIT_OK, add_root_option
from instructor.stages.repo import resolve_root


def add_open_stage_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``open-stage --stage K --term DIR [--update] [--no-commit] [--root REPO]``."""
    parser = subparsers.add_parser(
        "open-stage",
        help="add stage K to a term repository (one git commit the students pull)",
        description="Write stages/stageK, shared_tests/stageK, docs/stageK.md and the updated "
        "README, docs index and task order into the term repository DIR (made by the term "
        "template), after a leak check of what is written, and commit them. The earlier "
        "stage folders, where students work, are never written. --update re-writes an "
        "opened stage (a fix) the same way.",
    )
    add_root_option(parser)
    parser.add_argument("--stage", type=int, required=True, metavar="K")
    parser.add_argument("--term", type=Path, required=True, metavar="DIR")
    parser.add_argument("--update", action="store_true", help="re-write an opened stage")
    parser.add_argument("--no-commit", action="store_true", help="write, but do not commit")
    parser.set_defaults(handler=run_open_stage)


def run_open_stage(args: argparse.Namespace) -> int:
    """Open the stage and print what was written."""
    from instructor.term.repository import open_stage

    report = open_stage(resolve_root(args.root), args.term, args.stage, update=args.update,
                        commit=not args.no_commit)
    for path in report.written:
        print(f"wrote: {path}")
    print(report.leak.summary())
    print(report.summary())
    return EXIT_OK


def add_publish_key_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``publish-key --stage K --term DIR``."""
    parser = subparsers.add_parser(
        "publish-key",
        help="add the answer key of a stage whose deadline has passed to a term repository",
        description="Write answer-keys/stageK (the reference solutions of stage K) into the "
        "term repository DIR and commit it. Refused while stage K is the newest open stage, "
        "and whenever the key would give away a stub of the open stage.",
    )
    add_root_option(parser)
    parser.add_argument("--stage", type=int, required=True, metavar="K")
    parser.add_argument("--term", type=Path, required=True, metavar="DIR")
    parser.add_argument("--no-commit", action="store_true", help="write, but do not commit")
    parser.set_defaults(handler=run_publish_key)


def run_publish_key(args: argparse.Namespace) -> int:
    from instructor.term.repository import publish_key

    report = publish_key(resolve_root(args.root), args.term, args.stage,
                         commit=not args.no_commit)
    print(report.leak.summary())
    print(f"answer key of stage {args.stage} written into {args.term / report.written[0]}"
          + (f", commit {report.commit}" if report.commit else ""))
    return EXIT_OK
