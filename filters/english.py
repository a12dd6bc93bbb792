"""Sentences and words of English text as FineWeb's filters count them (no Beam here).

datatrove 0.10.1, whose C4 and FineWeb filters the `fineweb` recipe follows, splits English
(`eng`) with spaCy's rule-based English tokenizer and its sentencizer. The tokens here are
`core.text.split_english_tokens`, which follows that tokenizer's rules (whitespace tokens
included), and sentences are counted with the sentencizer's rule:

- a sentence ends at a token that is one of the sentencizer's sentence-final characters
  ("." "!" "?" "。" and the other scripts' ones, data/sentence_ends.txt) and the punctuation
  tokens right after it;
- the next token that is neither starts the next sentence (whitespace tokens count as such).

So "Dr. Smith went home. He slept." is two sentences ("Dr." is one token, an exception of the
English tokenizer) and "It was late...  Then" two as well ("..." is no sentence end, but the
"." of "late." would be).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources

from core.text import split_english_tokens, split_english_words


@functools.cache
def sentence_ends() -> frozenset[str]:
    """The sentencizer's sentence-final characters."""
    listed = (resources.files("filters") / "data" / "sentence_ends.txt").read_text("utf-8")
    return frozenset(line for line in listed.split("\n") if line and not line.startswith("# "))


@functools.cache
def _end_pattern() -> re.Pattern:
    """A pattern finding a sentence-final character."""
    return re.compile("[" + "".join(re.escape(c) for c in sorted(sentence_ends())) + "]")


def _punctuation_tail(text: str) -> int:
    """Where the run of punctuation characters (Unicode P*) ending `text` starts."""
    stop = len(text)
    while stop and unicodedata.category(text[stop - 1])[0] == "P":
        stop -= 1
    return stop


def is_punct(token: str) -> bool:
    """spaCy's `is_punct`: every character is punctuation (Unicode category P*)."""
    return all(unicodedata.category(char)[0] == "P" for char in token)


def count_sentences(text: str) -> int:
    """Sentences in `text` (1 for text without tokens, as datatrove's splitter returns the text
    itself as one part)."""
    # Without a sentence-final character before its closing punctuation the text is one
    # sentence: a sentence ends only at a sentence-final token followed by a token that is
    # neither punctuation nor sentence-final, and what follows such a token there is the
    # closing punctuation (no whitespace). Most one-sentence lines need no tokenizing.
    if not _end_pattern().search(text, 0, _punctuation_tail(text)):
        return 1
    ends = sentence_ends()
    count, seen_end = 1, False
    for token in split_english_tokens(text):
        if token in ends:
            seen_end = True
        elif seen_end and not is_punct(token):
            count += 1
            seen_end = False
    return count


def count_words(text: str) -> int:
    """Tokens of `text` that are not whitespace (datatrove's English word split)."""
    return len(split_english_words(text))
