"""Fixtures of the term template's tests: bake templates/term into temporary folders.

Every bake goes through cookiecutter's Python API, with a user configuration of its own so that
nothing (replay files, cloned templates) is written to the home folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "templates" / "term"


@pytest.fixture(scope="session")
def cookiecutter_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cookiecutter user configuration that keeps its folders in a temporary folder."""
    folder = tmp_path_factory.mktemp("cookiecutter-home")
    config = folder / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: {json.dumps(str(folder / 'cookiecutters'))}\n"
        f"replay_dir: {json.dumps(str(folder / 'replay'))}\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture(scope="session")
def bake(
    tmp_path_factory: pytest.TempPathFactory, cookiecutter_config: Path
) -> Callable[..., Path]:
    """``bake(output_dir=None, **answers)``: generate a term; returns the new repository's path.

    Answers not given take the template's defaults; the output folder defaults to a new
    temporary folder.
    """

    def bake_term(output_dir: Path | None = None, **answers: object) -> Path:
        output = output_dir if output_dir is not None else tmp_path_factory.mktemp("bake")
        project = cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context=answers,
            output_dir=str(output),
            config_file=str(cookiecutter_config),
        )
        return Path(project)

    return bake_term
