"""The Markdown a release writes about itself: its README and its docs index.

:func:`release_readme` lists every stage of a release folder, the functions to write in each and
how to run the tests; :func:`release_index` is the release's ``docs/index.md``: the guides it
holds and the sections of the monorepo's index that hold for every stage. Both describe a stage
in the words of :data:`STAGE_ELEMENTS`, the one source of the stage tables.
"""

from __future__ import annotations

import re
from pathlib import Path

from instructor.release.stubs import Stub, read_stubs, short_name

#: What each stage adds: the one source of the stage tables (a release's README, a term's, and
#: the tables of README.md and docs/index.md, which a test holds to these words). Every public
#: class a stage adds is named (the test reads each stage's ``__all__``).
STAGE_ELEMENTS = {
    1: ("the functional core: forward/backward pairs, `init`, seeding, synthetic data, plots,"
        " `gradcheck`"),
    2: ("`Module`, `Sequential`, `ModuleList`, `Linear`, `Flatten`, `Identity`, the "
        "activations `Activation`, `ReLU`, `LeakyReLU`, `Sigmoid`, `Tanh`, `GELU`, and "
        "`no_grad`"),
    3: "the losses `Loss`, `MSELoss`, `CrossEntropyLoss`, `BCEWithLogitsLoss`, `BCELoss`",
    4: "the optimizers `Optimizer`, `SGD`, `Adam`, `AdamW`",
    5: ("`Dataset`, `ArrayDataset`, `TensorDataset`, `DataLoader`, `MNISTDataset` + the "
        "bundled MNIST subset, `save` / `load`"),
    6: ("generative building blocks: `Embedding`, `LayerNorm`, `BatchNorm1d`, `Dropout`, "
        "`MultiHeadSelfAttention`, `TransformerBlock`, `nn.utils.clip_grad_norm_`, "
        "`CharVocab`, `CharDataset` + the bundled Shakespeare text"),
}


#: The sections of the monorepo's docs/index.md that a release's docs index keeps: they hold
#: for every stage. The others (the stage table, the repository layout, the monorepo's test
#: commands) are replaced by the release's own.
INDEX_SECTIONS = ("The architecture", "The standard training loop", "Design patterns")


def release_index(root: Path, out: Path) -> str:
    """The docs index of a release: the guides it holds, its tests, the shared overview."""
    source = root / "docs" / "index.md"
    text = source.read_text(encoding="utf-8") if source.is_file() else "# Mini-Torch\n"
    chunks = re.split(r"(?m)^(?=## )", text)
    intro, sections = chunks[0], chunks[1:]
    stages = sorted(int(path.name.removeprefix("stage")) for path in
                    (out / "stages").glob("stage[0-9]*") if path.is_dir())
    newest = stages[-1] if stages else 1
    lines = ["## The stages of this release", "",
             "Each stage is a complete package in `stages/stageK` that adds one element to the one "
             "before. The guide of a stage explains its math and design and lists what you write; "
             "the guides of the earlier stages derive the code this release hands out solved.", "",
             "| stage | guide | what it adds | where |", "|---|---|---|---|"]
    for stage in range(1, newest + 1):
        guide = f"stage{stage}.md"
        if stage not in stages and not (out / "docs" / guide).is_file():
            continue
        shown = f"[`docs/{guide}`]({guide})" if (out / "docs" / guide).is_file() else "none"
        later = [k for k in stages if k >= stage]
        where = (f"`stages/stage{stage}`, tested by `nox -s stage{stage}`" if stage in stages
                 else f"handed out solved in `stages/stage{later[0]}`" if later else "")
        lines.append(f"| {stage} | {shown} | {STAGE_ELEMENTS.get(stage, f'stage {stage}')} | "
                     f"{where} |")
    lines += ["", "What to write, file by file, and how to run the tests: the "
              "[README](../README.md) of this release.", "", ""]
    kept = [section for section in sections
            if any(section[3:].startswith(title) for title in INDEX_SECTIONS)]
    running = ["## Running the tests", "",
               "With [nox](https://nox.thea.codes) (`python -m pip install nox`), from the folder "
               "that holds `noxfile.py`:", "", "```bash",
               f"nox -s stage{newest}                 # install stages/stage{newest} fresh, "
               f"run shared_tests/stage1 .. stage{newest}",
               f"nox -s stage{newest} -- -x -k linear # anything after -- goes to pytest",
               "```", "",
               "The tests run in the order the guide teaches the tasks: the first failure is the "
               "next thing to write, and each failure names its guide section.", ""]
    return intro + "\n".join(lines) + "".join(kept).rstrip("\n") + "\n\n" + "\n".join(running)


def _stage_section(stage: int, stubs: list[Stub], out: Path) -> list[str]:
    element = STAGE_ELEMENTS.get(stage, f"stage {stage}")
    lines = [f"### Stage {stage}: {element}", ""]
    guide = f"docs/stage{stage}.md"
    if (out / guide).is_file():
        lines.append(f"Read [`{guide}`]({guide}) first: it explains the math and the design.")
    if not stubs:
        lines += ["", "This stage is complete in your copy: nothing raises NotImplementedError.",
                  ""]
        return lines
    lines += [
        f"Then write the body of each function below. Each one now raises "
        f'`NotImplementedError("Stage {stage}: implement ...")`: replace that line with your '
        "code. The docstring above it says what the function must compute, and the input "
        "checks before it are already written.",
        "",
        "| file | functions to write |",
        "|---|---|",
    ]
    by_file: dict[str, list[str]] = {}
    for stub in stubs:
        by_file.setdefault(stub.path, []).append(f"`{short_name(stub)}`")
    for path, names in by_file.items():
        lines.append(f"| `{path}` | {', '.join(names)} |")
    lines += [
        "",
        "The code of the earlier stages is given, solved: read it, you will call it.",
        "",
    ]
    return lines


def release_readme(out: Path) -> str:
    """The README of a release folder: every stage in it, its stubs, and how to run the tests."""
    stubs = read_stubs(out)
    stages = sorted(stubs)
    newest = stages[-1] if stages else 1
    span = f"stage {newest}" if len(stages) <= 1 else f"stages {stages[0]}-{newest}"
    folders = " ".join(f"shared_tests/stage{k}" for k in range(1, newest + 1))
    lines = [
        f"# Mini-Torch: {span}",
        "",
        "Mini-Torch is a small deep-learning framework with the PyTorch API, written with numpy "
        "only: every backward pass is written by hand and a batch is a matrix with one sample per "
        "row (`y = x @ W + b`, `x` of shape `(N, in)`). You build it stage by stage.",
        "",
        "## What to do",
        "",
    ]
    for stage in stages:
        lines += _stage_section(stage, stubs[stage], out)
    lines += [
        "Work in `stages/stageN/src/mini_torch` and `stages/stageN/examples`. Do not edit the "
        "tests: they are the specification, and your work is graded with its own copy of them "
        "(plus hidden tests of the same kind).",
        "",
        "## Run the tests",
        "",
        "With [nox](https://nox.thea.codes) (`python -m pip install nox`), from this folder:",
        "",
        "```bash",
        f"nox -s stage{newest}                          # install stages/stage{newest} fresh, "
        f"run shared_tests/stage1 .. stage{newest}",
        f"nox -s stage{newest} -- -k cross_entropy -x   # anything after -- goes to pytest",
        "```",
        "",
        "Without nox, in a virtualenv (reinstall after every change: the tests use the installed "
        "package, not the folder you edit):",
        "",
        "```bash",
        "python -m venv .venv",
        f".venv/bin/python -m pip install pytest pytest-timeout ./stages/stage{newest}",
        f".venv/bin/python -m pytest {folders}",
        f".venv/bin/python -m pip install --force-reinstall --no-deps ./stages/stage{newest}"
        "   # after a change",
        "```",
        "",
        "A test that fails with `NotImplementedError: Stage N: implement <name>` names the next "
        "function to write. When every test passes, run the examples of the stage "
        f"(`python stages/stage{newest}/examples/<script>.py --help`).",
        "",
    ]
    return "\n".join(lines)


__all__ = ["INDEX_SECTIONS", "STAGE_ELEMENTS", "release_index", "release_readme"]
