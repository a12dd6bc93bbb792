from dedup.shingles import jaccard, shingle_hashes, shingle_set


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
