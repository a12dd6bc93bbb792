import pytest

from filters.lines import LineCorrections
from pipeline.document import Document

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
