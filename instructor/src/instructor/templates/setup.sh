#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image: it installs Python, the
# third-party packages and the instructor tools into a virtualenv at $ROOT/venv.
#
# AUTOGRADER_ROOT      the Gradescope folder (default /autograder), overridable to test locally
# AUTOGRADER_SKIP_INSTALL=1
#                      install nothing (the packages are already there); only the checks run
# AUTOGRADER_PYTHON    with AUTOGRADER_SKIP_INSTALL=1: the interpreter to check (default python3)
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"

if [ "${AUTOGRADER_SKIP_INSTALL:-0}" = "1" ]; then
    echo "setup.sh: AUTOGRADER_SKIP_INSTALL=1, installing nothing"
    PY="${AUTOGRADER_PYTHON:-python3}"
else
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c "import venv, ensurepip" 2>/dev/null; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-venv python3-pip
    fi
    python3 -m venv "$ROOT/venv"
    PY="$ROOT/venv/bin/python"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -r "$SOURCE/requirements.txt"
    "$PY" -m pip install --quiet "$SOURCE/instructor"
fi

# The checks: the interpreter is new enough, every module a grading run needs imports, and the
# grading kit is readable.
"$PY" -c "import sys; assert sys.version_info >= (3, 10), sys.version"
"$PY" -c "import instructor, pytest, pytest_timeout, hatchling, numpy, scipy, matplotlib, numexpr"
"$PY" -c "import sys; from pathlib import Path; from instructor.kit import load_kit; \
kit = load_kit(Path(sys.argv[1])); print(f'setup.sh: kit of stage {kit.stage}, {len(kit.tests)} tests')" \
    "$SOURCE/kit"
echo "setup.sh: ready"
