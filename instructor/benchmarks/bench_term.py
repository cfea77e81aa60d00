"""What running a term adds to a batch: roster, lateness, run.json, similarity and LMS export.

    python instructor/benchmarks/bench_term.py [--submissions 300] [--jobs 2] [--json PATH]

Run through ``nox -s bench_grading`` (after the load benchmark) or alone. The batch is
bench_grading's (a third correct copies of stage 3, a third with one bug, a third untouched
releases), each submission a roster student whose Classroom repository is named after them,
a third of them a day late. In one process:

1. ``grade()`` grades the batch as ``grade --similarity`` does (the similarity report written
   by its ``after`` hook, timed on its own), which includes writing ``run.json``;
2. the roster is matched and the term gradebook written, with the term's due dates, as
   ``grade --roster --term`` does;
3. the Canvas import file is written, as ``export --lms canvas`` does;
4. the digests of ``run.json`` are computed again on their own, to give their share.

Printed: the grading's wall time and each addition's, and their sum as a fraction of the
grading (the course's target: under 10 %).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_grading import ROOT, make_batch

DUE = "2027-02-22T23:59:00-05:00"


def write_course(folder: Path, submissions: list[Path]) -> tuple[Path, Path]:
    """A roster (one student per submission, by GitHub username), collected.csv, term.json."""
    lines = ["id,name,email,github,section"]
    dates = ["name,repository,commit,date,status,student,due,cutoff"]
    for number, path in enumerate(submissions):
        student = f"s{number:04d}"
        lines.append(f"{student},Student {number},{student}@uni.edu,{path.name},"
                     f"{'AB'[number % 2]}")
        when = "2027-02-23T20:00:00-05:00" if number % 3 == 0 else "2027-02-22T20:00:00-05:00"
        dates.append(f"{path.name},repo,c{number},{when},collected,{student},,")
    roster = folder / "roster.csv"
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (submissions[0].parent / "collected.csv").write_text("\n".join(dates) + "\n",
                                                         encoding="utf-8")
    term = folder / "term.json"
    term.write_text(json.dumps({"due": {"3": DUE}}), encoding="utf-8")
    return roster, term


def measure(count: int, jobs: int) -> dict:
    from instructor.course.gradebook import write_term_gradebook
    from instructor.course.lateness import read_term
    from instructor.course.lms import Assignment, lms_text, stage_grades
    from instructor.course.roster import match_submissions, read_roster
    from instructor.grading.batch import BatchOptions, grade
    from instructor.grading.pipeline import student_name
    from instructor.grading.record import digest_of
    from instructor.similarity.command import after_grading

    with tempfile.TemporaryDirectory(prefix="bench-term-") as scratch:
        folder = Path(scratch)
        submissions = make_batch(folder / "submissions", count)
        roster_file, term_file = write_course(folder, submissions)
        seconds: dict[str, float] = {}

        def similarity(results, kit, out):
            started = time.perf_counter()
            report = after_grading(results, kit, out)
            seconds["similarity"] = time.perf_counter() - started
            return report

        out = folder / "grades"
        started = time.perf_counter()
        batch = grade(submissions, 3, BatchOptions(root=ROOT, out=out, jobs=jobs,
                                                   after=similarity, say=lambda _: None))
        seconds["grading"] = time.perf_counter() - started - seconds["similarity"]

        started = time.perf_counter()
        roster = read_roster(roster_file)
        matching = match_submissions([student_name(p) for p in submissions], roster)
        write_term_gradebook(out, matching, 3, max(r.max_score for r in batch.results),
                             submissions, deadlines=read_term(term_file))
        seconds["roster and term gradebook"] = time.perf_counter() - started

        started = time.perf_counter()
        grades, most, _ = stage_grades(out / "gradebook.csv", roster)
        (folder / "canvas.csv").write_text(lms_text(
            "canvas", roster, [Assignment(3, "Mini-Torch stage 3", most)], {3: grades}))
        seconds["canvas export"] = time.perf_counter() - started

        started = time.perf_counter()
        for path in submissions:
            digest_of(path)
        seconds["run.json digests"] = time.perf_counter() - started

        added = sum(v for k, v in seconds.items() if k != "grading")
        missing = sum(1 for m in matching.rows if m.submission is None)
    return {"submissions": count, "jobs": jobs, "seconds": seconds, "added": added,
            "fraction": added / seconds["grading"], "unmatched_roster_rows": missing}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = measure(args.submissions, args.jobs)
    for name, value in result["seconds"].items():
        share = "" if name == "grading" else f"  ({value / result['seconds']['grading']:.1%})"
        print(f"{name:>28}: {value:8.1f} s{share}")
    print(f"{'added by the term':>28}: {result['added']:8.1f} s  ({result['fraction']:.1%} of "
          f"the grading; target under 10 %)")
    if result["unmatched_roster_rows"]:
        print(f"warning: {result['unmatched_roster_rows']} roster rows matched no submission")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
