"""MinHash signatures vectorised over a batch of documents, and their LSH band keys.

Two paths give the same values bit for bit: the compiled one (dedup/_minhash.c, built at
install when a C compiler is there) and the numpy reference below, which runs without it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from dedup.earlier import EarlierRuns
from dedup.shingles import (
    POSITIONS,
    combine,
    fold_table,
    shingle_hashes,
    token_words,
    word_hashes,
)

try:
    from dedup import _minhash
except ImportError:  # installed without a C compiler: the numpy path does the same work
    _minhash = None

log = logging.getLogger(__name__)

# The path a MinHasher takes unless told otherwise, e.g. "compiled (avx512f)" or "numpy".
BACKEND = f"compiled ({_minhash.simd()})" if _minhash is not None else "numpy"

# Signature values are 32-bit, as datasketch's: two different minima tie with chance about
# shingles / 2^32, and 32-bit lanes halve the memory traffic of the (shingles x hashes) block.
EMPTY = np.uint32(0xFFFFFFFF)  # the signature value of an empty shingle set (matches none)
# Bytes of the (shingle chunk x hashes) block the numpy path computes at once: bounded memory
# on long pages (a whole page at once would be shingles x 9000 x 4 bytes, gigabytes). Half of
# L2 measured fastest (bench/bench_minhash.py: 128-512 KiB within noise, 1 MiB slower).
BLOCK_BYTES = 256 * 1024
# choice: word hashes kept across batches until this many distinct tokens (about 150 bytes
# each in the numpy path's dict, 60 in the compiled table); a worker meets the same tokens
# again, so most are normalised and hashed once.
CACHE_TOKENS = 200_000


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
NEAR_DUPLICATE = "near_duplicate"
# A run deduplicated against earlier ones' band keys (--dedup-against): the document's
# component holds a document an earlier run kept.
NEAR_DUPLICATE_KEPT_BY_EARLIER_RUN = "near_duplicate_kept_by_earlier_run"


@dataclass(frozen=True)
class MinHashSettings(EarlierRuns):
    """The minhash stage: near-duplicates (LSH buckets, then connected components) dropped,
    the smallest id of each component kept (the config's `dedup` section).

    With earlier runs' index files holding band keys (`--dedup-against`), a component that
    holds a document an earlier run kept loses all of this run's members: earlier runs win.
    """

    name: ClassVar[str] = "minhash"
    reasons: ClassVar[tuple[str, ...]] = (NEAR_DUPLICATE, NEAR_DUPLICATE_KEPT_BY_EARLIER_RUN)

    params: MinHashParams = PRESETS["refinedweb"]
    rounds: int = 3
    residual_budget: int = 1_000_000
    audit_pairs: int = 8
    batch_size: int = 64
    # Shuffle keys of the band entries; one bucket's entries are sorted on one worker.
    buckets: int = 64

    @classmethod
    def from_config(cls, section: dict) -> MinHashSettings:
        """Settings from the `dedup` config section (bands/rows override the preset)."""
        preset = PRESETS[section["minhash_preset"]]
        params = MinHashParams(
            bands=section["bands"] or preset.bands,
            rows=section["rows"] or preset.rows,
            ngram=section["ngram"],
            seed=section["seed"],
        )
        return cls(
            params=params,
            rounds=section["rounds"],
            residual_budget=section["residual_budget"],
            audit_pairs=section["audit_pairs"],
            batch_size=section["batch_size"],
            buckets=section["buckets"],
        )


class MinHasher:
    """Multiplicative hashing h_i(x) = a_i * x mod 2^32 (odd a_i) over 32-bit shingle hashes.

    Multiply-only 32-bit arithmetic is a third of the work of a * x + b mod 2^64 in numpy and
    estimates Jaccard as well (tests/dedup/test_minhash.py against datasketch). Shingle values
    are forced odd: an odd times an odd is never 0, so no shingle is the minimum of every
    hash function at once.
    """

    def __init__(self, params: MinHashParams = PRESETS["refinedweb"], compiled: bool | None = None):
        """`compiled`: None takes the compiled path when it is built, False the numpy one."""
        if compiled and _minhash is None:
            raise RuntimeError("dedup._minhash is not built: reinstall with a C compiler")
        self.params = params
        self.compiled = _minhash is not None if compiled is None else compiled
        self.backend = BACKEND if self.compiled else "numpy"
        _announce(self.backend)
        rng = np.random.default_rng(params.seed)
        k = params.num_perm
        self.a = rng.integers(0, 1 << 32, size=k, dtype=np.uint32) | np.uint32(1)
        self.chunk = max(1, BLOCK_BYTES // (4 * k))
        self._tokens: dict[str, tuple[int, ...]] = {}
        self._words = _minhash.WordCache(*fold_table()) if self.compiled else None

    def __getstate__(self) -> dict:
        """Pickled without its token caches (the compiled one cannot be): a fresh one after."""
        return {**self.__dict__, "_tokens": {}, "_words": None}

    def __setstate__(self, state: dict) -> None:
        """Restore, with an empty token cache."""
        self.__dict__.update(state)
        if self.compiled:
            self._words = _minhash.WordCache(*fold_table())

    def shingles(self, text: str, cache: dict | None = None) -> np.ndarray:
        """Unique n-gram hashes of one text."""
        return shingle_hashes(text, self.params.ngram, cache)

    @staticmethod
    def hash_input(shingles: np.ndarray) -> np.ndarray:
        """The 32-bit odd values the hash functions multiply: high half of each shingle hash."""
        high = np.asarray(shingles, dtype=np.uint64) >> np.uint64(32)
        return high.astype(np.uint32) | np.uint32(1)

    def signatures(self, shingle_sets: Sequence[np.ndarray]) -> np.ndarray:
        """(documents, num_perm) uint32 minima; an empty set gives EMPTY (it matches none)."""
        k = self.params.num_perm
        out = np.full((len(shingle_sets), k), EMPTY, dtype=np.uint32)
        if self.compiled:
            for row, values in zip(out, shingle_sets, strict=True):
                if len(values):
                    _minhash.signature(self.hash_input(values), self.a, row)
            return out
        longest = max((len(s) for s in shingle_sets), default=0)
        block = np.empty((min(self.chunk, longest), k), dtype=np.uint32)
        minima = np.empty(k, dtype=np.uint32)
        for row, values in zip(out, shingle_sets, strict=True):
            x = self.hash_input(values)
            for start in range(0, len(x), self.chunk):
                part = block[: len(x[start : start + self.chunk])]
                np.multiply(x[start : start + self.chunk, None], self.a, out=part)
                # The first chunk reduces straight into the row; later ones into a buffer.
                if not start:
                    np.minimum.reduce(part, axis=0, out=row)
                else:
                    np.minimum.reduce(part, axis=0, out=minima)
                    np.minimum(row, minima, out=row)
        return out

    def word_hashes(self, text: str) -> np.ndarray:
        """shingles.word_hashes(text), through this hasher's token cache."""
        if not self.compiled:
            return word_hashes(text, self._tokens)
        found = self._words.words(text)
        if isinstance(found, list):  # tokens the table cannot normalise: fold, then cache them
            new = list(set(found))
            self._words.add(new, token_words(new))
            found = self._words.words(text)
        return np.frombuffer(found, dtype=np.uint64)

    def band_hashes(self, signatures: np.ndarray) -> np.ndarray:
        """(documents, bands) uint64: each band's rows hashed into one value."""
        p = self.params
        banded = signatures[:, : p.num_perm].reshape(len(signatures), p.bands, p.rows)
        if p.rows <= 16:
            return combine(banded)
        # Longer bands: hash 16 rows at a time, then the partial hashes.
        parts = [combine(banded[:, :, i : i + 16]) for i in range(0, p.rows, 16)]
        return combine(np.stack(parts, axis=-1))

    def text_band_hashes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(documents, bands) band hashes of the texts, and which texts have any shingle."""
        p = self.params
        if self.compiled:
            if len(self._words) > CACHE_TOKENS:
                self._words.clear()
            hashes = np.empty((len(texts), p.bands), dtype=np.uint64)
            has_shingles = np.empty(len(texts), dtype=bool)
            for row, text in enumerate(texts):
                words = self.word_hashes(text)
                has_shingles[row] = len(words) > 0
                # n-grams, signature and band hashes in one call per document.
                _minhash.band_hashes(
                    words, self.a, POSITIONS, p.ngram, p.bands, p.rows, hashes[row]
                )
            return hashes, has_shingles
        if len(self._tokens) > CACHE_TOKENS:
            self._tokens.clear()
        sets = [self.shingles(text, self._tokens) for text in texts]
        hashes = self.band_hashes(self.signatures(sets))
        return hashes, np.array([len(shingles) > 0 for shingles in sets], dtype=bool)

    def band_keys(self, texts: Sequence[str]) -> list[list[bytes]]:
        """Per text, one key per band: 2-byte band index + 8-byte band hash (none if empty)."""
        hashes, has_shingles = self.text_band_hashes(texts)
        return [
            band_key_bytes(row) if has else []
            for row, has in zip(hashes, has_shingles, strict=True)
        ]


_announced: set[str] = set()


def _announce(backend: str) -> None:
    """Log once per process which path MinHash takes (a failed build must not go unseen)."""
    if backend in _announced:
        return
    _announced.add(backend)
    if _minhash is None:
        log.warning(
            "MinHash: dedup._minhash is not built (no C compiler at install?); the numpy "
            "path gives the same band keys, several times slower"
        )
    else:
        log.info("MinHash: %s path", backend)


_KEY = np.dtype([("band", ">u2"), ("hash", ">u8")])


def band_key_bytes(band_hashes: np.ndarray) -> list[bytes]:
    """One document's band hashes as GroupByKey keys (band index first, so bands never mix)."""
    keys = np.empty(len(band_hashes), dtype=_KEY)
    keys["band"] = np.arange(len(band_hashes))
    keys["hash"] = band_hashes
    # An unstructured void view lists each record as its raw bytes, trailing zeros kept.
    return keys.view(f"V{_KEY.itemsize}").tolist()


def estimate_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Share of equal signature positions: the MinHash estimate of Jaccard similarity."""
    return float(np.mean(a == b))
