"""Gopher document-wise quality filters, RefinedWeb §3.2 / spec §1.6, made language-aware."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import ClassVar

from core.document import Document
from core.text import UNSPACED_LANGUAGES, alphabetic_words, split_lines, split_words
from filters.base import KEEP, Filter, Verdict, drop

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

    def __post_init__(self) -> None:
        # A config file gives plain lists; membership tests want sets of lower-case words.
        normalised = {
            lang: frozenset(w.lower() for w in ws) for lang, ws in self.stop_words.items()
        }
        object.__setattr__(self, "stop_words", normalised)

    def score(self, doc: Document) -> dict[str, float]:
        text = doc.text
        words = split_words(text)
        n_words = len(words)
        lines = split_lines(text)
        n_lines = max(len(lines), 1)
        denominator = max(n_words, 1)
        # Loops over words and lines as maps of str methods (they run in C).
        stripped = list(map(str.strip, words, itertools.repeat(_PUNCTUATION)))
        content_words = list(filter(None, stripped))
        language = doc.language.split("_")[0]
        if language in UNSPACED_LANGUAGES or not content_words:
            mean_length = math.nan  # characters are words there: the length rule does not apply
        else:
            mean_length = sum(map(len, content_words)) / len(content_words)
        stop_list = self.stop_words.get(language)
        if stop_list is None:
            stop_count = math.nan  # no stop-word list for this language: rule not applied
        else:
            stop_count = float(sum(map(stop_list.__contains__, map(str.lower, stripped))))
        return {
            "words": float(n_words),
            "mean_word_length": mean_length,
            "hash_to_word_ratio": text.count("#") / denominator,
            "ellipsis_to_word_ratio": sum(text.count(e) for e in ELLIPSES) / denominator,
            "bullet_lines_frac": sum(map(str.startswith, lines, itertools.repeat(BULLETS)))
            / n_lines,
            "ellipsis_lines_frac": sum(map(str.endswith, lines, itertools.repeat(ELLIPSES)))
            / n_lines,
            "alpha_words_frac": alphabetic_words(text) / denominator,
            "stop_words": stop_count,
        }

    def keep(self, scores: dict[str, float]) -> Verdict:
        if scores["words"] < self.min_words:
            return drop("too_few_words")
        if scores["words"] > self.max_words:
            return drop("too_many_words")
        mean_length = scores["mean_word_length"]
        if mean_length < self.min_mean_word_length:  # NaN compares False: rule skipped
            return drop("mean_word_length_too_short")
        if mean_length > self.max_mean_word_length:
            return drop("mean_word_length_too_long")
        if scores["hash_to_word_ratio"] > self.max_hash_to_word_ratio:
            return drop("hash_to_word_ratio_too_high")
        if scores["ellipsis_to_word_ratio"] > self.max_ellipsis_to_word_ratio:
            return drop("ellipsis_to_word_ratio_too_high")
        if scores["bullet_lines_frac"] > self.max_bullet_lines_frac:
            return drop("bullet_lines_frac_too_high")
        if scores["ellipsis_lines_frac"] > self.max_ellipsis_lines_frac:
            return drop("ellipsis_lines_frac_too_high")
        if scores["alpha_words_frac"] < self.min_alpha_words_frac:
            return drop("alpha_words_frac_too_low")
        if scores["stop_words"] < self.min_stop_words:
            return drop("too_few_stop_words")
        return KEEP
