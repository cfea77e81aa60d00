"""``grade`` (with ``--regrade``) and ``verify``: a batch graded, regraded and re-checked."""

from __future__ import annotations

import argparse
from pathlib import Path

from instructor.cli.common import EXIT_OK, EXIT_PROBLEMS, add_root_option, say
from instructor.grading.batch import BatchOptions, grade
from instructor.grading.pipeline import GradeOptions
from instructor.grading.scoring import POLICIES


def add_grading_options(parser: argparse.ArgumentParser) -> None:
    """The options ``grade`` and ``autograder`` share."""
    parser.add_argument(
        "--weights", type=Path, metavar="FILE",
        help='JSON object {"fnmatch pattern of check names": points}; first match wins; '
        "default: the stage's own weights (instructor/grading/weights/stageK.json, about one "
        "point per line of the reference's solution)",
    )
    parser.add_argument(
        "--timeout", type=float, default=GradeOptions.timeout, metavar="S",
        help="CPU seconds (of the jail, all its processes) one check may use before it is "
        "stopped and scores 0; a busy machine does not count against it "
        f"(default {GradeOptions.timeout:g})",
    )
    parser.add_argument(
        "--budget", type=float, default=GradeOptions.budget, metavar="S",
        help="CPU seconds all checks of one submission may use; the hidden checks run last "
        f"(default {GradeOptions.budget:g})",
    )
    parser.add_argument(
        "--policy", choices=POLICIES, default=GradeOptions.policy,
        help="what a prohibited import (torch, sklearn, ...) costs: zero = the submission "
        "scores 0, flag = reported beside a normal score (default zero)",
    )
    parser.add_argument(
        "--select", action="append", default=[], metavar="PATTERN",
        help="grade only the checks whose name matches this fnmatch pattern (repeatable)",
    )
    parser.add_argument(
        "--no-hidden", action="store_true",
        help="leave out instructor/hidden_tests/stageN/hidden_checks.py",
    )


def add_grade_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``grade --stage N [options] SUBMISSION...``."""
    parser = subparsers.add_parser(
        "grade",
        help="grade student submissions (folders or zips) with trusted checks",
        description="Run the checks of stage N (public and hidden) on each submission: student "
        "code runs in a jail of its own (bubblewrap; a uid of its own where user namespaces "
        "are missing) in a worker process that only evaluates calls; this process compares "
        "the results with the reference stage's. Only stage N's own tasks carry points; "
        "earlier stages' code is checked and reported. Once every jail is gone, writes "
        "OUT/gradebook.csv, OUT/feedback/<student>.txt and OUT/results/<student>/results.json "
        "(Gradescope) into OUT, a new folder it creates (mode 0700).",
    )
    add_root_option(parser)
    parser.add_argument("submissions", nargs="*", type=Path, metavar="SUBMISSION",
                        help="a student's package folder (or any folder holding it), or a zip")
    parser.add_argument("--stage", type=int, metavar="N",
                        help="the stage to grade (required unless --kit is given)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="a new folder for the reports (default: grades/stageN); an "
                        "existing one is refused unless it is empty and yours")
    parser.add_argument("--jobs", type=int, default=2, metavar="J",
                        help="submissions graded side by side (default 2)")
    parser.add_argument("--kit", type=Path, metavar="KIT",
                        help="a prepared grading kit (what the autograder zip ships) instead of "
                        "the repository's checks")
    parser.add_argument("--gradescope-results", type=Path, metavar="FILE",
                        help="also write the Gradescope results.json of the (single) submission "
                        "to FILE")
    parser.add_argument("--gradescope-rules", type=Path, metavar="FILE",
                        help="the autograder's course.json (late policy, extensions, submission "
                        "limit), applied to --gradescope-results (run_autograder passes it)")
    parser.add_argument("--gradescope-metadata", type=Path, metavar="FILE",
                        help="Gradescope's submission_metadata.json, read with "
                        "--gradescope-rules")
    parser.add_argument("--keep-workdirs", action="store_true",
                        help="keep each submission's work folder, to debug the grader")
    parser.add_argument("--unisolated", action="store_true",
                        help="grade even where no jail is possible (macOS, Windows, Linux "
                        "without bubblewrap or root): student code then runs as you, and every "
                        "report says so on its first line; never for grades of record")
    add_grading_options(parser)
    add_similarity_option(parser)
    parser.add_argument("--roster", type=Path, metavar="FILE",
                        help="the course's roster (CSV, or Canvas's gradebook export): the "
                        "gradebook gets one row per roster student (missing, unknown and two "
                        "submissions of one student reported); grade's own rows go to "
                        "submissions.csv")
    parser.add_argument("--term", type=Path, metavar="FILE",
                        help="the term's term.json (with --roster): lateness charged from the "
                        "commit dates in the submissions' collected.csv")
    parser.add_argument("--extensions", type=Path, metavar="FILE",
                        help="student,stage,due rows: a student's own due date (with --term)")
    parser.add_argument("--late-days-from", type=Path, action="append", default=[],
                        metavar="GRADES", help="an earlier stage's grade folder: the late days "
                        "its students spent count against the term's budget (repeatable)")
    add_regrade_options(parser)
    parser.set_defaults(handler=run_grade, parser=parser)


def add_similarity_option(parser: argparse.ArgumentParser) -> None:
    from instructor.similarity.command import add_grade_option

    add_grade_option(parser)


def _similarity_after(results, kit, out: Path) -> None:
    from instructor.similarity.command import after_grading

    say(after_grading(results, kit, out).summary())


def run_grade(args: argparse.Namespace) -> int:
    """Grade every submission, print one line each, write the reports."""
    if args.regrade is not None:
        return run_regrade(args)
    if not args.submissions:
        args.parser.error("give SUBMISSION... (or --regrade OUT --only STUDENT...)")
    if args.gradescope_results is not None and len(args.submissions) != 1:
        args.parser.error("--gradescope-results takes exactly one SUBMISSION")
    if args.kit is None and args.stage is None:
        args.parser.error("give --stage N (or --kit KIT)")
    if args.jobs < 1 or args.timeout <= 0 or args.budget <= 0:
        args.parser.error("--jobs must be >= 1, --timeout and --budget > 0 seconds")
    if args.term is not None and args.roster is None:
        args.parser.error("--term goes with --roster FILE")
    if args.gradescope_rules is not None:
        if args.gradescope_results is None or args.gradescope_metadata is None:
            args.parser.error("--gradescope-rules goes with --gradescope-results and "
                              "--gradescope-metadata")
        from instructor.gradescope.rules import grade_on_gradescope

        return grade_on_gradescope(args.gradescope_results, args.gradescope_metadata,
                                   args.gradescope_rules, lambda: _grade(args))
    return _grade(args)


def _grade(args: argparse.Namespace) -> int:
    from instructor.course.term_batch import select_submissions, write_term_results

    submissions = list(args.submissions)
    matching = None
    if args.roster is not None:
        matching, submissions = select_submissions(submissions, args.roster, say)
    run = GradeOptions(timeout=args.timeout, budget=args.budget, policy=args.policy,
                       keep=args.keep_workdirs, unisolated=args.unisolated)
    batch = grade(submissions, args.stage, BatchOptions(
        run=run, root=args.root, kit=args.kit, out=args.out, jobs=args.jobs,
        weights=args.weights, select=args.select, hidden=not args.no_hidden,
        gradescope_results=args.gradescope_results,
        hide_command_line=args.own_command_line, say=say,
        command=["python", "-m", "instructor", *args.argv],
        after=_similarity_after if args.similarity else None))
    out = batch.out
    if matching is not None:
        write_term_results(out, matching, args.stage, batch.results, submissions,
                           term=args.term, extensions=args.extensions,
                           late_days_from=args.late_days_from)
    print(f"wrote {out / 'gradebook.csv'}, {out / 'feedback'}/, {out / 'results'}/")
    return EXIT_OK


def add_regrade_options(parser: argparse.ArgumentParser) -> None:
    """``grade --regrade OUT --only STUDENT... --reason TEXT [--by NAME] [SUBMISSION...]``."""
    group = parser.add_argument_group(
        "regrades", "grade some students of an earlier run again, as that run graded them (its "
        "run.json), and merge them into its folder; see instructor/grading/regrade.py")
    group.add_argument("--regrade", type=Path, metavar="OUT",
                       help="the out folder of the earlier run; SUBMISSION... (optional) "
                       "replace the recorded submissions of the students they name")
    group.add_argument("--only", action="extend", nargs="+", default=[], metavar="STUDENT",
                       help="the students to regrade, as the gradebook names them (required "
                       "with --regrade; repeatable)")
    group.add_argument("--reason", metavar="TEXT",
                       help="why (required with --regrade; it goes into OUT/regrades.csv)")
    group.add_argument("--by", metavar="NAME",
                       help="who asked for the regrade (default: the user running it)")


#: grade's options a regrade takes from the earlier run's record, not from the command line.
_RECORDED_OPTIONS = {"stage": None, "kit": None, "out": None, "weights": None,
                     "gradescope_results": None, "roster": None, "term": None,
                     "extensions": None, "select": [], "no_hidden": False, "similarity": False,
                     "late_days_from": [], "timeout": GradeOptions.timeout,
                     "budget": GradeOptions.budget, "policy": GradeOptions.policy,
                     "unisolated": False}


def run_regrade(args: argparse.Namespace) -> int:
    """Regrade the students of ``--only`` and print one line each."""
    from instructor.grading.regrade import regrade

    if not args.only:
        args.parser.error("--regrade needs --only STUDENT... (the students to grade again)")
    if not args.reason or not args.reason.strip():
        args.parser.error('--regrade needs --reason "..." (it goes into the history)')
    given = [f"--{name.replace('_', '-')}" for name, default in _RECORDED_OPTIONS.items()
             if getattr(args, name, default) != default]
    if given:
        args.parser.error(f"{', '.join(given)}: a regrade grades as the earlier run did (its "
                          "run.json); leave these out")
    report = regrade(args.regrade, args.only, args.reason, submissions=args.submissions,
                     by=args.by, root=args.root, jobs=args.jobs, keep=args.keep_workdirs,
                     say=say, command=["python", "-m", "instructor", *args.argv])
    for line in report.lines():
        say(line)
    print(report.summary())
    return EXIT_OK


def add_verify_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``verify OUT [--sample N] [--seed S] [--jobs J] [--root REPO]``."""
    parser = subparsers.add_parser(
        "verify",
        help="grade a sample of a graded batch again and check the scores reproduce",
        description="Take a sample of the submissions OUT/run.json records, check that each is "
        "still what was graded (zip sha256, folder digest, commit; a changed one is reported, "
        "not graded), grade the others again as the run did (stage, options, weights, hidden "
        "checks, seed) into a temporary folder and compare each score with run.json's and the "
        "gradebook's. Exit status 0 if all reproduce, 1 otherwise.",
    )
    add_root_option(parser)
    parser.add_argument("out", type=Path, metavar="OUT", help="the out folder of a grade run")
    parser.add_argument("--sample", type=int, metavar="N",
                        help="how many submissions to grade again (default: 5, at most all)")
    parser.add_argument("--seed", type=int, metavar="S",
                        help="the seed of the sample's draw (default: a fresh one)")
    parser.add_argument("--jobs", type=int, default=2, metavar="J",
                        help="submissions graded side by side (default 2)")
    parser.set_defaults(handler=run_verify, parser=parser)


def run_verify(args: argparse.Namespace) -> int:
    """Print the warnings, one line per sampled student, and the summary."""
    from instructor.grading.verify import verify_run

    if args.sample is not None and args.sample < 1:
        args.parser.error(f"--sample {args.sample}: give at least 1")
    report = verify_run(args.out, sample=args.sample, seed=args.seed, root=args.root,
                        jobs=args.jobs)
    for line in report.lines():
        say(line)
    print(report.summary())
    return EXIT_OK if report.ok else EXIT_PROBLEMS
