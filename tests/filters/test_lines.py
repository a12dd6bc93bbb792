import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.document import Document
from core.text import has_unspaced, split_words
from filters.lines import _COUNTER as COUNTER
from filters.lines import LineCorrections, count_words, letter_counts

BODY = (
    "The volunteers walked the full length of the river to count the birds that nest along "
    "its banks and recorded every bird they saw or heard during three long spring weekends "
    "of careful work with maps and notebooks in pairs"
)
LONG = "\n".join([BODY] * 8)


@pytest.mark.parametrize(
    "line, removed",
    [
        ("SHARE THIS STORY WITH YOUR FRIENDS", True),  # mainly upper case
        ("12/05/2024 10:30", True),  # numbers only
        ("3 likes", True),  # counter
        ("1.2K views", True),
        ("Newsletter", True),  # one word
        ("NASA and ESA launched a probe together", False),
        ("The river is long and the birds are many", False),
    ],
)
def test_line_rules(line, removed):
    text, _, words_removed, lines_removed = LineCorrections().correct(line)
    assert (lines_removed == 1) == removed
    assert (text == "") == removed


@pytest.mark.parametrize(
    "line, expected",
    [
        ("Read more about the garden project...", "Read more about the garden project..."),
        ("Our new season starts in May. Read more...", "Our new season starts in May."),
        ("Sign-in to see your saved articles", "to see your saved articles"),
        ("You have 3 items in cart right now", "You have 3 right now"),
    ],
)
def test_short_line_edits(line, expected):
    text, *_ = LineCorrections().correct(line)
    assert text == expected


def test_document_dropped_when_over_five_percent_of_words_removed():
    noisy = (
        LONG + "\n" + "\n".join(["Menu", "Login", "Subscribe", "42 comments", "TOP STORIES"] * 3)
    )
    _, verdict = LineCorrections().apply(Document(id="x", url="u", text=noisy))
    assert verdict.reason == "too_many_words_removed"


def test_document_kept_and_cleaned_under_budget():
    doc, verdict = LineCorrections().apply(Document(id="x", url="u", text=LONG + "\n3 likes"))
    assert verdict.keep
    assert "likes" not in doc.text
    assert doc.signals["lines_removed"] == 1


def test_pickle_round_trip_keeps_compiled_patterns():
    import pickle

    f = pickle.loads(pickle.dumps(LineCorrections()))
    assert f.correct("Sign-in to see your saved articles")[0] == "to see your saved articles"


# The counts as first written, one character and one token at a time: the C-loop paths must
# agree with them on any text.
def words_one_by_one(text):
    return sum(1 for w in split_words(text) if not re.match(r"^\W+$", w))


def boilerplate_one_by_one(stage, line, n_words):
    if n_words < stage.min_words_per_line:
        return True
    letters = "".join(filter(str.isalpha, line))
    if not letters:
        return any(map(str.isdigit, line))
    if sum(map(str.isupper, letters)) / len(letters) > stage.max_uppercase_frac:
        return True
    return COUNTER.match(line) is not None


# Letters of both cases and title case, digits and other numbers, an upper-case symbol (Ⓐ),
# punctuation, underscores, unspaced scripts (Han, Thai), and whitespace str.split knows
# (no-break and em spaces, \x1c-\x1f).
CHARACTERS = st.sampled_from(
    list("aZé ÉßΣσ5٣_.,!?-—…#'\"()Ⓐǅ²") + ["你", "好", "ก", "\xa0", "\u2003", "\x1c", "\t", " "]
)


@settings(max_examples=500, deadline=None)
@given(st.text(CHARACTERS, max_size=40))
def test_words_are_counted_as_one_token_at_a_time_would(text):
    assert count_words(text) == words_one_by_one(text)
    if not has_unspaced(text):
        assert count_words(text, unspaced=False) == words_one_by_one(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(CHARACTERS, min_size=1, max_size=40))
def test_upper_case_lines_are_judged_as_one_character_at_a_time_would(line):
    stage = LineCorrections()
    for text in (line, line.encode("ascii", "ignore").decode()):  # and its ASCII part alone
        n_words = count_words(text)
        assert stage._line_is_boilerplate(text, n_words) == boilerplate_one_by_one(
            stage, text, n_words
        )


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(CHARACTERS, max_size=20), max_size=6))
def test_letters_of_each_line_are_counted_as_one_character_at_a_time_would(lines):
    text = "\n".join(lines)
    letters, upper = letter_counts(text)
    assert list(zip(letters, upper, strict=True)) == [
        (len(x), sum(map(str.isupper, x)))
        for x in ("".join(filter(str.isalpha, line)) for line in text.split("\n"))
    ]


def test_a_lone_surrogate_is_counted_as_no_letter():
    assert letter_counts("Ab\ud800c\nD") == ([3, 1], [1, 1])
