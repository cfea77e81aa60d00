#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image: it installs Python, the
# third-party packages and the instructor tools into a virtualenv at $ROOT/venv that every user
# can read, creates the unprivileged user that student code runs as, and makes the grading kit
# (the checks, the hidden ones, the reference stage) readable by root alone.
#
# AUTOGRADER_ROOT      the Gradescope folder (default /autograder), overridable to test locally
# AUTOGRADER_SKIP_INSTALL=1
#                      install nothing (the packages are already there); only the checks run
# AUTOGRADER_PYTHON    the interpreter to use with AUTOGRADER_SKIP_INSTALL=1 (default python3),
#                      or to build the virtualenv from otherwise (default python3)
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
STUDENT_USER="@STUDENT_USER@"

if [ "${AUTOGRADER_SKIP_INSTALL:-0}" = "1" ]; then
    echo "setup.sh: AUTOGRADER_SKIP_INSTALL=1, installing nothing"
    PY="${AUTOGRADER_PYTHON:-python3}"
else
    BASE="${AUTOGRADER_PYTHON:-python3}"
    if ! command -v "$BASE" >/dev/null 2>&1 || ! "$BASE" -c "import venv, ensurepip" 2>/dev/null; then
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y python3 python3-venv python3-pip
        BASE=python3
    fi
    "$BASE" -m venv "$ROOT/venv"
    PY="$ROOT/venv/bin/python"
    "$PY" -m pip install --quiet --upgrade pip
    if [ -s "$SOURCE/requirements.txt" ]; then
        "$PY" -m pip install --quiet -r "$SOURCE/requirements.txt"
    fi
    "$PY" -m pip install --quiet "$SOURCE/instructor"
    chmod -R a+rX "$ROOT/venv"
fi

# The account student code runs as where no bubblewrap jail is possible (no home, no shell, no
# password; the grader gives it the uid of its own), and what only root reads.
if [ "$(id -u)" = "0" ]; then
    if ! id "$STUDENT_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$STUDENT_USER"
    fi
    chmod -R go-rwx "$SOURCE"
    mkdir -p "$ROOT/results"
    chmod 755 "$ROOT/results"
    if command -v setpriv >/dev/null 2>&1; then
        uid=$(id -u "$STUDENT_USER"); gid=$(id -g "$STUDENT_USER")
        if setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$PY" -I -c "import numpy" \
            2>/dev/null; then
            echo "setup.sh: student code will run as $STUDENT_USER"
        else
            echo "setup.sh: warning: $STUDENT_USER cannot run $PY with numpy; student code" \
                "would run as root (install the virtualenv where every user can read it)"
        fi
    fi
else
    echo "setup.sh: not root: student code will run as $(id -un), the grader's own user"
fi

# The checks: the interpreter is new enough, every module a grading run needs imports, and the
# grading kit is readable.
"$PY" -c "import sys; assert sys.version_info >= (3, 10), sys.version"
"$PY" -c "import @IMPORTS@"
"$PY" -c "import sys; from pathlib import Path; from instructor.grading.kit import load_kit; \
kit = load_kit(Path(sys.argv[1])); print(f'setup.sh: kit of stage {kit.stage}, {len(kit.checks)} checks')" \
    "$SOURCE/kit"
echo "setup.sh: ready"
