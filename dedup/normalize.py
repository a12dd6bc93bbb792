"""RefinedWeb's text normalisation before dedup (App. G.3.1): lowercase, no punctuation,
NFD with accents dropped, whitespace collapsed."""

from __future__ import annotations

import unicodedata


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


def fold(text: str) -> str:
    """Accents dropped, lowercase, punctuation and symbols as spaces; whitespace left as is."""
    return unicodedata.normalize("NFD", text).lower().translate(_TABLE)


def normalize(text: str) -> str:
    """The normalised form MinHash and exact-document dedup compare."""
    return " ".join(fold(text).split())
