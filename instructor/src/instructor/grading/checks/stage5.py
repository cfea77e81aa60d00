"""Checks of stage 5: ArrayDataset indexing and the DataLoader's batches.

The dataset's size and width, the indices asked for and the batch size are drawn from the grading
run's generator; the dataset's size is never a multiple of the batch size, so ``drop_last``
changes the batches.
"""

from __future__ import annotations

import numpy as np

from instructor.grading.checks import Check, Program, check, floats, size
from instructor.grading.checks.examples import build_model_check

DATA = "mini_torch.utils.data"
DATASET_FILE = "src/mini_torch/utils/data/dataset.py"
LOADER_FILE = "src/mini_torch/utils/data/dataloader.py"


def arrays(g: np.random.Generator, samples: int, features: int) -> tuple[np.ndarray, np.ndarray]:
    """X ``(samples, features)`` float32 and labels ``(samples,)`` in 0 .. 2, drawn."""
    return floats(g, samples, features), g.integers(0, 3, samples).astype(np.int64)


def loader_check(name: str, X: np.ndarray, y: np.ndarray, **kwargs) -> Check:
    """``list(DataLoader(ArrayDataset(X, y), **kwargs))``: every batch of one epoch."""
    program = Program()
    dataset = program.call(f"{DATA}.ArrayDataset", X, y)
    loader = program.call(f"{DATA}.DataLoader", dataset, **kwargs)
    batches = program.call("builtins.list", loader)
    return check(f"stage5/DataLoader.__iter__[{name}]", f"{DATA}.dataloader.DataLoader.__iter__",
                 LOADER_FILE, program, [batches])


def checks(g: np.random.Generator) -> list[Check]:
    batch = size(g, 3, 5)
    samples = batch * size(g, 2, 3) + size(g, 1, batch - 1)
    X, y = arrays(g, samples, size(g, 2, 4))
    found = []
    one = Program()
    dataset = one.call(f"{DATA}.ArrayDataset", X, y)
    item = one.call(dataset.attr("__getitem__"), int(g.integers(samples)))
    found.append(check("stage5/ArrayDataset.__getitem__[one]",
                       f"{DATA}.dataset.ArrayDataset.__getitem__", DATASET_FILE, one, [item]))
    many = Program()
    dataset = many.call(f"{DATA}.ArrayDataset", X, y)
    items = many.call(dataset.attr("__getitems__"), [int(i) for i in g.permutation(samples)[:3]])
    found.append(check("stage5/ArrayDataset.__getitems__[three]",
                       f"{DATA}.dataset.ArrayDataset.__getitems__", DATASET_FILE, many, [items]))
    found.append(loader_check("in-order", X, y, batch_size=batch))
    found.append(loader_check("drop-last", X, y, batch_size=batch, drop_last=True))
    found.append(build_model_check(5, "train_mnist.py", 784, g=g))
    found.append(build_model_check(5, "train_spirals.py", 2, 16, g=g))
    return found
