"""Grading under load: a class of submissions graded on a quiet machine, then beside busy loops.

    python instructor/benchmarks/bench_grading.py [--submissions 300] [--jobs 2] [--busy 4]
                                                  [--json PATH]

Run through ``nox -s bench_grading`` (it installs the instructor tools with the grader's
packages). The batch is a third correct copies of the reference stage 3, a third copies with one
bug (``MSELoss.backward`` without its 2/N factor) and a third untouched student releases, graded
with ``--jobs`` workers in parallel, once on the machine as it is and once with ``--busy``
CPU-bound processes (``while True: pass``) beside the grader. Each batch runs in a process of its
own, so that its peak memory is its own. Printed: the wall time of each batch, their ratio, the
grader's peak memory and the largest worker's (resident set sizes), and whether every correct
copy got full marks and every other copy the same score both times (the grade must not depend
on the load).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUG = ("nn/loss.py", "MSELoss.backward",
       "predictions, targets = self._cached()\nreturn predictions - targets")


def replace_region(path: Path, qualified_name: str, body: str) -> None:
    """Replace the solution region of ``qualified_name`` in ``path`` by ``body``."""
    from instructor.stages.markers import enclosing_names, find_regions

    text = path.read_text()
    names = enclosing_names(text)
    region = next(r for r in find_regions(text) if names.get(r.begin) == qualified_name)
    lines = text.splitlines(keepends=True)
    new = "".join(f"{region.indent}{line}\n" for line in body.splitlines())
    path.write_text("".join(lines[:region.begin - 1]) + new + "".join(lines[region.end:]))


def make_batch(folder: Path, count: int) -> list[Path]:
    """``count`` submissions: correct, one bug and untouched, in turn."""
    from instructor.release.release import write_release

    reference = ROOT / "stages" / "stage3"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    release = write_release(ROOT, 3, folder / "release").out / "stages" / "stage3"
    submissions = []
    for index in range(count):
        kind = ("correct", "bug", "untouched")[index % 3]
        target = folder / f"{kind}-{index:03d}"
        shutil.copytree(release if kind == "untouched" else reference, target, ignore=ignore)
        if kind == "bug":
            replace_region(target / "src" / "mini_torch" / BUG[0], BUG[1], BUG[2])
        submissions.append(target)
    return submissions


def grade_once(kit_path: Path, submissions: list[Path], jobs: int) -> dict:
    """Grade the batch in this process: {student: score}, the wall time, the peak memory.

    The batch goes through :func:`instructor.grading.batch.grade`, the entry ``grade`` uses;
    the wall time runs from the call until every submission is graded (the reports of the
    whole batch, written after that, are left out). Its lines for the staff go to stderr: the
    last line of stdout is the measurement.
    """
    from instructor.grading import BatchOptions, GradeOptions, grade

    graded: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-grading-reports-") as scratch:
        options = BatchOptions(run=GradeOptions(), kit=kit_path, out=Path(scratch) / "grades",
                               jobs=jobs, say=lambda line: print(line, file=sys.stderr),
                               after=lambda *_: graded.append(time.perf_counter()))
        started = time.perf_counter()
        results = grade(submissions, None, options).results
    wall = graded[0] - started
    return {"wall": wall, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "scores": {r.student: [r.score, r.max_score, r.status] for r in results},
            "cpu": sum(r.cpu for r in results), "retried": sum(
                1 for r in results for c in r.checks if c.retried)}


def run_batch(kit_path: Path, listing: Path, jobs: int, busy: int) -> dict:
    """Grade in a child process, with ``busy`` CPU-bound loops beside it."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
    try:
        done = subprocess.run([sys.executable, __file__, "--grade", str(kit_path), str(listing),
                               str(jobs)], capture_output=True, text=True, check=True)
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()
    return json.loads(done.stdout.splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--busy", type=int, default=4)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--grade", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.grade:
        kit_path, listing, jobs = args.grade
        submissions = [Path(p) for p in Path(listing).read_text().split("\n") if p]
        print(json.dumps(grade_once(Path(kit_path), submissions, int(jobs))))
        return 0

    from instructor.grading.kit import build_kit

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as scratch:
        folder = Path(scratch)
        kit = build_kit(ROOT, 3, folder / "kit")
        submissions = make_batch(folder / "submissions", args.submissions)
        listing = folder / "submissions.txt"
        listing.write_text("\n".join(str(p) for p in submissions))
        print(f"grading {len(submissions)} stage-3 submissions (a third each correct, one bug, "
              f"untouched) with --jobs {args.jobs} on {os.cpu_count()} cores")
        quiet = run_batch(kit.path, listing, args.jobs, 0)
        print(f"  quiet:                 {quiet['wall']:7.1f} s, grader peak "
              f"{quiet['peak_mib']:.0f} MiB, largest worker {quiet['worker_peak_mib']:.0f} MiB, "
              f"{quiet['cpu']:.0f} CPU s in checks, "
              f"{quiet['retried']} checks retried")
        busy = run_batch(kit.path, listing, args.jobs, args.busy)
        print(f"  beside {args.busy} busy loops:   {busy['wall']:7.1f} s, grader peak "
              f"{busy['peak_mib']:.0f} MiB, largest worker {busy['worker_peak_mib']:.0f} MiB, "
              f"{busy['cpu']:.0f} CPU s in checks, "
              f"{busy['retried']} checks retried")
    ratio = busy["wall"] / quiet["wall"]
    correct = [s for name, s in quiet["scores"].items() if name.startswith("correct")]
    correct += [s for name, s in busy["scores"].items() if name.startswith("correct")]
    full = all(score == most > 0 and status == "graded" for score, most, status in correct)
    same = quiet["scores"] == busy["scores"]
    print(f"  busy / quiet wall time: {ratio:.2f}")
    print(f"  every correct copy full marks both times: {full}; every score the same: {same}")
    if args.json:
        args.json.write_text(json.dumps({"quiet": quiet, "busy": busy, "ratio": ratio,
                                         "full_marks": full, "same_scores": same}, indent=1))
    return 0 if full and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
