"""Points per test, from a weights file.

A weights file is a JSON object mapping fnmatch patterns of test node ids to points::

    {
      "hidden_tests/*": 2,
      "*test_cross_entropy_loss.py::*label_smoothing*": 1.5,
      "shared_tests/stage3/*": 1,
      "shared_tests/stage1/test_rules.py::*": 0
    }

The patterns are tried in the file's order and the first that matches a test gives its points;
a test no pattern matches is worth :data:`DEFAULT_POINTS`. ``*`` matches across ``/`` and ``::``.
A node id reads ``shared_tests/stage3/test_mse_loss.py::test_name[param]``.
"""

from __future__ import annotations

import fnmatch
import json
import math
from pathlib import Path

from instructor.repo import InstructorError

DEFAULT_POINTS = 1.0


class Weights:
    """The ordered (pattern, points) rules of a weights file."""

    def __init__(self, rules: list[tuple[str, float]] | None = None) -> None:
        self.rules = list(rules or [])

    def points(self, nodeid: str) -> float:
        """The points ``nodeid`` is worth: the first matching rule's, else the default."""
        for pattern, points in self.rules:
            if fnmatch.fnmatchcase(nodeid, pattern):
                return points
        return DEFAULT_POINTS

    def unused(self, nodeids: list[str]) -> list[str]:
        """The patterns that match none of ``nodeids`` (most likely a typo)."""
        return [p for p, _ in self.rules if not any(fnmatch.fnmatchcase(n, p) for n in nodeids)]


def load_weights(path: Path | None) -> Weights:
    """Read a weights file; ``None`` gives 1 point per test.

    Raises:
        InstructorError: the file is missing, not JSON, or not an object of numbers >= 0.
    """
    if path is None:
        return Weights()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InstructorError(f"--weights {path}: cannot read it as JSON ({error})") from error
    if not isinstance(data, dict):
        raise InstructorError(
            f'--weights {path}: expected a JSON object {{"pattern": points, ...}}, '
            f"got {type(data).__name__}"
        )
    rules = []
    for pattern, points in data.items():
        valid = isinstance(points, (int, float)) and not isinstance(points, bool)
        if not valid or not math.isfinite(points) or points < 0:
            raise InstructorError(
                f"--weights {path}: {pattern!r} is worth {points!r}; points must be numbers >= 0"
            )
        rules.append((pattern, float(points)))
    return Weights(rules)
