"""MinHash signatures vectorised over a batch of documents, and their LSH band keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dedup.normalize import normalize
from dedup.shingles import combine, hash_words
from filters.text import split_words

MAX64 = np.uint64((1 << 64) - 1)
# Bytes of the (shingle chunk x hashes) block computed at once: bounded memory on long pages
# (a whole page at once would be shingles x 9000 x 8 bytes, gigabytes); 1 MiB stays in L2.
BLOCK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class MinHashParams:
    """LSH banding: `bands` x `rows` hashes, word `ngram` shingles, hash family `seed`."""

    bands: int = 450  # RefinedWeb App. G.3.1: 450 buckets of 20 hashes (9000 in all)
    rows: int = 20
    ngram: int = 5  # RefinedWeb App. G.3.1: 5-grams
    seed: int = 1  # choice: any fixed seed; runs compare only under the same one

    @property
    def num_perm(self) -> int:
        """Hash functions in a signature."""
        return self.bands * self.rows


# Named (bands, rows) settings: RefinedWeb's 9000 hashes; FineWeb's 112 (FineWeb App. E.1).
PRESETS = {
    "refinedweb": MinHashParams(bands=450, rows=20),
    "fineweb": MinHashParams(bands=14, rows=8),
}


class MinHasher:
    """Universal hashing h_i(x) = a_i * x + b_i mod 2^64 over 64-bit shingle hashes.

    The 64-bit wrap-around family estimates Jaccard as well as the mod (2^61 - 1) one and is
    about twice as fast in numpy (dedup.md measurements).
    """

    def __init__(self, params: MinHashParams = PRESETS["refinedweb"]):
        self.params = params
        rng = np.random.default_rng(params.seed)
        k = params.num_perm
        self.a = rng.integers(0, 1 << 64, size=k, dtype=np.uint64, endpoint=False) | np.uint64(1)
        self.b = rng.integers(0, 1 << 64, size=k, dtype=np.uint64, endpoint=False)
        self.chunk = max(1, BLOCK_BYTES // (8 * k))
        self._buffer = np.empty((self.chunk, k), dtype=np.uint64)

    def shingles(self, text: str, cache: dict | None = None) -> np.ndarray:
        """Unique n-gram hashes of one text."""
        return hash_words(split_words(normalize(text)), self.params.ngram, cache)

    def signatures(self, shingle_sets: Sequence[np.ndarray]) -> np.ndarray:
        """(documents, num_perm) uint64 minima; an empty set gives all-ones (it matches none)."""
        k = self.params.num_perm
        out = np.full((len(shingle_sets), k), MAX64, dtype=np.uint64)
        lengths = np.array([len(s) for s in shingle_sets], dtype=np.int64)
        if not lengths.sum():
            return out
        values = np.concatenate([np.asarray(s, dtype=np.uint64) for s in shingle_sets])
        owner = np.repeat(np.arange(len(shingle_sets)), lengths)
        buffer = self._buffer
        minima = np.empty(k, dtype=np.uint64)
        for start in range(0, len(values), self.chunk):
            x = values[start : start + self.chunk]
            docs = owner[start : start + self.chunk]
            block = buffer[: len(x)]
            np.multiply(x[:, None], self.a[None, :], out=block)
            np.add(block, self.b, out=block)
            # One minimum per document run in the chunk (contiguous slices: reduceat over
            # axis 0 is several times slower).
            cuts = [0, *(np.flatnonzero(docs[1:] != docs[:-1]) + 1).tolist(), len(x)]
            for lo, hi in zip(cuts, cuts[1:], strict=False):
                row = out[docs[lo]]
                np.minimum.reduce(block[lo:hi], axis=0, out=minima)
                np.minimum(row, minima, out=row)
        return out

    def band_hashes(self, signatures: np.ndarray) -> np.ndarray:
        """(documents, bands) uint64: each band's rows hashed into one value."""
        p = self.params
        banded = signatures[:, : p.num_perm].reshape(len(signatures), p.bands, p.rows)
        if p.rows <= 16:
            return combine(banded)
        # Longer bands: hash 16 rows at a time, then the partial hashes.
        parts = [combine(banded[:, :, i : i + 16]) for i in range(0, p.rows, 16)]
        return combine(np.stack(parts, axis=-1))

    def band_keys(self, texts: Sequence[str]) -> list[list[bytes]]:
        """Per text, one key per band: 2-byte band index + 8-byte band hash (none if empty)."""
        cache: dict = {}
        sets = [self.shingles(text, cache) for text in texts]
        hashes = self.band_hashes(self.signatures(sets))
        return [
            band_key_bytes(row) if len(shingles) else []
            for row, shingles in zip(hashes, sets, strict=True)
        ]


_KEY = np.dtype([("band", ">u2"), ("hash", ">u8")])


def band_key_bytes(band_hashes: np.ndarray) -> list[bytes]:
    """One document's band hashes as GroupByKey keys (band index first, so bands never mix)."""
    keys = np.empty(len(band_hashes), dtype=_KEY)
    keys["band"] = np.arange(len(band_hashes))
    keys["hash"] = band_hashes
    raw = keys.tobytes()
    size = _KEY.itemsize
    return [raw[i : i + size] for i in range(0, len(raw), size)]


def estimate_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Share of equal signature positions: the MinHash estimate of Jaccard similarity."""
    return float(np.mean(a == b))
