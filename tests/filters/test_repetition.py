from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.document import Document
from filters.reading import FINEWEB
from filters.repetition import (
    _MIX,
    DUP_NGRAM_SIZES,
    TOP_NGRAM_SIZES,
    RepetitionFilter,
    ngram_char_fractions,
)

PROSE = (
    "The old harbour reopened to fishing boats on Monday after two years of repairs to the sea "
    "wall, which had been damaged by a series of winter storms. Local fishermen welcomed the "
    "news, and the market hall will open again on Saturday mornings for visitors and residents."
)


def doc(text: str) -> Document:
    return Document(id="x", url="https://example.com/", text=text)


@pytest.mark.parametrize(
    "text, reason",
    [
        (PROSE, ""),
        ("\n".join(["Same line again and again here."] * 4 + [PROSE]), "dup_line_frac_too_high"),
        ("\n\n".join(["A repeated paragraph of text."] * 3 + [PROSE]), "dup_para_frac_too_high"),
        # One long line repeated twice among 5 distinct short ones: few duplicate lines (1/7 <
        # 0.3) but many duplicate characters (> 0.2).
        ("\n".join([PROSE, PROSE, "a", "b", "c", "d", "e"]), "dup_line_char_frac_too_high"),
        (PROSE + " " + " ".join(["buy now"] * 30), "top_2gram_char_frac_too_high"),
        (PROSE + " " + " ".join(PROSE.split()[:30]), "dup_5gram_char_frac_too_high"),
    ],
)
def test_repetition_verdicts(text, reason):
    f = RepetitionFilter()
    _, verdict = f.apply(doc(text))
    assert verdict.reason == reason
    assert verdict.keep == (reason == "")


def test_top_ngram_fraction_counts_characters_of_the_most_frequent_ngram():
    words = ["a", "b", "a", "b", "a", "b", "c", "d"]
    fractions = ngram_char_fractions(words)
    # "a b" occurs 3 times, 2 characters each, over 8 characters of words.
    assert fractions[2] == pytest.approx(6 / 8)


def test_duplicate_ngram_fraction_counts_overlaps_once():
    # The 5-gram "x y z w v" occurs twice.
    words = ["x", "y", "z", "w", "v", "x", "y", "z", "w", "v", "u"]
    fractions = ngram_char_fractions(words)
    assert fractions[5] == pytest.approx(10 / 11)
    assert fractions[6] == 0.0


def test_no_repeats_give_zero():
    assert all(v == 0 for v in ngram_char_fractions(PROSE.split()[:20]).values())


def test_thresholds_follow_gopher_table_a1():
    f = RepetitionFilter()
    assert f.top_ngram_char_frac == {2: 0.20, 3: 0.18, 4: 0.16}
    assert f.dup_ngram_char_frac == {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
    assert (f.dup_line_frac, f.dup_para_frac) == (0.30, 0.30)
    assert (f.dup_line_char_frac, f.dup_para_char_frac) == (0.20, 0.20)


def fractions_through_unique(words):
    """The n-gram fractions as first written, with np.unique's inverse and counts."""
    fractions = dict.fromkeys(TOP_NGRAM_SIZES + DUP_NGRAM_SIZES, 0.0)
    if len(words) < 2:
        return fractions
    vocabulary = {}
    ids = np.array([vocabulary.setdefault(w, i) for i, w in enumerate(words)], dtype=np.uint64)
    lengths = np.array([len(w) for w in words], dtype=np.int64)
    prefix = np.concatenate(([0], np.cumsum(lengths)))
    total_chars = int(prefix[-1]) or 1
    hashes = ids + np.uint64(1)
    for n in range(2, max(DUP_NGRAM_SIZES) + 1):
        if len(words) < n:
            break
        hashes = hashes[:-1] * _MIX + ids[n - 1 :] + np.uint64(1)
        _, inverse, counts = np.unique(hashes, return_inverse=True, return_counts=True)
        if n in TOP_NGRAM_SIZES:
            top = int(np.argmax(counts))
            if counts[top] > 1:
                start = int(np.argmax(inverse == top))
                fractions[n] = (
                    int(prefix[start + n] - prefix[start]) * int(counts[top]) / total_chars
                )
        else:
            starts = np.flatnonzero(counts[inverse] > 1)
            cover = np.zeros(len(words) + 1, dtype=np.int64)
            np.add.at(cover, starts, 1)
            np.add.at(cover, starts + n, -1)
            fractions[n] = int(lengths[np.cumsum(cover[:-1]) > 0].sum()) / total_chars
    return fractions


# Few distinct words of different lengths, so n-grams repeat and tie often.
@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["a", "bb", "ccc", "dddd", "a.", "ee"]), max_size=60))
def test_ngram_fractions_are_those_np_unique_gives(words):
    assert ngram_char_fractions(words) == fractions_through_unique(words)


def test_fineweb_reading_leaves_the_first_copy_of_a_duplicate_ngram_uncounted():
    text = "x y z w v x y z w v u"
    words = text.split()
    fractions = ngram_char_fractions(words, FINEWEB, len(text))
    # The scan meets "x y z w v" again at word 5: its 5 characters count, over len(text).
    assert fractions[5] == pytest.approx(5 / len(text))
    assert ngram_char_fractions(words)[5] == pytest.approx(10 / 11)  # the paper: both copies


def test_fineweb_reading_counts_the_top_ngram_with_its_spaces_even_once():
    text = "a b a b a b c d"
    fractions = ngram_char_fractions(text.split(), FINEWEB, len(text))
    assert fractions[2] == pytest.approx(3 * 3 / len(text))  # "a b" three times
    distinct = "a bb ccc dddd"
    fractions = ngram_char_fractions(distinct.split(), FINEWEB, len(distinct))
    assert fractions[2] == pytest.approx(len("a bb") / len(distinct))  # the first, once
    assert ngram_char_fractions(distinct.split())[2] == 0.0


def test_fineweb_reading_breaks_top_ngram_ties_by_first_occurrence():
    # "bbbb c", "c a" and "a x" each occur twice: the first seen, "bbbb c", is the top one.
    words = ["bbbb", "c", "a", "x", "bbbb", "c", "a", "x"]
    text = " ".join(words)
    fractions = ngram_char_fractions(words, FINEWEB, len(text))
    assert fractions[2] == pytest.approx(2 * len("bbbb c") / len(text))


def test_fineweb_reading_splits_lines_on_newline_runs_unstripped():
    lines = ["Repeated line here.", "Repeated line here. ", "Another one.", "Last."]
    text = "\n".join(lines)
    paper = RepetitionFilter().score(doc(text))
    fineweb = RepetitionFilter(reading="fineweb").score(doc(text))
    assert paper["dup_line_frac"] == pytest.approx(1 / 4)  # stripped, the two are one line
    assert fineweb["dup_line_frac"] == 0.0  # a trailing space makes them differ
    assert fineweb["dup_para_char_frac"] == 0.0


def test_an_unknown_reading_is_refused():
    with pytest.raises(ValueError, match="repetition.reading must be one of paper, fineweb"):
        RepetitionFilter(reading="gopher")


def test_failures_lists_every_rule_the_scores_fail():
    f = RepetitionFilter()
    scores = f.score(doc("\n".join(["Same line again and again here."] * 6)))
    failures = f.failures(scores)
    assert failures[0] == f.keep(scores).reason
    assert {"dup_line_frac_too_high", "dup_line_char_frac_too_high"} <= set(failures)


def fineweb_fractions_by_loops(words, text_chars):
    """FineWeb's n-gram fractions with plain loops over word tuples."""
    fractions = dict.fromkeys(TOP_NGRAM_SIZES + DUP_NGRAM_SIZES, 0.0)
    for n in TOP_NGRAM_SIZES:
        ngrams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        if ngrams:
            counts = Counter(ngrams)
            top = max(counts, key=counts.__getitem__)  # the first of the most frequent
            fractions[n] = len(" ".join(top)) * counts[top] / text_chars
    for n in DUP_NGRAM_SIZES:
        seen, repeated, start = set(), 0, 0
        while start < len(words) - n + 1:
            ngram = tuple(words[start : start + n])
            if ngram in seen:
                repeated += len("".join(ngram))
                start += n
            else:
                seen.add(ngram)
                start += 1
        fractions[n] = repeated / text_chars
    return fractions


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(["a", "bb", "ccc", "dddd", "a.", "ee"]), max_size=60))
def test_fineweb_ngram_fractions_are_those_plain_loops_give(words):
    text_chars = len(" ".join(words)) or 1
    got = ngram_char_fractions(words, FINEWEB, text_chars)
    assert got == pytest.approx(fineweb_fractions_by_loops(words, text_chars))
