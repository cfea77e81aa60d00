"""The CI guard: the real stages of this repository are consistent.

Every file a stage carries is byte-identical in the next stage and every public name keeps its
signature. When this fails, the output names each drifted file or changed name; copy a fix forward
with ``python -m instructor carry [--from-stage K] PATH``.
"""

from __future__ import annotations

from pathlib import Path

from instructor.cli import main

# instructor/tests/test_real_repo.py -> the repository root two folders up.
REPO = Path(__file__).resolve().parents[2]


def test_repository_layout_is_found():
    assert (REPO / "noxfile.py").is_file()
    assert (REPO / "stages" / "stage1" / "src" / "mini_torch").is_dir()


def test_real_stages_are_consistent(capsys):
    code = main(["check", "--root", str(REPO)])
    out = capsys.readouterr().out
    assert code == 0, out
