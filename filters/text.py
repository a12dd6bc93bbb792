"""Word and line splitting shared by the filters, aware of scripts written without spaces."""

from __future__ import annotations

import re

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
