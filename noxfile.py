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

A session ``stageN`` exists for every folder ``stages/stageN`` that holds a ``pyproject.toml``.
Everything after ``--`` other than ``--submission PATH`` goes to pytest unchanged.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import zipfile
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
STAGES = sorted(
    int(path.name.removeprefix("stage"))
    for path in (ROOT / "stages").glob("stage[0-9]*")
    if (path / "pyproject.toml").is_file()
)
TEST_DEPS = ["pytest>=8", "pytest-timeout>=2.3"]
# The stages' runtime dependencies: the consistency check imports every stage to read signatures.
STAGE_RUNTIME_DEPS = ["numpy>=1.24", "scipy>=1.10", "matplotlib>=3.7", "numexpr>=2.8"]
RUFF = "ruff==0.17.6"
TORCH = "torch==2.13.0"  # CPU wheel, for comparisons only: never a stage dependency or in its tests
DEMO_OUTPUT = "demo_output"
GENERATE_OUTPUT = "generate_output"

nox.options.sessions = [f"stage{stage}" for stage in STAGES] + ["lint", "instructor", "template"]
nox.options.error_on_missing_interpreters = True


def _split_submission(session: nox.Session) -> tuple[Path | None, list[str]]:
    """Take ``--submission PATH`` (or ``--submission=PATH``) out of the pytest arguments."""
    args = list(session.posargs)
    submission = None
    for index, arg in enumerate(args):
        if arg == "--submission":
            if index + 1 >= len(args):
                session.error("--submission needs a path: nox -s stage3 -- --submission PATH")
            submission = args[index + 1]
            del args[index:index + 2]
            break
        if arg.startswith("--submission="):
            submission = arg.split("=", 1)[1]
            del args[index]
            break
    if submission is None:
        return None, args
    path = Path(session.invoked_from, submission).resolve()
    if not path.exists():
        session.error(f"--submission {submission}: {path} does not exist")
    return path, args


def _package_rule():
    """The grader's rule that finds a submission's package (one file, standard library only)."""
    path = ROOT / "instructor" / "src" / "instructor" / "grading" / "package_rule.py"
    spec = importlib.util.spec_from_file_location("mini_torch_package_rule", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package_folder(session: nox.Session, path: Path, stage: int) -> Path:
    """A submission may be a folder or a zip; its package, found as the grader finds it."""
    if path.suffix == ".zip":
        # An absolute path: the tests run the examples from folders of their own.
        target = Path(tempfile.mkdtemp(prefix="submission-", dir=session.create_tmp())).resolve()
        with zipfile.ZipFile(path) as archive:
            archive.extractall(target)
        path = target
    rule = _package_rule()
    try:
        package = rule.find_package(path, stage)
    except rule.PackageNotFound as error:
        session.error(f"{path}: {error}")
    if not (package / "pyproject.toml").is_file():
        session.error(f"{package}: the package has no pyproject.toml to install it with")
    return package


def _run_stage(session: nox.Session, stage: int) -> None:
    submission, pytest_args = _split_submission(session)
    package = ROOT / "stages" / f"stage{stage}"
    env = {"MINI_TORCH_STAGE": str(stage)}
    if submission is None:
        env["MINI_TORCH_EXPECT_VERSION"] = f"0.{stage}.0"
    else:
        package = _package_folder(session, submission, stage)
        session.log(f"testing the submission at {package}")
    # The tests run the examples of the package under test (its examples/ folder).
    env["MINI_TORCH_SOURCE"] = str(package)
    session.install(*TEST_DEPS)
    # A regular (not editable) install: the tests see exactly what a wheel would contain.
    session.install("--quiet", str(package))
    test_dirs = [f"shared_tests/stage{k}" for k in range(1, stage + 1)]
    session.run("pytest", *test_dirs, *pytest_args, env=env)


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
def parity(session: nox.Session) -> None:
    """Stage 6's layers against PyTorch (the TORCH pin, CPU), forward and backward in float64.

    Not part of the default run. Ends with a table of the largest absolute errors.
    """
    session.install(*TEST_DEPS, TORCH)
    session.install("--quiet", str(ROOT / "stages" / "stage6"))
    session.run("pytest", "instructor/parity", *session.posargs)
