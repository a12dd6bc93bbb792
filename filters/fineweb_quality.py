"""FineWeb's own quality rules (stage `fineweb_quality`, the `fineweb` recipe).

FineWeb (Penedo et al. 2024, §3.3 and App. "FineWeb filters") added three rules it found by
comparing documents the C4 filters removed with those they kept, plus one against lists. As
datatrove 0.10.1's `FineWebQualityFilter` applies them (docs/recipes.md), in this order:

- `line_punct_ratio`: the share of lines ending in a sentence-final character (Unicode's
  Sentence_Terminal characters: "." "!" "?" "。" ...) must be at least 0.12;
- `short_line_ratio`: the share of lines of at most 30 characters must be at most 0.67;
- `char_dup_ratio`: the characters of lines that repeat an earlier line, over the characters
  of the text without its newlines, must be at most 0.01;
- `list_ratio`: newlines per word must be at most 0.3 (words: filters.english).

Lines are the "\\n"-separated pieces of the text that hold more than whitespace, not stripped:
a line ending in ". " does not end in punctuation, and its length counts its spaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from core.document import Document
from filters.base import KEEP, Filter, Verdict, drop
from filters.english import count_words

# The characters datatrove's TERMINAL_PUNCTUATION holds (159): Unicode's Sentence_Terminal
# characters, "." "!" "?" first.
TERMINAL_PUNCTUATION = frozenset(
    "\u0021\u002e\u003f\u0589\u061d\u061e\u061f\u06d4\u0700\u0701\u0702\u07f9\u0837\u0839"
    "\u083d\u083e\u0964\u0965\u104a\u104b\u1362\u1367\u1368\u166e\u1735\u1736\u17d4\u17d5"
    "\u17d6\u17d9\u17da\u1803\u1809\u1944\u1945\u1aa8\u1aa9\u1aaa\u1aab\u1b5a\u1b5b\u1b5e"
    "\u1b5f\u1b7d\u1b7e\u1c3b\u1c3c\u1c7e\u1c7f\u203c\u203d\u2047\u2048\u2049\u2e2e\u2e3c"
    "\u2e53\u2e54\u3002\ua4ff\ua60e\ua60f\ua6f3\ua6f7\ua876\ua877\ua8ce\ua8cf\ua92f\ua9c8"
    "\ua9c9\uaa5d\uaa5e\uaa5f\uaaf0\uaaf1\uabeb\ufe52\ufe56\ufe57\uff01\uff0e\uff1f\uff61"
    "\U00010a56\U00010a57\U00010f55\U00010f56\U00010f57\U00010f58\U00010f59\U00010f86"
    "\U00010f87\U00010f88\U00010f89\U00011047\U00011048\U000110be\U000110bf\U000110c0"
    "\U000110c1\U00011141\U00011142\U00011143\U000111c5\U000111c6\U000111cd\U000111de"
    "\U000111df\U00011238\U00011239\U0001123b\U0001123c\U000112a9\U0001144b\U0001144c"
    "\U000115c2\U000115c3\U000115c9\U000115ca\U000115cb\U000115cc\U000115cd\U000115ce"
    "\U000115cf\U000115d0\U000115d1\U000115d2\U000115d3\U000115d4\U000115d5\U000115d6"
    "\U000115d7\U00011641\U00011642\U0001173c\U0001173d\U0001173e\U00011944\U00011946"
    "\U00011a42\U00011a43\U00011a9b\U00011a9c\U00011c41\U00011c42\U00011ef7\U00011ef8"
    "\U00011f43\U00011f44\U00016a6e\U00016a6f\U00016af5\U00016b37\U00016b38\U00016b44"
    "\U00016e98\U0001bc9f\U0001da88"
)


@dataclass(frozen=True)
class FineWebQuality(Filter):
    """Drop pages with too few sentence-like lines, too many short or repeated lines, or lists."""

    name: ClassVar[str] = "fineweb_quality"
    signals: ClassVar[tuple[str, ...]] = (
        "line_punct_ratio",
        "short_line_ratio",
        "char_dup_ratio",
    )
    reasons: ClassVar[tuple[str, ...]] = (
        "no_text",
        "line_punct_ratio_too_low",
        "short_line_ratio_too_high",
        "char_dup_ratio_too_high",
        "list_ratio_too_high",
    )

    min_line_punct_ratio: float = 0.12
    # datatrove's line_punct_exclude_zero: keep documents with no such line at all (off).
    line_punct_exclude_zero: bool = False
    max_short_line_ratio: float = 0.67
    short_line_chars: int = 30
    max_char_dup_ratio: float = 0.01
    max_newlines_per_word: float = 0.3

    def score(self, doc: Document) -> dict[str, float]:
        text = doc.text
        lines = [line for line in text.split("\n") if line.strip()]
        if not lines:
            return {}
        seen: set[str] = set()
        duplicate_chars = 0
        for line in lines:
            if line in seen:
                duplicate_chars += len(line)
            else:
                seen.add(line)
        chars = len(text) - text.count("\n")
        return {
            "line_punct_ratio": sum(line[-1] in TERMINAL_PUNCTUATION for line in lines)
            / len(lines),
            "short_line_ratio": sum(len(line) <= self.short_line_chars for line in lines)
            / len(lines),
            "char_dup_ratio": duplicate_chars / chars,
        }

    def keep(self, scores: dict[str, float]) -> Verdict:
        if not scores:
            return drop("no_text")
        ratio = scores["line_punct_ratio"]
        if ratio < self.min_line_punct_ratio and not (ratio == 0 and self.line_punct_exclude_zero):
            return drop("line_punct_ratio_too_low")
        if scores["short_line_ratio"] > self.max_short_line_ratio:
            return drop("short_line_ratio_too_high")
        if scores["char_dup_ratio"] > self.max_char_dup_ratio:
            return drop("char_dup_ratio_too_high")
        return KEEP

    def apply(self, doc: Document) -> tuple[Document, Verdict]:
        scores = self.score(doc)
        verdict = self.keep(scores)
        if verdict.keep and self.list_like(doc.text):
            verdict = drop("list_ratio_too_high")
        return doc.with_signals(scores), verdict

    def list_like(self, text: str) -> bool:
        """More newlines per word than allowed.

        spaCy's tokens are whitespace-separated words or pieces of them, so there are at least
        as many as `str.split` finds: a text within the limit by that count is within it by
        spaCy's, and only the others are tokenized.
        """
        newlines = text.count("\n")
        limit = self.max_newlines_per_word
        if newlines <= limit * len(text.split()):
            return False
        return newlines > limit * count_words(text)
