"""What the hooks of the term template call: find this repository's tools, then hand over.

The two hooks beside this file are rendered by cookiecutter; they pass the answers (a dict) and
the template folder to :func:`pre_generation` and :func:`post_generation` below. These find the
monorepo (the template folder's grandparent, ``templates/term`` -> the repository root), import
its own instructor tools (``instructor/src``) and call :mod:`instructor.term.bake`, which checks
the answers and builds the term.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

#: Where the instructor tools live in the monorepo.
INSTRUCTOR_SRC = Path("instructor") / "src"


class TemplateError(Exception):
    """A repository the template cannot work with; the message says what to do."""


def monorepo_root(template_dir: Path) -> Path:
    """The repository that holds the template at ``templates/term``.

    Raises:
        TemplateError: the template folder is not inside a Mini-Torch repository.
    """
    template_dir = template_dir.resolve()
    root = template_dir.parents[1]
    if not (root / "stages").is_dir() or not (root / INSTRUCTOR_SRC / "instructor").is_dir():
        raise TemplateError(
            f"{template_dir} is not at templates/term of a Mini-Torch repository (no "
            f"{root / 'stages'} or {root / INSTRUCTOR_SRC / 'instructor'}): run cookiecutter on "
            "the template inside the repository whose stages the term uses"
        )
    return root


def load_instructor(root: Path):
    """Import the instructor tools of ``root`` (its ``instructor/src``), whatever is installed.

    The repository's own copy goes first on ``sys.path``: it is the tool that matches the stages
    it releases, and an unrelated package named ``instructor`` may be installed.

    Raises:
        TemplateError: the package that got imported is not the repository's.
    """
    source = (root / INSTRUCTOR_SRC).resolve()
    if str(source) not in sys.path:
        sys.path.insert(0, str(source))
    module = importlib.import_module("instructor")
    location = Path(module.__file__).resolve()
    if not location.is_relative_to(source):
        raise TemplateError(
            f"imported the package instructor from {location}, not from {source}: another "
            "package of that name shadows the repository's tools; run cookiecutter from a "
            "virtualenv without it"
        )
    return module


def _root(template_dir: Path) -> Path | None:
    try:
        root = monorepo_root(template_dir)
        load_instructor(root)
    except TemplateError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return None
    return root


def pre_generation(answers: dict, template_dir: Path, project_dir: Path) -> int:
    """Check the answers; 0 to go on, 1 (after printing why) to stop the generation."""
    root = _root(template_dir)
    if root is None:
        return 1
    from instructor.term import bake

    return bake.pre_generation(answers, root, project_dir)


def post_generation(answers: dict, template_dir: Path, project_dir: Path) -> int:
    """Build the term's repository in ``project_dir``; 0 on success, 1 after printing why not."""
    root = _root(template_dir)
    if root is None:
        return 1
    from instructor.term import bake

    return bake.post_generation(answers, root, template_dir, project_dir)
