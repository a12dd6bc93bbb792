"""Gopher (MassiveWeb) repetition removal, RefinedWeb §3.2 / spec §1.5."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from core.document import Document
from core.text import split_lines, split_paragraphs, split_words
from filters.base import KEEP, Filter, Verdict, drop

# Odd 64-bit multiplier for the rolling n-gram hash (wraps modulo 2^64 on purpose).
_MIX = np.uint64(0x9E3779B97F4A7C15)

TOP_NGRAM_SIZES = (2, 3, 4)
DUP_NGRAM_SIZES = (5, 6, 7, 8, 9, 10)


def _duplicate_fractions(items: list[str]) -> tuple[float, float]:
    """(share of items that repeat an earlier one, share of characters in those repeats)."""
    if not items:
        return 0.0, 0.0
    seen: set[str] = set()
    dup_items = dup_chars = total_chars = 0
    for item in items:
        total_chars += len(item)
        if item in seen:
            dup_items += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup_items / len(items), dup_chars / max(total_chars, 1)


def ngram_char_fractions(words: list[str]) -> dict[int, float]:
    """Gopher's n-gram character fractions for one document.

    n in TOP_NGRAM_SIZES: characters of the most frequent n-gram times its count (only when it
    repeats). n in DUP_NGRAM_SIZES: characters of words covered by any n-gram occurring at least
    twice, each character counted once however many repeats overlap it. Characters are those of
    the words themselves (whitespace excluded) over all words' characters.
    """
    fractions = dict.fromkeys(TOP_NGRAM_SIZES + DUP_NGRAM_SIZES, 0.0)
    n_words = len(words)
    if n_words < 2:
        return fractions
    # Each word's id: the position of its first occurrence (map and setdefault run in C).
    vocabulary: dict[str, int] = {}
    ids = np.fromiter(
        map(vocabulary.setdefault, words, itertools.count()), dtype=np.uint64, count=n_words
    )
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=n_words)
    prefix = np.concatenate(([0], np.cumsum(lengths)))
    total_chars = int(prefix[-1]) or 1
    if len(vocabulary) == n_words:  # every word distinct: nothing can repeat
        return fractions

    hashes = ids + np.uint64(1)
    for n in range(2, max(DUP_NGRAM_SIZES) + 1):
        if n_words < n:
            break
        # Hash of words[i:i+n] from the hash of words[i:i+n-1] and the next word's id.
        hashes = hashes[:-1] * _MIX + ids[n - 1 :] + np.uint64(1)
        if n in TOP_NGRAM_SIZES:
            # The most frequent n-gram; of equally frequent ones, the smallest hash (the one
            # np.unique's counts would name first), found in a sorted copy.
            ordered = np.sort(hashes)
            firsts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
            counts = np.diff(np.append(firsts, len(ordered)))
            top = int(np.argmax(counts))
            if counts[top] > 1:
                start = int(np.argmax(hashes == ordered[firsts[top]]))
                ngram_chars = int(prefix[start + n] - prefix[start])
                fractions[n] = ngram_chars * int(counts[top]) / total_chars
        else:
            # Starts whose n-gram occurs again: equal neighbours once the hashes are sorted.
            order = np.argsort(hashes)
            ordered = hashes[order]
            same = ordered[1:] == ordered[:-1]
            if not same.any():
                break  # no repeated n-gram means no repeated longer n-gram either
            repeated = np.zeros(len(hashes), dtype=bool)
            repeated[order[1:][same]] = True
            repeated[order[:-1][same]] = True
            repeated_starts = np.flatnonzero(repeated)
            # Starts are distinct, so plain indexing adds one to each (np.add.at not needed).
            cover = np.zeros(n_words + 1, dtype=np.int64)
            cover[repeated_starts] += 1
            cover[repeated_starts + n] -= 1
            covered = np.cumsum(cover[:-1]) > 0
            fractions[n] = int(lengths[covered].sum()) / total_chars
    return fractions


@dataclass(frozen=True)
class RepetitionFilter(Filter):
    """Drop documents with repeated lines, paragraphs or n-grams (Gopher Table A1 thresholds)."""

    name: ClassVar[str] = "repetition"
    signals: ClassVar[tuple[str, ...]] = (
        "dup_para_frac",
        "dup_para_char_frac",
        "dup_line_frac",
        "dup_line_char_frac",
        *(f"top_{n}gram_char_frac" for n in TOP_NGRAM_SIZES),
        *(f"dup_{n}gram_char_frac" for n in DUP_NGRAM_SIZES),
    )
    reasons: ClassVar[tuple[str, ...]] = tuple(f"{s}_too_high" for s in signals)

    # Gopher Table A1 (Rae et al. 2021, App. A.1.1), as adopted by RefinedWeb §3.2.
    dup_para_frac: float = 0.30
    dup_para_char_frac: float = 0.20
    dup_line_frac: float = 0.30
    dup_line_char_frac: float = 0.20
    top_ngram_char_frac: dict[int, float] = field(
        default_factory=lambda: {2: 0.20, 3: 0.18, 4: 0.16}
    )
    dup_ngram_char_frac: dict[int, float] = field(
        default_factory=lambda: {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
    )

    def score(self, doc: Document) -> dict[str, float]:
        para_frac, para_char_frac = _duplicate_fractions(split_paragraphs(doc.text))
        line_frac, line_char_frac = _duplicate_fractions(split_lines(doc.text))
        scores = {
            "dup_para_frac": para_frac,
            "dup_para_char_frac": para_char_frac,
            "dup_line_frac": line_frac,
            "dup_line_char_frac": line_char_frac,
        }
        fractions = ngram_char_fractions(split_words(doc.text))
        for n in TOP_NGRAM_SIZES:
            scores[f"top_{n}gram_char_frac"] = fractions[n]
        for n in DUP_NGRAM_SIZES:
            scores[f"dup_{n}gram_char_frac"] = fractions[n]
        return scores

    def _limits(self) -> list[tuple[str, float]]:
        limits = [
            ("dup_para_frac", self.dup_para_frac),
            ("dup_para_char_frac", self.dup_para_char_frac),
            ("dup_line_frac", self.dup_line_frac),
            ("dup_line_char_frac", self.dup_line_char_frac),
        ]
        limits += [(f"top_{n}gram_char_frac", v) for n, v in self.top_ngram_char_frac.items()]
        limits += [(f"dup_{n}gram_char_frac", v) for n, v in self.dup_ngram_char_frac.items()]
        return limits

    def keep(self, scores: dict[str, float]) -> Verdict:
        for signal, limit in self._limits():
            if scores[signal] > limit:
                return drop(f"{signal}_too_high")
        return KEEP
