"""Gopher document-wise quality filters, RefinedWeb §3.2 / spec §1.6, made language-aware."""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import ClassVar

from core.document import Document
from core.text import (
    UNSPACED_LANGUAGES,
    alphabetic_words,
    split_english_words,
    split_lines,
    split_words,
)
from filters.base import KEEP, Filter, Verdict, drop
from filters.reading import PAPER, Reading, resolve

# Gopher's eight English stop words, and for RefinedWeb's European languages the most frequent
# function words of each, so a German page is judged by German words rather than by "the".
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": frozenset(["the", "be", "to", "of", "and", "that", "have", "with"]),
    "de": frozenset(["der", "die", "das", "und", "ist", "zu", "den", "mit", "nicht", "ein", "von"]),
    "fr": frozenset(["le", "la", "les", "de", "et", "est", "un", "une", "que", "des", "pour"]),
    "es": frozenset(["el", "la", "de", "que", "y", "en", "los", "las", "es", "por", "con"]),
    "it": frozenset(["il", "la", "di", "che", "e", "è", "per", "un", "una", "non", "con"]),
    "pt": frozenset(["o", "a", "de", "que", "e", "do", "da", "em", "um", "para", "com", "não"]),
    "nl": frozenset(["de", "het", "een", "en", "van", "is", "dat", "op", "te", "niet", "met"]),
    "pl": frozenset(["i", "w", "nie", "na", "się", "z", "jest", "to", "że", "do"]),
    "sv": frozenset(["och", "att", "det", "som", "en", "är", "på", "i", "av", "för", "med"]),
    "cs": frozenset(["a", "je", "se", "na", "v", "že", "to", "s", "z", "do", "jsou"]),
    "ro": frozenset(["și", "de", "la", "în", "un", "o", "cu", "este", "care", "pe", "nu"]),
}

# Bullet marks a line may start with (after leading whitespace).
BULLETS = ("•", "‣", "⁃", "◦", "●", "○", "▪", "■", "□", "►", "▶", "➢", "✓", "-", "*", "·")
ELLIPSES = ("...", "…")
_PUNCTUATION = "\"'“”‘’«»„‚.,;:!?()[]{}<>-–—…/\\|*#"
# FineWeb's reading: its bullets, and the characters a word made only of is not counted
# (datatrove's punctuation set: ASCII punctuation, control characters and the marks listed in
# data/fineweb_punctuation.txt).
FINEWEB_BULLETS = ("•", "-")


def _fineweb_punctuation() -> frozenset[str]:
    listed = (resources.files("filters") / "data" / "fineweb_punctuation.txt").read_text("utf-8")
    marks = {line for line in listed.split("\n") if line and not line.startswith("# ")}
    controls = {chr(c) for c in (*range(0, 9), *range(11, 32), *range(127, 160))}
    return frozenset(string.punctuation) | controls | marks


FINEWEB_PUNCTUATION = _fineweb_punctuation()


@dataclass(frozen=True)
class QualityFilter(Filter):
    """Outliers in length, symbols, bullets, ellipses, alphabetic words and stop words."""

    name: ClassVar[str] = "quality"
    signals: ClassVar[tuple[str, ...]] = (
        "words",
        "mean_word_length",
        "hash_to_word_ratio",
        "ellipsis_to_word_ratio",
        "bullet_lines_frac",
        "ellipsis_lines_frac",
        "alpha_words_frac",
        "stop_words",
    )
    reasons: ClassVar[tuple[str, ...]] = (
        "too_few_words",
        "too_many_words",
        "mean_word_length_too_short",
        "mean_word_length_too_long",
        "hash_to_word_ratio_too_high",
        "ellipsis_to_word_ratio_too_high",
        "bullet_lines_frac_too_high",
        "ellipsis_lines_frac_too_high",
        "alpha_words_frac_too_low",
        "too_few_stop_words",
    )

    # Gopher App. A.1.1 values (RefinedWeb §3.2 adopts them).
    min_words: int = 50
    max_words: int = 100_000
    min_mean_word_length: float = 3.0
    max_mean_word_length: float = 10.0
    max_hash_to_word_ratio: float = 0.1
    max_ellipsis_to_word_ratio: float = 0.1
    max_bullet_lines_frac: float = 0.9
    max_ellipsis_lines_frac: float = 0.3
    min_alpha_words_frac: float = 0.8
    min_stop_words: int = 2
    stop_words: dict[str, frozenset[str]] = field(default_factory=lambda: dict(STOP_WORDS))
    # "paper" (Gopher's words) or "fineweb" (datatrove's code): filters/reading.py.
    reading: str | Reading = "paper"
    _reading: Reading = field(default=PAPER, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A config file gives plain lists; membership tests want sets of lower-case words.
        normalised = {
            lang: frozenset(w.lower() for w in ws) for lang, ws in self.stop_words.items()
        }
        object.__setattr__(self, "stop_words", normalised)
        object.__setattr__(self, "_reading", resolve(self.name, self.reading))

    def score(self, doc: Document) -> dict[str, float]:
        text, reading = doc.text, self._reading
        words = split_english_words(text) if reading.english_words else split_words(text)
        n_words = len(words)
        if reading.raw_lines:
            lines = text.splitlines()
            starts = map(str.lstrip, lines)
            ends = map(str.rstrip, lines)
        else:
            starts = ends = lines = split_lines(text)
        n_lines = max(len(lines), 1)
        denominator = max(n_words, 1)
        # Loops over words and lines as maps of str methods (they run in C).
        if reading.punctuation_free_words:
            stripped = words
            content_words = [w for w in words if not FINEWEB_PUNCTUATION.issuperset(w)]
            counted = len(content_words)
        else:
            stripped = list(map(str.strip, words, itertools.repeat(_PUNCTUATION)))
            content_words = list(filter(None, stripped))
            counted = n_words
        language = doc.language.split("_")[0]
        if language in UNSPACED_LANGUAGES or not content_words:
            mean_length = math.nan  # characters are words there: the length rule does not apply
        else:
            mean_length = sum(map(len, content_words)) / len(content_words)
        stop_list = self.stop_words.get(language)
        if stop_list is None:
            stop_count = math.nan  # no stop-word list for this language: rule not applied
        elif reading.exact_stop_words:
            stop_count = float(len(stop_list.intersection(words)))
        else:
            # Gopher: "at least two of the following English words": distinct words of the list.
            stop_count = float(len(stop_list.intersection(map(str.lower, stripped))))
        if reading.english_words:
            alphabetic = sum(1 for word in words if any(map(str.isalpha, word)))
        else:
            alphabetic = alphabetic_words(text)
        bullets = FINEWEB_BULLETS if reading.two_bullets else BULLETS
        return {
            "words": float(counted),
            "mean_word_length": mean_length,
            "hash_to_word_ratio": text.count("#") / denominator,
            "ellipsis_to_word_ratio": sum(text.count(e) for e in ELLIPSES) / denominator,
            "bullet_lines_frac": sum(map(str.startswith, starts, itertools.repeat(bullets)))
            / n_lines,
            "ellipsis_lines_frac": sum(map(str.endswith, ends, itertools.repeat(ELLIPSES)))
            / n_lines,
            "alpha_words_frac": alphabetic / denominator,
            "stop_words": stop_count,
        }

    def _failures(self, scores: dict[str, float]) -> Iterator[str]:
        """The reasons of the rules the scores fail, in order (NaN compares False: skipped)."""
        if scores["words"] < self.min_words:
            yield "too_few_words"
        if scores["words"] > self.max_words:
            yield "too_many_words"
        mean_length = scores["mean_word_length"]
        if mean_length < self.min_mean_word_length:
            yield "mean_word_length_too_short"
        if mean_length > self.max_mean_word_length:
            yield "mean_word_length_too_long"
        if scores["hash_to_word_ratio"] > self.max_hash_to_word_ratio:
            yield "hash_to_word_ratio_too_high"
        if scores["ellipsis_to_word_ratio"] > self.max_ellipsis_to_word_ratio:
            yield "ellipsis_to_word_ratio_too_high"
        if scores["bullet_lines_frac"] > self.max_bullet_lines_frac:
            yield "bullet_lines_frac_too_high"
        if scores["ellipsis_lines_frac"] > self.max_ellipsis_lines_frac:
            yield "ellipsis_lines_frac_too_high"
        if scores["alpha_words_frac"] < self.min_alpha_words_frac:
            yield "alpha_words_frac_too_low"
        if scores["stop_words"] < self.min_stop_words:
            yield "too_few_stop_words"

    def failures(self, scores: dict[str, float]) -> list[str]:
        """Every rule's reason the scores fail, in the order `keep` checks them."""
        return list(self._failures(scores))

    def keep(self, scores: dict[str, float]) -> Verdict:
        for reason in self._failures(scores):
            return drop(reason)
        return KEEP
