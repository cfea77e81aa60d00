"""What a release does with the solution regions of a stage besides stubbing them.

The markers, the regions and the stubs are facts of a stage's code, in
:mod:`instructor.stages.markers` (re-exported here). This module holds the two uses only the
release and its leak check have: :func:`strip_markers` keeps the code of every region and drops
the marker lines (the solved files a release carries from earlier stages), and
:func:`solution_bodies` reads the reference code of each region (the text the leak check looks
for in an artifact).
"""

from __future__ import annotations

from instructor.stages.markers import (
    BEGIN_MARKER,
    END_MARKER,
    STUB_LINE,
    STUB_MESSAGE,
    MarkerError,
    Region,
    enclosing_names,
    find_regions,
    marker_kind,
    region_name,
    stub_solutions,
)


def strip_markers(text: str, filename: str = "<source>") -> str:
    """``text`` with its marker lines removed and the solution code kept."""
    find_regions(text, filename)  # refuse malformed markers here too
    kept = [line for line in text.splitlines(keepends=True) if marker_kind(line) is None]
    return "".join(kept)


def solution_bodies(
    text: str, *, owner: str, filename: str = "<source>"
) -> list[tuple[str, list[tuple[int, str]]]]:
    """The code of every solution region of ``text``: ``[(qualified name, [(line, text)])]``.

    The names are those :func:`stub_solutions` gives the stubs; the lines are the 1-based line
    numbers and texts between the two markers.
    """
    regions = find_regions(text, filename)
    if not regions:
        return []
    names = enclosing_names(text, filename)
    lines = text.splitlines()
    return [
        (
            region_name(owner, names.get(region.begin)),
            [(number, lines[number - 1]) for number in range(region.begin + 1, region.end)],
        )
        for region in regions
    ]


__all__ = [
    "BEGIN_MARKER",
    "END_MARKER",
    "STUB_LINE",
    "STUB_MESSAGE",
    "MarkerError",
    "Region",
    "enclosing_names",
    "find_regions",
    "region_name",
    "solution_bodies",
    "strip_markers",
    "stub_solutions",
]
