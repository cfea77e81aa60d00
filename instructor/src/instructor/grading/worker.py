"""The grading worker: runs in the jail, evaluates the calls the trusted grader asks for.

This file is the only grading code that shares a process with student code. It imports nothing
from the instructor package (the jail does not hold it) and decides nothing: it runs
the steps of a request and sends back what they returned, as plain arrays. The trusted process
holds the reference results and the tolerances and computes every verdict.

Run as a script: ``python -I worker.py SITE EXAMPLES FD``. ``SITE`` goes first on ``sys.path``
(it holds the ``mini_torch`` under test), ``EXAMPLES`` is the folder of the example scripts, and
responses go to the file descriptor ``FD`` (standard output stays the student's: a ``print`` in
student code cannot corrupt a response). Requests come one JSON object per line on standard
input::

    {"id": 3, "limit": 5.0,
     "steps": [{"call": "mini_torch.nn.MSELoss", "kwargs": {"reduction": "sum"}, "as": "loss"},
               {"call": "$loss.forward", "args": [{"array": ...}, {"array": ...}], "as": "value"}],
     "outputs": ["value"]}

A step calls a dotted name (``mini_torch.functional.relu``), a function of an example script
(``examples/train_sine.py:train_step``) or a method of an earlier result (``$loss.backward``);
``"get"`` instead of ``"call"`` reads a value without calling it, ``"repeat": N`` calls N times
and keeps the list of results, ``"catch": true`` records the name of the exception a call raises
(or ``"no error"``) instead of failing. Arguments are JSON values, ``{"$": "name"}`` (an earlier
result) and ``{"array": ...}`` (see :func:`encode_array`).

Each response is one line ``{"id": 3, "ok": true, "outputs": {...}}`` or ``{"id": 3, "ok":
false, "error": {"type": ..., "message": ..., "frames": [[file, line, function, text], ...]}}``.
Arrays travel as base64 of ``ndarray.tobytes()`` with dtype and shape: never pickle.

A request that runs longer than its ``limit`` is interrupted (``SIGALRM``) and answered with a
``Timeout`` error whose frames show where the code was; the trusted side also kills the whole
worker if no answer comes shortly after.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import os
import signal
import sys
import time
import traceback

#: dtypes an array may have on the wire (anything else is refused when decoded).
WIRE_DTYPES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
})
#: The largest array accepted from the wire, in bytes.
MAX_ARRAY_BYTES = 64 * 2**20
#: Seconds added to the first request's limit (imports of the scripts and their libraries).
STARTUP_ALLOWANCE = 10.0


class CheckTimeout(Exception):
    """Raised inside the code under test when a request runs past its limit."""


def encode_array(value) -> dict:
    """``{"dtype", "shape", "data"}`` of an array (``data``: base64 of its bytes, C order)."""
    import numpy as np

    array = np.asarray(value)
    if not array.flags.c_contiguous:
        array = np.ascontiguousarray(array)  # (keeps 0-d arrays 0-d, unlike for every input)
    dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
    array = array.astype(dtype, copy=False)
    if dtype.name not in WIRE_DTYPES:
        raise TypeError(f"an array of dtype {dtype} cannot be sent (numbers and bools only)")
    return {"dtype": dtype.name, "shape": list(array.shape),
            "data": base64.b64encode(array.tobytes()).decode("ascii")}


def decode_array(data: dict):
    """The array ``data`` describes; refuses unknown dtypes, bad shapes and oversized data.

    Raises:
        ValueError: ``data`` is not a well-formed array description.
    """
    import numpy as np

    if not isinstance(data, dict) or set(data) != {"dtype", "shape", "data"}:
        raise ValueError("an array must be {dtype, shape, data}")
    dtype, shape, payload = data["dtype"], data["shape"], data["data"]
    if dtype not in WIRE_DTYPES:
        raise ValueError(f"dtype {dtype!r} is not accepted")
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape
    ):
        raise ValueError(f"bad shape {shape!r}")
    if not isinstance(payload, str) or len(payload) > MAX_ARRAY_BYTES * 4 // 3 + 8:
        raise ValueError("array data missing or too large")
    raw = base64.b64decode(payload.encode("ascii"), validate=True)
    kind = np.dtype(dtype).newbyteorder("<")
    count = 1
    for n in shape:
        count *= n
    if count * kind.itemsize != len(raw):
        raise ValueError(f"{len(raw)} bytes do not make an array of shape {shape} and {dtype}")
    return np.frombuffer(raw, dtype=kind).reshape(shape).copy()


def encode_value(value) -> dict:
    """A result as plain data: an array, a list of results, a string, or none."""
    import numpy as np

    if value is None:
        return {"kind": "none"}
    if isinstance(value, str):
        return {"kind": "str", "value": value}
    if isinstance(value, (list, tuple)) and not all(
        isinstance(v, (int, float, bool, np.number, np.bool_)) for v in value
    ):
        return {"kind": "list", "items": [encode_value(v) for v in value]}
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"returned a {type(value).__name__}, which is not an array of numbers")
    return {"kind": "array", **encode_array(array)}


class _Runner:
    def __init__(self, site: str, examples: str) -> None:
        self.site, self.examples = site, examples
        self.scripts: dict[str, object] = {}

    def example(self, name: str):
        """The module of the example script ``examples/NAME.py`` (its ``main`` is not run)."""
        if name not in self.scripts:
            path = os.path.join(self.examples, name)
            if not os.path.isfile(path):
                raise FileNotFoundError(f"examples/{name} is missing from the submission")
            module_name = "_graded_example_" + name.replace(".py", "").replace("/", "_")
            spec = importlib.util.spec_from_file_location(module_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
            self.scripts[name] = module
        return self.scripts[name]

    def resolve(self, target: str, names: dict):
        if target.startswith("$"):
            head, *rest = target[1:].split(".")
            value = names[head]
        elif target.startswith("examples/"):
            script, _, attribute = target.partition(":")
            value = self.example(script[len("examples/"):])
            rest = attribute.split(".") if attribute else []
        else:
            parts = target.split(".")
            value, rest = None, []
            for cut in range(len(parts), 0, -1):
                try:
                    value = importlib.import_module(".".join(parts[:cut]))
                except ModuleNotFoundError:
                    if cut == 1:
                        raise
                    continue
                rest = parts[cut:]
                break
        for attribute in rest:
            value = getattr(value, attribute)
        return value

    def argument(self, value, names: dict):
        if isinstance(value, dict):
            if set(value) == {"$"}:
                return names[value["$"]]
            if set(value) == {"array"}:
                return decode_array(value["array"])
            if set(value) == {"tuple"}:
                return tuple(self.argument(v, names) for v in value["tuple"])
            return {key: self.argument(v, names) for key, v in value.items()}
        if isinstance(value, list):
            return [self.argument(v, names) for v in value]
        return value

    def run(self, request: dict) -> dict:
        names: dict = {}
        for step in request["steps"]:
            target = step.get("call", step.get("get"))
            function = self.resolve(target, names)
            if "get" in step:
                result = function
            else:
                args = [self.argument(a, names) for a in step.get("args", [])]
                kwargs = {k: self.argument(v, names) for k, v in step.get("kwargs", {}).items()}
                if step.get("catch"):
                    try:
                        function(*args, **kwargs)
                        result = "no error"
                    except CheckTimeout:
                        raise
                    except Exception as error:  # the name of what was raised is the result
                        result = type(error).__name__
                elif "repeat" in step:
                    result = [function(*args, **kwargs) for _ in range(int(step["repeat"]))]
                else:
                    result = function(*args, **kwargs)
            if "as" in step:
                names[step["as"]] = result
        return {name: encode_value(names[name]) for name in request["outputs"]}


def _frames(error: BaseException) -> list[list]:
    here = os.path.abspath(__file__)
    frames = []
    for frame in traceback.extract_tb(error.__traceback__):
        if os.path.abspath(frame.filename) == here:
            continue
        frames.append([frame.filename, frame.lineno or 0, frame.name, (frame.line or "")[:200]])
    return frames[-12:]


def _on_alarm(signum, frame) -> None:
    raise CheckTimeout("the check ran past its time limit")


def _limit_processes() -> None:
    """The jail's process limit, set here before any student code runs (see the jail)."""
    import resource

    value = os.environ.get("MINI_TORCH_WORKER_PROCESSES", "")
    if value.isdigit():
        resource.setrlimit(resource.RLIMIT_NPROC, (int(value), int(value)))


def main(argv: list[str]) -> int:
    site, examples, fd = argv[0], argv[1], int(argv[2])
    _limit_processes()
    sys.path.insert(0, site)
    sys.path.append(examples)  # a script may import its sibling (from train_spirals import ...)
    out = os.fdopen(fd, "w", encoding="utf-8", closefd=True)
    signal.signal(signal.SIGALRM, _on_alarm)
    runner = _Runner(site, examples)
    try:  # warm up (numpy, the package): a failure here is reported by the first request's import
        import numpy  # noqa: F401

        importlib.import_module("mini_torch")
    except BaseException:
        sys.modules.pop("mini_torch", None)
    first = True
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        start = time.perf_counter()
        # The first request also loads the example scripts and what they import.
        allowance = STARTUP_ALLOWANCE if first else 0.0
        first = False
        signal.setitimer(signal.ITIMER_REAL, float(request.get("limit", 10.0)) + allowance)
        try:
            response = {"id": request["id"], "ok": True, "outputs": runner.run(request)}
        except BaseException as error:  # everything the code under test raises is reported
            kind = "Timeout" if isinstance(error, CheckTimeout) else type(error).__name__
            response = {"id": request["id"], "ok": False, "error": {
                "type": kind, "message": str(error)[:2000], "frames": _frames(error)}}
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                response["error"]["message"] = f"{kind} raised by the code under test"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        response["seconds"] = time.perf_counter() - start
        try:
            out.write(json.dumps(response) + "\n")
        except (TypeError, ValueError) as error:
            out.write(json.dumps({"id": request["id"], "ok": False, "error": {
                "type": "TypeError", "message": f"result cannot be sent: {error}",
                "frames": []}}) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
