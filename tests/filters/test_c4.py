"""C4's line rules as FineWeb ran them (stage c4_quality), on real-looking page text."""

from __future__ import annotations

import pytest

from core.document import Document
from filters.base import FIGURES_KEY
from filters.c4 import C4Quality
from filters.english import count_sentences, count_words

ARTICLE = [
    "The river rose three feet overnight after the storm.",
    "Residents on Mill Street were told to leave by noon.",
    "Emergency crews opened a shelter at the high school.",
    "Officials said the water should recede by Friday.",
    "Dr. Alvarez, who runs the clinic, treated two people for minor injuries.",
]


def doc(*lines: str) -> Document:
    return Document(
        id="20240101000000-00000000000000000000", url="https://x.example/", text="\n".join(lines)
    )


@pytest.fixture(scope="module")
def c4() -> C4Quality:
    stage = C4Quality()
    stage.setup()
    return stage


def test_an_article_of_five_sentences_is_kept_as_it_is(c4):
    out, verdict = c4.apply(doc(*ARTICLE))
    assert verdict.keep
    assert out.text == "\n".join(ARTICLE)
    assert out.signals["c4_lines_removed_frac"] == 0.0


def test_boilerplate_lines_go_and_the_rest_is_joined_by_single_newlines(c4):
    text = doc(
        "Home",
        "",
        ARTICLE[0],
        "Please enable JavaScript to view the comments.",
        ARTICLE[1] + "[1]",
        "By using this site you agree to our Terms of Use.",
        "   " + ARTICLE[2] + "   ",
        "x" * 1001 + " is not a word",
        ARTICLE[3] + " [citation needed]",
        "We use cookies to improve your experience.",
        ARTICLE[4],
        "Share",
    )
    out, verdict = c4.apply(text)
    assert verdict.keep
    # Citations are cut (the space before one stays inside the line), lines are stripped.
    assert out.text.split("\n") == [
        ARTICLE[0],
        ARTICLE[1],
        ARTICLE[2],
        ARTICLE[3] + " ",
        ARTICLE[4],
    ]
    figures = out.meta[FIGURES_KEY]
    assert figures["lines"] == 12
    assert figures["lines_removed.too_few_words"] == 3  # "Home", "", "Share"
    assert figures["lines_removed.javascript"] == 1
    assert figures["lines_removed.policy"] == 2
    assert figures["lines_removed.too_long_word"] == 1
    assert out.signals["c4_lines_removed_frac"] == pytest.approx(7 / 12)


def test_lorem_ipsum_or_a_curly_bracket_drops_the_page(c4):
    assert c4.apply(doc(*ARTICLE, "Lorem ipsum dolor sit amet, consectetur."))[1].reason == (
        "lorem_ipsum"
    )
    assert c4.apply(doc(*ARTICLE, "function f() { return 1; }"))[1].reason == "curly_bracket"
    # Only in lines that got that far: a short or javascript line is removed before the check.
    assert c4.apply(doc(*ARTICLE, "{ }"))[1].keep
    assert c4.apply(doc(*ARTICLE, "var x = {javascript: 1};"))[1].keep


def test_fewer_than_five_sentences_drops_the_page(c4):
    assert c4.apply(doc(*ARTICLE[:4]))[1].reason == "too_few_sentences"
    # Two sentences on one line count twice; "Dr." does not end one.
    two = ARTICLE[0] + " " + ARTICLE[1]
    assert c4.apply(doc(two, *ARTICLE[2:4]))[1].reason == "too_few_sentences"
    assert c4.apply(doc(two, *ARTICLE[2:5]))[1].keep


def test_the_terminal_punctuation_rule_is_off_as_in_fineweb_and_available(c4):
    lines = [line.rstrip(".") + " and more" for line in ARTICLE] + ARTICLE
    assert c4.apply(doc(*lines))[0].text.count("\n") == 9
    strict = C4Quality(filter_no_terminal_punct=True)
    out, verdict = strict.apply(doc(*lines, "It went on and on..."))
    assert verdict.keep and out.text == "\n".join(ARTICLE)
    assert out.meta[FIGURES_KEY]["lines_removed.no_terminal_punctuation"] == 6


def test_a_page_whose_every_line_goes_is_dropped_even_without_the_sentence_rule():
    stage = C4Quality(min_sentences=-1)
    assert stage.apply(doc("Home", "About us", "Contact"))[1].reason == "no_lines_left"


def test_sentences_follow_the_sentencizer_rule():
    assert count_sentences("Dr. Smith went home. He was tired.") == 2
    assert count_sentences("Wait... what? No!") == 2  # "..." ends no sentence
    assert count_sentences("It costs $3.50 at the U.S. store on Main St. today") == 1
    assert count_sentences('"Stop!" she said. Then she left.') == 3
    assert count_sentences("") == 1
    assert count_words("Don't stop, it's 3.5 km.  Go") == 10


@pytest.mark.parametrize(
    ("line", "count"),
    [
        # What spaCy 3.8's blank English pipeline with its sentencizer counts.
        *((line, 1) for line in ARTICLE),
        (" ".join(ARTICLE), 5),
        ("Is it over?! Yes.", 2),
        ('He said "no." Then he left!)', 2),
        ("Prices (in U.S. dollars) rose 3.5% in Q1.", 1),
        ("Ends with closing punctuation.»", 1),
        ("Two spaces.  After the period", 2),
        ("No final punctuation at all", 1),
        ("。日本語の文。次の文。", 2),
        ("Hello!!! World... and more?", 2),
        ("«Quoted.» «Again.»", 2),
        ("A line ending in a period and a space. ", 1),
        # Whitespace other than one space after a word is a token: it starts a sentence.
        ("Done. !", 1),
        ("Done.  !", 2),
        ("Done.\n!", 2),
        ("Done.\t", 2),
        ("Done.\xa0Next.", 2),
        (" Done. Next", 2),
    ],
)
def test_sentence_counts_equal_spacys_sentencizer(line, count):
    assert count_sentences(line) == count
