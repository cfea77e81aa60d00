"""A stage's guide and its stubs: which section of ``docs/stageN.md`` teaches each task.

A stub of a release names the section that teaches it
(``raise NotImplementedError("Stage 1: implement mini_torch.functional.linear (see
docs/stage1.md#linear)")``), and grading names the same section beside a failed check: both ask
:func:`stub_doc` (the guide of a stage in a monorepo) or :func:`guide_section_of` (one guide's
text). The headings and their anchors are read by :mod:`instructor.release.markdown`, the same
reading the leak check's link check uses.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from instructor.release.markdown import guide_sections, section_bodies


def _task_words(name: str) -> list[str]:
    """What a guide's headings call a stub: ``mini_torch.nn.linear.Linear.forward`` ->
    ``Linear``; ``mini_torch.functional.linear_backward`` -> ``linear``; ``MSELoss`` -> ``MSE``."""
    if ":" in name:
        return [name.split(":", 1)[1]]
    parts = name.split(".")
    classes = [part for part in parts[1:-1] if part[:1].isupper()][-1:]
    if classes:
        return [*classes, classes[0].removesuffix("Loss")] if classes[0] != "Loss" else classes
    return [parts[-1].removesuffix("_backward")]


def implement_section(sections: list[tuple[int, str, str]]) -> tuple[int, str, str] | None:
    """The guide's "What you implement" section (the first heading that says "implement")."""
    return next((section for section in sections if "implement" in section[1].lower()), None)


# Sections that list every task of a stage rather than teach one.
_OVERVIEW_TITLES = ("implement", "contents", "what this stage adds")


def _word_pattern(word: str) -> re.Pattern[str]:
    """``word`` as a whole word, its parts (split at inner ``_`` and at case changes) joined by
    nothing, a space, a hyphen or an underscore: ``layer_norm`` names "LayerNorm",
    ``log_softmax`` "log-softmax", ``MultiHeadSelfAttention`` "Multi-head self-attention"."""
    core, trailing = word.rstrip("_"), word[len(word.rstrip("_")):]
    parts = [part for part in re.split(r"_|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", core)
             if part]
    joined = r"[\s_-]?".join(re.escape(part) for part in parts) + re.escape(trailing)
    return re.compile(rf"(?<![A-Za-z0-9_]){joined}(?![A-Za-z0-9_])", re.I)


def guide_section_of(text: str, name: str) -> tuple[int, str] | None:
    """The guide section that teaches a stub: ``(line, anchor)``, or None.

    The words of a stub are its class (``Linear``, and ``MSE`` for ``MSELoss``) or its
    function without ``_backward`` (``layer_norm``); a heading names a word when the word's
    parts appear in it joined by nothing, a space, a hyphen or an underscore (see
    :func:`_word_pattern`). The section is, in this order:

    1. for a backward (``*_backward``, ``*.backward``): the first heading that names a word and
       says "backward" ("LayerNorm backward"), else the first such heading whose body names
       the stub in a code span (```MultiHeadSelfAttention.backward```);
    2. the first heading that names a word;
    3. the section, other than the overviews ("What you implement", "Contents", "What this
       stage adds"), whose body names the stub (its qualified name, else a word) in the most
       code spans; on a tie, the one that names it nearest the start of its body;
    4. the section "What you implement".
    """
    sections = guide_sections(text)
    bodies = section_bodies(text, sections)
    words = _task_words(name)
    tail = name.split(":", 1)[1] if ":" in name else name.split(".")[-1]
    qualified = f"{words[0]}.{tail}" if words[0] != tail.removesuffix("_backward") else tail
    word_patterns = [_word_pattern(word) for word in words]
    qualified_pattern = re.compile(
        rf"(?<![A-Za-z0-9_.]){re.escape(qualified)}(?![A-Za-z0-9_])", re.I
    )

    def spans_naming(body: str, pattern: re.Pattern[str]) -> int:
        return sum(1 for span in re.findall(r"`([^`\n]+)`", body) if pattern.search(span))

    def first_span(body: str, pattern: re.Pattern[str]) -> int:
        found = [m.start() for m in re.finditer(r"`([^`\n]+)`", body) if pattern.search(m[1])]
        return min(found, default=len(body))

    if tail == "backward" or tail.endswith("_backward"):
        says_backward = [
            (section, body) for section, body in zip(sections, bodies)
            if re.search(r"\bbackward\b", section[1], re.I)
        ]
        for (line, title, anchor), _body in says_backward:
            if any(pattern.search(title) for pattern in word_patterns):
                return line, anchor
        for (line, _title, anchor), body in says_backward:
            if spans_naming(body, qualified_pattern):
                return line, anchor
    for pattern in word_patterns:
        for line, title, anchor in sections:
            if pattern.search(title):
                return line, anchor
    for pattern in [qualified_pattern, *word_patterns]:
        counts = [
            (spans_naming(body, pattern), -first_span(body, pattern), -line, anchor)
            for (line, title, anchor), body in zip(sections, bodies)
            if not any(overview in title.lower() for overview in _OVERVIEW_TITLES)
        ]
        best = max(counts, default=(0, 0, 0, ""))
        if best[0]:
            return -best[2], best[3]
    implement = implement_section(sections)
    return (implement[0], implement[2]) if implement else None


def stub_doc(root: Path, stage: int) -> Callable[[str], str]:
    """The guide (with its section) a stub of ``stage`` points to: ``docs/stage1.md#linear``."""
    doc = f"docs/stage{stage}.md"
    guide = root / doc
    text = guide.read_text(encoding="utf-8") if guide.is_file() else ""

    def where(name: str) -> str:
        found = guide_section_of(text, name)
        return f"{doc}#{found[1]}" if found else doc

    return where


__all__ = ["guide_section_of", "implement_section", "stub_doc"]
