"""Jinja extension of the term template: tells the hooks where the template lives.

Cookiecutter runs each hook in the new project's folder, from a rendered copy of the script in a
temporary file, and ``cookiecutter._repo_dir`` is the template path exactly as the user typed it
(often relative to a folder the hook cannot know). This module is imported by cookiecutter itself
(``_extensions`` in cookiecutter.json) with the template folder on ``sys.path``, so its own
``__file__`` gives the template folder; the extension publishes it to every rendered file as
``term_template_dir``, an absolute path. The hooks render it into their first lines.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment
from jinja2.ext import Extension

#: The template folder (templates/term), resolved when cookiecutter imports this module.
TEMPLATE_DIR = Path(__file__).resolve().parent


class TemplateLocation(Extension):
    """Adds the global ``term_template_dir``: the absolute path of templates/term."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["term_template_dir"] = str(TEMPLATE_DIR)
