"""The figures the guides state about the code are the code's figures.

Each entry of :data:`FACTS` names a document, a phrase that holds one figure (a regular
expression whose first group is the figure) and a function that computes the figure from the
code: argparse defaults read from the example scripts, models built at their default size (never
trained), the bundled data, the release and term tools run into a temporary folder, the graded
checks and their weights. A figure that no longer matches fails with the document, the phrase,
the stated and the computed value.

Each entry of :data:`MEASURED` names a measured result (a loss, an accuracy, a time, a ratio):
its paragraph (or its table and the paragraph before it) must say when it was measured and with
which command, because such a figure cannot be recomputed in a test.

To add a figure: write the phrase into the guide, then one ``Fact`` line here (or one
``Measured`` line for a measured result). docs/architecture.md, "Numbers in the docs", says so
for maintainers.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

# The instructor tools these figures come from, imported here only (their modules are being
# regrouped into packages: a move changes these lines and nothing below). The grading package
# first: it imports the checks, which need it loaded.
import instructor.grading.intake as intake
import instructor.grading.jail as jail
import instructor.grading.messages as messages
import instructor.grading.resources as resources
import instructor.grading.running as running
import instructor.grading.scoring as scoring
import instructor.grading.uids as uids
from instructor.cli import main as instructor_cli
from instructor.grading.checks import hidden_checks, stage_checks

from .conftest import REAL_REPO
from .fixtures import corpus

STAGES = REAL_REPO / "stages"
HIGHEST_STAGE = max(int(p.name[5:]) for p in STAGES.glob("stage[0-9]*") if p.is_dir())


# ------------------------------------------------------------------- reading the code


@functools.cache
def defaults(stage: int, script: str) -> dict[str, object]:
    """``{"--steps": 3000, ...}``: the literal defaults of ``parser.add_argument`` calls in
    ``stages/stageN/examples/SCRIPT``, read with ``ast`` (nothing runs)."""
    tree = ast.parse((STAGES / f"stage{stage}" / "examples" / script).read_text(encoding="utf-8"))
    found = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument"
                and node.args and isinstance(node.args[0], ast.Constant)):
            for keyword in node.keywords:
                if keyword.arg == "default":
                    with contextlib.suppress(ValueError):
                        found[node.args[0].value] = ast.literal_eval(keyword.value)
    return found


def default(stage: int, script: str, option: str) -> Callable[[], object]:
    def compute():
        found = defaults(stage, script)
        if option not in found:
            raise RuntimeError(f"stages/stage{stage}/examples/{script} has no literal default "
                               f"for {option} (it has {sorted(found)})")
        return found[option]
    compute.__doc__ = f"the default of {option} in stages/stage{stage}/examples/{script}"
    return compute


@functools.cache
def module_constant(stage: int, script: str, name: str) -> object:
    """The literal value of ``NAME = ...`` at the top level of an example script (``ast``)."""
    path = STAGES / f"stage{stage}" / "examples" / script
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and getattr(node.targets[0], "id", None) == name):
            return ast.literal_eval(node.value)
    raise RuntimeError(f"{path} assigns no literal {name} at its top level")


def const(stage: int, script: str, name: str, key: str | None = None,
          scale: float = 1) -> Callable[[], object]:
    def compute():
        value = module_constant(stage, script, name)
        value = value[key] if key is not None else value
        return round(value * scale, 10) if scale != 1 else value
    compute.__doc__ = (f"{name}{f'[{key!r}]' if key else ''} in stages/stage{stage}/examples/"
                       f"{script}" + (f", times {scale}" if scale != 1 else ""))
    return compute


STAGE6_MODELS = """
import json, sys
import train_char_lm as lm
import train_gan as gan
a, g = json.loads(sys.argv[1]), json.loads(sys.argv[2])
text = lm.load_text(lm.shakespeare_path())
vocab = lm.CharVocab(text)
model = lm.CharTransformer(len(vocab), a["--block-size"], a["--width"], a["--heads"],
                           a["--layers"], a["--dropout"])
ids = vocab.encode(text)
split = int(len(ids) * (1.0 - lm.VAL_FRACTION))
print(json.dumps({
    "characters": len(text), "vocabulary": len(vocab), "train characters": split,
    "lm parameters": int(sum(p.size for p in model.parameters())),
    "train windows": len(lm.CharDataset(ids[:split], a["--block-size"])),
    "gan parameters (M)": round(sum(p.size for net in (gan.build_generator(g["--width"]),
                                                       gan.build_discriminator(g["--dropout"]))
                                    for p in net.parameters()) / 1e6, 1),
}))
"""

STAGE5_MODELS = """
import json, sys
import train_mnist as ex
a = json.loads(sys.argv[1])
model = ex.build_model()
linear = [m for m in model if hasattr(m, "W")]
print(json.dumps({
    "mlp parameters": int(sum(p.size for p in model.parameters())),
    "mlp layers": "-".join(str(n) for n in [linear[0].W.shape[0]] + [m.W.shape[1] for m in linear]),
    "train images": len(ex.MNISTDataset(ex.mnist_path("train"))),
    "test images": len(ex.MNISTDataset(ex.mnist_path("test"), is_train=False)),
    "last lr": round(ex.cosine_lr(ex.DEFAULT_LR["sgd"], a["--epochs"] - 1, a["--epochs"]), 4),
}))
"""


@functools.cache
def stage_figures(stage: int) -> dict[str, object]:
    """Figures of stage ``stage``'s examples, computed in a fresh interpreter that imports that
    stage's ``mini_torch`` (from its ``src``) and its example scripts."""
    code = {5: STAGE5_MODELS, 6: STAGE6_MODELS}[stage]
    folder = STAGES / f"stage{stage}"
    env = {**os.environ, "MPLBACKEND": "Agg",
           "PYTHONPATH": os.pathsep.join([str(folder / "src"), str(folder / "examples")])}
    args = [json.dumps(defaults(stage, script)) for script in
            {5: ["train_mnist.py"], 6: ["train_char_lm.py", "train_gan.py"]}[stage]]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=env, cwd=REAL_REPO, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"computing stage {stage}'s figures failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def figure(stage: int, name: str, rounded: int | None = None) -> Callable[[], object]:
    def compute():
        value = stage_figures(stage)[name]
        return round(value, rounded) if rounded is not None else value
    compute.__doc__ = f"{name} of stage {stage}'s example" + (
        f", rounded to {10 ** -rounded:,}" if rounded else "")
    return compute


def cli(*args: str) -> str:
    """What ``python -m instructor ARGS`` prints."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = instructor_cli([str(a) for a in args])
    if status not in (0, None):
        raise RuntimeError(f"python -m instructor {' '.join(map(str, args))} exited {status}")
    return out.getvalue()


def numbers_of(pattern: str, text: str, what: str) -> tuple[int, ...]:
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"{what} printed no line like {pattern!r}:\n{text[-1500:]}")
    return tuple(int(g) for g in match.groups())


@functools.cache
def release_figures() -> dict[str, int]:
    """``release --stage 3`` and its leak check, as the instructor guide shows them."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "stage3"
        printed = cli("release", "--stage", "3", "--out", out, "--root", REAL_REPO)
        stubs, solved = numbers_of(r"(\d+) stubs to implement, (\d+) files carried solved",
                                   printed, "release")
        protected, files = numbers_of(r"(\d+) protected stubs, (\d+) files",
                                      cli("leak-check", out, "--root", REAL_REPO), "leak-check")
    return {"stubs": stubs, "solved files": solved, "protected": protected, "files": files}


@functools.cache
def term_figures() -> dict[str, object]:
    """A default term bake (cookiecutter) and ``open-stage --stage 2`` on it."""
    with tempfile.TemporaryDirectory() as scratch:
        done = subprocess.run(
            [sys.executable, "-m", "cookiecutter", "--no-input", str(REAL_REPO / "templates" /
             "term"), "--output-dir", scratch], capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"the default term bake failed:\n{done.stderr[-2000:]}")
        stubs1, paths1 = numbers_of(r"stage 1 opened in \S+: (\d+) stubs, (\d+) paths written",
                                    done.stdout, "the bake")
        term = next(p for p in Path(scratch).iterdir() if not p.name.endswith("-staff"))
        entries = sorted(p.name + ("/" if p.is_dir() else "") for p in term.iterdir())
        printed = cli("open-stage", "--stage", "2", "--term", term, "--root", REAL_REPO)
        protected2, files2 = numbers_of(r"(\d+) protected stubs, (\d+) files", printed,
                                        "open-stage")
        stubs2, paths2 = numbers_of(r"stage 2 opened in \S+: (\d+) stubs, (\d+) paths written",
                                    printed, "open-stage")
    return {"stubs 1": stubs1, "paths 1": paths1, "entries": entries, "stubs 2": stubs2,
            "paths 2": paths2, "protected 2": protected2, "files 2": files2}


def term(name: str) -> Callable[[], object]:
    def compute():
        return term_figures()[name]
    compute.__doc__ = f"{name} of a default term bake and open-stage 2"
    return compute


def release(name: str) -> Callable[[], object]:
    def compute():
        return release_figures()[name]
    compute.__doc__ = f"{name} of release --stage 3 and its leak check"
    return compute


@functools.cache
def grading_figures(stage: int) -> dict[str, float]:
    """The checks a stage-``stage`` submission runs and their points (one draw: a check's name,
    and so its count, never depends on the draw)."""
    g = np.random.default_rng(0)
    public = stage_checks(stage, g)
    hidden = hidden_checks(REAL_REPO / "instructor" / "hidden_tests" / f"stage{stage}" /
                           "hidden_checks.py", g)
    tasks = set(scoring.own_tasks(REAL_REPO, stage))
    weights = scoring.load_weights(scoring.default_weights_file(stage))
    scored = [c for c in public if scoring.is_scored(c, tasks)]
    scored_hidden = [c for c in hidden if scoring.is_scored(c, tasks)]
    points = {scoring.max_points(c, tasks, weights) for c in scored + scored_hidden}
    return {"all": len(public) + len(hidden), "public": len(scored),
            "scored": len(scored) + len(scored_hidden),
            "hidden": len(scored_hidden), "earlier": len(public) + len(hidden) - len(scored) -
            len(scored_hidden), "tasks": len(tasks), "points each": points.pop() if
            len(points) == 1 else float("nan"),
            "public points": sum(scoring.max_points(c, tasks, weights) for c in scored)}


def grading(stage: int, name: str) -> Callable[[], object]:
    def compute():
        return grading_figures(stage)[name]
    compute.__doc__ = f"{name} of stage {stage}'s graded checks"
    return compute


MiB, GiB = 2**20, 2**30


def constant(module, name: str, unit: int = 1) -> Callable[[], object]:
    """``module.name`` in ``unit`` (bytes in MiB, say)."""
    def compute():
        value = getattr(module, name) / unit if unit != 1 else getattr(module, name)
        return int(value) if float(value).is_integer() else value
    compute.__doc__ = f"{module.__name__}.{name}" + (f" / {unit:,}" if unit != 1 else "")
    return compute


def corpus_count(kind: str, stage: int) -> Callable[[], int]:
    def compute():
        if kind == "mutants":
            return len(corpus.MUTANTS[stage])
        if kind == "fewest":
            return min(min(len(v) for v in by_task.values())
                       for by_task in corpus.EQUIVALENT.values())
        return sum(len(v) for v in corpus.EQUIVALENT[stage].values())
    compute.__doc__ = f"{kind} of stage {stage} in instructor/tests/fixtures/corpus.py"
    return compute


def quickstart_steps() -> int:
    """batches of 64 (the Quickstart's) in the bundled training split, the last one partial"""
    return -(-stage_figures(5)["train images"] // 64)


def template_last_stage() -> str:
    """the default last_stage of templates/term/cookiecutter.json"""
    config = json.loads((REAL_REPO / "templates" / "term" / "cookiecutter.json").read_text())
    return f"stage{config['last_stage']}"


def highest_stage() -> int:
    """the highest stages/stageN folder"""
    return HIGHEST_STAGE


WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def stage_count_word() -> str:
    """the number of stages/stageN folders, in words"""
    return WORDS[len([p for p in STAGES.glob("stage[0-9]*") if p.is_dir()])]


def gan_checkpoints_word() -> str:
    """the default of --checkpoints in train_gan.py, in words"""
    return WORDS[defaults(6, "train_gan.py")["--checkpoints"]]


def gan_average_decay() -> float:
    """min(--ema, (1 + t) / (10 + t)) at t = --steps of train_gan.py, to 4 places"""
    found = defaults(6, "train_gan.py")
    return round(min(found["--ema"], (1 + found["--steps"]) / (10 + found["--steps"])), 4)


def char_lm_head_width() -> int:
    """--width / --heads of train_char_lm.py"""
    found = defaults(6, "train_char_lm.py")
    return found["--width"] // found["--heads"]


def char_lm_drawn_windows() -> int:
    """--steps x --batch-size of train_char_lm.py"""
    found = defaults(6, "train_char_lm.py")
    return found["--steps"] * found["--batch-size"]


def bake_tree_entries() -> list[str]:
    """the top-level entries of a default term bake"""
    return term_figures()["entries"]


# ------------------------------------------------------------------------------ the table


@dataclass(frozen=True)
class Fact:
    """``pattern``'s first group in ``document`` states ``compute()``."""

    document: str
    pattern: str
    compute: Callable[[], object]


LM, GAN, MNIST = "train_char_lm.py", "train_gan.py", "train_mnist.py"
S6, S5, S4, S3, S2, S1 = (f"docs/stage{k}.md" for k in (6, 5, 4, 3, 2, 1))
INSTRUCTOR = "docs/instructor.md"

FACTS = [
    # stage 6: the language model
    Fact(S6, r"\| `D` \| features per position \(`embed_dim`\) \| (\d+) \|",
         default(6, LM, "--width")),
    Fact(S6, r"\| `N` \| sequences in the batch \| (\d+) \|", default(6, LM, "--batch-size")),
    Fact(S6, r"\| `T` \| positions per sequence \(the context length\) \| (\d+) \|",
         default(6, LM, "--block-size")),
    Fact(S6, r"\| `H` \| attention heads \| (\d+) \|", default(6, LM, "--heads")),
    Fact(S6, r"\| `hd` \| features per head, `D / H` \| (\d+) \|", char_lm_head_width),
    Fact(S6, r"the vocabulary size, or `T` for positions \| (\d+) characters",
         figure(6, "vocabulary")),
    Fact(S6, r"with \$V = (\d+)\$ characters", figure(6, "vocabulary")),
    Fact(S6, r"characters, \$D = (\d+)\$, \$H = \d+\$ heads", default(6, LM, "--width")),
    Fact(S6, r"\$D = \d+\$, \$H = (\d+)\$ heads", default(6, LM, "--heads")),
    Fact(S6, r"\$L = (\d+)\$ blocks:", default(6, LM, "--layers")),
    Fact(S6, r"\$L = \d+\$ blocks: ([\d,]+) parameters", figure(6, "lm parameters")),
    Fact(S6, r"The example trains for ([\d,]+) steps with `AdamW`", default(6, LM, "--steps")),
    Fact(S6, r"on batches of (\d+) windows drawn at random", default(6, LM, "--batch-size")),
    Fact(S6, r"(\d+) steps \(`--warmup`", default(6, LM, "--warmup")),
    Fact(S6, r"With the default settings \((\d+) blocks, width \d+", default(6, LM, "--layers")),
    Fact(S6, r"With the default settings \(\d+ blocks, width (\d+), \d+ heads",
         default(6, LM, "--width")),
    Fact(S6, r"blocks, width \d+, (\d+) heads, [\d,]+ steps, seed", default(6, LM, "--heads")),
    Fact(S6, r"\d+ heads, ([\d,]+) steps, seed \d+\)", default(6, LM, "--steps")),
    Fact(S6, r"\d+ heads, [\d,]+ steps, seed (\d+)\)", default(6, LM, "--seed")),
    Fact(S6, r"\*\*width (\d+), recipe \(the default\)\*\*", default(6, LM, "--width")),
    Fact(S6, r"\*\*width \d+, recipe \(the default\)\*\* \| \*\*([\d,]+)\*\*",
         default(6, LM, "--steps")),
    Fact(S6, r"([\d,]+) characters \(about [\d.]+ M\), all ASCII", figure(6, "characters")),
    Fact(S6, r"all ASCII, (\d+) distinct", figure(6, "vocabulary")),
    Fact(S6, r"The training split has about ([\d,]+) windows",
         figure(6, "train windows", rounded=-4)),
    Fact(S6, r"windows; the example's ([\d,]+) steps of \d+ windows", default(6, LM, "--steps")),
    Fact(S6, r"steps of (\d+) windows draw", default(6, LM, "--batch-size")),
    Fact(S6, r"windows draw\s+([\d,]+) of them", char_lm_drawn_windows),
    Fact("docs/performance.md", r"LM's ([\d,]+) steps took \d+ ms each",
         default(6, LM, "--steps")),
    Fact(S6, r"goes to `char_lm_sample.txt` \((\d+) characters\)", const(6, LM, "SAMPLE_LENGTH")),
    Fact(S6, r"\(`--temperature`, ([\d.]+) by default", default(6, LM, "--temperature")),
    Fact(S6, r"The validation split is the last (\d+) % of the text",
         const(6, LM, "VAL_FRACTION", scale=100)),
    Fact(S6, r"\$\\beta_2 = ([\d.]+)\$ instead of 0.999\n\(`--beta2`", default(6, LM, "--beta2")),
    Fact(S6, r"a weight decay of ([\d.]+) instead\nof 0.01 \(`--weight-decay`",
         default(6, LM, "--weight-decay")),
    Fact(S6, r"total norm clipped to ([\d.]+) \(`--clip`\)", default(6, LM, "--clip")),
    Fact(S6, r"then follows a cosine down to a tenth of that\n\(`--min-lr ([\d.]+)`\)",
         default(6, LM, "--min-lr")),
    # stage 6: the GAN
    Fact(S6, r"the real target is ([\d.]+), not 1 \(`--real-label`\)",
         default(6, GAN, "--real-label")),
    Fact(S6, r"a grid of (\d+) samples at each of \w+ checkpoints", const(6, GAN, "GRID_SIZE")),
    Fact(S6, r"a grid of \d+ samples at each of (\w+) checkpoints", gan_checkpoints_word),
    Fact(S6, r"`gan_samples.npy`, ([\d,]+) samples of the final", const(6, GAN, "N_SAMPLES")),
    Fact(S6, r"it grows to ([\d.]+) by step [\d,]+", gan_average_decay),
    Fact(S6, r"it grows to [\d.]+ by step ([\d,]+)", default(6, GAN, "--steps")),
    Fact(S6, r"With the default settings \(([\d,]+) steps, width \d+, EMA",
         default(6, GAN, "--steps")),
    Fact(S6, r"steps, width (\d+), EMA [\d.]+, seed", default(6, GAN, "--width")),
    Fact(S6, r"width \d+, EMA ([\d.]+), seed", default(6, GAN, "--ema")),
    Fact(S6, r"EMA [\d.]+, seed (\d+)\)", default(6, GAN, "--seed")),
    Fact("docs/performance.md", r"the GAN's ([\d,]+)\s+steps \d+ ms each",
         default(6, GAN, "--steps")),
    Fact("docs/performance.md", r"its two Adams\s+update ([\d.]+) M parameters",
         figure(6, "gan parameters (M)")),
    # stage 5: the MLP on MNIST
    Fact(S5, r"the course's main example: a ([\d-]+) network", figure(5, "mlp layers")),
    Fact(S5, r"4,000 images are few for ([\d,]+) parameters",
         figure(5, "mlp parameters", rounded=-3)),
    Fact(S5, r"`mnist_path\(\"train\"\)` \(([\d,]+) images\)", figure(5, "train images")),
    Fact(S5, r"`mnist_path\(\"test\"\)` \(([\d,]+)\)", figure(5, "test images")),
    Fact(S5, r"starts at \$\\mathrm\{lr\}_0 = ([\d.]+)\$", const(5, MNIST, "DEFAULT_LR", "sgd")),
    Fact(S5, r"ends near 0 \(([\d.]+) in the last of", figure(5, "last lr")),
    Fact(S5, r"in the last of \$E = (\d+)\$ epochs", default(5, MNIST, "--epochs")),
    Fact(S5, r"Final test accuracy after (\d+) epochs, SGD", default(5, MNIST, "--epochs")),
    Fact(S5, r"SGD \(momentum 0.9\), batch (\d+), lr", default(5, MNIST, "--batch-size")),
    Fact(S5, r"`--batch-size` \((\d+)\)", default(5, MNIST, "--batch-size")),
    Fact(S5, r"The (\d+) epochs take about", default(5, MNIST, "--epochs")),
    Fact("README.md", r"trains a ([\d-]+) MLP on the bundled", figure(5, "mlp layers")),
    Fact("README.md", r"MNIST subset \(([\d,]+) training / [\d,]+ test images\)",
         figure(5, "train images")),
    Fact("README.md", r"MNIST subset \([\d,]+ training / ([\d,]+) test images\)",
         figure(5, "test images")),
    Fact("stages/stage5/README.md", r"in batches of (\d+), for \d+ epochs",
         default(5, MNIST, "--batch-size")),
    Fact("stages/stage5/README.md", r"in batches of \d+, for (\d+) epochs",
         default(5, MNIST, "--epochs")),
    Fact("docs/pytorch.md", r"Here an epoch is only (\d+) steps", quickstart_steps),
    # stages 1 to 4: the small examples
    Fact(S4, r"seed 0, default epochs \((\d+)\)", default(4, "train_spirals.py", "--epochs")),
    Fact(S4, r"`Adam\(lr=([\d.]+)\)` \| MSE < 0.02", default(4, "train_sine.py", "--lr")),
    Fact(S4, r"With seed 0 and (\d+) epochs\s+\(measured",
         default(4, "compare_optimizers.py", "--epochs")),
    Fact(S4, r"`--optimizer sgd` \(lr ([\d.]+), momentum 0.9, the default\)",
         const(4, "train_spirals.py", "DEFAULT_LR", "sgd")),
    Fact(S4, r"the default\), `adam` or `adamw` \(lr ([\d.]+)\)",
         const(4, "train_spirals.py", "DEFAULT_LR", "adam")),
    Fact(S4, r"against 99 % at their\ndefaults \(([\d.]+) and [\d.]+;",
         const(4, "train_spirals.py", "DEFAULT_LR", "sgd")),
    Fact(S4, r"against 99 % at their\ndefaults \([\d.]+ and ([\d.]+);",
         const(4, "train_spirals.py", "DEFAULT_LR", "adam")),
    Fact("stages/stage4/README.md", r"`--optimizer sgd` \(lr ([\d.]+), momentum",
         const(4, "train_spirals.py", "DEFAULT_LR", "sgd")),
    Fact("stages/stage4/README.md", r"`adamw` \(lr ([\d.]+)\)",
         const(4, "train_spirals.py", "DEFAULT_LR", "adamw")),
    Fact(S3, r"\| `train_spirals.py` \| 2 -> (\d+) -> 3, ReLU \| `CrossEntropyLoss` \|",
         default(3, "train_spirals.py", "--hidden")),
    Fact(S3, r"\| `train_spirals.py` \| 2 -> \d+ -> 3, ReLU \| `CrossEntropyLoss` \| ([\d.]+) \|",
         default(3, "train_spirals.py", "--lr")),
    Fact(S3, r"\| `train_moons.py` \| 2 -> (\d+) -> 1, ReLU",
         default(3, "train_moons.py", "--hidden")),
    Fact(S3, r"\| `BCEWithLogitsLoss` \| ([\d.]+) \|", default(3, "train_moons.py", "--lr")),
    Fact(S3, r"98.33 % \(99.33 % after the default (\d+)\)",
         default(3, "train_spirals.py", "--epochs")),
    Fact(S3, r"0.0138 \(0.0063 after the default (\d+)\)", default(3, "train_sine.py", "--epochs")),
    Fact(S3, r"\| `train_sine.py` \| 1 -> 32 -> 32 -> 1, tanh \| `MSELoss` \| ([\d.]+) \|",
         default(3, "train_sine.py", "--lr")),
    Fact(S2, r"The example trains a 2 -> (\d+) -> 3 network", default(2, "train_spirals.py",
                                                                   "--hidden")),
    Fact(S2, r"full-batch gradient descent \(learning rate ([\d.]+)\)",
         default(2, "train_spirals.py", "--lr")),
    Fact(S2, r"reach about 99 % after (\d+) epochs", default(2, "train_spirals.py", "--epochs")),
    Fact(S1, r"trains a 2 -> (\d+) -> 3 MLP on three spirals", default(1, "train_spirals.py",
                                                                       "--hidden")),
    # the instructor guide: what the tools print and write
    Fact(INSTRUCTOR, r"stage 1 opened in \S+: (\d+) stubs", term("stubs 1")),
    Fact(INSTRUCTOR, r"stage 1 opened in \S+: \d+ stubs, (\d+) paths written", term("paths 1")),
    Fact(INSTRUCTOR, r"cs-4xx-fall-2026: (\d+) protected stubs", term("protected 2")),
    Fact(INSTRUCTOR, r"cs-4xx-fall-2026: \d+ protected stubs, (\d+) files", term("files 2")),
    Fact(INSTRUCTOR, r"stage 2 opened in \S+: (\d+) stubs", term("stubs 2")),
    Fact(INSTRUCTOR, r"stage 2 opened in \S+: \d+ stubs, (\d+) paths written", term("paths 2")),
    Fact(INSTRUCTOR, r"releases/stage3: (\d+) stubs to implement", release("stubs")),
    Fact(INSTRUCTOR, r"stubs to implement, (\d+) files carried solved", release("solved files")),
    Fact(INSTRUCTOR, r"releases/stage3: (\d+) protected stubs", release("protected")),
    Fact(INSTRUCTOR, r"releases/stage3: \d+ protected stubs, (\d+) files", release("files")),
    Fact(INSTRUCTOR, r"cs-4xx-fall-2026/ +the term repository: what every student gets\n"
                     r"((?:[├└]── \S+.*\n)+)", bake_tree_entries),
    Fact(INSTRUCTOR, r"│   └── (stage\d+)/\n└── term.json", template_last_stage),
    Fact(INSTRUCTOR, r"python -m instructor carry functional.py +# into stages 2..(\d+)",
         highest_stage),
    Fact(INSTRUCTOR, r"A file such as `functional.py` exists in all (\w+) stages",
         stage_count_word),
    # the instructor guide: the grader's limits
    Fact(INSTRUCTOR, r"its directory\): ([\d,]+) files and folders",
         constant(intake, "MAX_ENTRIES")),
    Fact(INSTRUCTOR, r"does each zip a folder holds\), (\d+) MiB a file",
         constant(intake, "MAX_FILE_BYTES", MiB)),
    Fact(INSTRUCTOR, r"MiB a file, (\d+) MiB in all \(the zips",
         constant(intake, "MAX_TOTAL_BYTES", MiB)),
    Fact(INSTRUCTOR, r"a zip entry's name ([\d,]+) bytes", constant(intake, "MAX_NAME_BYTES")),
    Fact(INSTRUCTOR, r"more than ([\d,]+)\s+entries, or a directory",
         constant(intake, "MAX_ENTRIES")),
    Fact(INSTRUCTOR, r"entries, or a directory over (\d+) MiB",
         constant(intake, "MAX_DIRECTORY_BYTES", MiB)),
    Fact(INSTRUCTOR, r"the copies of one run hold at most (\d+) MiB",
         constant(intake, "BATCH_MAX_BYTES", MiB)),
    Fact(INSTRUCTOR, r"MiB\s+and ([\d,]+) entries together", constant(intake, "BATCH_MAX_ENTRIES")),
    Fact(INSTRUCTOR, r"`setpriv`; (\d+) \+ its number in the batch", constant(uids, "UID_BASE")),
    Fact(INSTRUCTOR, r"what the time limits measure\), (\d+) GiB of memory",
         constant(resources, "JAIL_MEMORY", GiB)),
    Fact(INSTRUCTOR, r"GiB of memory, (\d+)\s+processes, and an equal",
         constant(jail, "PROCESSES")),
    Fact(INSTRUCTOR, r"rlimits on CPU time \((\d+) s a\s+process\)", constant(jail, "CPU_SECONDS")),
    Fact(INSTRUCTOR, r"address space \((\d+) GiB\), file size",
         constant(jail, "ADDRESS_SPACE", GiB)),
    Fact(INSTRUCTOR, r"file size \((\d+) MiB\) and open files", constant(jail, "FILE_SIZE", MiB)),
    Fact(INSTRUCTOR, r"and open files \((\d+)\)", constant(jail, "OPEN_FILES")),
    Fact(INSTRUCTOR, r"private tmpfs of (\d+) and \d+ MiB", constant(jail, "TMP_BYTES", MiB)),
    Fact(INSTRUCTOR, r"private tmpfs of \d+ and (\d+) MiB", constant(jail, "SHM_BYTES", MiB)),
    Fact(INSTRUCTOR, r"with a deadline too \((\d+) s\)", constant(jail, "WRITE_BACKSTOP")),
    Fact(INSTRUCTOR, r"its\s+last (\d+) frames, each", constant(messages, "MAX_FRAMES")),
    Fact(INSTRUCTOR, r"other checks of the submission get (\d+) times the",
         constant(running, "REPEAT_FACTOR")),
    Fact(INSTRUCTOR, r"took for them, and at least (\d+) s\.",
         constant(running, "REPEAT_TIMEOUT")),
    Fact(INSTRUCTOR, r"backstop remains \((\d+) times the check's",
         constant(jail, "BACKSTOP_FACTOR")),
    Fact(INSTRUCTOR, r"limit, at least (\d+) s; \d+ s for a worker",
         constant(jail, "MIN_BACKSTOP")),
    Fact(INSTRUCTOR, r"at least \d+ s; (\d+) s for a worker to start",
         constant(jail, "START_BACKSTOP")),
    Fact(INSTRUCTOR, r"After (\d+) backstops of one install",
         constant(running, "BACKSTOPS_TO_DEFER")),
    # the instructor guide: the corpus the checks are tried against
    Fact(INSTRUCTOR, r"written another way \((\d+) of stage 3's tasks",
         corpus_count("equivalent", 3)),
    Fact(INSTRUCTOR, r"stage 3's tasks, (\d+) of stage 6's", corpus_count("equivalent", 6)),
    Fact(INSTRUCTOR, r"of stage 6's, at least (\d+) per\s+graded function",
         corpus_count("fewest", 3)),
    Fact(INSTRUCTOR, r"a corpus of mutants \((\d+) and \d+", corpus_count("mutants", 3)),
    Fact(INSTRUCTOR, r"a corpus of mutants \(\d+ and (\d+),", corpus_count("mutants", 6)),
    # the instructor guide: checks and points
    Fact(INSTRUCTOR, r"At stage 3 the (\d+) public\s+checks", grading(3, "public")),
    Fact(INSTRUCTOR, r"checks and the (\d+) hidden ones are worth", grading(3, "hidden")),
    Fact(INSTRUCTOR, r"hidden ones are worth (\d+) point each", grading(3, "points each")),
    Fact(INSTRUCTOR, r"At stage 6\s+the (\d+) public checks", grading(6, "public")),
    Fact(INSTRUCTOR, r"public checks \(([\d.]+) points each\)", grading(6, "points each")),
    Fact(INSTRUCTOR, r"points each\) cover each of its (\d+) tasks", grading(6, "tasks")),
    Fact(INSTRUCTOR, r"A stage-3 submission runs (\d+) checks", grading(3, "all")),
    Fact(INSTRUCTOR, r"runs \d+ checks \((\d+) scored", grading(3, "scored")),
    Fact(INSTRUCTOR, r"scored: (\d+) public, \d+ hidden", grading(3, "public")),
    Fact(INSTRUCTOR, r"scored: \d+ public, (\d+) hidden", grading(3, "hidden")),
    Fact(INSTRUCTOR, r"hidden; (\d+) of earlier\s+stages' code", grading(3, "earlier")),
    Fact(INSTRUCTOR, r"Public checks:\s+\d+ / (\d+) points", grading(3, "public points")),
    Fact(INSTRUCTOR, r"\((\d+) points for the optimizers", grading(4, "public")),
    Fact(INSTRUCTOR, r"points for the optimizers, (\d+) for the DataLoader", grading(5, "public")),
    Fact(INSTRUCTOR, r"for the DataLoader, (\d+) for stage 6", grading(6, "public")),
]


def stated_value(text: str) -> object:
    """The figure as written: ``424,524`` -> 424524, ``0.999`` -> 0.999, a tree -> its
    entries, a word as it is."""
    if "── " in text:
        return sorted(line.split("── ")[1].split()[0] for line in text.splitlines() if line)
    plain = text.replace(",", "")
    if re.fullmatch(r"\d+", plain):
        return int(plain)
    try:
        return float(plain)
    except ValueError:
        return text


@pytest.mark.parametrize("fact", FACTS, ids=lambda f: f"{f.document}:{f.pattern[:40]}")
def test_each_figure_the_docs_state_is_the_codes(fact):
    text = (REAL_REPO / fact.document).read_text(encoding="utf-8")
    matches = re.findall(fact.pattern, text)
    assert len(matches) == 1, (
        f"{fact.document}: the phrase {fact.pattern!r} occurs {len(matches)} times, not once; "
        f"if the sentence changed, update its entry in instructor/tests/test_doc_numbers.py")
    stated = stated_value(matches[0])
    computed = fact.compute()
    same = (stated == computed if not isinstance(computed, float)
            else isinstance(stated, (int, float)) and abs(stated - computed) < 1e-12)
    assert same, (
        f"{fact.document}: the phrase {fact.pattern!r} states {stated!r}, but the code gives "
        f"{computed!r} ({(fact.compute.__doc__ or '').strip()}); write {computed!r} there")


# ----------------------------------------------------------------------- measured results


@dataclass(frozen=True)
class Measured:
    """The paragraph of ``document`` holding ``pattern`` says when and how it was measured."""

    document: str
    pattern: str


PERF = "docs/performance.md"
MEASURED = [
    Measured(S2, r"all three activations reach about 99 %"),
    Measured("stages/stage2/README.md", r"The training accuracy ends at about 98 %"),
    Measured(S3, r"\| `train_spirals.py` \| 2 -> 64 -> 3, ReLU \| `CrossEntropyLoss` \| 1.0"),
    Measured(S4, r"\| 0.01 \| 77.33 % train accuracy"),
    Measured(S4, r"\| `SGD\(lr=0.1\)` \| 95.67 %, loss 0.21"),
    Measured(S4, r"\| `train_spirals.py` \| 2 -> 64 -> 3, ReLU \| `CrossEntropyLoss`; "),
    Measured(S4, r"\| `SGD\(momentum=0.9\)` \| 0.1 \| 0.0303"),
    Measured(S4, r"Each run takes a fraction of a second"),
    Measured(S4, r"ends at \d+ % with SGD and \d+ % with Adam"),
    Measured("stages/stage4/README.md", r"\(about 99 %"),
    Measured(S5, r"95 % of the test images correctly after one second"),
    Measured(S5, r"end at \*\*10.0 % test accuracy\*\*"),
    Measured(S5, r"\| 0 \| \d+.\d+ % \| \d+.\d+ % \|"),
    Measured(S5, r"That is why epoch 1 reads about 76 %"),
    Measured(S5, r"With the defaults, the three seeds 0, 1 and 2 end at"),
    Measured(S5, r"it reaches 99.00 % with `sgd`"),
    Measured("stages/stage5/README.md", r"about 1 s of training on a 2-core machine"),
    Measured(S6, r"confident 0.756\s+and 0.743"),
    Measured(S6, r"\| confident \(max probability >= 0.9\) \| >= 0.75"),
    Measured(S6, r"\| a wider discriminator, 784-1024-512-256-1 \|"),
    Measured(S6, r"\| final val loss \| <= 1.75 nats/char"),
    Measured(S6, r"\| width 64, earlier \| 6,000 \| 1.868"),
    Measured(S6, r"300 steps of the old default\s+model took 163 ms"),
    Measured("docs/pytorch.md", r"accuracy from 14.9 % after the first epoch"),
    Measured("docs/pytorch.md", r"the GPT reaches a validation loss of about 2.5"),
    Measured(INSTRUCTOR, r"\*\*Time.\*\* A stage-3 submission runs"),
    Measured(INSTRUCTOR, r"refused in under 0.01 s by a process of 22 MiB"),
    Measured(PERF, r"a batch-128\s+step .*took 68-90 ms"),
    Measured(PERF, r"\| 128 \| <= 0.75 \| 1.13 \| 1.12 \|"),
    Measured(PERF, r"\| forward \(3 `Linear`, 2 `ReLU`\) \| 1.34 ms"),
    Measured(PERF, r"\| step \| threads \| goal \| before \|"),
    Measured(PERF, r"\| matrix products of the `Linear` layers \| 57.2 ms"),
    Measured(PERF, r"\| matrix products \(every `Linear`, forward and backward\) \| 17.2 ms"),
    Measured(PERF, r"The levers of issue 21, each measured"),
    Measured(PERF, r"300\s+steps of the old default LM, minutes apart: 163 ms"),
    Measured(PERF, r"\| 1. training step, 784-256-128-10 ReLU MLP, batch 128"),
    Measured(PERF, r"Absolute medians of the final run"),
    Measured(PERF, r"\| sigmoid \| 0.84 \| 0.92 \| 0.94 \|"),
    Measured(PERF, r"\*\*DataLoader fast path: 6.7x, target 20x.\*\*"),
]

DATE = re.compile(r"measured (?:on |before )?\d{4}-\d{2}-\d{2}", re.IGNORECASE)
COMMAND = re.compile(r"`(?:[A-Z_]+=\S+ )*(?:nox -s [^`]+|python [^`]+|cookiecutter [^`]+)`")


def block_of(text: str, start: int) -> str:
    """The paragraph around ``start``; for a table row, the table with the tables and the first
    paragraph before it, and the paragraph after it."""
    paragraphs = re.split(r"\n[ \t]*\n", text)
    offset = 0
    for index, paragraph in enumerate(paragraphs):
        if offset <= start < offset + len(paragraph) + 2:
            if not paragraph.lstrip().startswith("|"):
                return paragraph
            first = index
            while first > 0 and paragraphs[first].lstrip().startswith("|"):
                first -= 1
            return "\n\n".join(paragraphs[first:index + 2])
        offset += len(paragraph) + 2
    return ""


@pytest.mark.parametrize("entry", MEASURED, ids=lambda m: f"{m.document}:{m.pattern[:40]}")
def test_each_measured_result_says_when_and_with_which_command(entry):
    text = (REAL_REPO / entry.document).read_text(encoding="utf-8")
    match = re.search(entry.pattern, text)
    assert match, (f"{entry.document}: no measured result {entry.pattern!r}; if the sentence "
                   "changed, update its entry in instructor/tests/test_doc_numbers.py")
    block = block_of(text, match.start())
    assert DATE.search(block) and COMMAND.search(block), (
        f"{entry.document}: the measured result {entry.pattern!r} does not say "
        f"{'when' if not DATE.search(block) else 'with which command'} it was measured; "
        "add, in its paragraph, e.g. \"(measured 2026-12-07 with `nox -s bench`)\", or "
        "\"measured before DATE\" when only an upper bound of the date is known:\n"
        f"{block[:600]}")
