"""C4's line rules as FineWeb applied them (stage `c4_quality`, the `fineweb` recipe).

C4 (Raffel et al. 2020, §2.2) cleaned pages line by line; FineWeb (Penedo et al. 2024) ran
datatrove's version of those rules without the terminal-punctuation rule. What a line is and
the order of the checks follow datatrove 0.10.1's `C4QualityFilter` (docs/recipes.md):

1. The text is split into lines (`str.splitlines`), each stripped; a line's words are its
   whitespace-separated tokens, taken before citations are removed.
2. A line holding a word longer than `max_word_length` characters goes.
3. Wikipedia-style citation markers ("[12]", "[]", "[edit]", "[citation needed]") are cut.
4. (Off in FineWeb) a line not ending in . ? ! " ' , or ending in "...", goes.
5. A line of fewer than `min_words_per_line` words goes (so does every blank line).
6. "lorem ipsum" anywhere in a line left so far drops the document.
7. A line mentioning "javascript" goes.
8. A curly bracket "{" in a line left so far drops the document.
9. A line holding one of the policy phrases ("terms of use", "cookie policy", ...) goes.
10. The kept lines' sentences are counted (filters.english); fewer than `min_sentences` over
    the document drops it.

The kept lines, joined by single newlines, are the new text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from core.document import Document
from filters.base import FIGURES_KEY, KEEP, Filter, Verdict, drop
from filters.english import count_sentences

# C4's list as datatrove has it: cookie and terms-of-use boilerplate.
POLICY_PHRASES = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
# "[12]" (digits, possibly none), "[edit]", "[citation needed]".
_CITATION = re.compile(r"\[(?:\d*|edit|citation needed)\]")
_TERMINAL = (".", "?", "!", '"', "'")

LINE_RULES = ("too_long_word", "no_terminal_punctuation", "too_few_words", "javascript", "policy")


@dataclass(frozen=True)
class C4Quality(Filter):
    """Remove C4's boilerplate lines; drop pages with lorem ipsum, code or too few sentences."""

    name: ClassVar[str] = "c4_quality"
    signals: ClassVar[tuple[str, ...]] = ("c4_lines_removed_frac",)
    reasons: ClassVar[tuple[str, ...]] = (
        "lorem_ipsum",
        "curly_bracket",
        "too_few_sentences",
        "no_lines_left",
    )

    remove_citations: bool = True
    # FineWeb turned this C4 rule off (datatrove's filter_no_terminal_punct=False).
    filter_no_terminal_punct: bool = False
    min_sentences: int = 5  # -1: no sentence rule
    min_words_per_line: int = 3  # -1: no rule
    max_word_length: int = 1000  # -1: no rule
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True
    policy_phrases: tuple[str, ...] = POLICY_PHRASES

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy_phrases", tuple(p.lower() for p in self.policy_phrases))

    def clean(self, text: str) -> tuple[str, str, dict[str, int]]:
        """(kept text, drop reason or "", figures: lines in, lines removed by each rule)."""
        removed = dict.fromkeys(LINE_RULES, 0)
        kept: list[str] = []
        lines = text.splitlines()
        sentences = 0
        for raw in lines:
            line = raw.strip()
            words = line.split()
            if self.max_word_length != -1 and any(
                len(word) > self.max_word_length for word in words
            ):
                removed["too_long_word"] += 1
                continue
            if self.remove_citations:
                line = _CITATION.sub("", line)
            if self.filter_no_terminal_punct and (
                not line.endswith(_TERMINAL) or line.endswith("...")
            ):
                removed["no_terminal_punctuation"] += 1
                continue
            if len(words) < self.min_words_per_line:
                removed["too_few_words"] += 1
                continue
            lower = line.lower()
            if self.filter_lorem_ipsum and "lorem ipsum" in lower:
                return "", "lorem_ipsum", {}
            if self.filter_javascript and "javascript" in lower:
                removed["javascript"] += 1
                continue
            if self.filter_curly_bracket and "{" in line:
                return "", "curly_bracket", {}
            if self.filter_policy and any(p in lower for p in self.policy_phrases):
                removed["policy"] += 1
                continue
            # Counted only until the rule is met: the count decides nothing past it.
            if self.min_sentences != -1 and sentences < self.min_sentences:
                sentences += count_sentences(line)
            kept.append(line)
        figures = {"lines": len(lines), **{f"lines_removed.{k}": n for k, n in removed.items()}}
        if self.min_sentences != -1 and sentences < self.min_sentences:
            return "", "too_few_sentences", figures
        cleaned = "\n".join(kept).strip()
        return cleaned, ("" if cleaned else "no_lines_left"), figures

    def apply(self, doc: Document) -> tuple[Document, Verdict]:
        text, reason, figures = self.clean(doc.text)
        lines = figures.get("lines", 0)
        gone = sum(n for k, n in figures.items() if k.startswith("lines_removed."))
        scores = {"c4_lines_removed_frac": gone / lines if lines else 0.0}
        doc = doc.with_signals(scores)
        if figures:
            doc = doc.replace(meta={**doc.meta, FIGURES_KEY: figures})
        if reason:
            return doc, drop(reason)
        return doc.replace(text=text), KEEP
