"""Word and line splitting shared by the filters, aware of scripts written without spaces."""

from __future__ import annotations

import functools
import re
import sys
from typing import NamedTuple

import numpy as np

# Scripts written without spaces between words: each character counts as a word, the usual
# approximation when no segmenter is at hand (Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan).
_UNSPACED = (
    "\u0e00-\u0e7f\u0e80-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff"
    "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
)
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_WORDS_WITH_UNSPACED = re.compile(f"[{_UNSPACED}]|[^\\s{_UNSPACED}]+")

# Languages whose text is mostly in those scripts; word-length rules do not apply to them.
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "wuu", "yue"})


def has_unspaced(text: str) -> bool:
    """Whether `text` holds a character of a script written without spaces."""
    return _UNSPACED_CHAR.search(text) is not None


def split_words(text: str) -> list[str]:
    """Whitespace-separated words; characters of unspaced scripts are words of their own."""
    if not has_unspaced(text):
        return text.split()
    return _WORDS_WITH_UNSPACED.findall(text)


def split_lines(text: str) -> list[str]:
    """Non-empty lines, stripped."""
    return [line for line in (raw.strip() for raw in text.split("\n")) if line]


_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def split_paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs (blocks separated by a blank line), stripped."""
    return [p for p in (raw.strip() for raw in _PARAGRAPH_BREAK.split(text)) if p]


class CharacterTables(NamedTuple):
    """Per code point, 1 where the str method is true of that character, else 0."""

    alpha: np.ndarray  # str.isalpha
    upper: np.ndarray  # str.isupper, of letters only
    space: np.ndarray  # str.isspace: where str.split() splits


@functools.cache
def character_tables() -> CharacterTables:
    """The tables, built once per process (~0.5 s): then a whole text is classified in numpy,
    where a loop over its characters, even through str methods mapped in C, costs much more."""
    characters = [chr(code) for code in range(sys.maxunicode + 1)]

    def table(method) -> np.ndarray:
        return np.fromiter(map(method, characters), dtype=np.int32, count=len(characters))

    alpha = table(str.isalpha)
    return CharacterTables(alpha, table(str.isupper) & alpha, table(str.isspace))


def code_points(text: str) -> np.ndarray:
    """The text's characters as code points (lone surrogates included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


def alphabetic_words(text: str) -> int:
    """How many of `split_words(text)` hold a letter (str.isalpha)."""
    if has_unspaced(text):
        return sum(any(map(str.isalpha, word)) for word in split_words(text))
    tables = character_tables()
    codes = code_points(text)
    # Words are the runs of non-space characters: number them, then count the distinct
    # numbers of the letters (in text order, so equal numbers are neighbours).
    space = tables.space[codes].astype(bool)
    starts = ~space
    starts[1:] &= space[:-1]
    word_of_letters = np.cumsum(starts)[tables.alpha[codes].astype(bool)]
    if not word_of_letters.size:
        return 0
    return 1 + int(np.count_nonzero(word_of_letters[1:] != word_of_letters[:-1]))
