"""The similarity report of a batch: every pair of submissions ranked by how much of the code the
students wrote matches, with the starter code and the batch's common code subtracted.

The comparison is copydetect's (https://pypi.org/project/copydetect/): winnowing over k-grams of
the code with every name replaced by one letter, strings by another and comments and whitespace
dropped (:func:`copydetect.utils.filter_code`), so renaming variables or reflowing lines changes
nothing; the texts compared are the task bodies of :mod:`instructor.similarity.extract`, taken
in the reference's order, so moving functions around changes nothing either.

How a pair is scored, and why:

1. Each submission's document is fingerprinted (:class:`copydetect.CodeFingerprint`) with
   :data:`NOISE_THRESHOLD` = 25: a match shorter than 25 characters of the normalized code
   (about one line) is never counted, the way ``return np.maximum(x, 0)`` is written by
   everybody. The guarantee threshold is the same 25, so the winnowing window is 1: every
   k-gram is kept (a batch's code is small) and the result does not depend on which hashes a
   window happens to pick.
2. Boilerplate: the fingerprints of the starter code (what the release hands out in those
   files) are removed, as copydetect's boilerplate directories do.
3. Common code: a fingerprint found in at least ``max(COMMON_MIN, COMMON_SHARE * n)`` of the
   ``n`` documents is removed too (MOSS's ``-m``): the obvious way to write a line is not
   evidence. A group of fewer than :data:`COMMON_MIN` submissions sharing code stays visible.
4. For a pair (A, B), :func:`copydetect.compare_files` gives the share of A's remaining code
   that matches B, and of B's that matches A. The score is their mean (1: both wrote the same
   code; 0: nothing in common beyond the starter and the common code). ``matched`` is the
   smaller of the two matched lengths, in characters of the normalized code.
5. Pairs are ranked by score, highest first, except that a pair matching fewer than
   :data:`FLAG_TOKENS` characters (about four lines) ranks after every pair that matches more:
   two students who wrote almost nothing beyond the common code and share one line score 1,
   and are not a case. A pair is flagged when its score is at least :data:`FLAG_SCORE` and it
   matches at least :data:`FLAG_TOKENS` characters.

Why 0.7: in the test's batch of 31 honest students, where every function has only three to
five ways of being written (so honest students share whole functions by chance far more often
than a real class does), the highest honest pair scores about 0.6 and the median 0.2; a
submission copied whole, renamed and reordered, scores 1, and one that copies most of another
still lands well above 0.7.

The report flags pairs for a person to read. It never changes a grade, and it reads no grade.
"""

from __future__ import annotations

import csv
import html
import io
import math
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from instructor.grading.intake import Refused, release, take_in
from instructor.grading.package_rule import PackageNotFound, find_package
from instructor.grading.safe import safe_cell, safe_text, write_new_file
from instructor.similarity.extract import Extracted, Starter, extract
from instructor.stages.repo import InstructorError

#: Characters of normalized code a match needs to count (copydetect's noise threshold, k).
NOISE_THRESHOLD = 25
#: Matches at least this long are always found (copydetect's guarantee threshold); with the
#: noise threshold it sets the winnowing window, ``GUARANTEE_THRESHOLD - NOISE_THRESHOLD + 1``.
GUARANTEE_THRESHOLD = 25
#: A fingerprint in at least ``max(COMMON_MIN, COMMON_SHARE * n)`` of n documents is common code.
COMMON_SHARE = 0.1
COMMON_MIN = 10
#: A pair is flagged at this score and this many matched characters.
FLAG_SCORE = 0.7
FLAG_TOKENS = 100
#: Pairs shown side by side in the HTML (all flagged ones, at least this many), and rows of its
#: table (the CSV holds every pair).
PAIRS_SHOWN = 20
PAIRS_SHOWN_MAX = 100
TABLE_ROWS = 200

HTML_FILE = "similarity.html"
CSV_FILE = "similarity.csv"


@dataclass
class Pair:
    """Two submissions compared; ``share_a``: the part of A's code that matches B."""

    student_a: str
    student_b: str
    score: float
    share_a: float
    share_b: float
    matched: int
    flagged: bool = False
    slices_a: list[tuple[int, int]] = field(default_factory=list, repr=False)
    slices_b: list[tuple[int, int]] = field(default_factory=list, repr=False)


@dataclass
class SimilarityReport:
    """A ranked comparison of a batch (highest score first) and where it was written."""

    stage: int
    pairs: list[Pair]
    documents: dict[str, str]  # student -> the text compared
    written: dict[str, int]  # student -> tasks with code
    notes: dict[str, list[str]]  # student -> what the extraction noticed
    skipped: dict[str, str]  # student -> why the submission was not compared
    common: int = 0  # fingerprints removed as the batch's common code
    seconds: float = 0.0
    html: Path | None = None
    csv: Path | None = None

    @property
    def flagged(self) -> list[Pair]:
        return [pair for pair in self.pairs if pair.flagged]

    def summary(self) -> str:
        """The line the command prints."""
        where = f": {self.html}, {self.csv}" if self.html else ""
        return (f"compared {len(self.documents)} submission(s) of stage {self.stage} "
                f"({len(self.pairs)} pairs, {len(self.flagged)} flagged, "
                f"{len(self.skipped)} not compared) in {self.seconds:.1f} s{where}")


def _fingerprints(documents: Mapping[str, str], boilerplate):
    from copydetect import CodeFingerprint

    return {name: CodeFingerprint(f"{index}.py", NOISE_THRESHOLD,
                                  GUARANTEE_THRESHOLD - NOISE_THRESHOLD + 1,
                                  boilerplate=boilerplate, language="python",
                                  fp=io.StringIO(text))
            for index, (name, text) in enumerate(documents.items())}


def _boilerplate(starter: Starter):
    import numpy as np
    from copydetect import CodeFingerprint

    # win_size=1: every k-gram of the starter code, as copydetect takes its boilerplate
    fingerprint = CodeFingerprint("starter.py", NOISE_THRESHOLD, 1, language="python",
                                  fp=io.StringIO(starter.boilerplate()))
    return np.array(sorted(fingerprint.hashes), dtype=np.int64)


def compare_documents(documents: Mapping[str, str], starter: Starter, *,
                      common_share: float = COMMON_SHARE, common_min: int = COMMON_MIN,
                      flag_score: float = FLAG_SCORE,
                      flag_tokens: int = FLAG_TOKENS) -> tuple[list[Pair], int]:
    """Every pair of ``documents`` scored (see the module docstring), highest first; and how
    many fingerprints were removed as common code."""
    import numpy as np
    from copydetect import compare_files

    boilerplate = _boilerplate(starter)
    prints = _fingerprints(documents, boilerplate)
    counts = Counter(h for fingerprint in prints.values() for h in fingerprint.hashes)
    limit = max(common_min, math.ceil(common_share * len(documents)))
    common = [h for h, count in counts.items() if count >= limit]
    if common:
        boilerplate = np.union1d(boilerplate, np.array(common, dtype=np.int64))
        prints = _fingerprints(documents, boilerplate)
    names = list(documents)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            one, other = prints[a], prints[b]
            if not one.hashes & other.hashes:
                pairs.append(Pair(a, b, 0.0, 0.0, 0.0, 0))
                continue
            _, (share_a, share_b), (slices_a, slices_b) = compare_files(one, other)
            matched_a = round(float(share_a * one.token_coverage))
            matched_b = round(float(share_b * other.token_coverage))
            score = (float(share_a) + float(share_b)) / 2
            matched = min(matched_a, matched_b)
            pairs.append(Pair(a, b, score, float(share_a), float(share_b), matched,
                              flagged=score >= flag_score and matched >= flag_tokens,
                              slices_a=[(int(s), int(e)) for s, e in zip(*slices_a)],
                              slices_b=[(int(s), int(e)) for s, e in zip(*slices_b)]))
    # A share of a few matched characters is no evidence: such pairs rank after the others.
    pairs.sort(key=lambda p: (p.matched < flag_tokens, -p.score, -p.matched, p.student_a,
                              p.student_b))
    return pairs, len(common)


def _take_in_and_extract(submission: Path, stage: int, starter: Starter,
                         scratch: Path) -> Extracted | str:
    """Copy a submission in as data (:func:`instructor.grading.intake.take_in`), find its
    package and extract it; the reason as text when it cannot be compared."""
    target = scratch / "submission"
    try:
        try:
            package = find_package(take_in(submission, target), stage)
            return extract(package, starter)
        finally:
            release(target)
            shutil.rmtree(target, ignore_errors=True)
    except Refused as error:
        return f"refused: {error}"
    except PackageNotFound as error:
        return f"no package: {error}"
    except OSError as error:
        return f"cannot read the submission: {error.strerror or error}"


def prepare_out(out: Path) -> None:
    """Make ``out`` a folder of this user's that holds no report of this kind yet: a new folder
    (mode 0700), or an existing one such as the output folder of ``grade``.

    Raises:
        InstructorError: ``out`` is a link, a file, somebody else's, or holds a report already.
    """
    if not out.exists() and not out.is_symlink():
        out.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(out, 0o700)
        return
    info = os.lstat(out)
    owner = not hasattr(os, "geteuid") or info.st_uid == os.geteuid()
    if out.is_symlink() or not out.is_dir() or not owner:
        raise InstructorError(f"{out}: not a folder of this user's; name a new folder or the "
                              "output folder of grade")
    present = [name for name in (HTML_FILE, CSV_FILE) if os.path.lexists(out / name)]
    if present:
        raise InstructorError(f"{out} holds {', '.join(present)} already: move it away, or "
                              "name another folder")


def similarity_report(
    students: Mapping[str, Path],
    stage: int,
    root: Path | None,
    out: Path,
    *,
    starter: Starter | None = None,
    common_share: float = COMMON_SHARE,
    common_min: int = COMMON_MIN,
    flag_score: float = FLAG_SCORE,
    flag_tokens: int = FLAG_TOKENS,
    progress: Callable[[str], None] | None = None,
) -> SimilarityReport:
    """Compare the submissions of a batch and write ``out/similarity.html`` and
    ``out/similarity.csv``.

    Args:
        students: the student's name (shown escaped) -> the submission: a folder (any folder
            holding the package) or a zip, taken in as the grader takes it.
        stage: the stage the submissions implement.
        root: the monorepo (its ``stages/stageN`` gives the tasks and the starter code); None
            when ``starter`` is given (from a grading kit: :meth:`Starter.from_reference`).
        out: a new folder, or an existing one of this user's (the output folder of ``grade``);
            the two files must not exist in it. Nothing else in it is read or written.

    Raises:
        InstructorError: ``out`` cannot take the report, or neither ``root`` nor ``starter``.
    """
    started = time.perf_counter()
    if starter is None:
        if root is None:
            raise InstructorError("similarity_report needs the repository (root) or a starter")
        starter = Starter.from_repo(root, stage)
    out = Path(out)
    prepare_out(out)
    documents: dict[str, str] = {}
    written: dict[str, int] = {}
    notes: dict[str, list[str]] = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="mini-torch-similarity-") as scratch:
        for name, submission in students.items():
            found = _take_in_and_extract(Path(submission), stage, starter, Path(scratch))
            if isinstance(found, str):
                skipped[name] = found
                continue
            documents[name] = found.document(starter)
            written[name] = found.written
            if found.notes:
                notes[name] = found.notes
            if progress is not None:
                progress(name)
    pairs, common = compare_documents(documents, starter, common_share=common_share,
                                      common_min=common_min, flag_score=flag_score,
                                      flag_tokens=flag_tokens)
    report = SimilarityReport(stage, pairs, documents, written, notes, skipped, common)
    report.seconds = time.perf_counter() - started
    report.csv, report.html = out / CSV_FILE, out / HTML_FILE
    write_new_file(report.csv, csv_text(report))
    write_new_file(report.html, html_text(report, flag_score=flag_score,
                                          flag_tokens=flag_tokens))
    return report


# --- the files ---------------------------------------------------------------------------------


def csv_text(report: SimilarityReport) -> str:
    """Every pair, highest score first: names as safe cells, numbers as the report writes them."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_a", "student_b", "score", "matched_tokens", "share_a", "share_b",
                     "flagged"])
    for pair in report.pairs:
        writer.writerow([safe_cell(pair.student_a), safe_cell(pair.student_b),
                         f"{pair.score:.4f}", pair.matched, f"{pair.share_a:.4f}",
                         f"{pair.share_b:.4f}", "yes" if pair.flagged else ""])
    return buffer.getvalue()


def _shown(text: str) -> str:
    """Text of a submission as HTML: control and bidirectional characters as escapes, then
    HTML-escaped."""
    return html.escape(safe_text(text, line_bound=10**6), quote=True)


def highlighted(text: str, slices: list[tuple[int, int]]) -> str:
    """``text`` as HTML with the matched ``slices`` (character ranges) in ``<mark>``."""
    parts, cursor = [], 0
    for start, end in sorted(slices):
        start, end = max(start, cursor), min(end, len(text))
        if end <= start:
            continue
        parts += [_shown(text[cursor:start]), "<mark>", _shown(text[start:end]), "</mark>"]
        cursor = end
    parts.append(_shown(text[cursor:]))
    return "".join(parts)


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #bbb; padding: 2px 8px; text-align: left; }
tr.flagged td { background: #fde2e2; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; font-size: 12px; }
mark { background: #ffd54f; }
.note { color: #555; }
"""


def _name(student: str) -> str:
    return _shown(student)


def html_text(report: SimilarityReport, *, flag_score: float = FLAG_SCORE,
              flag_tokens: int = FLAG_TOKENS) -> str:
    """The staff's page: how to read it, the ranked pairs, the top pairs side by side."""
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>Mini-Torch stage {report.stage}: similarity</title>",
           f"<style>{_STYLE}</style></head><body>",
           f"<h1>Stage {report.stage}: similarity of the code students wrote</h1>",
           "<p>For staff. Each pair of submissions is compared on the bodies of the stage's "
           "functions (and the functions a student added), with the starter code and the code "
           f"most of the batch shares ({report.common} fingerprints) subtracted. Names, "
           "comments, layout and the order of functions do not count. <b>Score</b>: the mean "
           "of the two students' shares of their own code that matches the other's (1 = the "
           "same code). <b>Matched</b>: characters of normalized code in matches (about 25 a "
           f"line). A pair is flagged at a score of {flag_score:g} and {flag_tokens} matched "
           "characters. This report flags; it never changes a grade. Read the code before "
           "you conclude anything: a short task may have one natural solution.</p>",
           f"<p>{len(report.documents)} submissions compared, {len(report.pairs)} pairs, "
           f"{len(report.flagged)} flagged; made in {report.seconds:.1f} s.</p>"]
    shown = [p for p in report.pairs if p.flagged][:PAIRS_SHOWN_MAX]
    shown += [p for p in report.pairs if not p.flagged and p.score > 0][
        :max(0, PAIRS_SHOWN - len(shown))]
    anchors = {id(pair): f"pair-{index}" for index, pair in enumerate(shown, start=1)}
    out.append("<h2>Pairs, highest score first</h2><table><tr><th>#</th><th>student A</th>"
               "<th>student B</th><th>score</th><th>matched</th><th>share of A</th>"
               "<th>share of B</th><th>flag</th></tr>")
    for rank, pair in enumerate(report.pairs[:TABLE_ROWS], start=1):
        link = anchors.get(id(pair))
        cell = f'<a href="#{link}">{rank}</a>' if link else str(rank)
        out.append(f'<tr{" class=flagged" if pair.flagged else ""}><td>{cell}</td>'
                   f"<td>{_name(pair.student_a)}</td><td>{_name(pair.student_b)}</td>"
                   f"<td>{pair.score:.3f}</td><td>{pair.matched}</td>"
                   f"<td>{pair.share_a:.0%}</td><td>{pair.share_b:.0%}</td>"
                   f"<td>{'flagged' if pair.flagged else ''}</td></tr>")
    out.append("</table>")
    if len(report.pairs) > TABLE_ROWS:
        out.append(f'<p class="note">{len(report.pairs) - TABLE_ROWS} more pairs in '
                   f"{CSV_FILE}.</p>")
    out.append("<h2>Side by side</h2>")
    for pair in shown:
        out += [f'<h3 id="{anchors[id(pair)]}">{_name(pair.student_a)} and '
                f"{_name(pair.student_b)}: score {pair.score:.3f}, {pair.matched} matched</h3>",
                '<div class="pair">',
                f"<div><b>{_name(pair.student_a)}</b> ({pair.share_a:.0%} matches)<pre>"
                f"{highlighted(report.documents[pair.student_a], pair.slices_a)}</pre></div>",
                f"<div><b>{_name(pair.student_b)}</b> ({pair.share_b:.0%} matches)<pre>"
                f"{highlighted(report.documents[pair.student_b], pair.slices_b)}</pre></div>",
                "</div>"]
    if report.skipped or report.notes:
        out.append("<h2>Submissions not compared, and notes</h2><ul>")
        for name, why in report.skipped.items():
            out.append(f"<li>{_name(name)}: not compared: {_shown(why)}</li>")
        for name, lines in report.notes.items():
            out.append(f"<li>{_name(name)}: {_shown('; '.join(lines))}</li>")
        out.append("</ul>")
    out.append("</body></html>\n")
    return "\n".join(out)
