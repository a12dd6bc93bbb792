"""FineWeb's own quality rules (stage fineweb_quality)."""

from __future__ import annotations

import pytest

from core.document import Document
from filters.fineweb_quality import TERMINAL_PUNCTUATION, FineWebQuality

PROSE = (
    "The council voted on Tuesday to extend the bike lane along the harbour road.\n"
    "Supporters said the lane would make the morning commute safer for children.\n"
    "Opponents argued that the loss of parking would hurt the shops near the ferry.\n"
    "A final decision on the budget is expected at the next meeting in March."
)


def doc(text: str) -> Document:
    return Document(id="20240101000000-00000000000000000000", url="https://x.example/", text=text)


@pytest.fixture(scope="module")
def stage() -> FineWebQuality:
    return FineWebQuality()


def test_prose_is_kept_with_its_ratios(stage):
    out, verdict = stage.apply(doc(PROSE))
    assert verdict.keep
    assert out.signals == {
        "line_punct_ratio": 1.0,
        "short_line_ratio": 0.0,
        "char_dup_ratio": 0.0,
    }


def test_too_few_lines_ending_in_punctuation(stage):
    menu = "\n".join(f"Section {i} of the annual report on regional transport" for i in range(8))
    assert stage.apply(doc(PROSE.split("\n")[0] + "\n" + menu))[1].reason == (
        "line_punct_ratio_too_low"
    )
    # One line in nine ends in punctuation (11.1%): too few; one in eight (12.5%): enough.
    assert stage.score(doc(menu + "\nThat is all."))["line_punct_ratio"] == pytest.approx(1 / 9)
    assert stage.apply(doc(menu + "\nThat is all."))[1].reason == "line_punct_ratio_too_low"
    seven = "\n".join(menu.split("\n")[:7])
    assert stage.apply(doc(seven + "\nThat is all, says the report."))[1].keep
    # Sentence-final characters of other scripts count; a trailing space does not.
    assert (
        "。" in TERMINAL_PUNCTUATION
        and "।" in TERMINAL_PUNCTUATION
        and ";" not in TERMINAL_PUNCTUATION
    )
    assert stage.score(doc("It ended. \nIt ended."))["line_punct_ratio"] == 0.5


def test_too_many_short_lines(stage):
    short = "\n".join(["Menu", "Home", "News", "Sport.", "Weather."] * 2)
    assert stage.apply(doc(PROSE + "\n" + short))[1].reason == "short_line_ratio_too_high"


def test_duplicated_lines(stage):
    repeated = PROSE + "\n" + PROSE.split("\n")[0]
    out, verdict = stage.apply(doc(repeated))
    assert verdict.reason == "char_dup_ratio_too_high"
    line = PROSE.split("\n")[0]
    assert out.signals["char_dup_ratio"] == pytest.approx(
        len(line) / (len(repeated) - repeated.count("\n"))
    )


def test_lists_have_too_many_newlines_per_word():
    stage = FineWebQuality(max_short_line_ratio=1.0)
    items = "\n".join(f"Item {i}." for i in range(40))
    # 39 newlines, 120 words ("Item", "0", "."): 0.325 per word.
    assert stage.apply(doc(items))[1].reason == "list_ratio_too_high"
    # The same list with a word more per item passes (39 / 160).
    assert stage.apply(doc(items.replace("Item", "Item number")))[1].keep


def test_lists_are_judged_by_spacy_words_not_whitespace_words(stage):
    # 20 lines of "Yes, no." : 2 whitespace words but 4 spaCy tokens each, 19 newlines.
    # By whitespace words 19 / 40 > 0.3; by spaCy's tokens 19 / 80 < 0.3: kept.
    text = "\n".join(["Yes, no."] * 20)
    scores = FineWebQuality(max_char_dup_ratio=1.0, max_short_line_ratio=1.0)
    assert scores.apply(doc(text))[1].keep
    assert not scores.list_like(text)


def test_blank_text_has_no_lines(stage):
    assert stage.apply(doc("  \n\n "))[1].reason == "no_text"
