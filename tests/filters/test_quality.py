import math

import pytest

from core.document import Document
from filters.quality import QualityFilter

EN = (
    "The library on the east side of the city has started to lend tools as well as books, and "
    "members can borrow a drill or a ladder with the same card that they use for novels. The "
    "idea came from residents who noticed that most households own tools that they use only "
    "once or twice a year, and that sharing them saves money and space for everyone involved."
)
DE = (
    "Die Stadtbibliothek ist ab dem kommenden Monat auch am Sonntag geöffnet. Der Stadtrat hat "
    "die zusätzlichen Mittel in der letzten Sitzung bewilligt, nachdem mehr als zweitausend "
    "Menschen eine Petition unterschrieben hatten. Die Bibliothek ist damit die erste in der "
    "Region, die an sieben Tagen in der Woche für ihre Leser da ist und das freut viele."
)
ZH = "城市图书馆延长开放时间。" * 10


def doc(text: str, language: str = "en") -> Document:
    return Document(id="x", url="https://example.com/", text=text, language=language)


@pytest.mark.parametrize(
    "text, language, reason",
    [
        (EN, "en", ""),
        (DE, "de", ""),  # judged by German stop words, not English ones
        (ZH, "zh", ""),  # characters count as words; no length or stop-word rule
        ("Too short to be an article.", "en", "too_few_words"),
        (" ".join(["word"] * 100_001), "en", "too_many_words"),
        (" ".join(["a b"] * 40), "en", "mean_word_length_too_short"),
        (" ".join(["incomprehensibilities"] * 60), "en", "mean_word_length_too_long"),
        (EN + " #tag" * 20, "en", "hash_to_word_ratio_too_high"),
        (EN + " wait..." * 20, "en", "ellipsis_to_word_ratio_too_high"),
        (
            "\n".join([f"- item number {i} in the list of things to buy" for i in range(12)]),
            "en",
            "bullet_lines_frac_too_high",
        ),
        ("\n".join([EN] + ["and then it went on…"] * 3), "en", "ellipsis_lines_frac_too_high"),
        (EN + " " + " ".join(["123", "4.5", "--", "%%"] * 20), "en", "alpha_words_frac_too_low"),
        (
            " ".join(["lorem ipsum dolor sit amet consectetur adipiscing elit sed"] * 8),
            "en",
            "too_few_stop_words",
        ),
        (EN, "de", "too_few_stop_words"),  # an English text labelled German lacks German words
    ],
)
def test_quality_verdicts(text, language, reason):
    _, verdict = QualityFilter().apply(doc(text, language))
    assert verdict.reason == reason


def test_rules_without_a_word_list_are_skipped_not_failed():
    scores = QualityFilter().score(doc(EN, "xx"))
    assert math.isnan(scores["stop_words"])
    assert QualityFilter().keep(scores).keep


def test_gopher_defaults():
    f = QualityFilter()
    assert (f.min_words, f.max_words) == (50, 100_000)
    assert (f.min_mean_word_length, f.max_mean_word_length) == (3, 10)
    assert f.min_stop_words == 2
    assert f.stop_words["en"] == frozenset(["the", "be", "to", "of", "and", "that", "have", "with"])


def test_fineweb_reading_counts_punctuation_marks_as_words_for_the_alphabetic_rule():
    text = " ".join(["Yes, no, maybe, so."] * 20)
    paper = QualityFilter().score(doc(text))
    fineweb = QualityFilter(reading="fineweb").score(doc(text))
    assert paper["alpha_words_frac"] == 1.0
    assert fineweb["alpha_words_frac"] == pytest.approx(4 / 8)  # 4 words, 4 marks
    assert fineweb["words"] == paper["words"] == 80  # marks alone are not counted as words
    assert fineweb["mean_word_length"] == pytest.approx(len("Yesnomaybeso") / 4)


def test_fineweb_reading_takes_stop_words_as_written_and_two_bullets():
    text = "The Be To Of.\n• one\n* two\n\n- three"
    paper = QualityFilter().score(doc(text))
    fineweb = QualityFilter(reading="fineweb").score(doc(text))
    assert paper["stop_words"] == 4 and fineweb["stop_words"] == 0
    assert paper["bullet_lines_frac"] == pytest.approx(3 / 4)  # non-blank lines
    assert fineweb["bullet_lines_frac"] == pytest.approx(2 / 5)  # every line, "•" and "-"


def test_an_unknown_quality_reading_is_refused():
    with pytest.raises(ValueError, match="quality.reading must be one of paper, fineweb"):
        QualityFilter(reading="Paper")


def test_failures_lists_every_rule_the_scores_fail():
    f = QualityFilter()
    scores = f.score(doc(" ".join(["a b"] * 20)))
    failures = f.failures(scores)
    assert failures[0] == f.keep(scores).reason == "too_few_words"
    assert "mean_word_length_too_short" in failures


def test_stop_words_are_counted_once_each():
    # Gopher: "at least two of the following English words": one word used often is not two.
    text = " ".join(["the market opened early today"] * 12)
    scores = QualityFilter().score(doc(text))
    assert scores["stop_words"] == 1
    assert QualityFilter().keep(scores).reason == "too_few_stop_words"
    assert QualityFilter().score(doc(text + " and"))["stop_words"] == 2
