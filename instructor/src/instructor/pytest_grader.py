"""The pytest plugin the grader loads into each test run (``-p instructor.pytest_grader``).

It writes one JSON object per line to ``--grader-log FILE`` as the run goes, flushing each line,
so that the results of the tests that finished survive even when the run is killed (a submission
that hangs inside C code, or uses up its time budget)::

    {"event": "collected", "nodeids": [...]}
    {"event": "collect_error", "nodeid": "shared_tests/stage3/test_x.py", "message": "...", ...}
    {"event": "start", "nodeid": "..."}
    {"event": "result", "nodeid": "...", "outcome": "failed", "message": "...", "where": "...",
     "details": "...", "duration": 0.01}

``outcome`` is ``passed``, ``failed`` (the test body failed), ``error`` (a fixture or the teardown
failed) or ``skipped``. ``--grader-select PATTERN`` (repeatable) keeps only the tests whose node id
matches one of the fnmatch patterns, to grade a subset of the suite.
"""

from __future__ import annotations

import fnmatch
import json
from typing import IO

import pytest

# How much of a failure the log keeps: enough to act on, short enough to read.
MAX_MESSAGE_CHARS = 2000
MAX_DETAILS_CHARS = 6000


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "Mini-Torch grader")
    group.addoption("--grader-log", metavar="FILE", help="write the results as JSON lines here")
    group.addoption(
        "--grader-select", action="append", default=[], metavar="PATTERN",
        help="run only the tests whose node id matches this fnmatch pattern (repeatable)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(GraderLog(config), "mini-torch-grader-log")


def _crash(report: pytest.CollectReport | pytest.TestReport) -> tuple[str, str]:
    """(the error message, ``path:line`` where it was raised) of a failed or skipped report."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        return str(longrepr[2])[:MAX_MESSAGE_CHARS], f"{longrepr[0]}:{longrepr[1]}"
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message[:MAX_MESSAGE_CHARS], f"{crash.path}:{crash.lineno}"
    lines = [line for line in str(longrepr or "").splitlines() if line.strip()]
    return (lines[-1] if lines else "")[:MAX_MESSAGE_CHARS], ""


class GraderLog:
    """Selects the tests to run and streams every result to the log file."""

    def __init__(self, config: pytest.Config) -> None:
        self.patterns: list[str] = config.getoption("--grader-select") or []
        path = config.getoption("--grader-log")
        self.file: IO[str] | None = open(path, "a", encoding="utf-8") if path else None
        # The phases (setup, call, teardown) seen so far of the test that is running.
        self.phases: dict[str, pytest.TestReport] = {}

    def write(self, record: dict) -> None:
        if self.file is not None:
            self.file.write(json.dumps(record) + "\n")
            self.file.flush()

    def pytest_unconfigure(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list) -> None:
        if not self.patterns:
            return
        kept, dropped = [], []
        for item in items:
            selected = any(fnmatch.fnmatchcase(item.nodeid, p) for p in self.patterns)
            (kept if selected else dropped).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            message, where = _crash(report)
            self.write({"event": "collect_error", "nodeid": report.nodeid,
                        "message": message, "where": where})

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.write({"event": "collected", "nodeids": [item.nodeid for item in session.items]})

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.phases = {}
        self.write({"event": "start", "nodeid": nodeid})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.phases[report.when] = report
        if report.when == "teardown":
            self.write(self._result(report.nodeid))

    def _result(self, nodeid: str) -> dict:
        """Fold the setup, call and teardown reports of one test into one outcome."""
        setup, call, teardown = (self.phases.get(w) for w in ("setup", "call", "teardown"))
        culprit, outcome = None, "passed"
        if setup is not None and setup.failed:
            culprit, outcome = setup, "error"
        elif setup is not None and setup.skipped:
            culprit, outcome = setup, "skipped"
        elif call is not None and call.failed:
            culprit, outcome = call, "failed"
        elif call is not None and call.skipped:
            # An expected failure that failed (xfail) counts as not passed: nothing is excused.
            culprit, outcome = call, "skipped"
        elif teardown is not None and teardown.failed:
            culprit, outcome = teardown, "error"
        message, where, details = "", "", ""
        if culprit is not None:
            message, where = _crash(culprit)
            details = culprit.longreprtext[-MAX_DETAILS_CHARS:]
        duration = sum(r.duration for r in (setup, call, teardown) if r is not None)
        return {"event": "result", "nodeid": nodeid, "outcome": outcome, "message": message,
                "where": where, "details": details, "duration": round(duration, 3)}
