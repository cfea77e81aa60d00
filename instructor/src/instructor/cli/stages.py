"""``check`` and ``carry``: the stages' consistency, and carrying a file into later stages."""

from __future__ import annotations

import argparse

from instructor.cli.common import EXIT_OK, EXIT_PROBLEMS, add_root_option
from instructor.stages.carry import carry_all, carry_paths
from instructor.stages.consistency import check_repo
from instructor.stages.repo import resolve_root


def add_check_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``check [--root REPO] [--files-only]``."""
    parser = subparsers.add_parser(
        "check",
        help="check that consecutive stages carry files and public names unchanged",
        description="For every pair of consecutive stages K, K+1: every file of "
        "stages/stageK/src/mini_torch is byte-identical in stage K+1 (__init__.py files only "
        "have to exist), and every public name of stage K keeps its signature in stage K+1.",
    )
    add_root_option(parser)
    parser.add_argument(
        "--files-only",
        action="store_true",
        help="compare the carried files only; skip importing the stages (fast, needs no numpy)",
    )
    parser.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    """Print one line per problem and a summary; 1 if there is any problem."""
    report = check_repo(resolve_root(args.root), files_only=args.files_only)
    for problem in report.problems:
        print(problem)
    print(report.summary())
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def add_carry_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``carry [--root REPO] [--from-stage K] [--add] PATH...`` and ``carry --all``."""
    parser = subparsers.add_parser(
        "carry",
        help="copy a file of a stage into the later stages",
        description="Copy each PATH from stage K (default: the lowest stage that has it) into "
        "every later stage that holds the file (with --add: into every later stage). "
        "PATH is relative to src/mini_torch (functional.py, nn/linear.py) or a file inside "
        "stages/stageK/src/mini_torch. With --all, carry every file of every stage forward, "
        "stage 1 first; an existing __init__.py is never overwritten.",
    )
    add_root_option(parser)
    parser.add_argument("paths", nargs="*", metavar="PATH", help="the files to carry")
    parser.add_argument(
        "--all", action="store_true", help="carry every file of every stage into the later stages"
    )
    parser.add_argument(
        "--from-stage", type=int, metavar="K", help="copy from stage K (with --all: start at K)"
    )
    parser.add_argument(
        "--add", action="store_true", help="also create the file in later stages that lack it"
    )
    parser.set_defaults(handler=run_carry, parser=parser)


def run_carry(args: argparse.Namespace) -> int:
    """Copy the files and print each copy made."""
    if args.all == bool(args.paths):
        args.parser.error("give either PATH... or --all")
    if args.all and args.add:
        args.parser.error("--add goes with PATH...; --all always creates missing files")
    root = resolve_root(args.root)
    if args.all:
        result = carry_all(root, from_stage=args.from_stage)
    else:
        result = carry_paths(root, args.paths, from_stage=args.from_stage, add=args.add)
    for action in result.actions:
        print(action.describe())
    for note in result.notes:
        print(note)
    print(result.summary())
    return EXIT_OK
