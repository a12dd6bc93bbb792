"""The text helpers' numpy paths count what a loop over words and characters would."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import (
    MAX_ENGLISH_CHUNK,
    alphabetic_words,
    character_tables,
    code_points,
    split_english_tokens,
    split_english_words,
    split_words,
)

# Letters of both cases and title case, numbers, an upper-case symbol (Ⓐ), punctuation, an
# unspaced script (Han), whitespace str.split knows (no-break, em space, \x1c) and a newline.
CHARACTERS = st.sampled_from(list("aZéΣ5²Ⓐǅ_.,-… \t\n") + ["你", "\xa0", "\u2003", "\x1c"])


@settings(max_examples=1000, deadline=None)
@given(st.text(CHARACTERS, max_size=40))
def test_alphabetic_words_are_those_a_loop_over_words_finds(text):
    expected = sum(any(map(str.isalpha, word)) for word in split_words(text))
    assert alphabetic_words(text) == expected


def test_the_tables_agree_with_the_str_methods():
    tables = character_tables()
    for character in "aZ5 \xa0\x1cⒶǅ你\ud800":
        [code] = code_points(character)
        assert tables.alpha[code] == character.isalpha()
        assert tables.upper[code] == (character.isupper() and character.isalpha())
        assert tables.space[code] == character.isspace()


@pytest.mark.parametrize(
    "text, words",
    [
        ("Hello, world!", ["Hello", ",", "world", "!"]),
        (
            "I don't know; it's John's.",
            ["I", "do", "n't", "know", ";", "it", "'s", "John", "'s", "."],
        ),
        (
            "We'll see. Can't stop, won’t stop",
            ["We", "'ll", "see", ".", "Ca", "n't", "stop", ",", "wo", "n’t", "stop"],
        ),
        ("dont cannot gonna", ["do", "nt", "can", "not", "gon", "na"]),
        (
            "(see e-mail) 10-year-old",
            ["(", "see", "e", "-", "mail", ")", "10", "-", "year", "-", "old"],
        ),
        ("Mr. Smith, e.g. the U.S. etc.", ["Mr.", "Smith", ",", "e.g.", "the", "U.S.", "etc", "."]),
        (
            "It costs $5 or 50% at 10am",
            ["It", "costs", "$", "5", "or", "50", "%", "at", "10", "am"],
        ),
        ("wait... and...then", ["wait", "...", "and", "...", "then"]),
        ("end.Next and/or x/y", ["end", ".", "Next", "and/or", "x", "/", "y"]),
        ("see https://example.com/a?b=1 now", ["see", "https://example.com/a?b=1", "now"]),
        ("nice): “quoted”", ["nice", "):", "“", "quoted", "”"]),
        ("ABC. 3.5. #tag", ["ABC", ".", "3.5", ".", "#", "tag"]),
        ("  tabs\tand\nnewlines\xa0too ", ["tabs", "and", "newlines", "too"]),
    ],
)
def test_english_words_split_off_punctuation_and_clitics(text, words):
    assert split_english_words(text) == words


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("aB'.,-():$% \n") + ["n't", "’s", "...", "do"]), max_size=30))
def test_english_words_are_the_text_without_its_whitespace(pieces):
    text = "".join(pieces)
    # Splitting only ever cuts: the words put together are the text's non-space characters.
    assert "".join(split_english_words(text)) == "".join(text.split())


def test_english_words_of_a_hostile_chunk():
    # Punctuation peeled piece by piece from both ends; a chunk past the limit stays whole.
    assert split_english_words("((((word))))") == ["("] * 4 + ["word"] + [")"] * 4
    assert split_english_words("," * 3000 + "word") == [","] * 3000 + ["word"]
    hostile = "," * (MAX_ENGLISH_CHUNK + 1)
    assert split_english_words(f"a {hostile} b") == ["a", hostile, "b"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # As spaCy 3.8's blank English tokenizer splits them.
        ("………….Die", ["…", "…", "…", "…", ".Die"]),  # one ellipsis at a time from the front
        ("im.", ["i", "m."]),  # "m." is an exception, "im" is only "i" "m"
        ("numbers[:]", ["numbers", "[:", "]"]),  # of two emoticons, the earlier
        ("ist…;-)", ["ist", "…", ";-", ")"]),  # ";-" ")" is not how ";-)" is peeled
        ("😉.", ["😉", "."]),
        ("💁🏻♀️", ["💁", "🏻", "♀", "\ufe0f"]),  # noqa: RUF001
        ("CO₂-Emissionen", ["CO₂-Emissionen"]),  # "₂" is none of spaCy's letters
        ("কুষ্টিয়া-১", ["কুষ্টিয়া", "-", "১"]),  # the Bengali block is
    ],
)
def test_english_words_follow_spacys_character_classes_and_exceptions(text, words):
    assert split_english_words(text) == words


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", []),
        ("  a  b\nc \n", ["  ", "a", " ", "b", "\n", "c", "\n"]),
        ("x.\n!", ["x.", "\n", "!"]),
        ("Done. ", ["Done", "."]),
        ("Done.\t", ["Done", ".", "\t"]),
        (" ", [" "]),
    ],
)
def test_english_tokens_keep_whitespace_as_spacy_does(text, tokens):
    assert split_english_tokens(text) == tokens


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(list("aB'.,-():$% \n\t") + ["n't", "  ", "...", "do"]), max_size=30)
)
def test_english_tokens_are_the_words_and_whitespace(pieces):
    text = "".join(pieces)
    tokens = split_english_tokens(text)
    assert [t for t in tokens if not t.isspace()] == split_english_words(text)
    assert all(t.strip() in ("", t) for t in tokens)
