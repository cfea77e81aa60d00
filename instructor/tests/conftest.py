"""Fake Mini-Torch repositories and fixture submissions for the instructor tool tests.

A fake repository has the real layout (``noxfile.py``, ``stages/stageN/src/mini_torch``) filled with
a few tiny pure-Python modules, so the tests need no numpy and run fast. Stage 2 carries every
file of stage 1 unchanged, re-exports one more name in its ``__init__.py`` and adds ``layers.py``.

Fixture submissions (:func:`make_submission`) are copies of the real reference ``stages/stage3``
with one thing changed: a wrong backward, a syntax error, an endless loop, a prohibited import,
or tampering with the grader. Forged submissions (:func:`make_forged`) are the untouched student
release with a payload of ``fixtures/forged`` appended.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from instructor.cli import main
from instructor.release.solutions import enclosing_names, find_regions

#: The monorepo these tests live in: instructor/tests/conftest.py -> two folders up.
REAL_REPO = Path(__file__).resolve().parents[2]


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


# --- fixture submissions ---------------------------------------------------------------------

#: Every kind of fixture submission :func:`make_submission` builds.
SUBMISSION_KINDS = (
    "correct", "broken_backward", "earlier_broken", "syntax_error", "example_syntax_error",
    "infinite_loop", "prohibited_import", "tampering",
)

#: The forged payloads (instructor/tests/fixtures/forged/*.py), appended to an untouched release.
FORGED = Path(__file__).resolve().parent / "fixtures" / "forged"
#: The command-line marker of the forged daemon, unique to this test process: the tests look
#: for their own processes, never for another run's on the same machine.
DAEMON_MARKER = f"mini-torch-forged-daemon-{os.getpid()}"
FORGED_KINDS = tuple(sorted(p.stem for p in FORGED.glob("*.py")))

# The body a kind puts in place of one solution region: (file, qualified name, new body).
_REPLACED_BODIES = {
    # MSELoss.backward without the 2 / N factor: a stage-3 task done wrong.
    "broken_backward": ("nn/loss.py", "MSELoss.backward",
                        "predictions, targets = self._cached()\nreturn predictions - targets"),
    # relu_backward that forgets the mask: stage 1 code (handed out solved) broken.
    "earlier_broken": ("functional.py", "relu_backward", "return grad_output.copy()"),
    # MSELoss.backward that never returns.
    "infinite_loop": ("nn/loss.py", "MSELoss.backward", "while True:\n    pass"),
}

_TAMPERING_CONFTEST = source(
    """
    import pytest


    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        outcome = yield
        outcome.get_result().outcome = "passed"  # every test "passes"
    """
)


def replace_region(path: Path, qualified_name: str, body: str) -> None:
    """Replace the solution region of ``qualified_name`` in ``path`` by ``body``."""
    text = path.read_text()
    names = enclosing_names(text)
    regions = [r for r in find_regions(text) if names.get(r.begin) == qualified_name]
    assert len(regions) == 1, f"no single solution region for {qualified_name} in {path}"
    region = regions[0]
    lines = text.splitlines(keepends=True)
    new_body = "".join(f"{region.indent}{line}\n" for line in body.splitlines())
    path.write_text("".join(lines[: region.begin - 1]) + new_body + "".join(lines[region.end :]))


def make_submission(kind: str, folder: Path) -> Path:
    """Write a fixture submission of ``kind`` (see :data:`SUBMISSION_KINDS`) at ``folder``."""
    shutil.copytree(REAL_REPO / "stages" / "stage3", folder,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    package = folder / "src" / "mini_torch"
    if kind in _REPLACED_BODIES:
        relative, name, body = _REPLACED_BODIES[kind]
        replace_region(package / relative, name, body)
    elif kind == "syntax_error":
        loss = package / "nn" / "loss.py"
        loss.write_text(loss.read_text() + "\n\ndef unfinished(:\n    pass\n")
    elif kind == "example_syntax_error":
        script = folder / "examples" / "train_sine.py"
        script.write_text(script.read_text() + "\n\ndef unfinished(:\n    pass\n")
    elif kind == "prohibited_import":
        # Inside a function that nothing calls: only a static scan can see it.
        loss = package / "nn" / "loss.py"
        loss.write_text(loss.read_text() + "\n\ndef _check_with_torch():\n    import torch\n"
                        "    return torch\n")
    elif kind == "tampering":
        # The stage-3 task is wrong; everything around it tries to make the grader test
        # something else or believe every test passed.
        replace_region(package / "nn" / "loss.py", *_REPLACED_BODIES["broken_backward"][1:])
        (folder / "conftest.py").write_text(_TAMPERING_CONFTEST)
        (folder / "pytest.ini").write_text("[pytest]\naddopts = -p no:terminal -k nothing\n")
        (folder / "sitecustomize.py").write_text("raise SystemExit('sitecustomize ran')\n")
        (folder / "src" / "sitecustomize.py").write_text("raise SystemExit('src/sitecustomize')\n")
        # A correct mini_torch beside src/: graded instead of src/, it would score full marks.
        shutil.copytree(REAL_REPO / "stages" / "stage3" / "src" / "mini_torch",
                        folder / "mini_torch", ignore=shutil.ignore_patterns("__pycache__"))
    elif kind != "correct":
        raise ValueError(f"unknown submission kind {kind!r}; expected one of {SUBMISSION_KINDS}")
    return folder


def make_release(folder: Path) -> Path:
    """The untouched student release of stage 3 at ``folder``; returns its package folder."""
    code = main(["release", "--root", str(REAL_REPO), "--stage", "3", "--out", str(folder)])
    assert code == 0
    return folder / "stages" / "stage3"


def make_forged(kind: str, release: Path, folder: Path) -> Path:
    """A copy of the untouched release ``release`` with the payload ``kind`` appended.

    ``kind`` may name a payload in a subfolder (``attacks/ipc_user``). A payload whose first
    line is ``# target: examples`` goes at the end of every example script; the others at the
    end of ``src/mini_torch/__init__.py`` and ``nn/loss.py``.
    """
    shutil.copytree(release, folder, ignore=shutil.ignore_patterns("__pycache__"))
    payload = (FORGED / f"{kind}.py").read_text().replace("mini-torch-forged-daemon",
                                                          DAEMON_MARKER)
    if payload.startswith("# target: examples"):
        targets = sorted((folder / "examples").glob("*.py"))
    else:
        targets = [folder / "src" / "mini_torch" / r for r in ("__init__.py", "nn/loss.py")]
    for path in targets:
        path.write_text(path.read_text() + payload)
    return folder


#: Forged submissions made of links, special files and archives rather than code: the grader
#: must refuse each of them before anything runs (:func:`make_refused`).
REFUSED_KINDS = ("linked_folder", "linked_file", "dangling_link", "fifo", "hard_link",
                 "zip_bomb", "zip_symlink", "zip_slip", "zip_entries")


def make_refused(kind: str, release: Path, reference: Path, folder: Path) -> Path:
    """A forged submission of ``kind`` (:data:`REFUSED_KINDS`) built on the release at
    ``release``; ``reference`` is a solved stage 3 that the links point into."""
    import os
    import stat
    import zipfile

    if kind.startswith("zip_"):
        archive_path = folder.with_suffix(".zip")
        folder.mkdir(parents=True)
        with zipfile.ZipFile(archive_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(release.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, f"stage3/{path.relative_to(release).as_posix()}")
            if kind == "zip_bomb":  # 100 MiB of zeros in about 100 KB
                with archive.open("stage3/data/zeros.bin", "w") as handle:
                    for _ in range(100):
                        handle.write(bytes(1 << 20))
            elif kind == "zip_symlink":
                info = zipfile.ZipInfo("stage3/src/mini_torch/nn/solved.py")
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(info, str(reference / "src" / "mini_torch" / "nn" / "loss.py"))
            elif kind == "zip_slip":
                archive.writestr("../../mini-torch-zip-slip.py", "planted = True\n")
            elif kind == "zip_entries":
                for index in range(5000):
                    archive.writestr(f"stage3/notes/{index}.txt", "")
        return archive_path
    shutil.copytree(release, folder, ignore=shutil.ignore_patterns("__pycache__"))
    nn = folder / "src" / "mini_torch" / "nn"
    solved_nn = reference / "src" / "mini_torch" / "nn"
    if kind == "linked_folder":  # the whole nn/ folder is the reference's
        shutil.rmtree(nn)
        nn.symlink_to(solved_nn, target_is_directory=True)
    elif kind == "linked_file":
        (nn / "loss.py").unlink()
        (nn / "loss.py").symlink_to(solved_nn / "loss.py")
    elif kind == "dangling_link":
        (folder / "examples" / "data").symlink_to(folder / "no-such-folder")
    elif kind == "fifo":
        os.mkfifo(folder / "examples" / "pipe")
    elif kind == "hard_link":  # a hard link to a solved copy outside the submission
        outside = folder.parent / f"{folder.name}-outside"
        outside.mkdir()
        shutil.copyfile(solved_nn / "loss.py", outside / "loss.py")
        (nn / "loss.py").unlink()
        os.link(outside / "loss.py", nn / "loss.py")
    return folder


@pytest.fixture(scope="session")
def real_repo() -> Path:
    """The monorepo holding these tests."""
    return REAL_REPO


@pytest.fixture(scope="session")
def submission_factory() -> Callable[[str, Path], Path]:
    """``submission_factory(kind, folder)``: write a fixture submission (see SUBMISSION_KINDS)."""
    return make_submission
