"""RefinedWeb's text normalisation before dedup (App. G.3.1): lowercase, no punctuation,
NFD with accents dropped, whitespace collapsed."""

from __future__ import annotations

import functools
import unicodedata

import numpy as np


class _Table(dict):
    """str.translate table filled lazily: combining marks vanish, punctuation becomes a space."""

    def __missing__(self, codepoint: int):
        category = unicodedata.category(chr(codepoint))
        if category == "Mn":  # accents left over by NFD
            value = None
        # choice: symbols (S*) go with punctuation (P*); they carry no words. A space, not
        # nothing, so "word/word" and "a—b" stay two words.
        elif category[0] in "PS":
            value = " "
        else:
            value = codepoint
        self[codepoint] = value
        return value


_TABLE = _Table()


@functools.cache
def _bmp_table() -> np.ndarray:
    """_TABLE for every character of the Basic Multilingual Plane: a code point, or -1 (none)."""
    table = np.arange(0x10000, dtype=np.int32)
    for codepoint in range(0x10000):
        value = _TABLE[codepoint]
        if value != codepoint:
            table[codepoint] = -1 if value is None else ord(value)
    return table


def fold(text: str) -> str:
    """Accents dropped, lowercase, punctuation and symbols as spaces; whitespace left as is."""
    lowered = unicodedata.normalize("NFD", text).lower()
    try:
        codes = np.frombuffer(lowered.encode("utf-32-le"), dtype=np.uint32)
    except UnicodeEncodeError:  # a lone surrogate: str.translate takes anything
        return lowered.translate(_TABLE)
    if len(codes) and codes.max() >= 0x10000:  # beyond the table (emoji, rare scripts)
        return lowered.translate(_TABLE)
    # The table lookup in numpy: str.translate does a dictionary lookup per character,
    # about 4x slower on a page of text.
    mapped = _bmp_table()[codes]
    return mapped[mapped >= 0].astype(np.uint32).tobytes().decode("utf-32-le")


def normalize(text: str) -> str:
    """The normalised form MinHash and exact-document dedup compare."""
    return " ".join(fold(text).split())
