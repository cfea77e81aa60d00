"""Given code against solution code: how much of what a student reads is the lesson.

    python instructor/benchmarks/count_lines.py [STAGE_DIR] [--json PATH]

For every function and method of the package (``STAGE_DIR/src/mini_torch``, by default the last
stage), each physical line of its body is counted once: as *solution* when it sits between a
``# BEGIN SOLUTION`` / ``# END SOLUTION`` pair, as *given* otherwise. Only code lines count:
blank lines, comment lines, the marker lines themselves and docstrings are left out, and so is
the ``def`` line (with its decorators). A nested function is counted as part of the function
that holds it. The report groups the files as the course does (``functional.py``, ``nn/``,
``optim/``, ``utils/data/``).
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
GROUPS = ("functional.py", "nn/", "optim/", "utils/data/")


def _code_lines(source: str) -> set[int]:
    """Lines holding at least one token of code (not only a comment, not blank)."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    lines: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def _docstring_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def _solution_lines(source: str) -> set[int]:
    lines: set[int] = set()
    inside = False
    for number, text in enumerate(source.splitlines(), start=1):
        stripped = text.strip()
        if stripped == BEGIN:
            inside = True
        elif stripped == END:
            inside = False
        elif inside:
            lines.add(number)
    return lines


def count_file(path: Path) -> dict[str, int]:
    """``{"given": ..., "solution": ...}`` code lines in the bodies of ``path``'s functions."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    code = _code_lines(source) - _docstring_lines(tree)
    solution = _solution_lines(source)
    body_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body_lines.update(range(node.body[0].lineno, node.end_lineno + 1))
    counted = body_lines & code
    return {"given": len(counted - solution), "solution": len(counted & solution)}


def count_package(package: Path) -> dict[str, dict[str, int]]:
    """Per group of :data:`GROUPS` (and per file), the given and solution line counts."""
    report: dict[str, dict[str, int]] = {}
    for group in GROUPS:
        single = group.endswith(".py")
        files = [package / group] if single else sorted((package / group).rglob("*.py"))
        total = {"given": 0, "solution": 0}
        for path in files:
            if not path.is_file():
                continue
            counts = count_file(path)
            report[str(path.relative_to(package))] = counts
            total = {key: total[key] + counts[key] for key in total}
        report[group if single else f"{group} (total)"] = total
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    stages = sorted((ROOT / "stages").glob("stage[0-9]*"), key=lambda p: int(p.name[5:]))
    parser.add_argument("stage", nargs="?", type=Path, default=stages[-1])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = count_package(args.stage / "src" / "mini_torch")
    print(f"code lines in function bodies, {args.stage}")
    print(f"  {'file':<34} {'given':>6} {'solution':>9} {'given/solution':>15}")
    for name, counts in report.items():
        ratio = counts["given"] / counts["solution"] if counts["solution"] else float("inf")
        print(f"  {name:<34} {counts['given']:>6} {counts['solution']:>9} {ratio:>15.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
