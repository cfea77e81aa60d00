"""The command line: ``mini-torch-instructor <command> ...`` (or ``python -m instructor``).

Each command is one subparser, registered by an ``add_<command>_command`` function that adds its
options and sets ``handler`` to the function that runs it. A handler takes the parsed arguments and
returns the exit status. To add a command, write both functions and list the first in
:data:`COMMANDS`.

Exit status: 0 success, 1 the check found problems (or a release met malformed solution markers),
2 the command was called wrongly (bad path, no repository, unknown option). ``grade`` exits with 0
once every submission is graded, whatever the scores.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from instructor import __version__
from instructor.gradescope.autograder import build_autograder
from instructor.grading.batch import BatchOptions, grade
from instructor.grading.pipeline import GradeOptions
from instructor.grading.scoring import POLICIES
from instructor.release.leakcheck import LeakError
from instructor.release.release import write_release
from instructor.release.solutions import MarkerError
from instructor.stages.carry import carry_all, carry_paths
from instructor.stages.consistency import check_repo
from instructor.stages.repo import InstructorError, resolve_root

PROG = "mini-torch-instructor"

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _add_root_option(parser: argparse.ArgumentParser) -> None:
    """``--root REPO``, shared by every command that works on the repository."""
    parser.add_argument(
        "--root",
        type=Path,
        metavar="REPO",
        help="the monorepo root (default: found by walking up from the current folder to the "
        "one holding noxfile.py and stages/)",
    )


# --- check -------------------------------------------------------------------------------------


def add_check_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``check [--root REPO] [--files-only]``."""
    parser = subparsers.add_parser(
        "check",
        help="check that consecutive stages carry files and public names unchanged",
        description="For every pair of consecutive stages K, K+1: every file of "
        "stages/stageK/src/mini_torch is byte-identical in stage K+1 (__init__.py files only "
        "have to exist), and every public name of stage K keeps its signature in stage K+1.",
    )
    _add_root_option(parser)
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


# --- carry -------------------------------------------------------------------------------------


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
    _add_root_option(parser)
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


# --- release -----------------------------------------------------------------------------------


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
    _add_root_option(parser)
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


# --- term: open-stage, publish-key, leak-check -------------------------------------------------


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
    _add_root_option(parser)
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
    _add_root_option(parser)
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
    _add_root_option(parser)
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


# --- grade -------------------------------------------------------------------------------------


def _add_grading_options(parser: argparse.ArgumentParser) -> None:
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
    _add_root_option(parser)
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
    _add_grading_options(parser)
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


def say(text: str) -> None:
    """Print ``text`` on any terminal: what its encoding cannot show is written as escapes."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    print(text.encode(encoding, "backslashreplace").decode(encoding), flush=True)


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
    submissions = list(args.submissions)
    matching = None
    if args.roster is not None:
        from instructor.course.roster import match_submissions, read_roster
        from instructor.grading.pipeline import student_name

        matching = match_submissions([student_name(path) for path in submissions],
                                     read_roster(args.roster))
        refused = {name for row in matching.rows if row.refused
                   for name in row.submission.split(", ")}
        for row in matching.rows:
            if row.refused:
                say(f"refused: {row.refused}")
        for name in matching.unknown:
            say(f"{name}: no roster row matches it: graded, reported as unknown")
        submissions = [path for path in submissions if student_name(path) not in refused]
        if not submissions:
            raise InstructorError("every submission was refused: nothing to grade")
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
        from instructor.course.gradebook import write_term_gradebook
        from instructor.course.lateness import read_term

        write_term_gradebook(
            out, matching, batch.results[0].stage if batch.results else args.stage,
            max((r.max_score for r in batch.results), default=0.0), submissions,
            deadlines=read_term(args.term, args.extensions) if args.term is not None else None,
            earlier=args.late_days_from)
    print(f"wrote {out / 'gradebook.csv'}, {out / 'feedback'}/, {out / 'results'}/")
    return EXIT_OK


# --- grade --regrade ---------------------------------------------------------------------------


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


# --- verify ------------------------------------------------------------------------------------


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
    _add_root_option(parser)
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


# --- autograder --------------------------------------------------------------------------------


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
    _add_root_option(parser)
    parser.add_argument("--stage", type=int, required=True, metavar="N")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.zip")
    _add_grading_options(parser)
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


# --- collect -----------------------------------------------------------------------------------


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
    from instructor.collect import collect, parse_date
    from instructor.course.lateness import read_term
    from instructor.course.roster import read_roster

    repositories = list(args.repositories)
    if args.from_file is not None:
        try:
            lines = args.from_file.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise InstructorError(f"--from {args.from_file}: {error}") from error
        repositories += [line.strip() for line in lines
                         if line.strip() and not line.strip().startswith("#")]
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


# --- similarity --------------------------------------------------------------------------------


def add_similarity_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``similarity OUT --stage N SUBMISSION...``."""
    from instructor.similarity.command import DESCRIPTION, HELP, add_arguments, run

    parser = subparsers.add_parser("similarity", help=HELP, description=DESCRIPTION)
    add_arguments(parser)
    parser.set_defaults(handler=run, parser=parser)


# --- export ------------------------------------------------------------------------------------


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
    from instructor.course.lms import Assignment, lms_text, stage_grades
    from instructor.course.roster import read_roster

    roster = read_roster(args.roster)
    folders = _pairs(args.stage, "--stage", args.parser)
    titles = _pairs(args.title, "--title", args.parser)
    assignments, grades = [], {}
    for stage, folder in sorted(folders.items()):
        gradebook = Path(folder) / "gradebook.csv"
        if not gradebook.is_file():
            raise InstructorError(f"--stage {stage}={folder}: no gradebook.csv there")
        scores, top, unknown = stage_grades(gradebook, roster)
        grades[stage] = scores
        assignments.append(Assignment(stage, titles.get(stage, f"Mini-Torch stage {stage}"),
                                      top))
        for name in unknown:
            say(f"stage {stage}: {name}: no roster row, not exported")
    args.out.write_text(lms_text(args.lms, roster, assignments, grades), encoding="utf-8")
    print(f"wrote {args.out}: {len(roster)} students, {len(assignments)} stage(s) for {args.lms}")
    return EXIT_OK


# --- the parser --------------------------------------------------------------------------------

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


if __name__ == "__main__":
    raise SystemExit(main())
