"""Sessions of the Mini-Torch monorepo.

    nox                      every test session (each stage's cumulative suite, lint, tools)
    nox -l                   list the sessions with their descriptions
    nox -s stage3            install stages/stage3 into a fresh virtualenv and run
                             shared_tests/stage1 .. shared_tests/stage3 against it
    nox -s stage3 -- --submission PATH [pytest args]
                             the same tests against a student's package folder (or a zip of it)
    nox -s demo              the main job: train the demo model and write its plots
    nox -s generate          stage 6's GAN and character-level transformer, a few steps each
    nox -s lint              ruff
    nox -s instructor        the instructor tools' tests (consistency, releases, grading)
    nox -s template          bake the cookiecutter term template and test what it makes
    nox -s bench             benchmarks (ratios to plain numpy and to PyTorch CPU), not by default
    nox -s parity            stage 6's layers against PyTorch (installs torch), not default
    nox -s bench_grading     300 stage-3 submissions graded quiet, then beside 4 busy loops
    nox -s bench_term        what a term adds to a 300-batch: roster, lateness, similarity, export

A session ``stageN`` exists for every folder ``stages/stageN`` that holds a ``pyproject.toml``.
Everything after ``--`` other than ``--submission PATH`` goes to pytest unchanged.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
STAGES = sorted(
    int(path.name.removeprefix("stage"))
    for path in (ROOT / "stages").glob("stage[0-9]*")
    if (path / "pyproject.toml").is_file()
)


def _load(name: str, *parts: str):
    """A module of the instructor tools that must load without them installed (nox has only nox)."""
    path = ROOT.joinpath("instructor", "src", "instructor", *parts)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while they are built
    spec.loader.exec_module(module)
    return module


# The stages' runtime dependencies, read from the newest stage's pyproject.toml (the one place they
# are written): the consistency check imports every stage to read signatures, the grader's
# workers import the package under test.
STAGE_RUNTIME_DEPS = _load("mini_torch_dependencies", "stages", "dependencies.py") \
    .runtime_dependencies(ROOT / "stages" / f"stage{max(STAGES)}")
RUFF = "ruff==0.17.6"
TORCH = "torch==2.13.0"  # CPU wheel, for comparisons only: never a stage dependency or in its tests
DEMO_OUTPUT = "demo_output"
GENERATE_OUTPUT = "generate_output"

nox.options.sessions = [f"stage{stage}" for stage in STAGES] + ["lint", "instructor", "template"]
nox.options.error_on_missing_interpreters = True


# The grader's rule that finds a submission's package, and the stage session the students'
# noxfile runs too (both standard library and nox only).
PACKAGE_RULE = _load("mini_torch_package_rule", "grading", "package_rule.py")
STAGE_SESSION = _load("mini_torch_stage_session", "term", "stage_session.py")
TEST_DEPS = STAGE_SESSION.TEST_DEPS


def _run_stage(session: nox.Session, stage: int) -> None:
    STAGE_SESSION.run_stage(session, ROOT, stage, PACKAGE_RULE.find_package)


def _register_stage(stage: int) -> None:
    def stage_session(session: nox.Session) -> None:
        _run_stage(session, stage)

    stage_session.__doc__ = (
        f"Install stages/stage{stage} (or -- --submission PATH) fresh and run "
        f"shared_tests/stage1..stage{stage}."
    )
    nox.session(name=f"stage{stage}")(stage_session)


for _stage in STAGES:
    _register_stage(_stage)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff over the whole repository."""
    session.install(RUFF)
    session.run("ruff", "check", ".")


@nox.session
def instructor(session: nox.Session) -> None:
    """Install the instructor tools; run their tests: consistency, releases, grading, autograder."""
    # The grading workers need the stages' runtime packages; the Classroom workflow test renders
    # the term template (jinja2) and reads it (pyyaml), a test bakes it (cookiecutter); uv makes
    # one of the virtualenvs the grader is tried in.
    session.install(*TEST_DEPS, *STAGE_RUNTIME_DEPS, "hatchling>=1.18", "jinja2", "pyyaml", "uv",
                    "cookiecutter>=2.4")
    session.install("--quiet", str(ROOT / "instructor"))
    # From the repo root (nox runs there): the root pyproject.toml sets --import-mode=importlib.
    session.run("pytest", "instructor/tests", *session.posargs)


@nox.session
def template(session: nox.Session) -> None:
    """Bake the term template (templates/term) and test the terms it makes, nox runs included."""
    # The hooks run in this interpreter: cookiecutter, and for Gradescope bakes the instructor
    # tools with pytest, pytest-timeout and the stages' dependencies (they collect the tests).
    session.install(
        *TEST_DEPS, *STAGE_RUNTIME_DEPS, "hatchling>=1.18", "cookiecutter>=2.4", "pyyaml", "nox"
    )
    session.install("--quiet", str(ROOT / "instructor"))
    # From the repo root: the root pyproject.toml sets --import-mode=importlib.
    session.run("pytest", "templates/tests", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: train the demo model of the newest stage and save its plots."""
    stage = max(STAGES)
    session.install("--quiet", str(ROOT / "stages" / f"stage{stage}"))
    output = ROOT / DEMO_OUTPUT
    shutil.rmtree(output, ignore_errors=True)
    script = ROOT / "stages" / f"stage{stage}" / "examples" / "train_mnist.py"
    if not script.is_file():  # before stage 5 exists, the stage-1 spirals are the demo
        script = ROOT / "stages" / "stage1" / "examples" / "train_spirals.py"
    session.run("python", str(script), "--out", str(output), *session.posargs)


@nox.session
def generate(session: nox.Session) -> None:
    """Stage 6's generative examples, briefly: a GAN on MNIST and a character-level transformer.

    A few hundred steps each (a look at the outputs, not the quality of the default runs);
    everything lands in ``generate_output/``. Not part of the default run.
    """
    session.install("--quiet", str(ROOT / "stages" / "stage6"))
    output = ROOT / GENERATE_OUTPUT
    shutil.rmtree(output, ignore_errors=True)
    examples = ROOT / "stages" / "stage6" / "examples"
    session.run("python", str(examples / "train_gan.py"), "--steps", "300", "--checkpoints", "3",
                "--out", str(output), *session.posargs)
    session.run("python", str(examples / "train_char_lm.py"), "--steps", "200",
                "--out", str(output), *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks of the last stage: ratios measured in one process, also written as JSON.

    PyTorch (the CPU wheel) is installed here and nowhere else: the steps are compared with it
    (the MLP's in run_benchmarks.py, the GAN's and the char LM's in bench_generative.py).
    The count of given against solution lines is printed too.
    """
    session.install("--quiet", str(ROOT / "stages" / f"stage{max(STAGES)}"), TORCH,
                    "threadpoolctl>=3.1")
    session.run("python", "instructor/benchmarks/count_lines.py")
    session.run("python", "instructor/benchmarks/run_benchmarks.py", *session.posargs)
    session.run("python", "instructor/benchmarks/bench_generative.py", *session.posargs)


@nox.session
def bench_grading(session: nox.Session) -> None:
    """Grading under load: 300 stage-3 submissions, ``--jobs 2``, on the machine as it is and
    beside 4 CPU-bound loops; wall times, their ratio, peak memory, and whether every grade came
    out the same (about 10 minutes on 2 cores; not part of the default run)."""
    session.install(*TEST_DEPS, *STAGE_RUNTIME_DEPS, "hatchling>=1.18")
    session.install("--quiet", str(ROOT / "instructor"))
    session.run("python", "instructor/benchmarks/bench_grading.py", *session.posargs)


@nox.session
def bench_term(session: nox.Session) -> None:
    """What a term adds to a 300-submission batch: roster, lateness, run.json, similarity and
    the Canvas export, each timed beside the grading in one process (about 5 minutes on 2
    cores; not part of the default run)."""
    session.install(*TEST_DEPS, *STAGE_RUNTIME_DEPS, "hatchling>=1.18")
    session.install("--quiet", str(ROOT / "instructor"))
    session.run("python", "instructor/benchmarks/bench_term.py", *session.posargs)


@nox.session
def parity(session: nox.Session) -> None:
    """Stage 6's layers against PyTorch (the TORCH pin, CPU), forward and backward in float64.

    Not part of the default run. Ends with a table of the largest absolute errors.
    """
    session.install(*TEST_DEPS, TORCH)
    session.install("--quiet", str(ROOT / "stages" / "stage6"))
    session.run("pytest", "instructor/parity", *session.posargs)
