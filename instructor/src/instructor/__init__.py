"""Instructor tools for the Mini-Torch course monorepo.

Run them as ``mini-torch-instructor <command>`` or ``python -m instructor <command>``:

- ``check``: every file a stage carries forward is byte-identical in the next stage, and every
  public name keeps its signature (:mod:`instructor.consistency`).
- ``carry``: copy a file (or every file) of a stage into the later stages (:mod:`instructor.carry`).
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
