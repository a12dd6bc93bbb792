"""Exact-substring dedup: plain functions against a suffix-array reference."""

from __future__ import annotations

import random

import numpy as np
import pytest

from dedup.exact_substring import (
    ALL_COPIES,
    KEEP_FIRST,
    ExactSubstring,
    KeyCounts,
    SpanTokenizer,
    candidate_starts,
    covered_positions,
    cut_text,
    dedup_texts,
    find_repeats,
    gram_hashes,
    union_intervals,
    window_hashes,
    window_keys,
    winnow,
)
from tests.conftest import corpus_texts, suffix_array_repeats


@pytest.fixture(scope="module")
def tokenizer() -> SpanTokenizer:
    return SpanTokenizer()


def planted_docs(seed: int, alphabet: int = 40) -> list[np.ndarray]:
    """Random token documents with repeats planted across, inside and at edges of documents."""
    rng = random.Random(seed)

    def noise(n: int) -> list[int]:
        return [rng.randrange(alphabet) for _ in range(n)]

    shared = [noise(rng.randrange(40, 120)) for _ in range(3)]
    docs = []
    for _ in range(rng.randrange(3, 8)):
        doc = noise(rng.randrange(0, 60))
        for _ in range(rng.randrange(0, 4)):
            piece = rng.choice(shared)
            cut = rng.randrange(len(piece))
            # Whole repeats, suffixes and prefixes of them: overlapping partial repeats.
            doc += rng.choice([piece, piece[cut:], piece[:cut]]) + noise(rng.randrange(0, 30))
        docs.append(doc)
    if rng.random() < 0.5:  # a repeat inside one document, touching both of its edges
        docs.append(shared[0] + noise(5) + shared[0])
    if rng.random() < 0.5:  # a periodic document: its copies overlap each other
        period = noise(rng.randrange(3, 30))
        docs.append(period * (150 // len(period) + 2))
    return [np.array(d, dtype=np.uint32) for d in docs]


def stage_positions(docs: list[np.ndarray], stage: ExactSubstring) -> list[set[int]]:
    names = [f"d{i:03d}" for i in range(len(docs))]
    intervals, _ = find_repeats(dict(zip(names, docs, strict=True)), stage)
    return [covered_positions(intervals[name]) for name in names]


@pytest.mark.parametrize("mode", [ALL_COPIES, KEEP_FIRST])
@pytest.mark.parametrize("seed", range(25))
def test_matches_suffix_array_on_planted_repeats(seed, mode):
    docs = planted_docs(seed)
    stage = ExactSubstring(mode=mode)
    expected = suffix_array_repeats(docs, 50, keep_first=mode == KEEP_FIRST)
    assert stage_positions(docs, stage) == expected


@pytest.mark.parametrize("min_tokens,k,w", [(20, 8, 13), (30, 10, 15), (12, 12, 1)])
def test_matches_suffix_array_for_other_lengths(min_tokens, k, w):
    stage = ExactSubstring(min_tokens=min_tokens, k=k, w=w)
    for seed in range(8):
        docs = planted_docs(100 + seed, alphabet=6)
        assert stage_positions(docs, stage) == suffix_array_repeats(docs, min_tokens)


def test_planted_repeats_are_found():
    docs = planted_docs(3)
    assert any(suffix_array_repeats(docs, 50)), "the generator must plant repeats"


@pytest.mark.parametrize("mode", [ALL_COPIES, KEEP_FIRST])
def test_matches_suffix_array_on_corpus_texts(tokenizer, mode):
    pages = corpus_texts(120)
    docs = [tokenizer.ids([text])[0] for _, text in pages]
    ids = dict(zip([doc_id for doc_id, _ in pages], docs, strict=True))
    expected = suffix_array_repeats(docs, 50, keep_first=mode == KEEP_FIRST)
    intervals, _ = find_repeats(ids, ExactSubstring(mode=mode))
    assert [covered_positions(intervals[doc_id]) for doc_id, _ in pages] == expected
    assert any(expected)


def test_winnow_picks_leftmost_minimum_of_each_window():
    hashes = np.array([5, 3, 3, 9, 1, 7, 7, 2], dtype=np.uint64)
    assert winnow(hashes, 3).tolist() == [1, 4, 7]
    assert winnow(hashes, 9).tolist() == []


def test_gram_hashes_depend_only_on_content():
    ids = np.array([1, 2, 3, 4, 1, 2, 3, 9], dtype=np.uint32)
    hashes = gram_hashes(ids, 3)
    assert hashes[0] == hashes[4]
    assert len(set(hashes.tolist())) == 5
    assert window_keys(ids, np.array([0, 4]), 3)[0] == window_keys(ids, np.array([0, 4]), 3)[1]
    assert window_keys(ids, np.array([0, 4]), 4)[0] != window_keys(ids, np.array([0, 4]), 4)[1]


def test_candidate_starts_cover_windows_holding_the_grams():
    # 100 tokens, windows of 50 (starts 0..50), grams of 25: window s holds gram q iff
    # s <= q <= s + 25.
    assert candidate_starts(np.array([30]), 100, 25, 50).tolist() == list(range(5, 31))
    assert candidate_starts(np.array([2, 70]), 100, 25, 50).tolist() == [0, 1, 2, *range(45, 51)]


def test_union_merges_overlapping_and_touching_intervals():
    assert union_intervals(np.array([10, 0, 50, 120]), 50) == [(0, 100), (120, 170)]


def test_parameters_that_would_miss_repeats_are_refused():
    with pytest.raises(ValueError):
        ExactSubstring(min_tokens=50, k=25, w=27)
    with pytest.raises(ValueError):
        ExactSubstring(mode="keep_last")


def test_keep_first_streams_all_but_the_smallest():
    stage = ExactSubstring(mode=KEEP_FIRST)
    occurrences = [("b", 3), ("a", 9), ("c", 1), ("a", 2)]
    assert sorted(stage.flagged(iter(occurrences))) == [("a", 9), ("b", 3), ("c", 1)]
    assert list(stage.flagged(iter([("a", 1)]))) == []
    assert sorted(ExactSubstring().flagged(iter(occurrences))) == sorted(occurrences)


def filler(seed: int, words: list[str], n: int) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(words) for _ in range(n))


WORDS = ["river", "stone", "lamp", "orchard", "violet", "copper", "meadow", "harbor", "quiet"]
PARAGRAPH = (
    "This paragraph was copied onto many pages of the crawl, word for word, long enough to be "
    "well over fifty tokens, and it says nothing that any of the pages needs to say at all. "
    "It is exactly the kind of boilerplate that exact substring deduplication removes."
)


@pytest.mark.parametrize("mode", [ALL_COPIES, KEEP_FIRST])
def test_planted_paragraph_is_cut_and_hosts_survive(tokenizer, mode):
    heads = {f"doc{i}": filler(i, WORDS, 40) for i in range(5)}
    tails = {f"doc{i}": filler(100 + i, WORDS, 40) for i in range(5)}
    texts = {d: f"{heads[d]}\n{PARAGRAPH}\n{tails[d]}" for d in heads}
    out, _, _ = dedup_texts(texts, ExactSubstring(mode=mode), tokenizer)
    holders = [d for d, text in out.items() if PARAGRAPH in text]
    assert holders == ([] if mode == ALL_COPIES else ["doc0"])
    for doc_id, text in out.items():
        assert text is not None
        # The unique text survives (the token at a seam may be cut with the paragraph).
        assert heads[doc_id][:-20] in text and tails[doc_id][20:] in text
        assert "boilerplate" not in text or doc_id in holders


def test_document_left_too_short_is_dropped(tokenizer):
    texts = {"a": PARAGRAPH, "b": "Short intro. " + PARAGRAPH, "c": filler(1, WORDS, 80)}
    out, _, _ = dedup_texts(texts, ExactSubstring(), tokenizer)
    assert out["a"] is None and out["b"] is None
    assert out["c"] == texts["c"]


MULTIBYTE = [
    "Größenverhältnisse über Straßenbahnhöfe: Ärger, Öl und Übermut bei Fußgängerzonen. ",
    "中文的句子没有空格，分词器会把汉字切成多个字节的片段，这里测试切分是否安全。",
    "Emoji 😀🎉👩‍👩‍👧‍👦🇩🇪🧑🏽‍🚀 and more 🫠🪿 mixed with text ✨ ",
]


def test_offsets_snap_inward_inside_multibyte_characters(tokenizer):
    text = "".join(MULTIBYTE) * 3
    tokens = tokenizer.encode([text])[0]
    data = text.encode("utf-8")
    char_start = np.cumsum([0] + [len(c.encode()) for c in text])
    bounds = np.concatenate([[0], np.cumsum(tokenizer.byte_lengths[tokens.ids])])
    split = 0
    for i, byte in enumerate(bounds):
        assert char_start[tokens.ceil[i]] >= byte >= char_start[tokens.floor[i]]
        assert tokens.ceil[i] - tokens.floor[i] in (0, 1)
        split += tokens.ceil[i] != tokens.floor[i]
    assert split > 0, "the text must contain tokens that split characters"
    # Any token interval removes exactly the characters lying wholly inside its bytes.
    rng = random.Random(0)
    for _ in range(200):
        a = rng.randrange(len(tokens.ids))
        b = rng.randrange(a + 1, len(tokens.ids) + 1)
        new, removed = cut_text(text, tokens, [(a, b)])
        inside = [
            c
            for c in range(len(text))
            if char_start[c] >= bounds[a] and char_start[c + 1] <= bounds[b]
        ]
        assert new == "".join(ch for c, ch in enumerate(text) if c not in inside)
        assert new.encode("utf-8").decode("utf-8") == new
    assert data.decode("utf-8") == text


@pytest.mark.parametrize("mode", [ALL_COPIES, KEEP_FIRST])
def test_multibyte_text_is_never_corrupted(tokenizer, mode):
    rng = random.Random(7)
    shared = "".join(MULTIBYTE)
    texts = {}
    for i in range(8):
        parts = [rng.choice(MULTIBYTE)[rng.randrange(5) :] for _ in range(3)]
        # Repeats start and end in the middle of emoji sequences and of German words.
        texts[f"d{i}"] = (
            parts[0] + shared[rng.randrange(3, 30) :] + parts[1] + shared * rng.randrange(1, 3)
        )
    out, intervals, _ = dedup_texts(texts, ExactSubstring(mode=mode), tokenizer)
    assert any(intervals.values())
    alphabet = set("".join(texts.values()))
    for doc_id, text in out.items():
        if text is None:
            continue
        assert "\ufffd" not in text and set(text) <= alphabet
        # The result is the original with whole characters removed: a subsequence of it.
        source = iter(texts[doc_id])
        assert all(ch in source for ch in text)


def naive_winnow(hashes: np.ndarray, w: int) -> list[int]:
    """The definition: the leftmost minimum of each window, distinct positions in order."""
    picks = {
        i + min(range(w), key=lambda j: (hashes[i + j], j)) for i in range(len(hashes) - w + 1)
    }
    return sorted(picks)


@pytest.mark.parametrize("seed", range(20))
def test_linear_winnow_matches_the_definition_with_ties(seed):
    rng = np.random.default_rng(seed)
    for _ in range(30):
        n, w = int(rng.integers(0, 90)), int(rng.integers(1, 30))
        hashes = rng.integers(0, int(rng.integers(1, 8)), n).astype(np.uint64)  # many ties
        assert winnow(hashes, w).tolist() == naive_winnow(hashes, w)


def test_key_counts_merge_caps_counts_and_keeps_first_copy():
    keys = window_hashes(np.array([1, 2, 3, 1, 2, 3, 1, 2], dtype=np.uint32), np.arange(6), 2)
    names = np.array([b"b", b"b", b"b", b"a", b"a", b"a"])
    starts = np.arange(6)
    parts = [KeyCounts.of(keys[i : i + 2], names[i : i + 2], starts[i : i + 2]) for i in (0, 2, 4)]
    merged = KeyCounts.merge([KeyCounts.merge(parts[:2]), parts[2]])
    assert len(merged.keys) == 3 and merged.counts.tolist() == [2, 2, 2]
    repeated = merged.repeated()
    # Each 2-token window occurs in "b" (at 0, 1, 2) and in "a" (at 3, 4, 5): "a" keeps its copy.
    hit = repeated.hits(keys, names, starts)
    assert hit.tolist() == [True, True, True, False, False, False]
    assert KeyCounts.merge([KeyCounts.of(keys)]).hits(keys).all()
    assert not KeyCounts.of(keys[:0]).hits(keys).any()
