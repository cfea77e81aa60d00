"""The stage table is written once (``instructor.release.release.STAGE_ELEMENTS``): the tables of
README.md and docs/index.md say the same words, and every public class a stage adds (read from
its ``__all__``) is named in its row."""

from __future__ import annotations

import ast
import re

import pytest

from instructor.release.release import STAGE_ELEMENTS

from .conftest import REAL_REPO

STAGES = sorted(STAGE_ELEMENTS)
#: The modules whose ``__all__`` is a stage's public API.
API_MODULES = ("__init__.py", "nn/__init__.py", "optim/__init__.py", "utils/__init__.py",
               "utils/data/__init__.py", "nn/utils.py")


def public_names(stage: int) -> set[str]:
    """``(module, name)`` of every name a stage's API modules export."""
    found = set()
    for module in API_MODULES:
        path = REAL_REPO / "stages" / f"stage{stage}" / "src" / "mini_torch" / module
        if not path.is_file():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__"
                                                    for t in node.targets):
                found |= {(module, e.value) for e in node.value.elts}
    return found


def table_cells(text: str, column: int) -> dict[int, str]:
    """{stage: the cell of ``column``} of the first markdown table whose rows start with a
    stage number and name the stage's folder."""
    cells = {}
    for line in text.splitlines():
        match = re.match(r"\| (\d+) \| \[?`stages/stage", line)
        if match:
            cells[int(match.group(1))] = [c.strip() for c in line.strip("|").split(" | ")][column]
        elif cells and not line.startswith("|"):
            break
    return cells


@pytest.mark.parametrize("stage", STAGES)
def test_every_class_a_stage_adds_is_named_in_its_row(stage):
    new = public_names(stage) - (public_names(stage - 1) if stage > 1 else set())
    # classes, and the functions of nn.utils (clip_grad_norm_): what a user looks for by name
    wanted = {name for module, name in new
              if (name[:1].isupper() and not name.isupper()) or module == "nn/utils.py"}
    named = set(re.findall(r"`(?:nn\.utils\.)?(\w+)`", STAGE_ELEMENTS[stage]))
    assert wanted <= named, f"stage {stage} adds {sorted(wanted - named)}: name them in " \
        "instructor.release.release.STAGE_ELEMENTS, README.md and docs/index.md"


@pytest.mark.parametrize("document, column", [("README.md", 2), ("docs/index.md", 2)])
def test_the_stage_tables_say_what_the_one_source_says(document, column):
    cells = table_cells((REAL_REPO / document).read_text(encoding="utf-8"), column)
    assert {k: cells.get(k) for k in STAGES} == STAGE_ELEMENTS, (
        f"{document}: copy each stage's words from instructor.release.release.STAGE_ELEMENTS")
