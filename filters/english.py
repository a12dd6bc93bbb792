"""Sentences and words of English text as FineWeb's filters count them (no Beam here).

datatrove 0.10.1, whose C4 and FineWeb filters the `fineweb` recipe follows, splits English
(`eng`) with spaCy's rule-based English tokenizer and its sentencizer: no trained model and no
data file, so nothing is downloaded; the tokenizer's rules ship in the spaCy wheel. We use the
same tokenizer and count sentences with the sentencizer's rule ourselves:

- a sentence ends at a token that is one of the sentencizer's sentence-final characters
  ("." "!" "?" "。" and the other scripts' ones) and the punctuation tokens right after it;
- the next token that is neither starts the next sentence (whitespace tokens count as such).

So "Dr. Smith went home. He slept." is two sentences ("Dr." is one token, an exception of the
English tokenizer) and "It was late...  Then" two as well ("..." is no sentence end, but the
"." of "late." would be).
"""

from __future__ import annotations

import functools
import re
import unicodedata

# spaCy keeps a lexeme (~190 bytes) for every distinct token it has seen, which is what makes
# it fast on text like the text before (on the corpus, 3x faster than forgetting them after
# each document with its memory zones). Past this many the splitter starts a fresh tokenizer
# (~60 ms), so a worker's memory stays bounded (~40 MB) over any run. The rules, and so the
# tokens, do not depend on what was seen before.
MAX_LEXEMES = 200_000


@functools.cache
def _sentence_ends() -> tuple[frozenset[str], re.Pattern]:
    """The sentencizer's sentence-final characters, and a pattern finding one."""
    from spacy.pipeline import Sentencizer

    ends = frozenset(Sentencizer.default_punct_chars)
    return ends, re.compile("[" + "".join(re.escape(c) for c in sorted(ends)) + "]")


def _punctuation_tail(text: str) -> int:
    """Where the run of punctuation characters (Unicode P*) ending `text` starts."""
    stop = len(text)
    while stop and unicodedata.category(text[stop - 1])[0] == "P":
        stop -= 1
    return stop


def _english():
    """spaCy's blank English pipeline: its tokenizer, no model."""
    from spacy.lang.en import English

    return English()


class EnglishSplitter:
    """Sentence and word counts of English text, with spaCy's English tokenizer."""

    def __init__(self) -> None:
        self._sentence_ends, self._end_pattern = _sentence_ends()
        self._renew()

    def _renew(self) -> None:
        self._nlp = _english()
        self._tokenizer = self._nlp.tokenizer

    def _tokens(self, text: str):
        tokens = self._tokenizer(text)
        if len(self._nlp.vocab) > MAX_LEXEMES:
            self._renew()  # `tokens` keeps the old vocabulary alive while it is read
        return tokens

    def sentences(self, text: str) -> int:
        """Sentences in `text` (1 for text without tokens, as datatrove's splitter returns the
        text itself as one part)."""
        # Without a sentence-final character before its closing punctuation the text is one
        # sentence: a sentence ends only at a sentence-final token followed by a token that is
        # neither punctuation nor sentence-final, and what follows such a token there is the
        # closing punctuation (no whitespace). Most one-sentence lines need no tokenizing.
        if not self._end_pattern.search(text, 0, _punctuation_tail(text)):
            return 1
        ends = self._sentence_ends
        count, seen_end = 1, False
        for token in self._tokens(text):
            is_end = token.text in ends
            if seen_end and not is_end and not token.is_punct:
                count += 1
                seen_end = False
            elif is_end:
                seen_end = True
        return count

    def words(self, text: str) -> int:
        """Tokens of `text` that are not whitespace (datatrove's English word split)."""
        return sum(1 for token in self._tokens(text) if token.text.strip())
