"""Fake Mini-Torch repositories for the instructor tool tests.

A fake repository has the real layout (``noxfile.py``, ``stages/stageN/src/mini_torch``) filled with
a few tiny pure-Python modules, so the tests need no numpy and run fast. Stage 2 carries every
file of stage 1 unchanged, re-exports one more name in its ``__init__.py`` and adds ``layers.py``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from instructor.cli import main


def source(text: str) -> str:
    """A module's source written indented in this file, without the indentation."""
    return textwrap.dedent(text).lstrip("\n")


STAGE1_FILES = {
    "__init__.py": source(
        """
        # Fake stage 1.
        from mini_torch import shapes, text, tools
        from mini_torch.text import shout

        STAGE = 1
        _internal = "private names are not compared"
        __all__ = ["STAGE", "shapes", "shout", "text", "tools"]
        """
    ),
    # No __all__: every name without a leading underscore is public (imported modules aside).
    "text.py": source(
        """
        import json


        def shout(message):
            return message.upper()


        def whisper(message, *, times=1):
            return message.lower() * times


        def _helper():
            return json.dumps({})
        """
    ),
    "shapes.py": source(
        """
        __all__ = ["Box", "area"]


        class Box:
            def __init__(self, width, height=1):
                self.width, self.height = width, height

            def area(self):
                return self.width * self.height

            def __len__(self):
                return 2

            def _private(self, anything):
                return anything


        def area(box):
            return box.area()


        def not_exported(x):
            return x
        """
    ),
    "_helpers.py": source(
        """
        def clamp(x, low, high):
            return max(low, min(x, high))
        """
    ),
    "tools/__init__.py": source(
        """
        from mini_torch.tools.numbers import double

        __all__ = ["double"]
        """
    ),
    "tools/numbers.py": source(
        """
        __all__ = ["double"]


        def double(x):
            return 2 * x
        """
    ),
    "tools/table.csv": "a,b\n1,2\n",
}

STAGE2_FILES = {
    **STAGE1_FILES,
    "__init__.py": source(
        """
        # Fake stage 2: stage 1 plus layers.
        from mini_torch import layers, shapes, text, tools
        from mini_torch.layers import Layer
        from mini_torch.text import shout

        STAGE = 2
        __all__ = ["STAGE", "Layer", "layers", "shapes", "shout", "text", "tools"]
        """
    ),
    "layers.py": source(
        """
        __all__ = ["Layer"]


        class Layer:
            def __call__(self, x):
                return x
        """
    ),
}


def write_stage(root: Path, stage: int, files: dict[str, str]) -> None:
    """Write ``files`` ({path relative to src/mini_torch: text}) as stage ``stage`` of ``root``."""
    package = root / "stages" / f"stage{stage}" / "src" / "mini_torch"
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "stages" / f"stage{stage}" / "pyproject.toml").write_text('[project]\nname = "x"\n')


@pytest.fixture
def stage1_files() -> dict[str, str]:
    """The files of fake stage 1 ({path relative to src/mini_torch: text}), a fresh copy."""
    return dict(STAGE1_FILES)


@pytest.fixture
def stage2_files() -> dict[str, str]:
    """The files of fake stage 2: stage 1's, another ``__init__.py`` and ``layers.py``."""
    return dict(STAGE2_FILES)


@pytest.fixture
def stage_file() -> Callable[[Path, int, str], Path]:
    """``stage_file(root, 2, "text.py")``: the path of one package file of a fake stage."""

    def path(root: Path, stage: int, relative: str) -> Path:
        return root / "stages" / f"stage{stage}" / "src" / "mini_torch" / relative

    return path


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Path]:
    """Build a fake repository: ``make_repo({1: files, 2: files})`` (default: stages 1 and 2)."""

    def build(stages: dict[int, dict[str, str]] | None = None) -> Path:
        root = tmp_path / "repo"
        root.mkdir()
        (root / "noxfile.py").write_text("")
        for stage, files in (stages or {1: STAGE1_FILES, 2: STAGE2_FILES}).items():
            write_stage(root, stage, files)
        return root

    return build


@pytest.fixture
def repo(make_repo: Callable[..., Path]) -> Path:
    """A consistent fake repository with stages 1 and 2."""
    return make_repo()


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run the command line in-process: ``run_cli("check", "--root", root) -> (code, out, err)``."""

    def run(*args: object) -> tuple[int, str, str]:
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
