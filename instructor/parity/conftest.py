"""Parity of stage 6's layers with PyTorch: shared set-up and the table of measured errors.

Run with ``nox -s parity``: it installs stage 6 and PyTorch (the noxfile's ``TORCH`` pin) into
one virtualenv. Every comparison is made in float64, forward and backward (input and parameter
gradients), and its largest absolute error is recorded; the run ends with a table of them.
"""

from __future__ import annotations

import numpy as np
import pytest

import mini_torch

#: (comparison, quantity) -> largest absolute difference, filled in by the ``record`` fixture.
MEASURED: dict[tuple[str, str], float] = {}


def _record(comparison: str, quantity: str, ours, theirs) -> float:
    """Store and return ``max |ours - theirs|``; both are converted to float64 numpy arrays."""
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape, f"{comparison} {quantity}: {ours.shape} vs {theirs.shape}"
    error = float(np.max(np.abs(ours - theirs))) if ours.size else 0.0
    MEASURED[(comparison, quantity)] = error
    return error


@pytest.fixture
def record():
    """``record(comparison, quantity, ours, theirs)``: store and return the max abs error."""
    return _record


@pytest.fixture(autouse=True)
def _float64_and_seeded():
    """Parameters in float64 and a fixed seed in both frameworks, for every comparison."""
    import torch

    mini_torch.manual_seed(0)
    torch.manual_seed(0)
    with mini_torch.default_dtype(np.float64):
        yield


def pytest_report_header(config) -> list[str]:
    import torch

    return [f"parity: mini_torch {mini_torch.__version__} (stage {mini_torch.STAGE}) "
            f"from {mini_torch.__file__}; torch {torch.__version__}"]


def pytest_terminal_summary(terminalreporter) -> None:
    if not MEASURED:
        return
    terminalreporter.section("max abs error against PyTorch (float64)")
    width = max(len(name) for name, _ in MEASURED) + 2
    for (comparison, quantity), error in MEASURED.items():
        terminalreporter.write_line(f"{comparison:<{width}} {quantity:<22} {error:.3e}")
