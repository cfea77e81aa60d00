"""The leak check: what a student receives never gives away the work it asks for.

The rule, and the tools that keep it, are in docs/instructor.md.

Every tool that writes a student artifact (``release``, the term bake, ``open-stage``, the
Classroom starters) calls :func:`refuse_leaks` on what it wrote, and writes nothing (or removes
what it wrote) when the check finds anything. The check reads the artifact back: its stubs are the
``raise NotImplementedError("Stage K: implement NAME (see GUIDE)")`` lines of
``stages/stageK/**.py`` (see :data:`instructor.release.solutions.STUB_LINE`). The protected
stubs are those of the stages still open in the artifact (default: every stub in it). For each, it
looks for
``solved-copy``
    a solved definition of the same module path and name anywhere in the artifact
    (``mini_torch.nn.activation.ReLU.forward`` in another ``src/mini_torch/nn/activation.py``, a
    ``solutions/`` folder, ...), or of the same script function in another copy of the script;
``solution-text``
    three or more consecutive lines of the stub's reference solution (read from the monorepo)
    in any text file of the artifact: docs, READMEs, tests, notebooks, other code. Lines are
    compared with their whitespace removed, comments and blank lines ignored;
``outside-markers``
    code of a stubbed function that can answer without the student: the stub's ``raise`` must be
    a statement of the function's own body (not inside a branch) and the function may not
    ``return`` or ``yield`` anywhere (a fast path, a special case or a numexpr branch left outside
    the solution markers does), so the function raises the stub error for every input that gets
    past its input checks.

It also reports ``marker`` (a solution marker line left in a stubbed file), ``instructor-material``
(hidden tests, the instructor tools or the term template inside the artifact), ``session-name``
(a ``nox -s NAME`` in its Markdown that is not a session of its own ``noxfile.py``, see
:func:`noxfile_sessions`), ``maintainer-words`` (an issue number, a path under ``instructor/``
or a solution marker in its Markdown: words only a maintainer reads) and, through
:func:`check_links`, ``broken-link`` (a relative link or image of a Markdown file that does not
resolve inside the artifact, anchors included).

This module runs the check (:func:`check_artifact`, :func:`refuse_leaks`); the rules are beside it
and re-exported here: :mod:`~instructor.release.answers` (``solved-copy``, ``solution-text``,
``outside-markers``), :mod:`~instructor.release.rules` (the other kinds),
:mod:`~instructor.release.artifact` (:class:`Finding`, :class:`StubSite`, the files read) and
:mod:`~instructor.release.markdown` (the links and anchors).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from instructor.release.answers import (
    WINDOW,
    copy_findings,
    find_stubs,
    normalize,
    outside_findings,
    reference_solutions,
    text_findings,
)
from instructor.release.artifact import Finding, StubSite, artifact_files
from instructor.release.markdown import github_slug, markdown_anchors, markdown_links, resolve_link
from instructor.release.rules import (
    check_links,
    maintainer_findings,
    marker_findings,
    material_findings,
    noxfile_sessions,
    session_findings,
    session_references,
)
from instructor.stages.repo import InstructorError


class LeakError(InstructorError):
    """An artifact failed the leak check; nothing of it was left in place."""

    def __init__(self, what: str, findings: list[Finding]) -> None:
        self.findings = findings
        shown = "\n".join(f"  {finding.describe()}" for finding in findings[:40])
        more = f"\n  ... and {len(findings) - 40} more" if len(findings) > 40 else ""
        super().__init__(
            f"refused to write {what}: the leak check found {len(findings)} problem(s):\n"
            f"{shown}{more}\nMove the code named into the solution markers (or out of the text "
            "that prints it) and run the command again."
        )


@dataclass
class LeakReport:
    """The findings of :func:`check_artifact` and what it looked at."""

    artifact: Path
    stubs: list[StubSite] = field(default_factory=list)
    files: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def summary(self) -> str:
        return (
            f"leak check of {self.artifact}: {len(self.stubs)} protected stubs, {self.files} "
            f"files, {len(self.findings)} finding(s)"
        )


# ------------------------------------------------------------------------------ the check


def check_artifact(
    artifact: Path,
    root: Path,
    *,
    stages: Iterable[int] | None = None,
    only: Iterable[str | PurePosixPath] | None = None,
) -> LeakReport:
    """Scan a student artifact; nothing is changed.

    Args:
        artifact: the folder a student receives.
        root: the monorepo, whose reference solutions the text comparison uses.
        stages: the stages still open in the artifact (their stubs are protected); default: every
            stage that has stubs in it.
        only: the files to scan (relative to ``artifact``; a folder stands for everything in it),
            e.g. what ``open-stage`` wrote into a student's repository; default: every file.
    """
    artifact = artifact.resolve()
    every = artifact_files(artifact)
    files = every
    if only is not None:
        wanted = [PurePosixPath(str(item)) for item in only]
        files = [f for f in every if any(f == w or f.is_relative_to(w) for w in wanted)]
    stubs = find_stubs(artifact, every)
    if stages is not None:
        open_stages = set(stages)
        stubs = [stub for stub in stubs if stub.stage in open_stages]
    names = {stub.name for stub in stubs}
    report = LeakReport(artifact=artifact, stubs=stubs, files=len(files))
    solutions = reference_solutions(root, stubs)
    report.findings += copy_findings(artifact, files, stubs)
    report.findings += text_findings(artifact, files, solutions, names)
    report.findings += outside_findings(artifact, stubs)
    report.findings += marker_findings(artifact, files)
    report.findings += material_findings(files)
    report.findings += session_findings(artifact, files)
    report.findings += maintainer_findings(artifact, files)
    report.findings += check_links(artifact, files)
    return report


def refuse_leaks(
    artifact: Path,
    root: Path,
    *,
    what: str,
    stages: Iterable[int] | None = None,
    only: Iterable[str | PurePosixPath] | None = None,
) -> LeakReport:
    """:func:`check_artifact`, raising :class:`LeakError` when it finds anything."""
    report = check_artifact(artifact, root, stages=stages, only=only)
    if report.findings:
        raise LeakError(what, report.findings)
    return report


__all__ = [
    "WINDOW",
    "Finding",
    "LeakError",
    "LeakReport",
    "StubSite",
    "artifact_files",
    "check_artifact",
    "check_links",
    "find_stubs",
    "github_slug",
    "markdown_anchors",
    "markdown_links",
    "normalize",
    "noxfile_sessions",
    "reference_solutions",
    "refuse_leaks",
    "resolve_link",
    "session_references",
]
