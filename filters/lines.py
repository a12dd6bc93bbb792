"""RefinedWeb line-wise corrections, RefinedWeb §3.2 and App. G.2 / spec §1.7."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from core.document import Document
from core.text import character_tables, code_points, has_unspaced, split_words
from filters.base import KEEP, Filter, Verdict, drop

# The published rules name examples only ("3 likes", "sign-in", "Read more...", "items in
# cart"); these lists are ours, kept to phrases that are boilerplate in any context.
_COUNTER = re.compile(
    r"^\W*\d[\d,.\s]*[kmb]?\s*(?:likes?|shares?|comments?|retweets?|reposts?|replies|reply|"
    r"views?|followers?|following|votes?|upvotes?|downvotes?|points?|downloads?|reviews?|"
    r"answers?|bookmarks?|favorites?|favourites?|subscribers?|reads?|clicks?|hits?)\W*$",
    re.IGNORECASE,
)
PREFIX_PATTERNS = ("sign-in", "sign in", "log in", "login", "sign up", "share this", "posted by")
SUFFIX_PATTERNS = (
    "read more...",
    "read more…",
    "read more",
    "continue reading",
    "click here",
    "show more",
    "(more)",
)
ANYWHERE_PATTERNS = ("items in cart", "item in cart", "add to cart", "skip to content")
_PUNCTUATION_ONLY = re.compile(r"^\W+$")


def _compile_edits(prefixes, suffixes, anywhere) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    def alternation(patterns):
        return "|".join(re.escape(p) for p in sorted(patterns, key=len, reverse=True)) or "(?!)"

    return (
        re.compile(rf"^\W*(?:{alternation(prefixes)})\W*", re.IGNORECASE),
        re.compile(rf"\s*(?:{alternation(suffixes)})\W*$", re.IGNORECASE),
        re.compile(rf"(?:{alternation(anywhere)})", re.IGNORECASE),
    )


# A whitespace-separated token of punctuation only (no letter, digit or underscore).
_PUNCTUATION_TOKEN = re.compile(r"(?<!\S)[^\s\w]+(?!\S)")


def letter_counts(text: str) -> tuple[list[int], list[int]]:
    """Letters, and upper-case letters, of each line ("\n"-separated) of `text`.

    Counted for the whole text at once through per-character tables: a loop over every
    character of every line, even in C through str methods, costs several times more.
    """
    tables = character_tables()
    alpha, upper = tables.alpha, tables.upper
    codes = code_points(text)
    breaks = np.flatnonzero(codes == 10)
    starts = np.concatenate(([0], breaks + 1))
    stops = np.concatenate((breaks, [len(codes)]))

    def per_line(table: np.ndarray) -> list[int]:
        running = np.concatenate(([0], np.cumsum(table[codes])))
        return (running[stops] - running[starts]).tolist()

    return per_line(alpha), per_line(upper)


def count_words(text: str, unspaced: bool | None = None) -> int:
    """Words as the 5% budget counts them: punctuation-only tokens do not count.

    `unspaced`: whether the text may hold a script written without spaces (looked up when
    not given); without one, the tokens are counted by C loops, not one by one.
    """
    if unspaced is None:
        unspaced = has_unspaced(text)
    if unspaced:
        return sum(1 for w in split_words(text) if not _PUNCTUATION_ONLY.match(w))
    return len(text.split()) - len(_PUNCTUATION_TOKEN.findall(text))


@dataclass(frozen=True)
class LineCorrections(Filter):
    """Remove boilerplate lines and phrases; drop the document if that removes too much."""

    name: ClassVar[str] = "line_corrections"
    signals: ClassVar[tuple[str, ...]] = ("line_removed_words_frac", "lines_removed")
    reasons: ClassVar[tuple[str, ...]] = ("too_many_words_removed", "empty_after_corrections")

    # Share of a line's letters that are upper case above which the line goes. UNCONFIRMED in
    # RefinedWeb; 0.5 as DCLM's reproduction (it counts over all characters, we over letters).
    max_uppercase_frac: float = 0.5
    # Lines with fewer words go ("only one word", App. G.2).
    min_words_per_line: int = 2
    # Phrase edits only touch short lines (App. G.2: "short (≤ 10 words)").
    max_words_for_edits: int = 10
    # Drop the document if more than this share of its words was removed (§3.2: 5%); removed
    # words from edits count too, as in DCLM's reproduction.
    max_removed_words_frac: float = 0.05
    prefix_patterns: tuple[str, ...] = PREFIX_PATTERNS
    suffix_patterns: tuple[str, ...] = SUFFIX_PATTERNS
    anywhere_patterns: tuple[str, ...] = ANYWHERE_PATTERNS

    def __post_init__(self) -> None:
        for name in ("prefix_patterns", "suffix_patterns", "anywhere_patterns"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        object.__setattr__(
            self,
            "_edits",
            _compile_edits(self.prefix_patterns, self.suffix_patterns, self.anywhere_patterns),
        )

    def __getstate__(self):
        return {k: v for k, v in self.__dict__.items() if k != "_edits"}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__post_init__()

    def _line_is_boilerplate(
        self, line: str, n_words: int, letters: int | None = None, upper: int | None = None
    ) -> bool:
        """Whether a line goes; `letters` and `upper` (case letters) are counted if not given."""
        if n_words < self.min_words_per_line:
            return True
        if letters is None or upper is None:
            [letters], [upper] = letter_counts(line)
        if not letters:
            return any(map(str.isdigit, line))  # numbers only (dates, scores, prices)
        if upper / letters > self.max_uppercase_frac:
            return True
        return _COUNTER.match(line) is not None

    def correct(self, text: str) -> tuple[str, int, int, int]:
        """(corrected text, words before, words removed, lines removed)."""
        prefix, suffix, anywhere = self._edits
        kept: list[str] = []
        words_before = words_removed = lines_removed = 0
        unspaced = has_unspaced(text)
        letters, upper = letter_counts(text)
        for index, raw in enumerate(text.split("\n")):
            line = raw.strip()
            if not line:
                kept.append("")
                continue
            n_words = count_words(line, unspaced)
            words_before += n_words
            if self._line_is_boilerplate(line, n_words, letters[index], upper[index]):
                words_removed += n_words
                lines_removed += 1
                continue
            if n_words <= self.max_words_for_edits:
                edited = anywhere.sub("", suffix.sub("", prefix.sub("", line)))
                edited = " ".join(edited.split())
                if edited != line:
                    remaining = count_words(edited, unspaced)
                    words_removed += n_words - remaining
                    if not remaining:
                        lines_removed += 1
                        continue
                    line = edited
            kept.append(line)
        corrected = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
        return corrected, words_before, words_removed, lines_removed

    def apply(self, doc: Document) -> tuple[Document, Verdict]:
        text, before, removed, lines_removed = self.correct(doc.text)
        scores = _scores(before, removed, lines_removed)
        verdict = self.keep(scores)
        if verdict.keep and not text:
            verdict = drop("empty_after_corrections")
        return doc.replace(text=text).with_signals(scores), verdict

    def score(self, doc: Document) -> dict[str, float]:
        _, before, removed, lines_removed = self.correct(doc.text)
        return _scores(before, removed, lines_removed)

    def keep(self, scores: dict[str, float]) -> Verdict:
        if scores["line_removed_words_frac"] > self.max_removed_words_frac:
            return drop("too_many_words_removed")
        return KEEP


def _scores(words_before: int, words_removed: int, lines_removed: int) -> dict[str, float]:
    return {
        "line_removed_words_frac": words_removed / words_before if words_before else 0.0,
        "lines_removed": float(lines_removed),
    }
