"""The text helpers' numpy paths count what a loop over words and characters would."""

from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import alphabetic_words, character_tables, code_points, split_words

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
