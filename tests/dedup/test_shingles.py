import re

from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import split_words
from dedup.normalize import normalize
from dedup.shingles import (
    jaccard,
    shingle_hashes,
    shingle_set,
    token_words,
    word_hash,
    word_hashes,
)


def test_shingles_are_unique_word_five_grams():
    text = "one two three four five six seven"
    assert shingle_set(text) == {
        ("one", "two", "three", "four", "five"),
        ("two", "three", "four", "five", "six"),
        ("three", "four", "five", "six", "seven"),
    }
    assert len(shingle_hashes(text)) == 3
    # Repeated n-grams count once.
    assert len(shingle_hashes("a b c d e a b c d e")) == 5


def test_short_and_empty_texts():
    assert len(shingle_hashes("just three words")) == 1
    assert len(shingle_hashes("")) == 0
    assert len(shingle_hashes("!!! ...")) == 0


def test_hashes_follow_normalisation_and_order():
    assert set(shingle_hashes("The Cat, sat on the mat")) == set(
        shingle_hashes("the cat sat on the MAT")
    )
    assert set(shingle_hashes("a b c d e")) != set(shingle_hashes("e d c b a"))


def test_hash_jaccard_equals_ngram_jaccard():
    a = "the quick brown fox jumps over the lazy dog and runs far away from here"
    b = "the quick brown fox jumps over the lazy cat and runs far away from here"
    assert jaccard(shingle_hashes(a), shingle_hashes(b)) == jaccard(shingle_set(a), shingle_set(b))
    assert 0 < jaccard(shingle_set(a), shingle_set(b)) < 1


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=12), st.sampled_from([" ", "\n", "\t", "\u3000"]))
def test_token_cache_equals_normalising_the_whole_text(pieces, space):
    # Tokens are normalised one by one and cached; the words must be those of the whole text.
    text = space.join(pieces)
    cache: dict = {}
    expected = [word_hash(w) for w in split_words(normalize(text))]
    assert word_hashes(text, cache).tolist() == expected
    assert word_hashes(text, cache).tolist() == expected  # again, from the cache


def test_token_cache_on_accents_case_and_unspaced_scripts():
    text = "Café, CAFÉ! cafe\u0301 «naïve»—x 東京タワー ไทย e\u0301 \u0301a Σσς"
    assert word_hashes(text).tolist() == [word_hash(w) for w in split_words(normalize(text))]
    assert word_hashes(text)[:3].tolist() == [word_hash("cafe")] * 3


def test_regex_and_str_split_agree_on_whitespace():
    # What token_words relies on: splitting with the regex (batches holding an unspaced
    # script) and with str.split (the others) give the same words on a token needing neither.
    characters = list(map(chr, range(0x110000)))
    assert [c for c in characters if re.match(r"\s", c)] == [c for c in characters if c.isspace()]


WHITESPACE_FREE = st.text(min_size=1, max_size=10).map(
    lambda t: "".join(c for c in t if not c.isspace()) or "x"
)


@settings(max_examples=300, deadline=None)
@given(st.lists(WHITESPACE_FREE, max_size=12))
def test_token_words_do_not_depend_on_the_batch(tokens):
    # The token caches normalise whichever tokens are new together; each must get its own words.
    assert token_words(tokens) == [token_words([token])[0] for token in tokens]
