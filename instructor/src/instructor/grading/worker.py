"""The grading worker: runs in the jail, evaluates the calls the trusted grader asks for.

This file is the only grading code that shares a process with student code. It imports nothing
from the instructor package (the jail does not hold it; each jail runs a copy of its own) and
decides nothing: it runs the steps of a request and sends back what they returned, as plain
arrays. The trusted process holds the reference results and the tolerances and computes every
verdict.

Run as a script: ``python -I -B worker.py FD``. Responses go to the file descriptor ``FD``
(standard output stays the student's: a ``print`` in student code cannot corrupt a response);
requests come one JSON object per line on standard input. Nothing about the submission is on
the command line: the first message says where its package is::

    {"setup": {"site": "/jail/site", "examples": "/jail/examples", "processes": 64,
               "preload": ["numpy", "scipy.special", "matplotlib.pyplot"],
               "absent": ["jax", "pip", "pytest", "torch"]}}

The worker then shuts itself in further (:func:`install_filter`: no System V IPC, no POSIX
message queues, no file locks, so that two jails share nothing they could signal each other
through), imports the libraries of ``preload`` (the grader's cost, paid before any clock
starts), makes every import of an ``absent`` module fail (an audit hook: what a bubblewrap jail
does not hold stays out of a uid jail too) and answers
``{"ready": true, "filter": "...", "cpu": seconds}``. Then::

    {"id": 1, "limit": 10.0, "load": "mini_torch"}
    {"id": 2, "limit": 10.0,
     "steps": [{"call": "mini_torch.nn.MSELoss", "kwargs": {"reduction": "sum"}, "as": "loss"},
               {"call": "$loss.forward", "args": [{"array": ...}, {"array": ...}], "as": "value"}],
     "outputs": ["value"]}

``load`` imports the package under test (student code: it has the request's limit). A step calls
a dotted name (``mini_torch.functional.relu``), a function of an example script
(``examples/train_sine.py:train_step``) or a method of an earlier result (``$loss.backward``);
``"get"`` instead of ``"call"`` reads a value without calling it, ``"repeat": N`` calls N times
and keeps the list of results, ``"catch": true`` records the name of the exception a call raises
(or ``"no error"``) instead of failing. An output is sent as it was when its step ran (a
module's gradient arrays read before ``zero_grad`` are not the arrays after it). Arguments are
JSON values, ``{"$": "name"}`` (an earlier result) and ``{"array": ...}`` (see
:func:`encode_array`).

Each response is one line ``{"id": 2, "ok": true, "outputs": {...}, "cpu": s}`` or ``{"id": 2,
"ok": false, "error": {"type": ..., "message": ..., "frames": [[file, line, function, text],
...]}, "cpu": s}``. Arrays travel as base64 of ``ndarray.tobytes()`` with dtype and shape: never
pickle. A response over :data:`MAX_RESPONSE_BYTES` is replaced by an error saying so.

``limit`` is CPU seconds of this process, not wall-clock time: a busy machine does not make a
check time out. Past it, ``SIGPROF`` interrupts the code under test where it runs and the answer
is a ``Timeout`` error whose frames show where. Code that swallows that interruption (``except
BaseException: pass`` around a loop) is ended :data:`HARD_GRACE` CPU seconds later by a watchdog
thread, which answers ``Timeout`` with the frames of the loop and ends the process (the trusted
side then starts a fresh worker). The trusted side measures the CPU time of the whole jail too,
and kills it with a signal nothing can catch if neither answer comes.
"""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import os
import signal
import sys
import threading
import time

#: dtypes an array may have on the wire (anything else is refused when decoded).
WIRE_DTYPES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
})
#: The largest array accepted from the wire, in bytes.
MAX_ARRAY_BYTES = 8 * 2**20
#: The largest response line, in bytes (the largest real answer of any check is well under a
#: megabyte: the trusted side reads no more than this either).
MAX_RESPONSE_BYTES = 16 * 2**20
#: CPU seconds past a request's limit before the watchdog ends a loop that swallowed SIGPROF.
HARD_GRACE = 1.0
#: Frames and characters of an error that are sent back.
MAX_FRAMES, MAX_MESSAGE = 12, 2000

#: Exit status of a worker the watchdog ended (after it answered ``Timeout``).
WATCHDOG_EXIT = 70


class CheckTimeout(Exception):
    """Raised inside the code under test when a request runs past its CPU limit."""


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
    if array.nbytes > MAX_ARRAY_BYTES:
        raise ValueError(f"an array of {array.nbytes} bytes (shape {array.shape}) is over the "
                         f"limit of {MAX_ARRAY_BYTES} bytes")
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
    if not isinstance(dtype, str) or dtype not in WIRE_DTYPES:
        raise ValueError(f"dtype {str(dtype)[:40]!r} is not accepted")
    if not isinstance(shape, list) or len(shape) > 32 or not all(
        isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_ARRAY_BYTES
        for n in shape
    ):
        raise ValueError(f"bad shape {str(shape)[:80]}")
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


def encode_value(value, depth: int = 0) -> dict:
    """A result as plain data: an array, a list of results, a string, or none."""
    import numpy as np

    if depth > 8:
        raise TypeError("a result nested more than 8 lists deep cannot be sent")
    if value is None:
        return {"kind": "none"}
    if isinstance(value, str):
        return {"kind": "str", "value": value[:MAX_MESSAGE]}
    if isinstance(value, (list, tuple)) and not all(
        isinstance(v, (int, float, bool, np.number, np.bool_)) for v in value
    ):
        return {"kind": "list", "items": [encode_value(v, depth + 1) for v in value]}
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(f"returned a {type(value).__name__}, which is not an array of numbers")
    return {"kind": "array", **encode_array(array)}


# --- the filter: what no jail may do ---------------------------------------------------------

#: Per architecture: (AUDIT_ARCH_*, the numbers of the system calls refused, fcntl's number).
#: Refused: System V shared memory, semaphores and message queues, POSIX message queues and
#: flock (objects and locks that outlive a process or reach another jail); fcntl refuses its
#: record locks (F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW) and allows the rest.
_SYSCALLS = {
    "x86_64": (0xC000003E, (29, 30, 31, 67, 64, 65, 66, 220, 68, 69, 70, 71, 73,
                            240, 241, 242, 243, 244, 245), 72),
    "aarch64": (0xC00000B7, (194, 195, 196, 197, 190, 191, 192, 193, 186, 187, 188, 189, 32,
                             180, 181, 182, 183, 184, 185), 25),
}
_LOCK_COMMANDS = (6, 7, 37, 38)


def filter_program(machine: str) -> bytes:
    """The seccomp BPF program of :data:`_SYSCALLS` for ``machine`` (``os.uname().machine``).

    Raises:
        KeyError: no system call table for ``machine``.
    """
    import struct

    arch, refused, fcntl = _SYSCALLS[machine]
    load, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    allow, kill, deny = 0x7FFF0000, 0x80000000, 0x00050000 | 1  # errno 1: EPERM

    def op(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("=HBBI", code, jt, jf, k)

    program = [op(load, 4), op(jeq, arch, 1, 0), op(ret, kill), op(load, 0)]
    if machine == "x86_64":  # the x32 numbers: none of them
        program += [op(jge, 0x40000000, 0, 1), op(ret, deny)]
    for number in refused:
        program += [op(jeq, number, 0, 1), op(ret, deny)]
    program.append(op(jeq, fcntl, 0, 1 + 2 * len(_LOCK_COMMANDS)))
    program.append(op(load, 24))  # args[1], its low 32 bits
    for command in _LOCK_COMMANDS:
        program += [op(jeq, command, 0, 1), op(ret, deny)]
    program.append(op(ret, allow))
    return b"".join(program)


def install_filter() -> str:
    """Install the filter for this process and all it starts; say whether it is in place."""
    import ctypes

    machine = os.uname().machine if hasattr(os, "uname") else ""
    if not sys.platform.startswith("linux") or machine not in _SYSCALLS:
        return f"not installed: no system call table for {sys.platform} {machine}"
    program = filter_program(machine)

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return f"not installed: no_new_privs refused (errno {ctypes.get_errno()})"
    fprog = Program(len(program) // 8, program)
    if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, MODE_FILTER
        return f"not installed: seccomp refused (errno {ctypes.get_errno()})"
    return "installed"


# --- running requests ------------------------------------------------------------------------


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
        if "load" in request:
            importlib.import_module(str(request["load"]))
            return {}
        names: dict = {}
        wanted = set(request["outputs"])
        sent: dict = {}  # an output is encoded when its step runs: what it was then
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
                if step["as"] in wanted:
                    sent[step["as"]] = encode_value(result)
        return {name: sent[name] if name in sent else encode_value(names[name])
                for name in request["outputs"]}


def _frames(tb=None, frame=None) -> list[list]:
    """``[file, line, function, code]`` of a traceback (``tb``) or of a running stack (from
    ``frame`` outwards), innermost last; the function by its qualified name where Python has
    one (``BCEWithLogitsLoss.forward``, not ``forward``)."""
    import linecache

    entries = []
    while tb is not None:
        entries.append((tb.tb_frame.f_code, tb.tb_lineno))
        tb = tb.tb_next
    stack = []
    while frame is not None:
        stack.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    entries += reversed(stack)
    here = os.path.abspath(__file__)
    frames = []
    for code, line in entries:
        if os.path.abspath(code.co_filename) == here:
            continue
        name = getattr(code, "co_qualname", code.co_name)
        text = linecache.getline(code.co_filename, line or 0).strip()
        frames.append([code.co_filename, line or 0, name, text[:200]])
    return frames[-MAX_FRAMES:]


def _on_alarm(signum, frame) -> None:
    raise CheckTimeout("the check ran past its CPU time limit")


class _Channel:
    """The response pipe, written by one thread at a time."""

    def __init__(self, fd: int) -> None:
        self.out = os.fdopen(fd, "w", encoding="utf-8", closefd=True)
        self.lock = threading.Lock()

    def send(self, message: dict) -> None:
        with self.lock:
            self.send_locked(message)

    def send_locked(self, message: dict) -> None:
        """Send ``message``; the caller holds :attr:`lock`."""
        try:
            line = json.dumps(message)
        except (TypeError, ValueError, RecursionError) as error:
            line = json.dumps({"id": message.get("id"), "ok": False, "error": {
                "type": "TypeError", "message": f"the result cannot be sent: {error}",
                "frames": []}, "cpu": message.get("cpu", 0.0)})
        if len(line) > MAX_RESPONSE_BYTES:
            line = json.dumps({"id": message.get("id"), "ok": False, "error": {
                "type": "ValueError", "message": f"the results are {len(line)} bytes, over the "
                f"limit of {MAX_RESPONSE_BYTES} bytes", "frames": []},
                "cpu": message.get("cpu", 0.0)})
        self.out.write(line + "\n")
        self.out.flush()


class _Watchdog(threading.Thread):
    """Ends a request that runs :data:`HARD_GRACE` CPU seconds past its limit, answering
    ``Timeout`` with the frames of the main thread where it loops."""

    def __init__(self, channel: _Channel) -> None:
        super().__init__(daemon=True)
        self.channel = channel
        self.main = threading.main_thread().ident
        self.request: tuple[object, float, float] | None = None  # (id, start, deadline)

    def arm(self, request_id, start: float, limit: float) -> None:
        self.request = (request_id, start, start + limit + HARD_GRACE)

    def disarm(self) -> None:
        self.request = None

    def run(self) -> None:
        while True:
            time.sleep(0.05)
            armed = self.request
            if armed is None or time.process_time() < armed[2]:
                continue
            with self.channel.lock:
                if self.request is not armed:  # the request ended meanwhile
                    continue
                frame = sys._current_frames().get(self.main)
                frames = _frames(frame=frame) if frame is not None else []
                self.channel.send_locked({
                    "id": armed[0], "ok": False, "cpu": time.process_time() - armed[1],
                    "error": {"type": "Timeout", "frames": frames, "hard": True,
                              "message": "the check ran past its CPU time limit and "
                              "swallowed the interruption"}})
                os._exit(WATCHDOG_EXIT)


def _refuse_imports_of(absent: frozenset[str]):
    """An audit hook (it cannot be removed) that makes an import of ``absent`` top-level
    modules fail as if they were not installed: what a bubblewrap jail hides is absent from
    a uid jail too, however the import is spelled."""

    def hook(event: str, args: tuple) -> None:
        if event == "import" and args and str(args[0]).split(".")[0] in absent:
            raise ModuleNotFoundError(f"No module named {str(args[0])!r} (the grading jail "
                                      "holds numpy, scipy, numexpr and matplotlib only)",
                                      name=str(args[0]))

    return hook


def _setup(message: dict) -> tuple[_Runner, dict]:
    """Shut the process in, import the libraries, and say so."""
    start = time.process_time()
    setup = message.get("setup") or {}
    processes = setup.get("processes")
    if isinstance(processes, int):
        import resource

        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    shut = install_filter() if setup.get("filter", True) else "not asked for"
    site, examples = str(setup.get("site", "")), str(setup.get("examples", ""))
    sys.path.insert(0, site)
    sys.path.append(examples)  # a script may import its sibling (from train_spirals import ...)
    missing = []
    for name in setup.get("preload", []):
        try:
            importlib.import_module(str(name))
        except ImportError:
            missing.append(str(name))
    absent = frozenset(str(name) for name in setup.get("absent", []))
    if absent:
        sys.addaudithook(_refuse_imports_of(absent))
    return _Runner(site, examples), {"ready": True, "filter": shut, "missing": missing,
                                      "cpu": time.process_time() - start}


def main(argv: list[str]) -> int:
    channel = _Channel(int(argv[0]))
    signal.signal(signal.SIGPROF, _on_alarm)
    first = sys.stdin.readline()
    runner, ready = _setup(json.loads(first) if first.strip() else {})
    watchdog = _Watchdog(channel)
    watchdog.start()
    channel.send(ready)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        start = time.process_time()
        limit = float(request.get("limit", 10.0))
        watchdog.arm(request.get("id"), start, limit)
        signal.setitimer(signal.ITIMER_PROF, limit)
        try:
            response = {"id": request["id"], "ok": True, "outputs": runner.run(request)}
        except BaseException as error:  # everything the code under test raises is reported
            kind = "Timeout" if isinstance(error, CheckTimeout) else type(error).__name__
            response = {"id": request["id"], "ok": False, "error": {
                "type": kind, "message": str(error)[:MAX_MESSAGE],
                "frames": _frames(error.__traceback__)}}
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                response["error"]["message"] = f"{kind} raised by the code under test"
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            watchdog.disarm()
        response["cpu"] = time.process_time() - start
        channel.send(response)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
