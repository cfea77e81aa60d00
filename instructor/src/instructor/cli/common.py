"""What every command shares: the program's name, its exit statuses, ``--root``, ``say``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROG = "mini-torch-instructor"


EXIT_OK = 0


EXIT_PROBLEMS = 1


EXIT_USAGE = 2


def add_root_option(parser: argparse.ArgumentParser) -> None:
    """``--root REPO``, shared by every command that works on the repository."""
    parser.add_argument(
        "--root",
        type=Path,
        metavar="REPO",
        help="the monorepo root (default: found by walking up from the current folder to the "
        "one holding noxfile.py and stages/)",
    )


def say(text: str) -> None:
    """Print ``text`` on any terminal: what its encoding cannot show is written as escapes."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding), flush=True)


