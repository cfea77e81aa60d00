"""The similarity report: a copied submission ranks above every pair of honest ones.

The honest batch is composed here: every student is the stage-1 release with each stub replaced
by one of several independent ways to write that function (vectorised or with a loop, a helper
function or inline, another formula, other statements), with variable names, comments and the
order of the functions drawn for that student. The copy takes one honest student's code,
renames its variables, rewrites its comments and reverses the order of its functions.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
from pathlib import Path
from string import Template

import pytest

from instructor.release.release import write_release
from instructor.release.solutions import STUB_LINE
from instructor.similarity import Starter, extract, similarity_report
from instructor.similarity.command import add_arguments, run
from instructor.similarity.report import CSV_FILE, FLAG_SCORE, HTML_FILE
from instructor.stages.repo import InstructorError

from .conftest import REAL_REPO

# --- independent ways to write each stage-1 function --------------------------------------------
# A body is a template: $name is a local variable whose name each student draws. A variant may
# bring module-level helper functions (the second item), appended to the file.

F = "mini_torch.functional."
VARIANTS: dict[str, list[tuple[str, str]]] = {
    F + "linear": [
        ("return x @ W + b", ""),
        ("$y = x @ W\n$y += b\nreturn $y", ""),
        ("$y = np.dot(x, W)\nreturn $y + b.reshape(1, -1)", ""),
        ("$y = np.empty((x.shape[0], W.shape[1]), dtype=x.dtype)\n"
         "for $i in range(x.shape[0]):\n    $y[$i] = x[$i] @ W + b.reshape(-1)\nreturn $y", ""),
        ("return _affine(x, W, b)", "def _affine(a, m, c):\n    return np.matmul(a, m) + c\n"),
    ],
    F + "linear_backward": [
        ("$gx = grad_output @ W.T\n$gw = x.T @ grad_output\n"
         "$gb = grad_output.sum(axis=0, keepdims=True)\nreturn $gx, $gw, $gb", ""),
        ("return (grad_output @ W.T, x.T @ grad_output,\n"
         "        np.sum(grad_output, axis=0, keepdims=True))", ""),
        ("$gw = np.zeros_like(W)\n$gb = np.zeros((1, W.shape[1]), dtype=W.dtype)\n"
         "for $i in range(x.shape[0]):\n    $gw += np.outer(x[$i], grad_output[$i])\n"
         "    $gb += grad_output[$i]\n$gx = np.dot(grad_output, W.T)\nreturn $gx, $gw, $gb", ""),
        ("$gb = grad_output.sum(0).reshape(1, -1)\n"
         "$gw = np.einsum('ni,no->io', x, grad_output)\n"
         "$gx = np.einsum('no,io->ni', grad_output, W)\nreturn $gx, $gw, $gb", ""),
    ],
    F + "relu": [
        ("return np.maximum(x, 0)", ""),
        ("return np.where(x > 0, x, 0).astype(x.dtype)", ""),
        ("$out = x.copy()\n$out[$out < 0] = 0\nreturn $out", ""),
        ("return x * (x > 0)", ""),
    ],
    F + "relu_backward": [
        ("return grad_output * (x > 0)", ""),
        ("return np.where(x > 0, grad_output, 0).astype(grad_output.dtype)", ""),
        ("$mask = (x > 0).astype(grad_output.dtype)\nreturn grad_output * $mask", ""),
        ("$g = grad_output.copy()\n$g[x <= 0] = 0\nreturn $g", ""),
    ],
    F + "leaky_relu": [
        ("return np.where(x > 0, x, slope * x)", ""),
        ("$out = x.copy()\n$neg = x < 0\n$out[$neg] = slope * x[$neg]\nreturn $out", ""),
        ("return np.maximum(x, 0) + slope * np.minimum(x, 0)", ""),
    ],
    F + "leaky_relu_backward": [
        ("return np.where(x > 0, grad_output, slope * grad_output)", ""),
        ("$d = np.ones_like(x)\n$d[x <= 0] = slope\nreturn grad_output * $d", ""),
        ("return grad_output * np.where(x > 0, 1.0, slope).astype(x.dtype)", ""),
    ],
    F + "sigmoid": [
        ("return special.expit(x)", ""),
        ("return 1.0 / (1.0 + np.exp(-x))", ""),
        ("$pos = x >= 0\n$out = np.empty_like(x)\n$out[$pos] = 1.0 / (1.0 + np.exp(-x[$pos]))\n"
         "$e = np.exp(x[~$pos])\n$out[~$pos] = $e / (1.0 + $e)\nreturn $out", ""),
        ("return 0.5 * (1.0 + np.tanh(0.5 * x))", ""),
    ],
    F + "sigmoid_backward": [
        ("$s = special.expit(x)\nreturn grad_output * $s * (1.0 - $s)", ""),
        ("$s = sigmoid(x)\nreturn grad_output * ($s - $s * $s)", ""),
        ("return grad_output * special.expit(x) * special.expit(-x)", ""),
    ],
    F + "tanh": [
        ("return np.tanh(x)", ""),
        ("return 2.0 * special.expit(2.0 * x) - 1.0", ""),
        ("$e = np.exp(-2.0 * np.abs(x))\nreturn np.sign(x) * (1.0 - $e) / (1.0 + $e)", ""),
    ],
    F + "tanh_backward": [
        ("$t = np.tanh(x)\nreturn grad_output * (1.0 - $t * $t)", ""),
        ("return grad_output * (1.0 - np.tanh(x) ** 2)", ""),
        ("return grad_output / np.cosh(x) ** 2", ""),
    ],
    F + "gelu": [
        ("if approximate == 'tanh':\n"
         "    $u = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)\n"
         "    return 0.5 * x * (1.0 + np.tanh($u))\n"
         "return 0.5 * x * (1.0 + _erf(x * _INV_SQRT_2))", ""),
        ("if approximate == 'none':\n    return x * _phi(x)\nreturn _gelu_tanh(x)",
         "def _phi(v):\n    return 0.5 * (1.0 + _erf(v / math.sqrt(2.0)))\n\n\n"
         "def _gelu_tanh(v):\n    c = math.sqrt(2.0 / math.pi)\n"
         "    return 0.5 * v * (1.0 + np.tanh(c * (v + 0.044715 * v ** 3)))\n"),
        ("$cube = x ** 3\nif approximate == 'none':\n"
         "    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))\n"
         "$u = math.sqrt(2.0 / math.pi) * (x + 0.044715 * $cube)\n"
         "return x * (0.5 + 0.5 * np.tanh($u))", ""),
    ],
    F + "gelu_backward": [
        ("if approximate == 'tanh':\n"
         "    $u = _SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)\n    $t = np.tanh($u)\n"
         "    $du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x * x)\n"
         "    return grad_output * (0.5 * (1.0 + $t) + 0.5 * x * (1.0 - $t * $t) * $du)\n"
         "$cdf = 0.5 * (1.0 + _erf(x * _INV_SQRT_2))\n"
         "$pdf = _INV_SQRT_2PI * np.exp(-0.5 * x * x)\n"
         "return grad_output * ($cdf + x * $pdf)", ""),
        ("if approximate == 'none':\n    return grad_output * _exact_slope(x)\n"
         "return grad_output * _tanh_slope(x)",
         "def _exact_slope(v):\n    cdf = 0.5 * (1.0 + _erf(v / math.sqrt(2.0)))\n"
         "    return cdf + v * np.exp(-v * v / 2.0) / math.sqrt(2.0 * math.pi)\n\n\n"
         "def _tanh_slope(v):\n    k = math.sqrt(2.0 / math.pi)\n"
         "    th = np.tanh(k * (v + 0.044715 * v ** 3))\n"
         "    slope = k * (1.0 + 0.134145 * v ** 2)\n"
         "    return 0.5 * (1.0 + th) + 0.5 * v * (1.0 - th ** 2) * slope\n"),
        ("$sq = x * x\nif approximate == 'tanh':\n"
         "    $k = math.sqrt(2.0 / math.pi)\n    $t = np.tanh($k * x * (1.0 + 0.044715 * $sq))\n"
         "    $left = 0.5 * (1.0 + $t)\n"
         "    $right = 0.5 * x * (1.0 - $t ** 2) * $k * (1.0 + 3 * 0.044715 * $sq)\n"
         "    return grad_output * ($left + $right)\n"
         "$phi = np.exp(-$sq / 2.0) / math.sqrt(2.0 * math.pi)\n"
         "return grad_output * (0.5 * (1.0 + _erf(x / math.sqrt(2.0))) + x * $phi)", ""),
    ],
    F + "softmax": [
        ("$z = x - np.max(x, axis=axis, keepdims=True)\n$e = np.exp($z)\n"
         "return $e / np.sum($e, axis=axis, keepdims=True)", ""),
        ("$e = np.exp(x - x.max(axis=axis, keepdims=True))\n"
         "$e /= $e.sum(axis=axis, keepdims=True)\nreturn $e", ""),
        ("return np.exp(log_softmax(x, axis=axis))", ""),
        ("return special.softmax(x, axis=axis).astype(x.dtype)", ""),
    ],
    F + "log_softmax": [
        ("$z = x - x.max(axis=axis, keepdims=True)\n"
         "return $z - np.log(np.exp($z).sum(axis=axis, keepdims=True))", ""),
        ("return x - special.logsumexp(x, axis=axis, keepdims=True)", ""),
        ("$m = np.max(x, axis=axis, keepdims=True)\n"
         "$lse = $m + np.log(np.sum(np.exp(x - $m), axis=axis, keepdims=True))\n"
         "return x - $lse", ""),
    ],
    F + "mse_loss": [
        ("$d = pred - target\nreturn _reduce($d * $d, reduction)", ""),
        ("return _reduce((pred - target) ** 2, reduction)", ""),
        ("$sq = np.square(pred - target)\nif reduction == 'mean':\n    return $sq.mean()\n"
         "return $sq.sum()", ""),
    ],
    F + "mse_loss_backward": [
        ("$scale = 2.0 / pred.size if reduction == 'mean' else 2.0\n"
         "return $scale * (pred - target)", ""),
        ("$g = 2.0 * (pred - target)\nif reduction == 'mean':\n    $g = $g / pred.size\n"
         "return $g", ""),
        ("$n = pred.size if reduction == 'mean' else 1\nreturn (pred - target) * (2.0 / $n)",
         ""),
    ],
    F + "cross_entropy": [
        ("$losses = -(q * log_softmax(logits, axis=1)).sum(axis=1)\n"
         "return _reduce($losses, reduction)", ""),
        ("$lp = log_softmax(logits, axis=1)\n$losses = -np.sum(q * $lp, axis=1)\n"
         "return _reduce($losses, reduction)", ""),
        ("$losses = np.empty(logits.shape[0], dtype=logits.dtype)\n"
         "for $i in range(logits.shape[0]):\n    $row = logits[$i] - logits[$i].max()\n"
         "    $lse = np.log(np.exp($row).sum())\n    $losses[$i] = -(q[$i] * ($row - $lse)).sum()\n"
         "return _reduce($losses, reduction)", ""),
    ],
    F + "cross_entropy_backward": [
        ("$g = softmax(logits, axis=1) - q\n"
         "return $g / logits.shape[0] if reduction == 'mean' else $g", ""),
        ("$p = softmax(logits, axis=1)\n$g = $p - q\nif reduction == 'mean':\n"
         "    $g /= len(logits)\nreturn $g", ""),
        ("$n = logits.shape[0] if reduction == 'mean' else 1\n"
         "return (softmax(logits, axis=1) - q) / $n", ""),
    ],
    F + "binary_cross_entropy_with_logits": [
        ("$l = np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))\n"
         "return _reduce($l, reduction)", ""),
        ("$l = np.logaddexp(0.0, z) - z * t\nreturn _reduce($l, reduction)", ""),
        ("$pos = np.clip(z, 0, None)\n$l = $pos - z * t + np.log(1.0 + np.exp(-np.abs(z)))\n"
         "return _reduce($l, reduction)", ""),
    ],
    F + "binary_cross_entropy_with_logits_backward": [
        ("$g = special.expit(z) - t\nreturn $g / z.size if reduction == 'mean' else $g", ""),
        ("$g = sigmoid(z) - t\nif reduction == 'mean':\n    $g = $g / z.size\nreturn $g", ""),
        ("$n = z.size if reduction == 'mean' else 1\nreturn (special.expit(z) - t) / $n", ""),
    ],
    "examples/train_sine.py:predict": [
        ("$h = X\nfor $i, (W, b) in enumerate(layers):\n    $h = F.linear($h, W, b)\n"
         "    if $i < len(layers) - 1:\n        $h = F.tanh($h)\nreturn $h", ""),
        ("$h = X\nfor W, b in layers[:-1]:\n    $h = F.tanh(F.linear($h, W, b))\n"
         "$last_W, $last_b = layers[-1]\nreturn F.linear($h, $last_W, $last_b)", ""),
        ("$h = X\n$i = 0\nwhile $i < len(layers):\n    $h = F.linear($h, *layers[$i])\n"
         "    $i += 1\n    if $i != len(layers):\n        $h = F.tanh($h)\nreturn $h", ""),
    ],
    "examples/train_sine.py:train_step": [
        ("$ins, $pres = [], []\n$h = X\nfor $i, (W, b) in enumerate(layers):\n"
         "    $ins.append($h)\n    $h = F.linear($h, W, b)\n    if $i < len(layers) - 1:\n"
         "        $pres.append($h)\n        $h = F.tanh($h)\n$loss = F.mse_loss($h, y)\n"
         "$g = F.mse_loss_backward($h, y)\nfor $i in reversed(range(len(layers))):\n"
         "    if $i < len(layers) - 1:\n        $g = F.tanh_backward($g, $pres[$i])\n"
         "    W, b = layers[$i]\n    $g, $gw, $gb = F.linear_backward($g, $ins[$i], W)\n"
         "    W -= lr * $gw\n    b -= lr * $gb\nreturn float($loss)", ""),
        ("$cache = []\n$h = X\nfor $i, (W, b) in enumerate(layers):\n"
         "    $z = F.linear($h, W, b)\n    $cache.append(($h, $z))\n"
         "    $h = F.tanh($z) if $i + 1 < len(layers) else $z\n"
         "$loss = float(F.mse_loss($h, y))\n$g = F.mse_loss_backward($h, y)\n"
         "$grads = []\nfor $i in range(len(layers) - 1, -1, -1):\n    $a, $z = $cache[$i]\n"
         "    if $i + 1 < len(layers):\n        $g = F.tanh_backward($g, $z)\n"
         "    $g, $gw, $gb = F.linear_backward($g, $a, layers[$i][0])\n"
         "    $grads.append(($gw, $gb))\n"
         "for (W, b), ($gw, $gb) in zip(layers, reversed($grads)):\n"
         "    W -= lr * $gw\n    b -= lr * $gb\nreturn $loss", ""),
        ("$acts = [X]\n$zs = []\nfor W, b in layers:\n    $zs.append(F.linear($acts[-1], W, b))\n"
         "    $acts.append(F.tanh($zs[-1]))\n$out = $zs[-1]\n$loss = F.mse_loss($out, y)\n"
         "$g = F.mse_loss_backward($out, y)\n$i = len(layers) - 1\nwhile $i >= 0:\n"
         "    W, b = layers[$i]\n    $g, $gw, $gb = F.linear_backward($g, $acts[$i], W)\n"
         "    if $i > 0:\n        $g = F.tanh_backward($g, $zs[$i - 1])\n"
         "    W -= lr * $gw\n    b -= lr * $gb\n    $i -= 1\nreturn float($loss)", ""),
    ],
    "examples/train_spirals.py:predict": [
        ("$h = F.relu(F.linear(X, params['W1'], params['b1']))\n"
         "return F.linear($h, params['W2'], params['b2'])", ""),
        ("$z = F.linear(X, params['W1'], params['b1'])\n$h = F.relu($z)\n"
         "$out = F.linear($h, params['W2'], params['b2'])\nreturn $out", ""),
        ("return _forward(params, X)[-1]",
         "def _forward(p, inputs):\n    z1 = F.linear(inputs, p['W1'], p['b1'])\n"
         "    a1 = F.relu(z1)\n    return z1, a1, F.linear(a1, p['W2'], p['b2'])\n"),
    ],
    "examples/train_spirals.py:train_step": [
        ("$z = F.linear(X, params['W1'], params['b1'])\n$h = F.relu($z)\n"
         "$out = F.linear($h, params['W2'], params['b2'])\n$loss = F.cross_entropy($out, y)\n"
         "$g = F.cross_entropy_backward($out, y)\n"
         "$gh, $gw2, $gb2 = F.linear_backward($g, $h, params['W2'])\n"
         "$gz = F.relu_backward($gh, $z)\n_, $gw1, $gb1 = F.linear_backward($gz, X, params['W1'])\n"
         "params['W1'] -= lr * $gw1\nparams['b1'] -= lr * $gb1\n"
         "params['W2'] -= lr * $gw2\nparams['b2'] -= lr * $gb2\nreturn float($loss)", ""),
        ("$z1 = F.linear(X, params['W1'], params['b1'])\n$a1 = F.relu($z1)\n"
         "$z2 = F.linear($a1, params['W2'], params['b2'])\n"
         "$g2 = F.cross_entropy_backward($z2, y)\n"
         "$ga1, $grads_W2, $grads_b2 = F.linear_backward($g2, $a1, params['W2'])\n"
         "$grads_W1, $grads_b1 = F.linear_backward(F.relu_backward($ga1, $z1), X,\n"
         "                                         params['W1'])[1:]\n"
         "$new = {'W1': $grads_W1, 'b1': $grads_b1, 'W2': $grads_W2, 'b2': $grads_b2}\n"
         "for $key in params:\n    params[$key] -= lr * $new[$key]\n"
         "return float(F.cross_entropy($z2, y))", ""),
        ("$z1, $a1, $out = _forward(params, X)\n$loss = float(F.cross_entropy($out, y))\n"
         "$g = F.cross_entropy_backward($out, y)\n"
         "$ga, *$second = F.linear_backward($g, $a1, params['W2'])\n"
         "$first = F.linear_backward(F.relu_backward($ga, $z1), X, params['W1'])[1:]\n"
         "for $key, $grad in zip(('W1', 'b1', 'W2', 'b2'), (*$first, *$second)):\n"
         "    np.subtract(params[$key], lr * $grad, out=params[$key])\nreturn $loss",
         "def _forward(p, inputs):\n    z1 = F.linear(inputs, p['W1'], p['b1'])\n"
         "    a1 = F.relu(z1)\n    return z1, a1, F.linear(a1, p['W2'], p['b2'])\n"),
    ],
}

#: Each local variable's possible names (none is a parameter or a module name of the files).
NAMES: dict[str, list[str]] = {}
_BASES = ["y", "i", "gx", "gw", "gb", "out", "mask", "g", "d", "neg", "pos", "e", "s", "t", "u",
          "cube", "du", "cdf", "pdf", "sq", "k", "left", "right", "phi", "z", "m", "lse",
          "scale", "n", "losses", "lp", "row", "p", "l", "h", "last_W", "last_b", "ins", "pres",
          "loss", "cache", "grads", "a", "acts", "zs", "gh", "gw2", "gb2", "gz", "gw1", "gb1",
          "z1", "a1", "z2", "g2", "ga1", "grads_W2", "grads_b2", "grads_W1", "grads_b1", "new",
          "key", "ga", "second", "first", "grad"]
_STYLES = ["{}", "{}_", "my_{}", "{}_val", "tmp_{}", "{}2"]
for _base in _BASES:
    NAMES[_base] = [style.format(_base) for style in _STYLES]

COMMENTS = ["# compute the result", "# forward pass", "# see the guide", "# vectorised",
            "# TODO: check shapes", "# the gradient", "# my implementation", "# step by step"]


def draw(rng: random.Random) -> dict:
    """One student's choices: a variant per task, a name for every variable, comments, order."""
    return {"variants": {task: rng.randrange(len(options)) for task, options in VARIANTS.items()},
            "names": {base: rng.randrange(len(options)) for base, options in NAMES.items()},
            "comments": {task: rng.choice([None, *COMMENTS]) for task in VARIANTS},
            "order": rng.random()}


def _body(task: str, choices: dict) -> tuple[str, str]:
    template, helper = VARIANTS[task][choices["variants"][task]]
    names = {base: NAMES[base][index] for base, index in choices["names"].items()}
    body = Template(template).substitute(names)
    comment = choices["comments"][task]
    return (f"{comment}\n{body}" if comment else body), helper


def _reorder(text: str, seed: float | None) -> str:
    """The file's top-level functions in another order (None: as they are; a number: shuffled
    by it; -1: reversed). Everything between functions stays in place."""
    import ast

    if seed is None:
        return text
    lines = text.splitlines(keepends=True)
    nodes = [n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)]
    spans = [(min([n.lineno] + [d.lineno for d in n.decorator_list]) - 1, n.end_lineno)
             for n in nodes]
    chunks = ["".join(lines[a:b]) for a, b in spans]
    if seed == -1:
        chunks.reverse()
    else:
        random.Random(seed).shuffle(chunks)
    out, cursor = [], 0
    for (a, b), chunk in zip(spans, chunks):
        out += ["".join(lines[cursor:a]), chunk]
        cursor = b
    out.append("".join(lines[cursor:]))
    return "".join(out)


def write_student(release: Path, folder: Path, choices: dict, *, order: float | None = None,
                  extra_comment: str = "") -> Path:
    """A student's package: the release with every stub replaced by the chosen bodies."""
    shutil.copytree(release, folder)
    for file in ("src/mini_torch/functional.py", "examples/train_sine.py",
                 "examples/train_spirals.py"):
        path = folder / file
        lines, helpers = [], []
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            match = STUB_LINE.match(line)
            if not match:
                lines.append(line)
                continue
            body, helper = _body(match.group("name"), choices)
            if extra_comment:
                body = f"{extra_comment}\n{body}"
            indent = match.group("indent")
            lines += [f"{indent}{row}\n" if row else "\n" for row in body.split("\n")]
            if helper and helper not in helpers:
                helpers.append(helper)
        text = "".join(lines) + "".join(f"\n\n{helper}" for helper in helpers)
        path.write_text(_reorder(text, order), encoding="utf-8")
    return folder


def renamed(choices: dict) -> dict:
    """The same code with every variable renamed and other comments."""
    copy = {key: dict(value) if isinstance(value, dict) else value
            for key, value in choices.items()}
    copy["names"] = {base: (index + 3) % len(NAMES[base])
                     for base, index in choices["names"].items()}
    copy["comments"] = {task: (None if comment else "# done on my own")
                        for task, comment in choices["comments"].items()}
    return copy


HONEST = 31
SOURCE = 5  # the honest student whose code is copied


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release")
    write_release(REAL_REPO, 1, out)
    return out / "stages" / "stage1"


@pytest.fixture(scope="module")
def batch(release, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("batch")
    rng = random.Random(20261207)
    students, choices = {}, {}
    for index in range(HONEST):
        name = f"honest_{index:02d}"
        choices[name] = draw(rng)
        order = None if index % 3 == 0 else choices[name]["order"]
        students[name] = write_student(release, folder / name, choices[name], order=order)
    source = f"honest_{SOURCE:02d}"
    students["copier"] = write_student(release, folder / "copier", renamed(choices[source]),
                                       order=-1)
    return {"students": students, "choices": choices, "source": source, "folder": folder}


@pytest.fixture(scope="module")
def ranked(batch, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "similarity"
    return similarity_report(batch["students"], 1, REAL_REPO, out)


def _normalized(text: str) -> str:
    from copydetect.utils import filter_code

    return filter_code(text, "x.py", "python")[0]


def test_the_honest_batch_holds_at_least_30_different_implementations(batch):
    starter = Starter.from_repo(REAL_REPO, 1)
    documents = [extract(batch["students"][f"honest_{i:02d}"], starter).document(starter)
                 for i in range(HONEST)]
    assert len({_normalized(text) for text in documents}) >= 30
    # honestly different: every two honest students chose another way for some functions
    variants = [tuple(batch["choices"][f"honest_{i:02d}"]["variants"].values())
                for i in range(HONEST)]
    assert min(sum(a != b for a, b in zip(one, other))
               for n, one in enumerate(variants) for other in variants[n + 1:]) >= 6


def test_the_copy_is_renamed_and_reordered_yet_extracts_to_the_same_code(batch):
    starter = Starter.from_repo(REAL_REPO, 1)
    source = batch["students"][batch["source"]]
    copier = batch["students"]["copier"]
    source_text = (source / "src/mini_torch/functional.py").read_text(encoding="utf-8")
    copy_text = (copier / "src/mini_torch/functional.py").read_text(encoding="utf-8")
    assert source_text != copy_text
    order = [re.findall(r"^def (\w+)", text, re.MULTILINE) for text in (source_text, copy_text)]
    assert order[0] != order[1] and sorted(order[0]) == sorted(order[1])
    one = extract(source, starter).document(starter)
    other = extract(copier, starter).document(starter)
    assert one != other  # other names, other comments
    assert _normalized(one) == _normalized(other)  # the same code under the renaming


def test_the_copied_pair_ranks_above_every_honest_pair(ranked, batch):
    top = ranked.pairs[0]
    assert {top.student_a, top.student_b} == {"copier", batch["source"]}
    honest = [p for p in ranked.pairs if "copier" not in (p.student_a, p.student_b)]
    assert len(honest) == HONEST * (HONEST - 1) // 2
    assert top.score > max(p.score for p in honest)
    assert top.flagged and top.score >= FLAG_SCORE
    assert not [p for p in honest if p.flagged]


def test_the_report_lists_every_pair_in_the_csv_and_shows_the_top_one(ranked, batch):
    rows = ranked.csv.read_text(encoding="utf-8").splitlines()
    assert rows[0].split(",")[:4] == ["student_a", "student_b", "score", "matched_tokens"]
    assert len(rows) - 1 == (HONEST + 1) * HONEST // 2
    first = rows[1].split(",")
    assert {first[0], first[1]} == {"copier", batch["source"]}
    page = ranked.html.read_text(encoding="utf-8")
    assert page.count("<mark>") > 10 and 'id="pair-1"' in page


def test_two_untouched_releases_score_zero(release, tmp_path):
    students = {name: shutil.copytree(release, tmp_path / name) for name in ("one", "two")}
    report = similarity_report(students, 1, REAL_REPO, tmp_path / "out")
    [pair] = report.pairs
    assert pair.score == 0 and pair.matched == 0
    assert report.written == {"one": 0, "two": 0}


def test_the_starter_code_does_not_count_between_two_copies_of_one_student(release, batch,
                                                                         tmp_path):
    """The same student twice scores 1 on what they wrote, not on the given code: with the
    starter subtracted, nothing but the bodies is in the shares."""
    source = batch["students"][batch["source"]]
    students = {name: shutil.copytree(source, tmp_path / name) for name in ("a", "b")}
    report = similarity_report(students, 1, REAL_REPO, tmp_path / "out")
    [pair] = report.pairs
    assert pair.score == pytest.approx(1.0)
    assert pair.matched > 0


def test_hostile_names_and_code_are_escaped(release, tmp_path):
    rng = random.Random(3)
    choices = draw(rng)
    hostile = "<script>alert(1)</script>"
    formula = "=HYPERLINK(\"http://x\")"
    comment = "# </pre><img src=x onerror=alert(2)>"
    students = {}
    for name in (hostile, formula):
        folder = tmp_path / "in" / f"s{len(students)}"
        students[name] = write_student(release, folder, choices, extra_comment=comment)
    report = similarity_report(students, 1, REAL_REPO, tmp_path / "out")
    page = report.html.read_text(encoding="utf-8")
    assert hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;img src=x" in page
    [row] = list(csv.reader(io.StringIO(report.csv.read_text(encoding="utf-8"))))[1:]
    assert sorted(row[:2]) == sorted([hostile, "'" + formula])  # a formula is text


def test_the_grade_folder_is_only_added_to(batch, tmp_path):
    out = tmp_path / "grades"
    (out / "feedback").mkdir(parents=True)
    grade_files = {out / "gradebook.csv": "student,score\nhonest_00,40\n",
                   out / "feedback" / "honest_00.txt": "Score: 40 / 40\n"}
    for path, text in grade_files.items():
        path.write_text(text, encoding="utf-8")
    before = {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in grade_files}
    some = dict(list(batch["students"].items())[:3])
    similarity_report(some, 1, REAL_REPO, out)
    assert {p: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in grade_files} == before
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["feedback", "gradebook.csv", CSV_FILE, HTML_FILE])
    with pytest.raises(InstructorError, match="holds similarity"):
        similarity_report(some, 1, REAL_REPO, out)


def test_extract_takes_bodies_by_name_and_leaves_stubs_empty(release, tmp_path):
    starter = Starter.from_repo(REAL_REPO, 1)
    untouched = extract(release, starter)
    assert untouched.written == 0 and not untouched.helpers and not untouched.notes
    folder = shutil.copytree(release, tmp_path / "one")
    path = folder / "src/mini_torch/functional.py"
    text = path.read_text(encoding="utf-8")
    stub = next(line for line in text.splitlines() if "implement mini_torch.functional.relu "
                in line)
    path.write_text(text.replace(stub, "    return np.maximum(x, 0)  # mine")
                    + "\n\ndef _mine(v):\n    return v + 1\n", encoding="utf-8")
    found = extract(folder, starter)
    assert found.written == 1
    assert found.bodies[F + "relu"] == "return np.maximum(x, 0)  # mine"  # no given line
    assert found.bodies[F + "relu_backward"] == ""
    assert found.helpers == {"src/mini_torch/functional.py:_mine": "def _mine(v):\n"
                                                                   "    return v + 1"}


def test_a_file_that_does_not_parse_is_compared_whole(release, tmp_path):
    starter = Starter.from_repo(REAL_REPO, 1)
    folder = shutil.copytree(release, tmp_path / "one")
    (folder / "examples/train_sine.py").write_text("def predict(:\n    return 1\n",
                                                   encoding="utf-8")
    found = extract(folder, starter)
    assert "examples/train_sine.py" in found.whole_files
    assert any("not valid Python" in note for note in found.notes)
    assert "def predict(:" in found.document(starter)


def test_the_command_runs_on_folders_and_reports_the_ones_it_cannot_compare(
        batch, tmp_path, capsys):
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    empty = tmp_path / "nobody"
    empty.mkdir()
    paths = [str(batch["students"][f"honest_{i:02d}"]) for i in range(2)] + [str(empty)]
    args = parser.parse_args([str(tmp_path / "out"), *paths, "--stage", "1",
                              "--root", str(REAL_REPO)])
    assert run(args) == 0
    printed = capsys.readouterr().out
    assert "nobody: not compared: no package" in printed
    assert "compared 2 submission(s) of stage 1 (1 pairs" in printed
    assert (tmp_path / "out" / HTML_FILE).is_file()


def test_after_grading_compares_the_graded_batch_into_the_grade_folder(batch, tmp_path):
    from types import SimpleNamespace

    from instructor.grading.results import SubmissionResult
    from instructor.grading.scoring import own_files
    from instructor.similarity.command import after_grading

    kit = SimpleNamespace(stage=1, reference_dir=REAL_REPO / "stages" / "stage1",
                          own_files=own_files(REAL_REPO, 1))
    source, copier = batch["students"][batch["source"]], batch["students"]["copier"]
    archive = shutil.make_archive(str(tmp_path / "zipped"), "zip", copier)
    results = [SubmissionResult(batch["source"], source, 1),
               SubmissionResult("zipped", Path(archive), 1),
               SubmissionResult("twice", source, 1, status="refused")]
    out = tmp_path / "grades"
    out.mkdir()
    report = after_grading(results, kit, out)
    [pair] = report.pairs
    assert {pair.student_a, pair.student_b} == {batch["source"], "zipped"}
    assert pair.score == pytest.approx(1.0) and pair.flagged
    assert (out / HTML_FILE).is_file() and (out / CSV_FILE).is_file()


def test_an_out_folder_that_is_a_link_is_refused_before_any_work(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "out").symlink_to(target)
    with pytest.raises(InstructorError, match="not a folder of this user's"):
        similarity_report({}, 1, REAL_REPO, tmp_path / "out")
    assert not any(target.iterdir())
