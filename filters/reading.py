"""Two readings of the Gopher rules: the paper's words, and FineWeb's code (datatrove 0.10.1).

Gopher (Rae et al. 2021, App. A) leaves open what a word, a line and a character count are.
`repetition` and `quality` take `reading: paper | fineweb`; each field below is one point where
the two readings part, so a difference between them can be traced to one choice
(bench/parity.py groups its disagreements with datatrove that way). docs/recipes.md, section
"Gopher rules: the paper's reading and FineWeb's", gives the paper's sentence for each.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Reading:
    """Each field: True where FineWeb's code is followed, False for the paper's reading."""

    # Words are what spaCy's English tokenizer splits (punctuation marks are words of their
    # own), not whitespace-separated words. Both filters.
    english_words: bool = False
    # Lines as FineWeb splits them: repetition on runs of "\n" (unstripped, an empty first or
    # last line included), quality with str.splitlines (blank lines counted); not the
    # non-blank lines, stripped.
    raw_lines: bool = False
    # Repetition: paragraphs split on "\n\n" runs of the stripped text only (a line of spaces
    # between them does not separate), not at every blank line.
    raw_paragraphs: bool = False
    # Repetition: character fractions over len(text) (spaces and newlines included), not over
    # the characters of the lines, paragraphs or words themselves.
    text_denominator: bool = False
    # Repetition: the top n-gram's characters include the spaces between its words, it counts
    # even when it occurs once, and a tie goes to the n-gram seen first.
    top_ngram_as_joined: bool = False
    # Repetition: duplicate n-grams found left to right, the first copy uncounted and the scan
    # jumping past each repeat; not every character covered by an n-gram occurring twice.
    dup_ngrams_after_first: bool = False
    # Quality: the word count and mean word length leave out words made of punctuation only
    # (and count them whole); not all words, each stripped of surrounding punctuation.
    punctuation_free_words: bool = False
    # Quality: bullets are "•" and "-" only.
    two_bullets: bool = False
    # Quality: a stop word is one of the list exactly as written (lower case, its own word);
    # not compared case-insensitively after surrounding punctuation is stripped.
    exact_stop_words: bool = False

    @classmethod
    def aspects(cls) -> tuple[str, ...]:
        """The names of the points where readings part."""
        return tuple(f.name for f in fields(cls))


PAPER = Reading()
FINEWEB = Reading(**dict.fromkeys(Reading.aspects(), True))
READINGS: dict[str, Reading] = {"paper": PAPER, "fineweb": FINEWEB}


def resolve(section: str, reading: str | Reading) -> Reading:
    """The Reading a filter's `reading` setting names (a Reading passes as it is)."""
    if isinstance(reading, Reading):
        return reading
    if reading not in READINGS:
        known = ", ".join(READINGS)
        raise ValueError(f"{section}.reading must be one of {known}, not {reading!r}")
    return READINGS[reading]
