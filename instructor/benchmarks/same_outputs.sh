#!/usr/bin/env bash
# Record what the instructor tools compute, to show that a refactoring changed none of it.
#
#   bash instructor/benchmarks/same_outputs.sh OUT            record into OUT (a new folder)
#   bash instructor/benchmarks/same_outputs.sh OUT BEFORE     record, then diff -r BEFORE OUT
#
# Run it from the repository root before the change (into /tmp/before) and after it (into
# /tmp/after, comparing with /tmp/before). It records, for the same inputs:
#   help/      the --help text of every command
#   release/   the student release and the answer key of every stage
#   grade/     gradebook.csv, feedback/ and results/ of a fixed batch of stage-3 submissions
#              (correct, wrong, prohibited import, tampering, forged), graded by `grade`
#   gradescope/ the autograder zip's scripts, requirements and kit, and the results.json that
#              its run_autograder writes for three submissions (setup.sh run with
#              AUTOGRADER_SKIP_INSTALL=1, this interpreter)
#   term/      the term template baked with its defaults and for GitHub Classroom (no .git)
# The checks' random draw is fixed (secrets.randbits returns SEED in the grading processes),
# so the draws repeat. Lines that hold durations are kept in *.log files, which the comparison
# leaves out (diff -r -x '*.log'); everything else must match byte for byte.
# PYTHON names the interpreter (default: python3 on PATH); it needs the instructor package,
# pytest, numpy, scipy, matplotlib, numexpr and cookiecutter.
set -euo pipefail

OUT=${1:?usage: same_outputs.sh OUT [BEFORE]}
BEFORE=${2:-}
PY=${PYTHON:-python3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SEED=20261207
SELECT=(--select 'stage3/MSELoss*' --select 'stage3/Linear*' --select 'hidden/*')

if [ -e "$OUT" ]; then
    echo "same_outputs.sh: $OUT exists; give a new folder" >&2
    exit 2
fi
mkdir -p "$OUT"/{help,release,grade,gradescope,term}
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/same-outputs-XXXXXX)
chmod 755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# A fixed draw of the checks in every grading process this script starts.
mkdir -p "$WORK/site"
cat >"$WORK/site/sitecustomize.py" <<PYEOF
import secrets
secrets.randbits = lambda bits: $SEED % (1 << bits)
PYEOF
export PYTHONPATH="$WORK/site${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT"

# --- help ----------------------------------------------------------------------------------
"$PY" -m instructor --help >"$OUT/help/instructor.txt"
for command in check carry release open-stage publish-key leak-check grade autograder collect; do
    "$PY" -m instructor "$command" --help >"$OUT/help/$command.txt"
done

# --- releases --------------------------------------------------------------------------------
for stage in 1 2 3 4 5 6; do
    "$PY" -m instructor release --stage "$stage" --out "$OUT/release/stage$stage" \
        >"$OUT/release/stage$stage.txt"
    "$PY" -m instructor release --stage "$stage" --solutions --out "$OUT/release/key$stage" \
        >"$OUT/release/key$stage.txt"
done

# the summaries name the output folder: OUT in the compared copies
for log in "$OUT"/release/*.txt; do
    sed "s|$OUT|OUT|g" "$log" >"$log.tmp" && mv "$log.tmp" "$log"
done

# --- a fixed batch of submissions ------------------------------------------------------------
"$PY" - "$WORK/subs" <<'PYEOF'
import sys
from pathlib import Path

sys.path.insert(0, "instructor")
from tests.conftest import make_forged, make_release, make_submission  # noqa: E402

subs = Path(sys.argv[1])
for kind in ("correct", "broken_backward", "earlier_broken", "prohibited_import", "tampering"):
    make_submission(kind, subs / kind)
release = make_release(subs.parent / "release-out")
for kind in ("response_forger", "leaky_error"):
    make_forged(kind, release, subs / f"forged_{kind}")
PYEOF

# --- grade -----------------------------------------------------------------------------------
"$PY" -m instructor grade --stage 3 --out "$WORK/grades" --jobs 2 "${SELECT[@]}" \
    "$WORK"/subs/* >"$OUT/grade/grade.log" 2>&1
cp -r "$WORK/grades/feedback" "$WORK/grades/results" "$OUT/grade/"
cp "$WORK/grades/gradebook.csv" "$OUT/grade/gradebook.csv.log"
# the seconds, cpu_seconds and execution_time are durations: 0 in the compared copies
"$PY" - "$WORK/grades/gradebook.csv" "$OUT/grade" <<'PYEOF'
import csv
import json
import sys
from pathlib import Path

source, out = Path(sys.argv[1]), Path(sys.argv[2])
with source.open(newline="", encoding="utf-8") as handle:
    rows = list(csv.DictReader(handle))
with (out / "gradebook.csv").open("w", newline="", encoding="utf-8") as handle:
    writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "seconds": 0, "cpu_seconds": 0})
for path in sorted((out / "results").glob("*/results.json")):
    path.rename(path.with_name("results.json.log"))
    data = json.loads(path.with_name("results.json.log").read_text(encoding="utf-8"))
    data["execution_time"] = 0
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
PYEOF

# --- gradescope ------------------------------------------------------------------------------
"$PY" -m instructor autograder --stage 3 --out "$WORK/autograder.zip" "${SELECT[@]}" \
    >"$OUT/gradescope/autograder.log"
GS="$WORK/gs"
mkdir -p "$GS/source" "$GS/results" "$GS/tmp"
"$PY" - "$WORK/autograder.zip" "$GS/source" <<'PYEOF'
import sys
import zipfile
from pathlib import Path

with zipfile.ZipFile(sys.argv[1]) as archive:
    for info in archive.infolist():
        target = Path(archive.extract(info, sys.argv[2]))
        if (info.external_attr >> 16) & 0o777:
            target.chmod((info.external_attr >> 16) & 0o777)
PYEOF
mkdir -p "$OUT/gradescope/zip"
cp -r "$GS/source/setup.sh" "$GS/source/run_autograder" "$GS/source/requirements.txt" \
    "$GS/source/kit" "$OUT/gradescope/zip/"
(cd "$GS/source" && find . -type f -not -path './instructor/*' | sort) >"$OUT/gradescope/zip-files.txt"
PYBIN=$(command -v "$PY")
AUTOGRADER_ROOT="$GS" TMPDIR="$GS/tmp" AUTOGRADER_SKIP_INSTALL=1 AUTOGRADER_PYTHON="$PYBIN" \
    "$GS/source/setup.sh" >"$OUT/gradescope/setup.log" 2>&1
for kind in correct broken_backward forged_response_forger; do
    rm -rf "$GS/submission"
    cp -r "$WORK/subs/$kind" "$GS/submission"
    rm -f "$GS/results"/*
    AUTOGRADER_ROOT="$GS" TMPDIR="$GS/tmp" AUTOGRADER_PYTHON="$PYBIN" \
        "$GS/source/run_autograder" >"$OUT/gradescope/$kind.log" 2>&1
    # execution_time is a duration: kept in the log, set to 0 in the compared copy
    "$PY" - "$GS/results/results.json" "$OUT/gradescope/$kind.results.json" <<'PYEOF'
import json
import sys

data = json.load(open(sys.argv[1], encoding="utf-8"))
if "execution_time" in data:
    data["execution_time"] = 0
open(sys.argv[2], "w", encoding="utf-8").write(json.dumps(data, indent=1, sort_keys=True) + "\n")
PYEOF
    cp "$GS/results/results.json" "$OUT/gradescope/$kind.results.json.log"
done

# --- term template -----------------------------------------------------------------------------
"$PY" - "$WORK/term" "$OUT/term" <<'PYEOF'
import json
import shutil
import subprocess
import sys
from pathlib import Path

from cookiecutter.main import cookiecutter

work, out = Path(sys.argv[1]), Path(sys.argv[2])
config = work / "config.yaml"
work.mkdir(parents=True)
config.write_text(f"cookiecutters_dir: {json.dumps(str(work / 'cc'))}\n"
                  f"replay_dir: {json.dumps(str(work / 'replay'))}\n", encoding="utf-8")
for name, answers in (("default", {}), ("classroom", {"platform": "github-classroom",
                                                        "last_stage": "3"})):
    baked = Path(cookiecutter("templates/term", no_input=True, extra_context=answers,
                              output_dir=str(work / name), config_file=str(config)))
    for folder in sorted((work / name).iterdir()):
        git = folder / ".git"
        if git.is_dir():  # commit ids and dates differ: keep the files and the subjects
            log = subprocess.run(["git", "-C", str(folder), "log", "--format=%s%n%b"],
                                 capture_output=True, text=True, check=True).stdout
            files = subprocess.run(["git", "-C", str(folder), "ls-files", "-s"],
                                   capture_output=True, text=True, check=True).stdout
            (out / f"{name}-{folder.name}.git-log.txt").write_text(log + files)
        shutil.copytree(folder, out / name / folder.name, symlinks=True,
                        ignore=shutil.ignore_patterns(".git", "__pycache__"))
PYEOF

echo "same_outputs.sh: recorded into $OUT"
if [ -n "$BEFORE" ]; then
    if diff -r -x '*.log' "$BEFORE" "$OUT"; then
        echo "same_outputs.sh: $OUT is the same as $BEFORE (durations in *.log aside)"
    else
        echo "same_outputs.sh: $OUT differs from $BEFORE (above)" >&2
        exit 1
    fi
fi
