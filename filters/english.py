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

import contextlib
import functools


@functools.cache
def _english():
    """spaCy's blank English pipeline (tokenizer only) and the sentence-final characters."""
    from spacy.lang.en import English
    from spacy.pipeline import Sentencizer

    return English(), frozenset(Sentencizer.default_punct_chars)


class EnglishSplitter:
    """Sentence and word counts of English text, with spaCy's English tokenizer."""

    def __init__(self) -> None:
        self._nlp, self._sentence_ends = _english()
        self._tokenizer = self._nlp.tokenizer

    def zone(self) -> contextlib.AbstractContextManager:
        """A scope whose token strings spaCy forgets at its end (memory stays flat over a run);
        wrap the work on one document in it."""
        return self._nlp.memory_zone()

    def sentences(self, text: str) -> int:
        """Sentences in `text` (1 for text without tokens, as datatrove's splitter returns the
        text itself as one part)."""
        ends = self._sentence_ends
        count, seen_end = 1, False
        for token in self._tokenizer(text):
            is_end = token.text in ends
            if seen_end and not is_end and not token.is_punct:
                count += 1
                seen_end = False
            elif is_end:
                seen_end = True
        return count

    def words(self, text: str) -> int:
        """Tokens of `text` that are not whitespace (datatrove's English word split)."""
        return sum(1 for token in self._tokenizer(text) if token.text.strip())
