"""Grading works from every usual Python: a virtualenv of the system Python, made with ``venv``
or with ``uv``.

Debian's and Ubuntu's ``/usr/bin/python3 -m venv`` makes ``bin/python`` a link into ``/usr/bin``,
which a jail does not bind whole: the jail must make the links and bind the file they end at.
pyenv's interpreter (and conda's, laid out the same way: one prefix holding the interpreter and
its libraries) is what the rest of the instructor suite grades with. Each case builds the
virtualenv, installs the stage's dependencies and the instructor tools into it, and grades the
reference stage 3 with ``python -m instructor grade``, as an instructor would.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REAL_REPO

SYSTEM_PYTHON = Path("/usr/bin/python3")
PACKAGES = ["numpy>=1.24", "scipy>=1.10", "matplotlib>=3.7", "numexpr>=2.8"]


def _system_python_has_venv() -> bool:
    if not SYSTEM_PYTHON.is_file():
        return False
    done = subprocess.run([str(SYSTEM_PYTHON), "-c", "import venv, ensurepip"],
                          capture_output=True, check=False)
    return done.returncode == 0


pytestmark = [
    pytest.mark.skipif(not _system_python_has_venv(),
                       reason=f"no {SYSTEM_PYTHON} with venv and ensurepip here"),
    pytest.mark.skipif(shutil.which("bwrap") is None and os.geteuid() != 0,
                       reason="no jail here (no bubblewrap, not root)"),
]


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True,
                          timeout=900, check=False, **kwargs)
    assert done.returncode == 0, f"{command}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done


@pytest.fixture(scope="module", params=["venv", "uv"])
def system_venv(request, tmp_path_factory) -> Path:
    """A virtualenv of the system Python with the grader's packages; its ``bin/python``."""
    folder = tmp_path_factory.mktemp(request.param) / "venv"
    if request.param == "venv":
        run(SYSTEM_PYTHON, "-m", "venv", folder)
        python = folder / "bin" / "python"
        run(python, "-m", "pip", "install", "-q", *PACKAGES, REAL_REPO / "instructor")
    else:
        uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
        if uv is None:
            pytest.fail("uv is missing: the instructor session installs it")
        run(uv, "venv", "-q", "--python", SYSTEM_PYTHON, folder)
        python = folder / "bin" / "python"
        run(uv, "pip", "install", "-q", "--python", python, *PACKAGES, REAL_REPO / "instructor")
    assert os.path.islink(python) and os.path.realpath(python).startswith("/usr/"), (
        "the case is meant to be a link into the system Python")
    return python


def test_a_virtualenv_of_the_system_python_grades_in_a_real_jail(system_venv, tmp_path):
    out = tmp_path / "grades"
    done = run(system_venv, "-m", "instructor", "grade", "--root", REAL_REPO, "--stage", 3,
               "--out", out, REAL_REPO / "stages" / "stage3", cwd=tmp_path)
    first = done.stdout.splitlines()[0]
    assert first.startswith("isolated: "), done.stdout
    if shutil.which("bwrap"):
        assert "bubblewrap jail" in first, done.stdout
    rows = list(csv.DictReader((out / "gradebook.csv").open()))
    assert rows[0]["status"] == "graded"
    assert float(rows[0]["score"]) == float(rows[0]["max"]) > 0, rows[0]
