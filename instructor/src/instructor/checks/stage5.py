"""Checks of stage 5: ArrayDataset indexing and the DataLoader's batches."""

from __future__ import annotations

import numpy as np

from instructor.checks import Check, Program, check, floats, rng
from instructor.checks.examples import build_model_check

DATA = "mini_torch.utils.data"


def checks() -> list[Check]:
    g = rng(5)
    X, y = floats(g, 10, 3), np.arange(10, dtype=np.int64) % 3
    dataset_file = "src/mini_torch/utils/data/dataset.py"
    found = []
    one = Program()
    dataset = one.call(f"{DATA}.ArrayDataset", X, y)
    item = one.call(dataset.attr("__getitem__"), 4)
    found.append(check("stage5/ArrayDataset.__getitem__[one]",
                       f"{DATA}.dataset.ArrayDataset.__getitem__", dataset_file, one, [item]))
    many = Program()
    dataset = many.call(f"{DATA}.ArrayDataset", X, y)
    items = many.call(dataset.attr("__getitems__"), [7, 1, 3])
    found.append(check("stage5/ArrayDataset.__getitems__[three]",
                       f"{DATA}.dataset.ArrayDataset.__getitems__", dataset_file, many, [items]))
    for name, kwargs in (("in-order", {"batch_size": 4}),
                         ("drop-last", {"batch_size": 4, "drop_last": True})):
        program = Program()
        dataset = program.call(f"{DATA}.ArrayDataset", X, y)
        loader = program.call(f"{DATA}.DataLoader", dataset, **kwargs)
        batches = program.call("builtins.list", loader)
        found.append(check(f"stage5/DataLoader.__iter__[{name}]",
                           f"{DATA}.dataloader.DataLoader.__iter__",
                           "src/mini_torch/utils/data/dataloader.py", program, [batches]))
    found.append(build_model_check(5, "train_mnist.py", 784))
    found.append(build_model_check(5, "train_spirals.py", 2, 16))
    return found
