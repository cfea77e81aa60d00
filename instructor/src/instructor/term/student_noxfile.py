"""Test sessions of your Mini-Torch release.

    nox -l                                list the sessions
    nox -s stage3                         install stages/stage3 into a fresh virtualenv and run
                                          shared_tests/stage1 .. shared_tests/stage3 against it
    nox -s stage3 -- -k cross_entropy -x  anything after -- goes to pytest
    nox -s stage3 -- --submission PATH    the same tests against another copy of the package
                                          (a folder holding pyproject.toml, or a zip of it)
    nox -s carry_forward -- 3             copy your own code of stages 1-2 into stages/stage3
                                          (see carry_forward.py)

There is one session ``stageN`` for every folder ``stages/stageN`` that holds a
``pyproject.toml``.
"""

from __future__ import annotations

import sys
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

nox.options.sessions = [f"stage{stage}" for stage in STAGES]
nox.options.error_on_missing_interpreters = True
#: The Python of the test sessions: None runs them with the interpreter that runs nox.
PYTHON = None


def _take_submission(session: nox.Session) -> tuple[Path | None, list[str]]:
    """Remove ``--submission PATH`` (or ``--submission=PATH``) from the pytest arguments."""
    args = list(session.posargs)
    for index, arg in enumerate(args):
        if arg == "--submission":
            if index + 1 >= len(args):
                session.error("--submission needs a path: nox -s stage3 -- --submission PATH")
            value = args[index + 1]
            del args[index:index + 2]
            break
        if arg.startswith("--submission="):
            value = arg.split("=", 1)[1]
            del args[index]
            break
    else:
        return None, args
    path = Path(session.invoked_from, value).resolve()
    if not path.exists():
        session.error(f"--submission {value}: {path} does not exist")
    return path, args


def _package_folder(session: nox.Session, path: Path, stage: int) -> Path:
    """The package inside ``path`` (a folder, or a zip unpacked first), found by the rule the
    grader uses (``package_rule.py`` beside this file)."""
    if path.suffix == ".zip":
        # An absolute path: the tests run the examples from folders of their own.
        unpacked = Path(tempfile.mkdtemp(prefix="submission-",
                                         dir=session.create_tmp())).resolve()
        with zipfile.ZipFile(path) as archive:
            archive.extractall(unpacked)
        path = unpacked
    sys.path.insert(0, str(ROOT))
    from package_rule import PackageNotFound, find_package

    try:
        package = find_package(path, stage)
    except PackageNotFound as error:
        session.error(f"{path}: {error}")
    if not (package / "pyproject.toml").is_file():
        session.error(f"{package}: the package has no pyproject.toml to install it with")
    return package


def _run_stage(session: nox.Session, stage: int) -> None:
    submission, pytest_args = _take_submission(session)
    package = ROOT / "stages" / f"stage{stage}"
    env = {"MINI_TORCH_STAGE": str(stage)}
    if submission is None:
        env["MINI_TORCH_EXPECT_VERSION"] = f"0.{stage}.0"
    else:
        package = _package_folder(session, submission, stage)
        session.log(f"testing the package at {package}")
    # The example tests run the scripts in <package>/examples.
    env["MINI_TORCH_SOURCE"] = str(package)
    session.install(*TEST_DEPS)
    # A regular install, not an editable one: the tests see what a wheel of your code contains.
    session.install("--quiet", str(package))
    folders = [f"shared_tests/stage{k}" for k in range(1, stage + 1)]
    session.run("pytest", *folders, *pytest_args, env=env)


def _register(stage: int) -> None:
    def session_function(session: nox.Session) -> None:
        _run_stage(session, stage)

    session_function.__doc__ = (
        f"Install stages/stage{stage} fresh and run shared_tests/stage1..stage{stage}."
    )
    nox.session(name=f"stage{stage}", python=PYTHON)(session_function)


for _stage in STAGES:
    _register(_stage)


@nox.session(name="carry_forward", python=False)
def carry_forward(session: nox.Session) -> None:
    """Copy your own code of the earlier stages into stage K: nox -s carry_forward -- K."""
    if not session.posargs:
        session.error("name the stage to carry your code into: nox -s carry_forward -- 2")
    session.run(sys.executable, str(ROOT / "carry_forward.py"), *session.posargs)
