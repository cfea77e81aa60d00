"""Test sessions of your Mini-Torch release.

    nox -l                                list the sessions
    nox -s stage3                         install stages/stage3 (editable: a failure's traceback
                                          names your file) into a fresh virtualenv and run
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
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
STAGES = sorted(
    int(path.name.removeprefix("stage"))
    for path in (ROOT / "stages").glob("stage[0-9]*")
    if (path / "pyproject.toml").is_file()
)
nox.options.sessions = [f"stage{stage}" for stage in STAGES]
nox.options.error_on_missing_interpreters = True
#: The Python of the test sessions: None runs them with the interpreter that runs nox.
PYTHON = None


def _run_stage(session: nox.Session, stage: int) -> None:
    # stage_session.py and package_rule.py sit beside this file: the first is the session's body
    # (the same as the course's own noxfile runs), the second the grader's rule that finds the
    # package of a --submission.
    sys.path.insert(0, str(ROOT))
    from package_rule import find_package
    from stage_session import run_stage

    run_stage(session, ROOT, stage, find_package)


def _register(stage: int) -> None:
    def session_function(session: nox.Session) -> None:
        _run_stage(session, stage)

    session_function.__doc__ = (
        f"Install stages/stage{stage} and run shared_tests/stage1..stage{stage}."
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
