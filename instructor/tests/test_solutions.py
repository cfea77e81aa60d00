"""Solution markers: finding regions, refusing malformed ones, stubbing and stripping them."""

from __future__ import annotations

import ast
import textwrap

import pytest

from instructor.release.solutions import (
    STUB_LINE,
    MarkerError,
    find_regions,
    strip_markers,
    stub_solutions,
)

MODULE = textwrap.dedent(
    '''
    """A module.

    The code a student writes sits between # BEGIN SOLUTION and # END SOLUTION lines.
    """
    import numpy as np


    def relu(x):
        """max(x, 0)."""
        x = np.asarray(x)
        # BEGIN SOLUTION
        return np.maximum(x, 0)
        # END SOLUTION


    class Linear:
        def forward(self, x):
            if x is None:
                raise ValueError("x")
            # BEGIN SOLUTION
            self.x = x
            return x @ self.W
            # END SOLUTION

        def helper(self):
            def inner():
                # BEGIN SOLUTION
                return 1
                # END SOLUTION

            return inner()
    '''
).lstrip("\n")


def stub(text, owner="mini_torch.nn.linear", stage=2):
    return stub_solutions(text, owner=owner, stage=stage, doc=f"docs/stage{stage}.md",
                          filename="src/mini_torch/nn/linear.py")


def test_regions_are_found_with_their_marker_lines_and_indentation():
    lines = MODULE.splitlines()
    begins = [n for n, line in enumerate(lines, 1) if line.strip() == "# BEGIN SOLUTION"]
    ends = [n for n, line in enumerate(lines, 1) if line.strip() == "# END SOLUTION"]
    indents = [lines[n - 1][: len(lines[n - 1]) - len(lines[n - 1].lstrip())] for n in begins]
    regions = find_regions(MODULE)
    assert [(r.begin, r.end, r.indent) for r in regions] == list(zip(begins, ends, indents))
    assert indents == ["    ", "        ", "            "]


def test_markers_inside_sentences_are_text():
    text = '"""Write the body between # BEGIN SOLUTION and # END SOLUTION."""\nx = 1\n'
    assert find_regions(text) == []


def test_each_region_becomes_one_stub_at_the_begin_marker_indentation():
    stubbed, names = stub(MODULE)
    stub_lines = [line for line in stubbed.splitlines() if "NotImplementedError" in line]
    assert stub_lines == [
        '    raise NotImplementedError("Stage 2: implement mini_torch.nn.linear.relu '
        '(see docs/stage2.md)")',
        '        raise NotImplementedError("Stage 2: implement mini_torch.nn.linear.Linear.forward '
        '(see docs/stage2.md)")',
        '            raise NotImplementedError("Stage 2: implement '
        'mini_torch.nn.linear.Linear.helper.inner (see docs/stage2.md)")',
    ]
    assert names == ["mini_torch.nn.linear.relu", "mini_torch.nn.linear.Linear.forward",
                     "mini_torch.nn.linear.Linear.helper.inner"]


def test_stubbed_source_keeps_everything_outside_the_regions():
    stubbed, _ = stub(MODULE)
    assert "np.maximum" not in stubbed and "self.x = x" not in stubbed
    assert 'raise ValueError("x")' in stubbed and '"""max(x, 0)."""' in stubbed
    assert "return inner()" in stubbed
    assert not [line for line in stubbed.splitlines() if line.strip().endswith("SOLUTION")]
    ast.parse(stubbed)


def test_stub_lines_match_the_pattern_tools_read_back():
    stubbed, _ = stub(MODULE)
    matches = [STUB_LINE.match(line) for line in stubbed.splitlines()]
    found = [(m["stage"], m["name"], m["doc"]) for m in matches if m]
    assert found[0] == ("2", "mini_torch.nn.linear.relu", "docs/stage2.md")
    assert len(found) == 3


def test_a_script_owner_names_the_file_and_function():
    script = "def train_step(model):\n    # BEGIN SOLUTION\n    return 0\n    # END SOLUTION\n"
    stubbed, names = stub(script, owner="examples/train_spirals.py:", stage=3)
    assert names == ["examples/train_spirals.py:train_step"]
    assert "implement examples/train_spirals.py:train_step (see docs/stage3.md)" in stubbed


def test_stub_of_a_stubbed_function_raises_the_message():
    stubbed, _ = stub(MODULE)
    namespace: dict = {}
    exec(compile(stubbed.replace("import numpy as np", ""), "m", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"^Stage 2: implement mini_torch\.nn\.linear"
                       r"\.Linear\.forward \(see docs/stage2\.md\)$"):
        namespace["Linear"]().forward(1)


def test_strip_markers_keeps_the_solution_code():
    stripped = strip_markers(MODULE)
    assert "return np.maximum(x, 0)" in stripped
    assert "# BEGIN SOLUTION\n" not in stripped and "# END SOLUTION\n" not in stripped
    assert len(stripped.splitlines()) == len(MODULE.splitlines()) - 6


def test_a_file_without_regions_is_unchanged():
    text = "def f():\n    return 1\n"
    assert stub(text) == (text, [])


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("x = 1\n# END SOLUTION\n", 2, "without a # BEGIN SOLUTION"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n"
         "    # END SOLUTION\n", 3, "cannot nest"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n# END SOLUTION\n", 4,
         "indented differently"),
        ("def f():\n    # BEGIN SOLUTION: relu\n    return 1\n", 2, "looks like a solution marker"),
        ("def f():\n    #begin solution\n    return 1\n", 2, "looks like a solution marker"),
    ],
    ids=["end-without-begin", "unclosed", "nested", "indentation", "suffix", "lower-case"],
)
def test_malformed_markers_name_the_file_and_line(text, line, words):
    with pytest.raises(MarkerError) as raised:
        find_regions(text, "src/mini_torch/functional.py")
    message = str(raised.value)
    assert message.startswith(f"src/mini_torch/functional.py:{line}: ")
    assert words in message


def test_nested_markers_name_the_open_region():
    text = "def f():\n    # BEGIN SOLUTION\n    x = 1\n    # BEGIN SOLUTION\n"
    with pytest.raises(MarkerError, match="inside the region opened at line 2"):
        find_regions(text, "f.py")


def test_stripping_refuses_malformed_markers_too():
    with pytest.raises(MarkerError, match=r"f\.py:1"):
        strip_markers("# END SOLUTION\n", "f.py")


def test_a_region_that_is_not_whole_statements_is_refused():
    text = "def f():\n    x = (1 +\n    # BEGIN SOLUTION\n    2)\n    # END SOLUTION\n"
    with pytest.raises(MarkerError, match=r"f\.py"):
        stub_solutions(text, owner="m", stage=1, doc="d", filename="f.py")
