"""The one entry of grading: :func:`grade` a batch of submissions of a stage.

The command line's ``grade`` (and through it Gradescope's ``run_autograder``) and the nox
sessions call :func:`grade`; it prepares the kit (built from the repository, or a prepared one),
reads the weights, chooses the jail once for the batch and hands it to
:func:`~instructor.grading.batch_run.grade_batch`, then writes the reports once every jail is
gone, and ``run.json`` (:mod:`~instructor.grading.record`): what graded what. What it has to
say (the jail, the limits, one line per graded submission) goes to ``options.say``.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from instructor.gradescope.results import write_gradescope
from instructor.grading.batch_run import Batch, grade_batch
from instructor.grading.jail import hide_command_line
from instructor.grading.kit import Kit, build_kit, load_kit
from instructor.grading.outfolder import Reports
from instructor.grading.pipeline import GradeOptions, check_grader_environment, plan_jails
from instructor.grading.record import now, start_record
from instructor.grading.reports import score_line
from instructor.grading.results import SubmissionResult
from instructor.grading.safe import make_out_folder, safe_text
from instructor.grading.scoring import default_weights_file, load_weights
from instructor.stages.dependencies import import_names, runtime_dependencies
from instructor.stages.repo import InstructorError, resolve_root, stage_dir


@dataclass
class BatchOptions:
    """How a batch is graded and reported, besides how each submission is run (``run``)."""

    run: GradeOptions = field(default_factory=GradeOptions)
    root: Path | None = None  # the monorepo (default: found from the current folder)
    kit: Path | None = None  # a prepared kit instead of the repository's checks
    out: Path | None = None  # a new folder for the reports (default: grades/stageN)
    jobs: int = 2  # submissions graded side by side
    weights: Path | None = None  # default: the kit's (the stage's own) weights
    select: Sequence[str] = ()  # only the checks matching one of these fnmatch patterns
    hidden: bool = True  # with the hidden checks
    gradescope_results: Path | None = None  # also the (single) submission's results.json
    hide_command_line: bool = False  # this process's own command line lists the submissions
    say: Callable[[str], None] = print  # where the lines for the staff go
    command: Sequence[str] = ()  # the command line, for the run's record (run.json)
    # The draw of the checks (default: a fresh secret one); a regrade and ``verify`` give the
    # recorded run's, so that every student of a stage is graded on the same inputs.
    seed: int | None = None
    # Called with the results, the kit and the out folder once every submission is graded,
    # while the kit still exists (``grade --similarity`` writes its report so).
    after: Callable[[list[SubmissionResult], Kit, Path], object] | None = None


def progress_text(result: SubmissionResult) -> str:
    """The terminal's lines of one graded submission (what came from it made safe: no escape
    sequence of a student's reaches the terminal)."""
    lines = [f"{result.student}: {score_line(result)} [{result.status}] "
             f"in {result.seconds:.1f} s, {result.cpu:.1f} CPU s"]
    lines += [f"  note: {note.strip()}" for note in result.notes]
    return safe_text("\n".join(lines), line_bound=400)


def _dependencies(stage: int | None, options: BatchOptions) -> list[str]:
    if options.kit is not None:
        return runtime_dependencies(options.kit / "reference")
    return runtime_dependencies(stage_dir(resolve_root(options.root), stage))


def recorded_options(options: BatchOptions, repository: Path | None) -> dict:
    """What ``run.json`` keeps of ``options`` (paths absolute): enough to grade the same way
    again (:func:`options_from_record`)."""
    def absolute(path: Path | None) -> str | None:
        return None if path is None else os.path.abspath(path)

    run = options.run
    return {"timeout": run.timeout, "budget": run.budget, "policy": run.policy,
            "unisolated": run.unisolated, "weights": absolute(options.weights),
            "select": list(options.select), "hidden": options.hidden,
            "kit": absolute(options.kit), "root": absolute(repository)}


def options_from_record(recorded: dict, *, root: Path | None = None, **changes) -> BatchOptions:
    """The :class:`BatchOptions` of a recorded run (``run.json``'s ``options``), the monorepo
    ``root`` if given instead of the recorded one, with ``changes`` (``out``, ``jobs``,
    ``say``, ``seed``, ...) applied.

    Raises:
        InstructorError: the record holds no options (written by an older version).
    """
    if not recorded:
        raise InstructorError("the run record holds no grading options (it was written by an "
                              "older version of the tools): grade the submissions again")
    run = GradeOptions(timeout=float(recorded["timeout"]), budget=float(recorded["budget"]),
                       policy=str(recorded["policy"]),
                       unisolated=bool(recorded.get("unisolated", False)),
                       keep=bool(changes.pop("keep", False)))

    def path(value: object) -> Path | None:
        return None if value is None else Path(str(value))

    kit = path(recorded.get("kit"))
    return BatchOptions(run=run, root=root if root is not None or kit else
                        path(recorded.get("root")), kit=kit,
                        weights=path(recorded.get("weights")),
                        select=list(recorded.get("select", [])),
                        hidden=bool(recorded.get("hidden", True)), **changes)


def grade(submissions: Sequence[Path], stage: int | None, options: BatchOptions) -> Batch:
    """Grade ``submissions`` with the checks of ``stage`` (or of ``options.kit``) and write
    ``out/gradebook.csv``, ``out/feedback/`` and ``out/results/``.

    Raises:
        InstructorError: a submission that does not exist, a grader's Python without the
            stage's dependencies, a kit of another stage, an output folder that is not new,
            or no jail possible here (and ``options.run.unisolated`` not set).
    """
    say = options.say
    missing = [str(path) for path in submissions if not path.exists()]
    if missing:
        raise InstructorError(f"no such submission: {', '.join(missing)}")
    check_grader_environment(import_names(_dependencies(stage, options)))
    run = options.run
    with tempfile.TemporaryDirectory(prefix="mini-torch-kit-") as scratch:
        if options.kit is not None:
            kit = load_kit(options.kit)
            if stage is not None and stage != kit.stage:
                raise InstructorError(f"--stage {stage}, but the kit is for stage {kit.stage}")
            if options.select:
                raise InstructorError("--select goes with building a kit, not with --kit")
            default_weights = kit.weights_file if kit.weights_file.is_file() else None
        else:
            root = resolve_root(options.root)
            kit = build_kit(root, stage, Path(scratch) / "kit",
                            hidden=options.hidden, select=options.select)
            default_weights = kit.weights_file if kit.weights_file.is_file() else None
            # A uid jail must not read the reference stages or the hidden checks either.
            run.private = (root / "stages", root / "instructor" / "hidden_tests")
        if options.seed is not None and options.seed != kit.seed:
            kit = kit.draw(options.seed)
        chosen = options.weights or default_weights
        weights = load_weights(chosen)
        stock = default_weights_file(kit.stage)
        if chosen is not None and (stock is None or chosen.read_bytes() != stock.read_bytes()):
            for pattern in weights.unused(kit.tests):  # the stage's own weights need no warning
                say(f"warning: the weights pattern {pattern!r} matches no test")
        out = options.out or Path("grades") / f"stage{kit.stage}"
        if out.exists() or out.is_symlink():
            make_out_folder(out)  # refuses now what it would refuse after grading
        plan = plan_jails(kit, run, len(submissions))  # the jail of the whole batch
        try:
            repository = resolve_root(options.root) if options.kit is None else None
        except InstructorError:
            repository = None
        record = start_record(root=repository, stage=kit.stage, command=options.command,
                              reference=kit.reference_dir,
                              hidden=kit.hidden_file if kit.hidden else None, weights=chosen,
                              seed=kit.seed, jail=plan.describe())
        record.options = recorded_options(options, repository)
        reports = Reports(out)  # each submission's reports are written as it finishes
        try:
            if plan.kind == "uid" and options.hide_command_line:
                # the jails share this PID namespace: the command line lists the class
                if not hide_command_line(f"python -m instructor grade --stage {kit.stage}"):
                    say("warning: this machine does not let grade hide its command line: "
                        "student code can read the submissions' paths in /proc")
            say(plan.describe().split(";")[0]
                + (f" (no bubblewrap: {plan.why})" if plan.why else "")
                + ("" if plan.cgroups is not None or plan.kind == "none" else
                   "; resource limits per process only, no cgroup"))
            say(f"limits: {plan.limits()}")
            say(f"grading {len(submissions)} submission(s) with {len(kit.checks)} "
                f"checks of stage {kit.stage}, {options.jobs} at a time")

            def progress(result: SubmissionResult) -> None:
                reports.add(result)
                say(progress_text(result))

            started = time.perf_counter()
            results = grade_batch(kit, submissions, weights, run, jobs=options.jobs,
                                  progress=progress, plan=plan)
            say(f"graded {len(results)} submission(s) in "
                f"{time.perf_counter() - started:.1f} s")
            if options.after is not None:
                options.after(results, kit, out)
        finally:
            plan.close()
    reports.finish(results)
    for result in results:
        try:
            record.add(result.student, Path(result.source), result.score, result.status)
        except OSError as error:  # a submission that went away: say so in its entry
            record.submissions[result.student] = {"error": str(error), "score": result.score,
                                                  "status": result.status}
    record.ended = now()
    record.write(out)
    if options.gradescope_results is not None:
        write_gradescope(results[0], options.gradescope_results)
    return Batch(results, plan, out=out)
