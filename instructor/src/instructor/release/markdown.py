"""Markdown as the release and its leak check read it: headings, fences, links, passages.

One reading of a page serves every tool, so that a stub's guide section (:func:`guide_sections`)
is an anchor the link check accepts (:func:`markdown_anchors`):

- headings and their GitHub anchors (:func:`headings`, :func:`github_slug`), the sections of a
  guide (:func:`guide_sections`, :func:`section_bodies`); fenced code is never a heading;
- links and images (:func:`markdown_links`) and whether a relative one resolves inside a folder
  (:func:`resolve_link`);
- what a release changes in the Markdown it ships: links to a stage guide it does not hold turned
  into text (:func:`fit_links`), the images a page shows copied with it (:func:`copy_images`),
  the maintainers' passages left out (:func:`strip_maintainer_passages`).
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path, PurePosixPath

from instructor.stages.repo import InstructorError

#: The line that opens or closes a fenced code block.
FENCE = re.compile(r"^\s*(```|~~~)")
#: An ATX heading: up to three spaces, one to six ``#``, its text (a closing ``#`` run dropped).
HEADING = re.compile(r"^\s{0,3}(?P<level>#{1,6})\s+(?P<text>.*?)\s*#*\s*$")
#: An inline link or image: ``[text](target "title")``, ``![alt](<target>)``.
LINK = re.compile(
    r"(?P<image>!?)\[(?P<text>[^\]]*)\]\((?P<target><[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\)"
)
#: A reference definition: ``[name]: target``.
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+(?P<target>\S+)")
#: A target with a scheme (``https:``, ``mailto:``): never checked inside a folder.
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
#: The file name of a stage guide.
GUIDE_NAME = re.compile(r"stage\d+\.md")
_INLINE_CODE = re.compile(r"`[^`]*`")
_HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"")


# ------------------------------------------------------------------------ headings, sections


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading (before de-duplication)."""
    text = _INLINE_CODE.sub(lambda m: m.group(0).strip("`"), heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps its text
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = "".join(c for c in text if c.isalnum() or c in "-_ ")
    return text.replace(" ", "-")


def headings(text: str) -> list[tuple[int, int, str, str]]:
    """Every heading of a Markdown text outside fenced code: ``(line, level, title, anchor)``.

    The anchors are numbered as GitHub numbers duplicates (``usage``, ``usage-1``, ...), counted
    over the headings of every level.
    """
    found = []
    counts: dict[str, int] = {}
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        match = None if in_fence else HEADING.match(line)
        if match:
            slug = github_slug(match["text"])
            seen = counts.get(slug, 0)
            counts[slug] = seen + 1
            found.append((number, len(match["level"]), match["text"],
                          slug if seen == 0 else f"{slug}-{seen}"))
    return found


def markdown_anchors(text: str) -> set[str]:
    """Every heading anchor of a Markdown text, and every ``<a name=...>``/``<a id=...>``."""
    anchors = {anchor for _line, _level, _title, anchor in headings(text)}
    anchors.update(match.group(1) for match in _HTML_ANCHOR.finditer(text))
    return anchors


def guide_sections(text: str) -> list[tuple[int, str, str]]:
    """The ``##``-and-deeper headings of a guide: ``(line, title, anchor)`` in order."""
    return [(line, title, anchor) for line, level, title, anchor in headings(text) if level >= 2]


def section_bodies(text: str, sections: list[tuple[int, str, str]]) -> list[str]:
    """The text of each section up to the next heading, without its fenced code blocks."""
    lines = text.splitlines()
    bodies = []
    for index, (line, _title, _anchor) in enumerate(sections):
        end = sections[index + 1][0] - 1 if index + 1 < len(sections) else len(lines)
        kept, in_fence = [], False
        for body_line in lines[line:end]:
            if FENCE.match(body_line):
                in_fence = not in_fence
            elif not in_fence:
                kept.append(body_line)
        bodies.append("\n".join(kept))
    return bodies


# ------------------------------------------------------------------------------------ links


def markdown_links(text: str) -> list[tuple[int, str]]:
    """The ``(line, target)`` of every link and image of a Markdown text, code left out."""
    links = []
    in_fence = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        definition = REFERENCE_DEF.match(line)
        if definition:
            links.append((number, definition["target"]))
            continue
        for match in LINK.finditer(_INLINE_CODE.sub("", line)):
            links.append((number, match["target"].strip("<>")))
    return links


def resolve_link(artifact: Path, source: PurePosixPath, target: str) -> str | None:
    """Why a relative link of ``source`` does not resolve in the artifact (None: it does)."""
    if SCHEME.match(target) or target.startswith("//"):
        return None
    path_part, _, anchor = target.partition("#")
    if path_part:
        resolved = (artifact / source.parent / path_part).resolve()
        if not resolved.is_relative_to(artifact.resolve()):
            return f"{target} points outside the artifact"
        if not resolved.exists():
            return f"{target}: no such file in the artifact"
    else:
        resolved = (artifact / source).resolve()
    if anchor and resolved.is_file() and resolved.suffix == ".md":
        if anchor not in markdown_anchors(resolved.read_text(encoding="utf-8")):
            return f"{target}: no heading #{anchor} in {resolved.name}"
    return None


# ------------------------------------------------------------------- what a release changes


def fit_links(out: Path, page: Path) -> None:
    """Make a Markdown page of a release hold only links that resolve inside the release.

    A list item that only links to a stage guide the release does not hold (a later stage's) is
    dropped; any other link to such a guide keeps its text, without the link. Other links
    (a doc or an image the release does not ship) are left for the leak check to refuse.
    """
    relative = PurePosixPath(page.relative_to(out).as_posix())
    text = page.read_text(encoding="utf-8")
    broken = {target for _, target in markdown_links(text)
              if GUIDE_NAME.fullmatch(PurePosixPath(target.partition("#")[0]).name)
              and resolve_link(out, relative, target) is not None}
    if not broken:
        return
    kept = []
    in_fence = False
    for line in text.splitlines(keepends=True):
        if FENCE.match(line):
            in_fence = not in_fence
        if in_fence:
            kept.append(line)
            continue
        links = [match["target"] for match in LINK.finditer(line)]
        if links and line.lstrip().startswith(("- ", "* ")) and all(
            target in broken for target in links
        ):
            continue
        kept.append(LINK.sub(
            lambda m: m["text"] if m["target"] in broken else m.group(0), line
        ))
    page.write_text("".join(kept), encoding="utf-8")


def copy_images(source: Path, target: Path, text: str, *, shown: str) -> list[str]:
    """Copy the images a Markdown page of ``source`` shows (``![alt](images/x.png)``) into
    ``target``; return what was copied, relative to the release (``docs/images/x.png``)."""
    copied = []
    for _, link in markdown_links(text):
        path_part = link.partition("#")[0]
        if not path_part or SCHEME.match(path_part) or path_part.endswith(".md"):
            continue
        image = (source / path_part).resolve()
        if not image.is_file() or not image.is_relative_to(source.resolve()):
            continue
        relative = image.relative_to(source.resolve())
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(image, target / relative)
        copied.append(f"{shown}/{relative.as_posix()}")
    return copied


#: A passage of a guide or README for the maintainers only: the release leaves it out.
MAINTAINERS_BEGIN = "<!-- maintainers -->"
MAINTAINERS_END = "<!-- /maintainers -->"
_BEGIN, _END = re.escape(MAINTAINERS_BEGIN), re.escape(MAINTAINERS_END)
#: A passage of whole lines (the comment lines go too), then one inside a line.
_PASSAGE_LINES = re.compile(rf"^[ \t]*{_BEGIN}[ \t]*\n.*?^[ \t]*{_END}[ \t]*(?:\n|\Z)",
                            re.S | re.M)
_PASSAGE_WORDS = re.compile(rf"{_BEGIN}.*?{_END}", re.S)


def strip_maintainer_passages(page: Path, *, shown: str) -> None:
    """Leave out of a released Markdown page what sits between ``<!-- maintainers -->`` and
    ``<!-- /maintainers -->`` (within a line or across lines, the comments included), keeping
    its line breaks so that every other line keeps its number.

    Raises:
        InstructorError: a passage opened and never closed, or closed and never opened.
    """
    text = page.read_text(encoding="utf-8")
    if MAINTAINERS_BEGIN not in text and MAINTAINERS_END not in text:
        return
    opened = None
    for marker in re.finditer(rf"{_BEGIN}|{_END}", text):
        is_begin = marker.group(0) == MAINTAINERS_BEGIN
        if is_begin == (opened is not None):  # a BEGIN inside a passage, an END outside one
            break
        opened = marker if is_begin else None
    else:
        marker = opened
    if marker is not None:
        line = text.count("\n", 0, marker.start()) + 1
        raise InstructorError(f"{shown}:{line}: {marker.group(0)} without its pair: close each "
                              f"{MAINTAINERS_BEGIN} with {MAINTAINERS_END}")
    # The passage's line breaks stay (a blank line in Markdown, or a space inside a paragraph),
    # so a line of the release is the same line of the source: a finding names the source's.
    def breaks(passage: re.Match[str]) -> str:
        return "\n" * passage.group(0).count("\n")

    kept = _PASSAGE_WORDS.sub(breaks, _PASSAGE_LINES.sub(breaks, text))
    page.write_text(kept, encoding="utf-8")


__all__ = [
    "FENCE",
    "HEADING",
    "LINK",
    "MAINTAINERS_BEGIN",
    "MAINTAINERS_END",
    "copy_images",
    "fit_links",
    "github_slug",
    "guide_sections",
    "headings",
    "markdown_anchors",
    "markdown_links",
    "resolve_link",
    "section_bodies",
    "strip_maintainer_passages",
]
