"""``similarity OUT --stage N SUBMISSION...``: the similarity report as a command.

The command line registers it in two lines::

    parser = subparsers.add_parser("similarity", help=HELP, description=DESCRIPTION)
    add_arguments(parser); parser.set_defaults(handler=run)

``run`` takes the parsed arguments and returns the exit status (0 once the report is written,
whatever it found). ``grade --similarity`` takes two lines as well: :func:`add_grade_option` in
the grade command's parser, and once the grade reports are written::

    if args.similarity:
        print(after_grading(results, kit, out).summary())
"""

from __future__ import annotations

import argparse
from pathlib import Path

from instructor.grading.pipeline import student_names
from instructor.grading.safe import safe_text
from instructor.similarity.extract import Starter
from instructor.similarity.report import (
    CSV_FILE,
    FLAG_SCORE,
    HTML_FILE,
    SimilarityReport,
    similarity_report,
)
from instructor.stages.repo import InstructorError, resolve_root

HELP = "rank pairs of submissions by the similarity of the code students wrote (for staff)"
DESCRIPTION = (
    "Compare the code each submission wrote for stage N (the bodies of the stage's functions, "
    "read as text, never run) with every other's, the starter code and the batch's common code "
    f"subtracted (copydetect's winnowing), and write OUT/{HTML_FILE} (the pairs ranked, the top "
    f"ones side by side with the matches highlighted) and OUT/{CSV_FILE}. OUT is a new folder "
    "or an existing one of yours, such as the output folder of grade: only these two files are "
    "written there, and no grade is read or changed. A high score is a reason to read two "
    "submissions, not a verdict.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``similarity``."""
    parser.add_argument("out", type=Path, metavar="OUT",
                        help="the folder to write into: new, or grade's output folder")
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSION",
                        help="a student's package folder (or any folder holding it), or a zip; "
                        "the student's name is the folder's name or the zip's stem, as in grade")
    parser.add_argument("--stage", type=int, required=True, metavar="N",
                        help="the stage the submissions implement")
    parser.add_argument("--root", type=Path, metavar="REPO",
                        help="the monorepo root (default: found from the current folder)")
    parser.add_argument("--flag-score", type=float, default=FLAG_SCORE, metavar="S",
                        help=f"flag pairs from this score on, 0..1 (default {FLAG_SCORE:g})")


def run(args: argparse.Namespace) -> int:
    """Write the report; print one line per submission not compared and a summary."""
    if not 0 <= args.flag_score <= 1:
        raise InstructorError(f"--flag-score {args.flag_score:g}: give a score from 0 to 1")
    missing = [str(path) for path in args.submissions if not path.exists()]
    if missing:
        raise InstructorError(f"no such submission: {', '.join(missing)}")
    names, clashes = student_names(args.submissions)
    students = {}
    for index, (name, path) in enumerate(zip(names, args.submissions)):
        if index in clashes:
            print(safe_text(f"{name}: not compared: {clashes[index]}", line_bound=400))
        else:
            students[name] = path
    report = similarity_report(students, args.stage, resolve_root(args.root), args.out,
                               flag_score=args.flag_score)
    for name, why in report.skipped.items():
        print(safe_text(f"{name}: not compared: {why}", line_bound=400))
    print(report.summary())
    return 0


def add_grade_option(parser: argparse.ArgumentParser) -> None:
    """``grade --similarity``."""
    parser.add_argument("--similarity", action="store_true",
                        help=f"also write OUT/{HTML_FILE} and OUT/{CSV_FILE}: pairs of "
                        "submissions ranked by the similarity of the code students wrote, for "
                        "staff (no grade is read or changed)")


def after_grading(results, kit, out: Path) -> SimilarityReport:
    """The report of a graded batch, into grade's output folder ``out``: the submissions of
    ``results`` (:class:`instructor.grading.results.SubmissionResult`; those the grader refused
    are left out, a clash of names among them) against the starter code of ``kit``
    (:class:`instructor.grading.kit.Kit`, built from the repository or loaded)."""
    students = {result.student: Path(result.source) for result in results
                if result.status != "refused"}
    return similarity_report(students, kit.stage, None, out, starter=Starter.from_kit(kit))
