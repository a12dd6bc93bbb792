"""Gopher (MassiveWeb) repetition removal, RefinedWeb §3.2 / spec §1.5."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from core.document import Document
from core.text import split_english_words, split_lines, split_paragraphs, split_words
from filters.base import KEEP, Filter, Verdict, drop
from filters.reading import PAPER, Reading, resolve

# Odd 64-bit multiplier for the rolling n-gram hash (wraps modulo 2^64 on purpose).
_MIX = np.uint64(0x9E3779B97F4A7C15)

TOP_NGRAM_SIZES = (2, 3, 4)
DUP_NGRAM_SIZES = (5, 6, 7, 8, 9, 10)

# FineWeb's splitting (reading.raw_lines / raw_paragraphs).
_LINE_RUNS = re.compile("\n+")
_PARAGRAPH_RUNS = re.compile("\n{2,}")


def _duplicate_fractions(items: list[str], denominator: int | None = None) -> tuple[float, float]:
    """(share of items that repeat an earlier one, share of characters in those repeats).

    Characters are over the items' own characters, or over `denominator` when given.
    """
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
    if denominator is not None:
        total_chars = denominator
    return dup_items / len(items), dup_chars / max(total_chars, 1)


def ngram_char_fractions(
    words: list[str], reading: Reading = PAPER, text_chars: int | None = None
) -> dict[int, float]:
    """Gopher's n-gram character fractions for one document.

    n in TOP_NGRAM_SIZES: characters of the most frequent n-gram times its count (only when it
    repeats). n in DUP_NGRAM_SIZES: characters of words covered by any n-gram occurring at least
    twice, each character counted once however many repeats overlap it. Characters are those of
    the words themselves (whitespace excluded) over all words' characters.

    FineWeb's reading (`reading`), where asked: over `text_chars` characters; the top n-gram
    with the spaces between its words, counted even when it occurs once, a tie going to the
    n-gram seen first; duplicate n-grams found by a left-to-right scan that leaves each first
    copy uncounted and jumps past every repeat it counts.
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
    total_chars = (int(prefix[-1]) if text_chars is None else text_chars) or 1
    joined = reading.top_ngram_as_joined
    if len(vocabulary) == n_words:  # every word distinct: nothing can repeat
        if joined:  # ... but the first n-gram is the top one, occurring once
            for n in TOP_NGRAM_SIZES:
                if n_words >= n:
                    fractions[n] = (int(prefix[n]) + n - 1) / total_chars
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
            if joined:
                # Of the most frequent n-grams, the one whose first occurrence comes first.
                tied = ordered[firsts[counts == counts[top]]]
                start = int(np.argmax(np.isin(hashes, tied)))
                ngram_chars = int(prefix[start + n] - prefix[start]) + n - 1
                fractions[n] = ngram_chars * int(counts[top]) / total_chars
            elif counts[top] > 1:
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
            if reading.dup_ngrams_after_first:
                # Up to the first n-gram seen before, the scan only remembers n-grams.
                first = _first_repeat(hashes)
                seen = hashes[:first].tolist()
                rest = hashes[first:].tolist()
                repeats = _scanned_repeats(set(seen), rest, prefix[first:].tolist(), n)
                fractions[n] = repeats / total_chars
                continue
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


def _first_repeat(hashes: np.ndarray) -> int:
    """The first position whose hash occurred earlier (there is one)."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    return int(order[1:][ordered[1:] == ordered[:-1]].min())


def _scanned_repeats(seen: set[int], hashes: list[int], prefix: list[int], n: int) -> int:
    """Characters of repeated n-grams met left to right: an n-gram seen before counts and the
    scan jumps past it; otherwise it is remembered and the scan moves one word on. `prefix`
    holds the words' cumulative lengths from the first of `hashes`."""
    repeated = start = 0
    while start < len(hashes):
        if hashes[start] in seen:
            repeated += prefix[start + n] - prefix[start]
            start += n
        else:
            seen.add(hashes[start])
            start += 1
    return repeated


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
    # "paper" (Gopher's words) or "fineweb" (datatrove's code): filters/reading.py.
    reading: str | Reading = "paper"
    _reading: Reading = field(default=PAPER, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_reading", resolve(self.name, self.reading))

    def score(self, doc: Document) -> dict[str, float]:
        text, reading = doc.text, self._reading
        if reading.raw_paragraphs:
            paragraphs = _PARAGRAPH_RUNS.split(text.strip())
        else:
            paragraphs = split_paragraphs(text)
        lines = _LINE_RUNS.split(text) if reading.raw_lines else split_lines(text)
        text_chars = len(text) if reading.text_denominator else None
        para_frac, para_char_frac = _duplicate_fractions(paragraphs, text_chars)
        line_frac, line_char_frac = _duplicate_fractions(lines, text_chars)
        scores = {
            "dup_para_frac": para_frac,
            "dup_para_char_frac": para_char_frac,
            "dup_line_frac": line_frac,
            "dup_line_char_frac": line_char_frac,
        }
        words = split_english_words(text) if reading.english_words else split_words(text)
        fractions = ngram_char_fractions(words, reading, text_chars)
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

    def failures(self, scores: dict[str, float]) -> list[str]:
        """Every rule's reason the scores fail, in the order `keep` checks them."""
        return [f"{signal}_too_high" for signal, limit in self._limits() if scores[signal] > limit]

    def keep(self, scores: dict[str, float]) -> Verdict:
        for signal, limit in self._limits():
            if scores[signal] > limit:
                return drop(f"{signal}_too_high")
        return KEEP
