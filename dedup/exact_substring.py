"""Exact-substring dedup (Lee et al. 2021; RefinedWeb EXACTSUBSTR-CUT) without a suffix array.

A token is removed when it lies inside a window of `min_tokens` tokens that occurs at least
twice in the corpus. Two-stage winnowed hashing finds those windows exactly:

1. Hash every k-token gram, keep the winnowing minimum of every w consecutive grams. With
   k + w - 1 <= min_tokens, two copies of a repeated window select the same gram at the same
   offset, so every repeated window contains a gram that is selected at least twice.
2. Hash (128 bits) only the windows around such grams; windows seen twice or more repeat.

Cuts happen at token boundaries mapped to character offsets, snapped inward so that a token
boundary falling inside a multi-byte character never splits it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from core.tokenizer import DEFAULT_TOKENIZER, load_tokenizer

ALL_COPIES = "all_copies"
KEEP_FIRST = "keep_first"
MODES = (ALL_COPIES, KEEP_FIRST)
TOO_SHORT = "too_short_after_cut"

_M64 = (1 << 64) - 1
# Odd multipliers (bases) and seeds of the two independent 64-bit polynomial hashes.
_BASES = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F)
_SEEDS = (0x243F6A8885A308D3, 0x13198A2E03707344)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrap-around arithmetic is intended)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _powers(base: int, count: int) -> np.ndarray:
    """base**0 .. base**(count-1) modulo 2**64."""
    out = np.full(count, base, dtype=np.uint64)
    out[0] = 1
    return np.cumprod(out, dtype=np.uint64)


class RollingHash:
    """Polynomial hashes mod 2**64 of every span of one token sequence, in O(1) each.

    With y[j] = mix(id[j]) * Q**j (Q the inverse of the base P) and C its prefix sum,
    (C[s + n] - C[s]) * P**s is the hash of tokens [s, s + n): no sequential loop needed.
    """

    def __init__(self, ids: np.ndarray, which: int):
        base = _BASES[which]
        n = len(ids)
        values = _mix(ids.astype(np.uint64) + np.uint64(_SEEDS[which]))
        self.p_pow = _powers(base, n + 1)
        q_pow = _powers(pow(base, -1, 1 << 64), n)
        self.prefix = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(values * q_pow, out=self.prefix[1:])

    def spans(self, starts: np.ndarray, length: int) -> np.ndarray:
        """Mixed hashes of [s, s + length) for each s in `starts`."""
        starts = np.asarray(starts, dtype=np.int64)
        raw = (self.prefix[starts + length] - self.prefix[starts]) * self.p_pow[starts]
        return _mix(raw ^ np.uint64(length))


def gram_hashes(ids: np.ndarray, k: int) -> np.ndarray:
    """64-bit hash of every k-token gram (len(ids) - k + 1 of them)."""
    if len(ids) < k:
        return np.zeros(0, dtype=np.uint64)
    return RollingHash(ids, 0).spans(np.arange(len(ids) - k + 1), k)


def winnow(hashes: np.ndarray, w: int) -> np.ndarray:
    """Sorted positions of the leftmost minimum of every window of `w` consecutive hashes.

    O(n) whatever w (van Herk / Gil-Werman): within blocks of w, running minima from the left
    and from the right; a window spans at most two blocks, so it is a suffix of one plus a
    prefix of the next.
    """
    n = len(hashes)
    if n < w:
        return np.zeros(0, dtype=np.int64)
    blocks = -(-n // w)
    padded = np.full(blocks * w, np.iinfo(np.uint64).max, dtype=np.uint64)
    padded[:n] = hashes
    grid = padded.reshape(blocks, w)
    at = np.arange(blocks * w, dtype=np.int64).reshape(blocks, w)
    # From the left: the minimum so far and where it first appeared (a strict drop moves it).
    pre = np.minimum.accumulate(grid, axis=1)
    drop = np.ones_like(grid, dtype=bool)
    drop[:, 1:] = pre[:, 1:] < pre[:, :-1]
    pre_at = np.maximum.accumulate(np.where(drop, at, 0), axis=1)
    # From the right: a position equal to its suffix minimum is that minimum's leftmost place.
    suf = np.minimum.accumulate(grid[:, ::-1], axis=1)[:, ::-1]
    own = grid == suf
    suf_at = np.minimum.accumulate(np.where(own, at, blocks * w)[:, ::-1], axis=1)[:, ::-1]
    starts = np.arange(n - w + 1)
    left, right = suf.ravel()[starts], pre.ravel()[starts + w - 1]
    # Ties go to the left part, which holds the earlier positions.
    picked = np.where(left <= right, suf_at.ravel()[starts], pre_at.ravel()[starts + w - 1])
    # The picks never move left as the window slides, so they come out sorted.
    keep = np.ones(len(picked), dtype=bool)
    keep[1:] = picked[1:] != picked[:-1]
    return picked[keep]


def candidate_starts(grams: np.ndarray, n: int, k: int, length: int) -> np.ndarray:
    """Starts of every `length`-token window containing one of the grams at `grams`."""
    last = n - length
    if last < 0 or len(grams) == 0:
        return np.zeros(0, dtype=np.int64)
    span = length - k  # window s contains gram q iff s <= q <= s + span
    lo = np.clip(np.asarray(grams, dtype=np.int64) - span, 0, None)
    hi = np.minimum(np.asarray(grams, dtype=np.int64), last)
    lo, hi = lo[lo <= hi], hi[lo <= hi]
    if len(lo) == 0:
        return np.zeros(0, dtype=np.int64)
    # Mark [lo, hi] ranges with a difference array: overlapping ranges are common.
    marks = np.zeros(last + 2, dtype=np.int64)
    np.add.at(marks, lo, 1)
    np.add.at(marks, hi + 1, -1)
    return np.flatnonzero(np.cumsum(marks[:-1]) > 0)


WINDOW_KEY = np.dtype([("hi", "<u8"), ("lo", "<u8")])  # 128 bits; sorts as (hi, lo)


def window_hashes(ids: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """128-bit keys (two independent 64-bit hashes) of the windows at `starts`, as WINDOW_KEY."""
    keys = np.zeros(len(starts), dtype=WINDOW_KEY)
    if len(starts):
        keys["hi"] = RollingHash(ids, 0).spans(starts, length)
        keys["lo"] = RollingHash(ids, 1).spans(starts, length)
    return keys


def window_keys(ids: np.ndarray, starts: np.ndarray, length: int) -> list[bytes]:
    """128-bit keys of the windows at `starts`, as 16-byte strings."""
    packed = window_hashes(ids, starts, length).tobytes()
    return [packed[i : i + 16] for i in range(0, len(packed), 16)]


def bucket_of(keys: np.ndarray, buckets: int) -> np.ndarray:
    """The shuffle bucket of each key (64-bit hashes, or WINDOW_KEY by its high half)."""
    hashes = keys["hi"] if keys.dtype == WINDOW_KEY else keys
    return (hashes % np.uint64(buckets)).astype(np.int64)


@dataclass(frozen=True)
class KeyCounts:
    """Distinct keys, sorted, with their number of occurrences capped at 2.

    With `names`, also each key's first occurrence by (document id, position): what
    keep_first spares. Merging is associative, so it serves as a combiner accumulator, and a
    key seen millions of times still takes one row.
    """

    keys: np.ndarray
    counts: np.ndarray
    names: np.ndarray | None = None
    positions: np.ndarray | None = None

    @staticmethod
    def of(keys: np.ndarray, names=None, positions=None) -> KeyCounts:
        """The counts of one batch of occurrences."""
        return KeyCounts(keys, np.ones(len(keys), dtype=np.uint8), names, positions)

    @staticmethod
    def merge(parts: list[KeyCounts]) -> KeyCounts:
        """One KeyCounts for all `parts` (at least one)."""
        keys = np.concatenate([p.keys for p in parts])
        counts = np.concatenate([p.counts for p in parts])
        names = positions = None
        # lexsort on the fields: sorting a structured array directly is several times slower.
        columns = [keys["lo"], keys["hi"]] if keys.dtype == WINDOW_KEY else [keys]
        if parts[0].names is not None:
            names = np.concatenate([p.names for p in parts])
            positions = np.concatenate([p.positions for p in parts])
            columns = [positions, names, *columns]
        order = np.lexsort(columns)
        keys = keys[order]
        heads = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else order[:0]
        summed = np.add.reduceat(counts[order].astype(np.int64), heads) if len(heads) else counts
        counts = np.minimum(summed, 2).astype(np.uint8)
        if names is not None:
            names, positions = names[order][heads], positions[order][heads]
        return KeyCounts(keys[heads], counts, names, positions)

    def repeated(self) -> KeyCounts:
        """Only the keys seen twice or more."""
        twice = self.counts >= 2
        if self.names is None:
            return KeyCounts(self.keys[twice], self.counts[twice])
        return KeyCounts(
            self.keys[twice], self.counts[twice], self.names[twice], self.positions[twice]
        )

    def hits(self, keys: np.ndarray, names=None, positions=None) -> np.ndarray:
        """Mask of the occurrences whose key is here (and, with names, not its first one)."""
        if len(self.keys) == 0 or len(keys) == 0:
            return np.zeros(len(keys), dtype=bool)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        hit = self.keys[at] == keys
        if self.names is not None:
            hit &= (self.names[at] != names) | (self.positions[at] != positions)
        return hit


def union_intervals(starts: np.ndarray, length: int) -> list[tuple[int, int]]:
    """Merged [start, start + length) token intervals (touching ones merge too)."""
    merged: list[tuple[int, int]] = []
    for start in np.unique(np.asarray(starts, dtype=np.int64)).tolist():
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], start + length)
        else:
            merged.append((start, start + length))
    return merged


def covered_positions(intervals: list[tuple[int, int]]) -> set[int]:
    """Every token position inside the intervals."""
    return {p for a, b in intervals for p in range(a, b)}


@dataclass(frozen=True)
class Tokens:
    """One text's token ids and, per token boundary, the character offsets a cut may use.

    `ceil[i]`/`floor[i]` are the first/last character boundary at or after/before the byte
    where boundary i falls; they differ only when a token splits a multi-byte character.
    """

    ids: np.ndarray
    ceil: np.ndarray
    floor: np.ndarray


@functools.cache
def span_tokenizer(spec: str = DEFAULT_TOKENIZER) -> SpanTokenizer:
    """One SpanTokenizer per spec and process: building one takes about a second."""
    return SpanTokenizer(spec)


class SpanTokenizer:
    """Token ids with character offsets for each token boundary (tiktoken specs only)."""

    def __init__(self, spec: str = DEFAULT_TOKENIZER):
        tokenizer = load_tokenizer(spec)
        if tokenizer.kind != "tiktoken":
            raise ValueError(f"exact_substring needs a tiktoken tokenizer (byte offsets): {spec}")
        self.encoding = tokenizer.backend
        lengths = np.zeros(self.encoding.max_token_value + 1, dtype=np.int64)
        ranks = getattr(self.encoding, "_mergeable_ranks", None)
        if isinstance(ranks, dict):  # ten times faster than decoding every id
            for token_bytes, token in ranks.items():
                lengths[token] = len(token_bytes)
            for special in self.encoding.special_tokens_set:
                lengths[self.encoding.encode_single_token(special)] = len(special.encode())
        else:
            for token in range(len(lengths)):
                with contextlib.suppress(KeyError):  # holes in the id space
                    lengths[token] = len(self.encoding.decode_single_token_bytes(token))
        self.byte_lengths = lengths

    def ids(self, texts: list[str]) -> list[np.ndarray]:
        """Token ids of each text (special-token strings are plain text)."""
        encoded = self.encoding.encode_ordinary_batch(texts, num_threads=1)
        return [np.asarray(e, dtype=np.uint32) for e in encoded]

    def offsets(self, text: str, ids: np.ndarray) -> Tokens:
        """Character offsets of the token boundaries of `text` encoded as `ids`."""
        bounds = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum(self.byte_lengths[ids], out=bounds[1:])
        data = text.encode("utf-8")
        if bounds[-1] != len(data):
            raise ValueError("token bytes do not add up to the text")
        if len(data) == len(text):  # ASCII: bytes are characters
            return Tokens(ids, bounds, bounds)
        raw = np.frombuffer(data, dtype=np.uint8)
        char_bytes = np.append(np.flatnonzero((raw & 0xC0) != 0x80), len(data))
        ceil = np.searchsorted(char_bytes, bounds, "left")
        floor = np.searchsorted(char_bytes, bounds, "right") - 1
        return Tokens(ids, ceil, floor)

    def encode(self, texts: list[str]) -> list[Tokens]:
        """Ids and offsets of each text."""
        return [self.offsets(t, ids) for t, ids in zip(texts, self.ids(texts), strict=True)]


def cut_text(text: str, tokens: Tokens, intervals: list[tuple[int, int]]) -> tuple[str, list]:
    """`text` without the token intervals; also the removed (start, end) character spans.

    A token interval [a, b) removes characters [ceil[a], floor[b]): a character that a token
    boundary splits is kept, never halved.
    """
    pieces, removed, at = [], [], 0
    for a, b in intervals:
        start, end = int(tokens.ceil[a]), int(tokens.floor[b])
        if start >= end:
            continue
        pieces.append(text[at:start])
        removed.append((start, end))
        at = end
    pieces.append(text[at:])
    return "".join(pieces), removed


def kept_enough(text: str, min_chars: int) -> bool:
    """RefinedWeb's EXACTSUBSTR-CUT rule: keep a cut document with >= min_chars left."""
    # choice: surrounding whitespace is not content, so it does not count.
    return len(text.strip()) >= min_chars


def span_rank(doc_id: str, start: int) -> str:
    """A deterministic sampling rank for a removed span."""
    return hashlib.blake2b(f"{doc_id}:{start}".encode(), digest_size=8).hexdigest()


@dataclass(frozen=True)
class ExactSubstring:
    """Parameters of the stage and the per-document steps both drivers share."""

    name: ClassVar[str] = "exact_substring"
    reasons: ClassVar[tuple[str, ...]] = (TOO_SHORT,)

    min_tokens: int = 50  # RefinedWeb §3.3 / Lee et al.: spans of >= 50 tokens
    k: int = 25  # choice: Lee et al. saw no false positives at 25 tokens; k + w - 1 = 50
    w: int = 26  # choice: every 50-token window holds one full winnowing window
    mode: str = ALL_COPIES  # Lee et al. / RefinedWeb cut every copy
    min_chars_after: int = 20  # RefinedWeb App. G.3.2: drop if < 20 characters remain
    hot_key_fanout: int = 16  # choice: each bucket's counting spread over 16 combiners first
    # choice: shuffle keys; a bucket's distinct keys sit in one worker's memory, about
    # 5 bytes per corpus token over all buckets (keep_first: 15), so buckets >= that / RAM.
    buckets: int = 64
    tokenizer: str = DEFAULT_TOKENIZER  # as the output shards
    span_samples: int = 20  # choice: removed spans kept for the report
    # Whether documents left uncut carry their token ids (Document.text_ids) to a following
    # tokenize stage; set by the run when that stage uses the same tokenizer.
    hand_on_ids: bool = False

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"exact_substring.mode must be one of {MODES}, not {self.mode!r}")
        if not 1 <= self.k <= self.min_tokens or self.w < 1:
            raise ValueError("exact_substring needs 1 <= k <= min_tokens and w >= 1")
        if self.buckets < 1:
            raise ValueError("exact_substring needs buckets >= 1")
        if self.k + self.w - 1 > self.min_tokens:
            # Otherwise a repeated window might hold no full winnowing window: missed repeats.
            raise ValueError("exact_substring needs k + w - 1 <= min_tokens")

    def fingerprints(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stage 1: (positions, 64-bit hashes) of the winnowed k-grams of one document."""
        if len(ids) < self.min_tokens:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.astype(np.uint64)
        hashes = gram_hashes(ids, self.k)
        picked = winnow(hashes, self.w)
        return picked, hashes[picked]

    def windows(self, ids: np.ndarray, grams: np.ndarray) -> tuple[np.ndarray, list[bytes]]:
        """Stage 2: (starts, 128-bit keys) of the windows around the repeated grams."""
        starts = candidate_starts(grams, len(ids), self.k, self.min_tokens)
        return starts, window_keys(ids, starts, self.min_tokens)

    def flagged(self, occurrences) -> Iterator[tuple[str, int]]:
        """Of one window's occurrences (doc id, start), those to cut under the mode.

        Streams in O(1) memory, since a boilerplate window can occur millions of times.
        """
        first, first_cut = None, False
        for occurrence in occurrences:
            if first is None:
                first = occurrence
                continue
            if self.mode == KEEP_FIRST:
                # The smallest occurrence so far is held back; every other one is cut.
                first, other = min(first, occurrence), max(first, occurrence)
                yield other
            else:
                if not first_cut:
                    first_cut = True
                    yield first
                yield occurrence


def find_repeats(
    docs: dict[str, np.ndarray], stage: ExactSubstring
) -> tuple[dict[str, list[tuple[int, int]]], dict[str, int]]:
    """The two-stage algorithm in memory on token ids: (token intervals to cut, sizes).

    The Beam stage distributes exactly these steps; this driver serves tests and benchmarks.
    """
    seen: dict[int, int] = defaultdict(int)
    picks = {doc_id: stage.fingerprints(ids) for doc_id, ids in docs.items()}
    for _, hashes in picks.values():
        for h in hashes.tolist():
            seen[h] += 1
    groups: dict[bytes, list[tuple[str, int]]] = defaultdict(list)
    candidates = 0
    for doc_id, (positions, hashes) in picks.items():
        repeated = positions[np.array([seen[h] >= 2 for h in hashes.tolist()], dtype=bool)]
        starts, keys = stage.windows(docs[doc_id], repeated)
        candidates += len(starts)
        for start, key in zip(starts.tolist(), keys, strict=True):
            groups[key].append((doc_id, start))
    flagged: dict[str, list[int]] = defaultdict(list)
    for occurrences in groups.values():
        for doc_id, start in stage.flagged(iter(occurrences)):
            flagged[doc_id].append(start)
    intervals = {
        doc_id: union_intervals(np.array(flagged.get(doc_id, [])), stage.min_tokens)
        for doc_id in docs
    }
    sizes = {
        "tokens": sum(len(ids) for ids in docs.values()),
        "all_windows": sum(max(len(ids) - stage.min_tokens + 1, 0) for ids in docs.values()),
        "fingerprints": sum(len(p[0]) for p in picks.values()),
        "repeated_fingerprints": sum(n for n in seen.values() if n >= 2),
        "candidate_windows": candidates,
    }
    return intervals, sizes


def dedup_texts(
    texts: dict[str, str], stage: ExactSubstring, tokenizer: SpanTokenizer
) -> tuple[dict[str, str | None], dict[str, list[tuple[int, int]]], dict[str, int]]:
    """Texts after the stage (None: dropped), with the token intervals cut and sizes."""
    encoded = dict(zip(texts, tokenizer.encode(list(texts.values())), strict=True))
    intervals, sizes = find_repeats({d: t.ids for d, t in encoded.items()}, stage)
    out: dict[str, str | None] = {}
    for doc_id, text in texts.items():
        if not intervals[doc_id]:
            out[doc_id] = text
            continue
        text, _ = cut_text(text, encoded[doc_id], intervals[doc_id])
        out[doc_id] = text if kept_enough(text, stage.min_chars_after) else None
    return out, intervals, sizes
