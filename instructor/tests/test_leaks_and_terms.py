"""What a student receives leaks nothing, and a term opens its stages on schedule.

- every real release passes the leak check (no finding, no broken relative link) and holds its
  own docs index, the guides of stages 1..K and the task order;
- a planted leak of each kind (a solved copy, a printed solution, a branch outside the markers)
  makes ``release`` and ``open-stage`` refuse, naming the function and the file;
- a release refers only to what it holds: the sessions of its own noxfile, the images it ships,
  no maintainer's words (an issue number, a path under ``instructor/``, the solution markers)
  unless they sit in a maintainers passage, which the release leaves out;
- stage 1's release: the element-wise stubs raise the stub error at every input size;
- the stage-1 release's tests fail first on the guide's first task and name its section;
- a whole term in a temporary folder: bake, stage 1 open, a student solves it (the reference,
  with a comment of their own), stage 2 opens as a commit the student pulls, the student carries
  stage 1 forward, and stage 2's tests fail only on stage 2's stubs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from instructor.release.leakcheck import (
    LeakError,
    check_artifact,
    markdown_links,
    noxfile_sessions,
    reference_solutions,
)
from instructor.release.release import write_release
from instructor.release.solutions import strip_markers
from instructor.stages.repo import InstructorError, stage_numbers
from instructor.term.repository import TermConfig, open_stage, publish_key, write_term_repository

REAL_REPO = Path(__file__).resolve().parents[2]
STAGES = stage_numbers(REAL_REPO)
HAS_GIT = shutil.which("git") is not None


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[int, Path]:
    base = tmp_path_factory.mktemp("leak-releases")
    return {stage: write_release(REAL_REPO, stage, base / f"stage{stage}").out for stage in STAGES}


# ------------------------------------------------------------------------ the real releases


@pytest.mark.parametrize("stage", STAGES)
def test_every_release_passes_the_leak_check_with_no_broken_link(releases, stage):
    report = check_artifact(releases[stage], REAL_REPO)
    assert report.stubs, "the release protects no stub"
    assert [f.describe() for f in report.findings] == []


@pytest.mark.parametrize("stage", STAGES)
def test_release_docs_fit_the_release(releases, stage):
    out = releases[stage]
    guides = {f"stage{k}.md" for k in STAGES if k <= stage
              and (REAL_REPO / "docs" / f"stage{k}.md").is_file()}
    assert {p.name for p in (out / "docs").iterdir() if p.is_file()} == {"index.md", *guides}
    shown = {target for guide in (out / "docs").glob("*.md")
             for _, target in markdown_links(guide.read_text(encoding="utf-8"))
             if target.startswith("images/")}
    images = {p.relative_to(out / "docs").as_posix() for p in (out / "docs").rglob("*")
              if p.is_file() and p.parent != out / "docs"}
    assert images == shown, "the release ships exactly the images its guides show"
    pages = [*(out / "docs").glob("stage*.md"), out / "stages" / f"stage{stage}" / "README.md"]
    for page in pages:
        relative = page.relative_to(out)
        source = (REAL_REPO / relative).read_text(encoding="utf-8").splitlines()
        released = page.read_text(encoding="utf-8").splitlines()
        assert "maintainers -->" not in "\n".join(released), relative
        # the maintainers' passages keep their line breaks: every line keeps its number, and no
        # paragraph is split by a blank line where the source had text
        assert len(released) == len(source), relative
        split = [number for number in range(1, len(released) - 1)
                 if not released[number].strip() and source[number].strip()
                 and released[number - 1].strip() and released[number + 1].strip()]
        assert split == [], f"{relative}: a paragraph split at line(s) {split}"
    index = (out / "docs" / "index.md").read_text(encoding="utf-8")
    for later in (k for k in STAGES if k > stage):
        assert f"stage{later}.md" not in index
    assert "instructor.md" not in index and "python -m instructor" not in index
    assert not any(part in {"instructor", "templates", "hidden_tests"}
                   for path in out.rglob("*") for part in path.relative_to(out).parts)


@pytest.mark.parametrize("stage", STAGES)
def test_every_stub_names_its_guide_and_is_in_the_task_order(releases, stage):
    tasks = json.loads((releases[stage] / "shared_tests" / "tasks.json").read_text())[str(stage)]
    guide = (REAL_REPO / "docs" / f"stage{stage}.md")
    assert tasks
    for task in tasks:
        assert task["guide"].startswith(f"docs/stage{stage}.md"), task
    if guide.is_file():
        assert all("#" in task["guide"] for task in tasks), "a stub points at no section"


def _run_python(code: str, *paths: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=300)


def test_stage1_elementwise_stubs_raise_the_stub_error_at_every_input_size(releases):
    """No fast path (numexpr for large arrays or else) answers without the student's code."""
    code = """
import numpy as np
from mini_torch import functional as F
names = ["relu", "leaky_relu", "sigmoid", "tanh", "gelu"]
for size in (1, 7, 1000, 100_000, 2_000_000):
    x = np.linspace(-3, 3, size, dtype=np.float32)
    for name in names:
        for func, args in ((getattr(F, name), (x,)),
                           (getattr(F, name + "_backward"), (np.ones_like(x), x))):
            try:
                func(*args)
            except NotImplementedError as error:
                assert f"implement mini_torch.functional.{func.__name__} " in str(error), error
            else:
                raise SystemExit(f"{func.__name__} answered at size {size}")
print("ok")
"""
    done = _run_python(code, releases[1] / "stages" / "stage1" / "src")
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    assert done.stdout.strip() == "ok"


def test_stage1_tests_fail_first_on_the_guides_first_task_and_name_its_section(
    releases, tmp_path
):
    out = releases[1]
    report = tmp_path / "report.xml"
    env = {**os.environ, "PYTHONPATH": str(out / "stages" / "stage1" / "src"),
           "MINI_TORCH_ALLOW_SOURCE": "1", "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "shared_tests/stage1", "-p", "no:cacheprovider", "-q",
         "--maxfail=3", f"--junitxml={report}"],
        cwd=out, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    failures = [case for case in ET.parse(report).getroot().iter("testcase")
                if case.find("failure") is not None or case.find("error") is not None]
    assert len(failures) == 3, done.stdout[-3000:]
    first = failures[0]
    problem = first.find("failure") if first.find("failure") is not None else first.find("error")
    text = (problem.get("message", "") + (problem.text or ""))
    assert "implement mini_torch.functional.linear" in text, text[:2000]
    assert "docs/stage1.md#linear" in text
    assert "docs/stage1.md#" in done.stdout


# ----------------------------------------------------------------------------- planted leaks


@pytest.fixture
def small_repo(tmp_path) -> Path:
    """A copy of the monorepo's stages 1-2 with what releasing them needs."""
    repo = tmp_path / "repo"
    (repo / "stages").mkdir(parents=True)
    for stage in (1, 2):
        shutil.copytree(REAL_REPO / "stages" / f"stage{stage}", repo / "stages" / f"stage{stage}",
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    (repo / "shared_tests").mkdir()
    shutil.copyfile(REAL_REPO / "shared_tests" / "conftest.py",
                    repo / "shared_tests" / "conftest.py")
    for stage in (1, 2):
        shutil.copytree(REAL_REPO / "shared_tests" / f"stage{stage}",
                        repo / "shared_tests" / f"stage{stage}",
                        ignore=shutil.ignore_patterns("__pycache__"))
    (repo / "docs").mkdir()
    for name in ("index.md", "stage1.md", "stage2.md"):
        shutil.copyfile(REAL_REPO / "docs" / name, repo / "docs" / name)
    (repo / "noxfile.py").write_text("# the monorepo's sessions\n", encoding="utf-8")
    return repo


FUNCTIONAL = Path("stages/stage1/src/mini_torch/functional.py")


def _a_long_solution(repo: Path) -> tuple[str, list[str]]:
    """A stage-1 stub whose reference solution has three lines or more, and those lines."""
    text = (repo / FUNCTIONAL).read_text(encoding="utf-8")
    from instructor.release.solutions import solution_bodies

    for name, lines in solution_bodies(text, owner="mini_torch.functional"):
        code = [line for _, line in lines if line.strip() and not line.strip().startswith("#")]
        if len(code) >= 3:
            return name, code
    raise AssertionError("no stage-1 solution of three lines")


def test_release_refuses_a_solved_copy_naming_function_and_file(small_repo, tmp_path):
    solved = strip_markers((small_repo / FUNCTIONAL).read_text(encoding="utf-8"))
    planted = small_repo / "stages" / "stage1" / "solutions" / "mini_torch" / "functional.py"
    planted.parent.mkdir(parents=True)
    planted.write_text(solved, encoding="utf-8")
    out = tmp_path / "out"
    with pytest.raises(LeakError) as caught:
        write_release(small_repo, 1, out)
    message = str(caught.value)
    assert "solved-copy" in message
    assert "mini_torch.functional.relu" in message
    assert "stages/stage1/solutions/mini_torch/functional.py" in message
    assert not out.exists(), "a refused release wrote something"


def test_release_refuses_a_printed_solution_in_a_guide(small_repo, tmp_path):
    name, code = _a_long_solution(small_repo)
    guide = small_repo / "docs" / "stage1.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n```python\n"
                     + "\n".join(line.strip() for line in code) + "\n```\n", encoding="utf-8")
    with pytest.raises(LeakError) as caught:
        write_release(small_repo, 1, tmp_path / "out")
    assert "solution-text" in str(caught.value)
    assert name in str(caught.value) and "docs/stage1.md" in str(caught.value)


def test_release_refuses_a_printed_solution_in_a_test(small_repo, tmp_path):
    name, code = _a_long_solution(small_repo)
    test = small_repo / "shared_tests" / "stage1" / "test_printed.py"
    body = "\n".join("    " + line.strip() for line in code)
    test.write_text(f"def helper(x, grad_output, negative_slope=0.01):\n{body}\n",
                    encoding="utf-8")
    with pytest.raises(LeakError) as caught:
        write_release(small_repo, 1, tmp_path / "out")
    assert name in str(caught.value)
    assert "shared_tests/stage1/test_printed.py" in str(caught.value)


def test_release_refuses_a_branch_outside_the_markers(small_repo, tmp_path):
    path = small_repo / FUNCTIONAL
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("def relu("))
    begin = next(i for i in range(start, len(lines)) if lines[i].strip() == "# BEGIN SOLUTION")
    lines[begin:begin] = ["    if x.size > 1_000_000:  # a fast path left outside\n",
                          "        return np.maximum(x, 0)\n"]
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(LeakError) as caught:
        write_release(small_repo, 1, tmp_path / "out")
    message = str(caught.value)
    assert "outside-markers" in message and "mini_torch.functional.relu" in message
    assert "stages/stage1/src/mini_torch/functional.py" in message


def test_open_stage_refuses_a_leak_and_leaves_the_term_unchanged(small_repo, tmp_path):
    term = tmp_path / "term"
    write_term_repository(small_repo, term, TermConfig(stages=[1, 2]), git=False)
    before = sorted(p.relative_to(term).as_posix() for p in term.rglob("*"))
    guide = small_repo / "docs" / "stage2.md"
    solution = reference_solutions(small_repo, _stage2_stubs(small_repo))
    name = next(n for n, lines in solution.items() if len(lines) >= 3)
    source_lines = _raw_solution_lines(small_repo, name)
    guide.write_text(guide.read_text(encoding="utf-8") + "\n```python\n" + source_lines
                     + "```\n", encoding="utf-8")
    with pytest.raises(LeakError) as caught:
        open_stage(small_repo, term, 2, commit=False)
    assert name in str(caught.value)
    assert sorted(p.relative_to(term).as_posix() for p in term.rglob("*")) == before
    assert json.loads((term / ".mini-torch-term.json").read_text())["opened"] == [1]


def _stage2_stubs(repo: Path):
    from instructor.release.leakcheck import StubSite
    from instructor.release.release import render_stage

    _, stubs, _ = render_stage(repo, 2)
    return [StubSite(2, stub.path, 0, stub.name) for stub in stubs]


def _raw_solution_lines(repo: Path, name: str) -> str:
    from instructor.release.solutions import solution_bodies

    for path in sorted((repo / "stages" / "stage2").rglob("*.py")):
        relative = path.relative_to(repo / "stages" / "stage2").as_posix()
        if relative.startswith("src/mini_torch/"):
            module = relative.removeprefix("src/").removesuffix(".py").replace("/", ".")
            owner = module.removesuffix(".__init__")
        else:
            owner = f"{relative}:"
        for found, lines in solution_bodies(path.read_text(encoding="utf-8"), owner=owner):
            if found == name:
                return "".join(line.strip() + "\n" for _, line in lines)
    raise AssertionError(name)


# ------------------------------------------------------------------------------- a whole term


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(folder), "-c", "user.name=s", "-c",
                           "user.email=s@example.org", *args],
                          capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.skipif(not HAS_GIT, reason="needs git")
def test_a_term_end_to_end(tmp_path):
    term = tmp_path / "term"
    config = TermConfig(course_code="CS 447", term="Spring 2027", stages=[1, 2])
    first = write_term_repository(REAL_REPO, term, config)
    assert first.commit and not (term / "stages" / "stage2").exists()
    assert check_artifact(term, REAL_REPO).findings == []

    # A student clones the term and solves stage 1 with the reference (plus a note of theirs).
    student = tmp_path / "student"
    subprocess.run(["git", "clone", "--quiet", str(term), str(student)], check=True)
    reference = REAL_REPO / "stages" / "stage1"
    for path in sorted(reference.rglob("*.py")):
        relative = path.relative_to(reference)
        if "__pycache__" in relative.parts:
            continue
        solved = strip_markers(path.read_text(encoding="utf-8"))
        if relative.as_posix() == "src/mini_torch/functional.py":
            solved += "\n# solved by the student\n"
        (student / "stages" / "stage1" / relative).write_text(solved, encoding="utf-8")
    _git(student, "commit", "--quiet", "-am", "stage 1 done")

    # The instructor opens stage 2 (a commit); stage 2's own stubs are protected, stage 1 is not.
    opened = open_stage(REAL_REPO, term, 2)
    assert opened.commit and opened.leak.ok
    assert "2" in json.loads((term / "shared_tests" / "tasks.json").read_text())
    with pytest.raises(Exception, match="newest open stage"):
        publish_key(REAL_REPO, term, 2, commit=False)

    # The student pulls: their stage 1 is untouched, stage 2 arrives.
    _git(student, "pull", "--quiet", "--no-rebase", "--no-edit")
    assert "# solved by the student" in (
        student / "stages/stage1/src/mini_torch/functional.py").read_text()
    stage2_functional = student / "stages/stage2/src/mini_torch/functional.py"
    assert "# solved by the student" not in stage2_functional.read_text()

    # A stage-2 file the student already changed is never overwritten.
    linear = student / "stages/stage2/src/mini_torch/nn/linear.py"
    carry = [sys.executable, str(student / "carry_forward.py"), "2"]
    done = subprocess.run(carry, capture_output=True, text=True, cwd=student)
    assert done.returncode == 0, done.stderr
    assert "copied" in done.stdout and "stages/stage2/src/mini_torch/functional.py" in done.stdout
    assert "# solved by the student" in stage2_functional.read_text()
    assert "nn/linear.py" not in done.stdout  # stage 2's own work is not touched
    stage2_functional.write_text(stage2_functional.read_text() + "# edited in stage 2\n")
    again = subprocess.run(carry, capture_output=True, text=True, cwd=student)
    assert "refused" in again.stdout and "edited in stage 2" in stage2_functional.read_text()
    assert linear.is_file()

    # Stage 2's tests fail only on stage 2's stubs.
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(site),
                    str(student / "stages" / "stage2")], check=True, capture_output=True)
    report = tmp_path / "report.xml"
    env = {**os.environ, "PYTHONPATH": str(site), "MINI_TORCH_EXPECT_PATH": str(site),
           "MINI_TORCH_SOURCE": str(student / "stages" / "stage2"), "MPLBACKEND": "Agg"}
    env.pop("MINI_TORCH_REPO", None)
    # stage 2's own tests, and stage 1's value tests on the student's carried functional.py
    subprocess.run([sys.executable, "-m", "pytest", "shared_tests/stage2",
                    "shared_tests/stage1/test_functional_values.py",
                    "-p", "no:cacheprovider", "-q", f"--junitxml={report}"],
                   cwd=student, env=env, capture_output=True, text=True, timeout=900)
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = case.find("failure") if case.find("failure") is not None else case.find("error")
        name = f"{case.get('classname')}::{case.get('name')}"
        outcomes[name] = "ok" if problem is None else problem.get("message", "") + (
            problem.text or "")
    failures = {n: o for n, o in outcomes.items() if o != "ok"}
    assert failures, "the untouched stage 2 passed"
    wrong = {n: o[:200] for n, o in failures.items() if "Stage 2: implement " not in o}
    assert wrong == {}
    assert all(n.startswith("shared_tests.stage2") for n in failures)
    assert any(n.startswith("shared_tests.stage1") and o == "ok" for n, o in outcomes.items())


# --------------------------------------------------------------------------- the commands


def test_leak_check_and_release_commands_exit_1_on_a_leak(small_repo, tmp_path, capsys):
    from instructor.cli import main

    out = tmp_path / "clean"
    assert main(["release", "--root", str(small_repo), "--stage", "1", "--out", str(out)]) == 0
    assert main(["leak-check", "--root", str(small_repo), str(out)]) == 0
    assert "0 finding(s)" in capsys.readouterr().out
    name, code = _a_long_solution(small_repo)
    (out / "docs" / "notes.md").write_text("\n".join(code) + "\n", encoding="utf-8")
    assert main(["leak-check", "--root", str(small_repo), str(out)]) == 1
    assert f"docs/notes.md:1: solution-text: {name}" in capsys.readouterr().out
    guide = small_repo / "docs" / "stage1.md"
    guide.write_text(guide.read_text(encoding="utf-8") + "\n".join(code) + "\n")
    refused = tmp_path / "refused"
    assert main(["release", "--root", str(small_repo), "--stage", "1", "--out",
                 str(refused)]) == 1
    assert "refused to write" in capsys.readouterr().err
    assert not refused.exists()


@pytest.mark.parametrize("stage", STAGES)
def test_every_stub_is_listed_in_the_guides_what_you_implement(stage):
    """The guide's "What you implement" names each stub (or, for the package, its file)."""
    from instructor.release.markdown import guide_sections
    from instructor.release.release import render_stage
    from instructor.release.stubs import short_name as _short_name
    from instructor.stages.guides import implement_section as _implement_section

    guide = REAL_REPO / "docs" / f"stage{stage}.md"
    if not guide.is_file():
        pytest.skip(f"docs/stage{stage}.md is not written yet")
    text = guide.read_text(encoding="utf-8")
    sections = guide_sections(text)
    implement = _implement_section(sections)
    assert implement, f"docs/stage{stage}.md has no 'What you implement' section"
    lines = text.splitlines()
    after = [line for line, _, _ in sections if line > implement[0]]
    body = "\n".join(lines[implement[0]:(after[0] - 1) if after else len(lines)])
    _, stubs, _ = render_stage(REAL_REPO, stage)
    missing = []
    for stub in stubs:
        short = _short_name(stub)
        owner, _, method = short.rpartition(".")
        file_name = stub.path.rsplit("/", 1)[-1]
        named = short in body or (owner and owner in body and method in body)
        # stage 1 names the whole file: "the body of every math function in `src/...`"
        whole_file = ":" not in stub.name and re.search(
            rf"every [^\n]*`src/mini_torch/{re.escape(file_name)}`", body) is not None
        if not (named or whole_file):
            missing.append(stub.name)
    assert missing == []


@pytest.mark.skipif(not HAS_GIT, reason="needs git")
def test_open_stage_in_order_once_and_a_fix_as_an_update_commit(small_repo, tmp_path):
    term = tmp_path / "term"
    write_term_repository(small_repo, term, TermConfig(stages=[1, 2]))
    with pytest.raises(Exception, match="open already"):
        open_stage(small_repo, term, 1)
    readme = small_repo / "stages" / "stage1" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nA fix.\n", encoding="utf-8")
    report = open_stage(small_repo, term, 1, update=True)
    assert report.commit
    assert "A fix." in (term / "stages" / "stage1" / "README.md").read_text(encoding="utf-8")
    log = subprocess.run(["git", "-C", str(term), "log", "--format=%s"], capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert log[:2] == ["Update stage 1", "Open stage 1"]


# ------------------------------------------------------- what a release refers to, it holds


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _refused(repo: Path, out: Path) -> list[str]:
    with pytest.raises(LeakError) as caught:
        write_release(repo, 1, out)
    assert not out.exists(), "a refused release wrote something"
    return [finding.describe() for finding in caught.value.findings]


def _last_line(path: Path, back: int = 0) -> int:
    """The number of the last line of a source file (or of the one ``back`` lines before it):
    a release keeps every line where it was, so a finding names the source's line."""
    return len(path.read_text(encoding="utf-8").splitlines()) - back


def test_the_sessions_are_read_from_the_release_noxfile(small_repo, tmp_path):
    out = write_release(small_repo, 1, tmp_path / "out").out
    assert noxfile_sessions(out) == {"stage1", "carry_forward"}
    (out / "noxfile.py").write_text(
        "import nox\n\n@nox.session\ndef lint(session): ...\n\n"
        "@nox.session(name='docs', python=False)\ndef build_docs(session): ...\n",
        encoding="utf-8")
    assert noxfile_sessions(out) == {"lint", "docs"}


def test_release_refuses_a_session_its_noxfile_does_not_have(small_repo, tmp_path):
    guide = small_repo / "docs" / "stage1.md"
    _append(guide, "\nRun `nox -s stage1 -s demo`, then `nox --session generate -- -x`.\n"
                   "Placeholders name sessions it has: `nox -s stageK`, `nox -s NAME`.\n")
    found = _refused(small_repo, tmp_path / "out")
    line = _last_line(guide, back=1)
    assert not any("stageK" in f or "NAME" in f for f in found)
    assert [f for f in found if "session-name" in f] == [
        f"docs/stage1.md:{line}: session-name: nox -s stage1 -s demo: no session demo in this "
        "artifact's noxfile.py (it has: carry_forward, stage1)",
        f"docs/stage1.md:{line}: session-name: nox --session generate: no session generate in "
        "this artifact's noxfile.py (it has: carry_forward, stage1)",
    ]


@pytest.mark.parametrize("words, found", [
    ("The target (issue 21) is met.", "issue 21: an issue number"),
    ("Fixed in #21.", "#21: an issue number"),
    ("Run `instructor/benchmarks/evaluate_generative.py`.",
     "instructor/benchmarks/evaluate_generative.py: a path of the instructor tools"),
    ("Your code sits between `# BEGIN SOLUTION` lines.",
     "# BEGIN SOLUTION: a solution marker the student never sees"),
])
def test_release_refuses_maintainer_words_naming_line_and_text(small_repo, tmp_path, words,
                                                               found):
    readme = small_repo / "stages" / "stage1" / "README.md"
    _append(readme, f"\n{words}\n")
    findings = _refused(small_repo, tmp_path / "out")
    line = _last_line(readme)
    assert findings == [f"stages/stage1/README.md:{line}: maintainer-words: {found}: "
                        f"{words}"]


def test_release_refuses_an_image_it_does_not_ship(small_repo, tmp_path):
    guide = small_repo / "docs" / "stage1.md"
    _append(guide, "\n![the loss curve](images/loss.png)\n\nThe curve (above) falls.\n")
    assert _refused(small_repo, tmp_path / "out") == [
        f"docs/stage1.md:{_last_line(guide, back=2)}: broken-link: images/loss.png: "
        "images/loss.png: no such file in the artifact"]


def test_release_ships_the_images_its_guides_show(small_repo, tmp_path):
    (small_repo / "docs" / "images").mkdir()
    (small_repo / "docs" / "images" / "loss.png").write_bytes(b"\x89PNG not really")
    (small_repo / "docs" / "images" / "unused.png").write_bytes(b"\x89PNG")
    _append(small_repo / "docs" / "stage1.md", "\n![the loss curve](images/loss.png)\n")
    out = write_release(small_repo, 1, tmp_path / "out").out
    assert (out / "docs" / "images" / "loss.png").read_bytes() == b"\x89PNG not really"
    assert not (out / "docs" / "images" / "unused.png").exists()
    assert "![the loss curve](images/loss.png)" in (out / "docs" / "stage1.md").read_text()


def test_release_leaves_out_the_maintainers_passages(small_repo, tmp_path):
    guide = small_repo / "docs" / "stage1.md"
    _append(guide, "\nThe curve falls<!-- maintainers --> (see issue 21 and\n"
                   "[performance](performance.md)),<!-- /maintainers --> steadily.\n\n"
                   "<!-- maintainers -->\nRun `nox -s demo` from the repository root.\n"
                   "<!-- /maintainers -->\nThe end.\n")
    out = write_release(small_repo, 1, tmp_path / "out").out
    text = (out / "docs" / "stage1.md").read_text(encoding="utf-8")
    assert text.endswith("\nThe curve falls\n steadily.\n\n\n\n\nThe end.\n")
    assert len(text.splitlines()) == _last_line(guide)
    assert "maintainers" not in text and "demo" not in text


def test_release_refuses_a_maintainers_passage_left_open(small_repo, tmp_path):
    guide = small_repo / "docs" / "stage1.md"
    _append(guide, "\n<!-- maintainers -->\nRun `nox -s demo`.\n")
    line = _last_line(guide, back=1)
    with pytest.raises(InstructorError, match=rf"docs/stage1.md:{line}: "
                                              "<!-- maintainers --> without its pair"):
        write_release(small_repo, 1, tmp_path / "out")


def test_open_stage_runs_the_same_check(small_repo, tmp_path):
    """The term bake and open-stage refuse maintainer words and unknown sessions too."""
    term = tmp_path / "term"
    write_term_repository(small_repo, term, TermConfig(stages=[1, 2]), git=False)
    _append(small_repo / "docs" / "stage2.md", "\nRun `nox -s parity` (issue 21).\n")
    with pytest.raises(LeakError) as caught:
        open_stage(small_repo, term, 2, commit=False)
    kinds = sorted({finding.kind for finding in caught.value.findings})
    assert kinds == ["maintainer-words", "session-name"]
    assert not (term / "stages" / "stage2").exists()


def test_the_term_bake_passes_the_same_check(tmp_path):
    """The template's own README (``nox -s stageK`` and all) passes what the bake runs."""
    cookiecutter = pytest.importorskip("cookiecutter.main").cookiecutter
    project = Path(cookiecutter(str(REAL_REPO / "templates" / "term"), no_input=True,
                                output_dir=str(tmp_path)))
    assert "nox -s stageK" in (project / "README.md").read_text(encoding="utf-8")
    report = check_artifact(project, REAL_REPO, stages=[1])
    assert report.stubs and [f.describe() for f in report.findings] == []
