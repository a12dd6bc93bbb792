"""Word n-gram shingles of normalised text as 64-bit hashes (numpy)."""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from itertools import chain

import numpy as np

from core.text import has_unspaced, split_words
from dedup.normalize import fold, normalize

MASK64 = (1 << 64) - 1
# Odd 64-bit multipliers, one per n-gram position (digits of pi and e; any odd constants do).
POSITIONS = np.array(
    [
        0x243F6A8885A308D3,
        0x13198A2E03707345,
        0xA4093822299F31D1,
        0x082EFA98EC4E6C89,
        0x452821E638D01377,
        0xBE5466CF34E90C6D,
        0xC0AC29B7C97C50DD,
        0x3F84D5B5B5470917,
        0x9216D5D98979FB1B,
        0xB7E151628AED2A6B,
        0xBF7158809CF4F3C7,
        0x62E7160F38B4DA57,
        0xA784D9045190CFEF,
        0x324E7738926CFBE5,
        0xF4BF8D8D8C31D763,
        0xDA06C80ABB1185EB,
    ],
    dtype=np.uint64,
)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit affects every output bit."""
    x = x.astype(np.uint64, copy=True)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def word_hash(word: str) -> int:
    """A stable 64-bit hash of one word (the same on every worker and run)."""
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def combine(columns: np.ndarray) -> np.ndarray:
    """Hash rows of 64-bit values (shape (..., n)) into one 64-bit value each."""
    n = columns.shape[-1]
    if n > len(POSITIONS):
        raise ValueError(f"at most {len(POSITIONS)} values per row, got {n}")
    # One whole-column multiply-add per position: a sum over a short last axis is several
    # times slower in numpy.
    acc = columns[..., 0] * POSITIONS[0]
    with np.errstate(over="ignore"):
        for i in range(1, n):
            acc += columns[..., i] * POSITIONS[i]
    return mix64(acc)


def token_words(tokens: list[str]) -> list[list[str]]:
    """The normalised words of each raw (whitespace-free) token.

    A token's words never depend on the tokens folded with it: no normalisation step looks
    across a line break, and the regex split agrees with str.split on text it needs no regex
    for (tests/dedup/test_shingles.py).
    """
    if not tokens:
        return []
    # One pass over all tokens, one per line (a line break survives `fold`).
    folded = fold("\n".join(tokens))
    # Whitespace splitting at C speed unless a script without spaces needs the regex.
    split = split_words if has_unspaced(folded) else str.split
    return list(map(split, folded.split("\n")))


@functools.cache
def fold_table() -> tuple[np.ndarray, bytes]:
    """Per character of the BMP, `fold` of it alone, where that is its part of `fold` of any token.

    fold is NFD, then lower(), then a per-character table. NFD decomposes characters one by one
    and then reorders each run of combining marks; lower() maps characters one by one except
    the capital sigma, which looks at its neighbours. So fold of a token is the concatenation
    of fold of its characters when no character decomposes to a capital sigma and every
    combining mark of the decompositions is dropped (their order then does not matter).

    Returns (folded, unspaced) for the compiled token cache: folded[c] packs up to 3 code
    points + 1 in 21-bit fields (0: fold drops c), with the top bit set where c does not
    qualify (and stays with fold in Python); unspaced is a bitset of the characters that
    split_words makes a word of their own. About 0.1 s, once per process.
    """
    folded = np.full(0x10000, 1 << 63, dtype=np.uint64)
    unspaced = np.zeros(0x10000, dtype=bool)
    for code in range(0x10000):
        char = chr(code)
        unspaced[code] = has_unspaced(char)
        if char.isspace() or unicodedata.category(char) == "Cs":  # never in a token; no UTF-8
            continue
        parts = unicodedata.normalize("NFD", char)
        if "\u03a3" in parts or any(unicodedata.combining(p) and fold(p) for p in parts):
            continue
        out = fold(char)
        if len(out) <= 3:
            folded[code] = sum((ord(c) + 1) << (21 * i) for i, c in enumerate(out))
    return folded, np.packbits(unspaced, bitorder="little").tobytes()


def word_hashes(text: str, cache: dict | None = None) -> np.ndarray:
    """64-bit hashes of the normalised words of `text`, in order.

    Normalisation never moves a character across whitespace, so it runs once per distinct raw
    token (the cache maps token -> its words' hashes) and the text is looked up at C speed.
    """
    cache = {} if cache is None else cache
    tokens = text.split()
    new = list(set(tokens).difference(cache))
    if new:
        words_of = token_words(new)
        hashes = {word: word_hash(word) for word in set(chain.from_iterable(words_of))}
        lookup = hashes.__getitem__
        cache.update(zip(new, (tuple(map(lookup, words)) for words in words_of), strict=True))
    return np.fromiter(chain.from_iterable(map(cache.__getitem__, tokens)), dtype=np.uint64)


def ngram_hashes(ids: np.ndarray, ngram: int = 5) -> np.ndarray:
    """Sorted unique hashes of the n-grams of word hashes; fewer than n words are one shingle."""
    if not len(ids):
        return np.empty(0, dtype=np.uint64)
    if len(ids) < ngram:
        return combine(ids[None, :])
    values = np.sort(combine(np.lib.stride_tricks.sliding_window_view(ids, ngram)))
    # Sort, then drop repeats: np.unique's hashing path is ~10x slower on 64-bit integers.
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def shingle_hashes(text: str, ngram: int = 5, cache: dict | None = None) -> np.ndarray:
    """Hashes of the unique word n-grams of `text` after RefinedWeb normalisation."""
    return ngram_hashes(word_hashes(text, cache), ngram)


def shingle_set(text: str, ngram: int = 5) -> set[tuple[str, ...]]:
    """The n-grams themselves (for audits and tests: true Jaccard without hashing)."""
    words = split_words(normalize(text))
    if len(words) < ngram:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + ngram]) for i in range(len(words) - ngram + 1)}


def jaccard(a: set | np.ndarray, b: set | np.ndarray) -> float:
    """|a ∩ b| / |a ∪ b| of two shingle sets (1.0 for two empty sets)."""
    if isinstance(a, np.ndarray):
        a, b = set(a.tolist()), set(b.tolist())
    union = len(a | b)
    return 1.0 if not union else len(a & b) / union
