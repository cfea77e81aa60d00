"""Every stub of every release links the section of its guide that teaches it.

A stub's message ends with ``(see docs/stageN.md#anchor)``. The generic "What you implement"
section lists every task of a stage and teaches none, so no stub may link it, and the anchor
must be a heading of the guide as the release ships it (maintainers' passages removed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from instructor.release.release import guide_section_of, guide_sections, write_release
from instructor.release.solutions import STUB_LINE
from instructor.stages.repo import stage_numbers

REAL_REPO = Path(__file__).resolve().parents[2]
STAGES = stage_numbers(REAL_REPO)


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> dict[int, Path]:
    base = tmp_path_factory.mktemp("stub-links")
    return {stage: write_release(REAL_REPO, stage, base / f"stage{stage}").out for stage in STAGES}


def released_stub_links(out: Path, stage: int) -> list[tuple[str, str]]:
    """``[(qualified name, doc link)]`` of every stub line in the release's package."""
    links = []
    for path in sorted((out / "stages" / f"stage{stage}").rglob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = STUB_LINE.match(line)
            if match:
                links.append((match["name"], match["doc"]))
    return links


@pytest.mark.parametrize("stage", STAGES)
def test_every_stub_links_its_own_existing_section(releases, stage):
    out = releases[stage]
    links = released_stub_links(out, stage)
    assert links, f"the stage-{stage} release has no stub"
    guide = (out / "docs" / f"stage{stage}.md").read_text(encoding="utf-8")
    anchors = {anchor for _line, _title, anchor in guide_sections(guide)}
    generic = [name for name, doc in links if doc.endswith("what-you-implement")]
    assert not generic, (
        f"stage {stage}: these stubs link the generic 'What you implement' section instead of "
        f"the section that teaches them: {generic}"
    )
    for name, doc in links:
        page, _, anchor = doc.partition("#")
        assert page == f"docs/stage{stage}.md", f"{name} links {doc}, another stage's guide"
        assert anchor in anchors, f"{name} links #{anchor}, which the released guide lacks"


# The sections a reader would pick, written out for the cases the matching rules decide
# differently: a heading that names the class in other words, a backward's own section, and a
# function that only the body of its section names.
EXPECTED = [
    (6, "mini_torch.nn.attention.scaled_dot_product_attention", "multi-head-self-attention"),
    (6, "mini_torch.nn.attention.scaled_dot_product_attention_backward", "attention-backward"),
    (6, "mini_torch.nn.attention.MultiHeadSelfAttention.forward", "multi-head-self-attention"),
    (6, "mini_torch.nn.attention.MultiHeadSelfAttention.backward", "attention-backward"),
    (6, "mini_torch.nn.normalization.layer_norm", "layernorm"),
    (6, "mini_torch.nn.normalization.LayerNorm.backward", "layernorm-backward"),
    (6, "mini_torch.nn.embedding.embedding_backward", "embedding-backward"),
    (6, "mini_torch.nn.dropout.dropout_mask", "dropout"),
    (6, "examples/train_gan.py:gan_step", "the-training-step"),
    (3, "mini_torch.nn.loss.BCEWithLogitsLoss.forward",
     "bce-with-logits-the-stable-form-and-its-gradient"),
    (3, "examples/train_spirals.py:train_step", "the-training-loop-of-stage-3"),
    (1, "mini_torch.functional.leaky_relu_backward", "leaky-relu"),
    (1, "mini_torch.functional.log_softmax", "softmax-and-log-softmax-why-subtract-the-row-max"),
]


@pytest.mark.parametrize(("stage", "name", "anchor"), EXPECTED)
def test_stub_links_the_section_that_teaches_it(stage, name, anchor):
    guide = (REAL_REPO / "docs" / f"stage{stage}.md").read_text(encoding="utf-8")
    found = guide_section_of(guide, name)
    assert found is not None and found[1] == anchor, f"{name}: {found}, expected #{anchor}"


def test_section_rules_on_a_small_guide():
    guide = "\n".join([
        "# Guide", "## What you implement", "`foo`, `Bar.forward`, `baz`", "## Overview",
        "Mentions `baz` once.", "## The FooBar layer", "text", "### FooBar backward",
        "math", "## Bar", "The class.", "## Gradients", "`Bar.backward` in detail: `baz`, `baz`.",
    ])
    assert guide_section_of(guide, "mini_torch.x.foo_bar")[1] == "the-foobar-layer"
    assert guide_section_of(guide, "mini_torch.x.foo_bar_backward")[1] == "foobar-backward"
    assert guide_section_of(guide, "mini_torch.x.Bar.forward")[1] == "bar"
    assert guide_section_of(guide, "mini_torch.x.baz")[1] == "gradients"
    assert guide_section_of(guide, "mini_torch.x.qux")[1] == "what-you-implement"
