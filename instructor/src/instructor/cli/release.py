"""``release`` and ``leak-check``: a student release of a stage, and the check of any artifact."""

from __future__ import annotations

import argparse
from pathlib import Path

from instructor.cli.common import EXIT_OK, EXIT_PROBLEMS, add_root_option
from instructor.release.release import write_release
from instructor.stages.repo import InstructorError, resolve_root


def add_release_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``release --stage N --out DIR [--root REPO] [--solutions] [--force]``."""
    parser = subparsers.add_parser(
        "release",
        help="write the student release of a stage",
        description="Write DIR/stages/stageN (the package, with the solutions stage N adds "
        "replaced by NotImplementedError stubs; earlier stages' code stays solved), "
        "DIR/shared_tests (the public tests of stages 1..N), DIR/docs/stageN.md, a README, "
        "a noxfile and the pytest configuration. Unbalanced or nested solution markers abort "
        "the release, naming the file and line; so does the leak check (a solved copy of a "
        "stub, its solution text in the docs or tests, code outside the markers that answers "
        "for it, a broken link): nothing is written then. Other stages already in DIR are "
        "kept.",
    )
    add_root_option(parser)
    parser.add_argument("--stage", type=int, required=True, metavar="N")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--solutions", action="store_true",
        help="keep the solutions (an answer key with the release's layout)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace DIR/stages/stageN if it exists"
    )
    parser.set_defaults(handler=run_release)


def run_release(args: argparse.Namespace) -> int:
    """Write the release and print what the student has to implement."""
    report = write_release(
        resolve_root(args.root), args.stage, args.out,
        include_solutions=args.solutions, overwrite=args.force,
    )
    for stub in report.stubs:
        print(f"stub: {stub.path}: {stub.name}")
    for warning in report.warnings:
        print(f"warning: {warning}")
    print(report.summary())
    return EXIT_OK


def add_leak_check_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``leak-check DIR [--stage K ...]``."""
    parser = subparsers.add_parser(
        "leak-check",
        help="scan a student artifact for leaked solutions and broken links",
        description="Report every stub of DIR with a solved copy in DIR, three or more lines of "
        "its reference solution in a text file of DIR, or code outside the solution markers "
        "that answers without it; solution markers, instructor material, relative links that "
        "do not resolve and nox sessions DIR does not have. Exit status 1 if anything is found.",
    )
    add_root_option(parser)
    parser.add_argument("artifact", type=Path, metavar="DIR")
    parser.add_argument("--stage", type=int, action="append", metavar="K",
                        help="protect the stubs of stage K only (repeatable; default: all)")
    parser.set_defaults(handler=run_leak_check)


def run_leak_check(args: argparse.Namespace) -> int:
    from instructor.release.leakcheck import check_artifact

    if not args.artifact.is_dir():
        raise InstructorError(f"{args.artifact}: no such folder")
    report = check_artifact(args.artifact, resolve_root(args.root), stages=args.stage)
    for finding in report.findings:
        print(finding.describe())
    print(report.summary())
    return EXIT_OK if report.ok else EXIT_PROBLEMS
