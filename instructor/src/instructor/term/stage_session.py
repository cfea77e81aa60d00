"""The body of every ``nox -s stageN`` session, shared by the monorepo's noxfile and yours.

``run_stage(session, root, stage, find_package)`` installs ``stages/stageN`` (or the package of
``-- --submission PATH``, a folder or a zip of one) into the session's fresh virtualenv and runs
``shared_tests/stage1`` .. ``shared_tests/stageN`` against it. Every argument after ``--`` other
than ``--submission PATH`` goes to pytest unchanged.

The package is installed editable (``pip install -e``): a failing test's traceback then names the
file you edit, ``stages/stageN/src/mini_torch/...``, not a copy inside the virtualenv, and the
tests are told where that file lives (``MINI_TORCH_EXPECT_PATH``) so that they refuse any other
``mini_torch`` that happens to be importable. What a wheel of the package holds is checked by a
test of its own (stage 5's ``test_wheel.py`` builds one).

``find_package(folder, stage)`` is the grader's rule for where a submission's package sits
(``package_rule.py``); the noxfiles pass it in because it lives in different places in the
monorepo and in a release.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import nox

TEST_DEPS = ["pytest>=8", "pytest-timeout>=2.3"]


def take_submission(session: nox.Session) -> tuple[Path | None, list[str]]:
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


def package_folder(session: nox.Session, path: Path, stage: int,
                   find_package: Callable[[Path, int], Path]) -> Path:
    """The package inside ``path`` (a folder, or a zip unpacked first), found as the grader
    finds it."""
    if path.suffix == ".zip":
        # An absolute path: the tests run the examples from folders of their own.
        unpacked = Path(tempfile.mkdtemp(prefix="submission-",
                                         dir=session.create_tmp())).resolve()
        with zipfile.ZipFile(path) as archive:
            archive.extractall(unpacked)
        path = unpacked
    try:
        package = find_package(path, stage)
    except Exception as error:  # the rule's PackageNotFound: its message says what is missing
        session.error(f"{path}: {error}")
    if not (package / "pyproject.toml").is_file():
        session.error(f"{package}: the package has no pyproject.toml to install it with")
    return package


def run_stage(session: nox.Session, root: Path, stage: int,
              find_package: Callable[[Path, int], Path]) -> None:
    """Install stage ``stage`` (or the ``--submission``) editable and run its cumulative tests."""
    submission, pytest_args = take_submission(session)
    package = root / "stages" / f"stage{stage}"
    env = {"MINI_TORCH_STAGE": str(stage)}
    if submission is None:
        env["MINI_TORCH_EXPECT_VERSION"] = f"0.{stage}.0"
    else:
        package = package_folder(session, submission, stage, find_package)
        session.log(f"testing the package at {package}")
    # The example tests run the scripts in <package>/examples.
    env["MINI_TORCH_SOURCE"] = str(package)
    # The tests accept mini_torch only from inside the package folder (src/ in the usual layout).
    source = package / "src"
    env["MINI_TORCH_EXPECT_PATH"] = str(source if source.is_dir() else package)
    session.install(*TEST_DEPS)
    session.install("--quiet", "--editable", str(package))
    folders = [f"shared_tests/stage{k}" for k in range(1, stage + 1)]
    session.run("pytest", *folders, *pytest_args, env=env)
