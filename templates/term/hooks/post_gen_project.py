"""Post-generation hook of the term template: fill the new repository with the term's stages.

Cookiecutter renders this file with Jinja and runs it with its own Python in the new project's
folder (the current folder). The work is done by instructor.term.bake, reached through
term_scaffold.py beside this file: the student releases of the chosen stages (written by the
instructor tools of this repository), the course README, and the grading platform's files. An
exit status of 1 stops the generation.
"""

import json
import sys
from pathlib import Path

# Jinja's tojson writes every ' as \u0027, so the JSON text cannot end these strings.
ANSWERS = json.loads(r'''{{ cookiecutter | tojson }}''')
TEMPLATE_DIR = Path(json.loads(r'''{{ term_template_dir | tojson }}'''))

sys.path.insert(0, str(TEMPLATE_DIR / "hooks"))
from term_scaffold import post_generation  # noqa: E402

sys.exit(post_generation(ANSWERS, TEMPLATE_DIR, Path.cwd()))
