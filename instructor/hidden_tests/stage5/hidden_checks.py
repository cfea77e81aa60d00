"""Hidden checks of stage 5: datasets and loaders with options the public checks and tests do not
use.

Only the grader holds this file (it ships in the autograder's kit, never in a release). The
trusted grader compares each result with the reference stage's on the same arrays, drawn (and
their sizes) from the grading run's generator:

- ``ArrayDataset`` of images ``(N, H, W)`` with one-hot labels ``(N, C)``: one sample (also by a
  negative index), and a batch of repeated indices given as an array;
- ``DataLoader``: batches of one, one batch larger than the dataset (with and without
  ``drop_last``), a batch size that divides the dataset, and two shuffled epochs from a seeded
  ``generator`` (the order is the one ``_epoch_order`` draws, as the guide says);
- the spirals' model of another width.
"""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, Program, check, floats, seed, size
from instructor.grading.checks.examples import build_model_check
from instructor.grading.checks.stage5 import DATA, DATASET_FILE, LOADER_FILE, arrays, loader_check


def images(g: np.random.Generator, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(samples, H, W)`` float32 and one-hot labels ``(samples, C)``, drawn."""
    X = floats(g, samples, size(g, 2, 4), size(g, 2, 4))
    classes = size(g, 2, 5)
    return X, np.eye(classes, dtype=np.float32)[g.integers(0, classes, samples)]


def checks(g: np.random.Generator) -> list[Check]:
    found = []
    samples = size(g, 6, 12)
    X, y = images(g, samples)
    for name, index in (("image", int(g.integers(samples))),
                        ("negative-index", -int(g.integers(1, samples + 1)))):
        program = Program()
        dataset = program.call(f"{DATA}.ArrayDataset", X, y)
        item = program.call(dataset.attr("__getitem__"), index)
        found.append(check(f"stage5/ArrayDataset.__getitem__[{name}]",
                           f"{DATA}.dataset.ArrayDataset.__getitem__", DATASET_FILE, program,
                           [item]))
    program = Program()
    dataset = program.call(f"{DATA}.ArrayDataset", X, y)
    indices = g.integers(0, samples, size(g, 4, 7))
    indices[1] = indices[0]  # a repeat
    items = program.call(dataset.attr("__getitems__"), indices.astype(np.int64))
    found.append(check("stage5/ArrayDataset.__getitems__[repeated-array]",
                       f"{DATA}.dataset.ArrayDataset.__getitems__", DATASET_FILE, program,
                       [items]))

    found.append(loader_check("images-batch-1", X, y, batch_size=1))
    samples = size(g, 5, 11)
    X, y = arrays(g, samples, size(g, 2, 5))
    found.append(loader_check("larger-than-dataset", X, y, batch_size=samples + size(g, 1, 4)))
    found.append(loader_check("larger-than-dataset-drop-last", X, y,
                              batch_size=samples + size(g, 1, 4), drop_last=True))
    batch = size(g, 2, 4)
    X, y = arrays(g, batch * size(g, 2, 4), size(g, 2, 5))
    found.append(loader_check("divides-drop-last", X, y, batch_size=batch, drop_last=True))

    batch = size(g, 2, 4)
    X, y = arrays(g, batch * size(g, 2, 3) + size(g, 1, batch - 1), size(g, 2, 4))
    program = Program()
    dataset = program.call(f"{DATA}.ArrayDataset", X, y)
    generator = program.call("numpy.random.default_rng", seed(g))
    loader = program.call(f"{DATA}.DataLoader", dataset, batch_size=batch, shuffle=True,
                          generator=generator)
    first = program.call("builtins.list", loader, name="first_epoch")
    second = program.call("builtins.list", loader, name="second_epoch")
    found.append(check("stage5/DataLoader.__iter__[shuffled-generator-two-epochs]",
                       f"{DATA}.dataloader.DataLoader.__iter__", LOADER_FILE, program,
                       [first, second]))
    found.append(build_model_check(5, "train_spirals.py", 2, 8, g=g))
    return found
