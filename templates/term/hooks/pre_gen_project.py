"""Pre-generation hook of the term template: refuse bad answers before anything is written.

Cookiecutter renders this file with Jinja and runs it with its own Python in the new project's
folder; an exit status of 1 stops the generation, and cookiecutter removes that folder. The checks
themselves are in instructor.term.bake, reached through term_scaffold.py beside this file.
"""

import json
import sys
from pathlib import Path

# Jinja's tojson writes every ' as \u0027, so the JSON text cannot end these strings.
ANSWERS = json.loads(r'''{{ cookiecutter | tojson }}''')
TEMPLATE_DIR = Path(json.loads(r'''{{ term_template_dir | tojson }}'''))

sys.path.insert(0, str(TEMPLATE_DIR / "hooks"))
from term_scaffold import pre_generation  # noqa: E402

sys.exit(pre_generation(ANSWERS, TEMPLATE_DIR, Path.cwd()))
