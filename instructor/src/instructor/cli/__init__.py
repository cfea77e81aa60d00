"""The command line: ``mini-torch-instructor <command> ...`` (or ``python -m instructor``).

Each command is one subparser, registered by an ``add_<command>_command`` function that adds its
options and sets ``handler`` to the function that runs it. A handler takes the parsed arguments,
calls the one function of its job's folder that does the work, and returns the exit status. The
commands are grouped by job, as the tools are: :mod:`~instructor.cli.stages` (``check``,
``carry``), :mod:`~instructor.cli.release` (``release``, ``leak-check``),
:mod:`~instructor.cli.term` (``open-stage``, ``publish-key``), :mod:`~instructor.cli.grading`
(``grade``, ``grade --regrade``, ``verify``), :mod:`~instructor.cli.gradescope` (``autograder``),
:mod:`~instructor.cli.course` (``collect``, ``similarity``, ``export``). To add a command, write
both functions in its job's module and list the first in :data:`COMMANDS`.

Exit status: 0 success, 1 the check found problems (or a release met malformed solution markers),
2 the command was called wrongly (bad path, no repository, unknown option). ``grade`` exits with 0
once every submission is graded, whatever the scores.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from instructor import __version__
from instructor.cli.common import EXIT_PROBLEMS, EXIT_USAGE, PROG
from instructor.cli.course import add_collect_command, add_export_command, add_similarity_command
from instructor.cli.gradescope import add_autograder_command
from instructor.cli.grading import add_grade_command, add_verify_command
from instructor.cli.release import add_leak_check_command, add_release_command
from instructor.cli.stages import add_carry_command, add_check_command
from instructor.cli.term import add_open_stage_command, add_publish_key_command
from instructor.release.leakcheck import LeakError
from instructor.release.solutions import MarkerError
from instructor.stages.repo import InstructorError

#: Every command, in the order ``--help`` lists them.
COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_check_command,
    add_carry_command,
    add_release_command,
    add_open_stage_command,
    add_publish_key_command,
    add_leak_check_command,
    add_grade_command,
    add_autograder_command,
    add_collect_command,
    add_similarity_command,
    add_export_command,
    add_verify_command,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Maintainer tools for the Mini-Torch course monorepo."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status (2 with a message on stderr for a usage error)."""
    args = build_parser().parse_args(argv)
    args.own_command_line = argv is None  # the process's own arguments, not a caller's list
    args.argv = [str(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    try:
        return args.handler(args)
    except LeakError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    except InstructorError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except MarkerError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
