"""A Bloom filter over 64-bit hashes, in numpy: the compact summary of one run's dedup keys.

Joining against earlier runs streams their index through this filter (built from this run's
keys only) and joins only what passes, so nothing the size of the earlier runs is ever held or
grouped. It answers "maybe" for every key that was added and, for a key that was not, "maybe"
with probability `fp_rate`; those false positives cost one join slot each and match nothing.
"""

from __future__ import annotations

import math

import numpy as np

from dedup.shingles import mix64

# choice: false positives passing the filter number at most this share of the run's own keys,
# whatever the size of the earlier runs: the join then holds this run's keys, their true
# matches and 1% more.
FALSE_POSITIVES_PER_OWN_KEY = 0.01
# choice: bounds of the false-positive rate: 1% costs 9.6 bits a key; 1e-6, for earlier runs
# 10,000 times the size of this one, 29 bits.
MAX_FP_RATE = 0.01
MIN_FP_RATE = 1e-6


def fp_rate_for(own: int, earlier: int) -> float:
    """The false-positive rate that lets through about 1% of `own` from `earlier` keys.

    The filter's size then grows with log(earlier / own): a part's memory stays flat however
    many parts came before it (at 100 equal parts, 19 bits a key).
    """
    if earlier <= 0:
        return MAX_FP_RATE
    wanted = FALSE_POSITIVES_PER_OWN_KEY * max(own, 1) / earlier
    return min(MAX_FP_RATE, max(MIN_FP_RATE, wanted))


class BloomFilter:
    """`bits` bits (a multiple of 64) and `hashes` probes per key, by double hashing."""

    def __init__(self, bits: int, hashes: int):
        self.bits = max(64, -(-bits // 64) * 64)
        self.hashes = max(1, hashes)
        self.words = np.zeros(self.bits // 64, dtype=np.uint64)

    @classmethod
    def sized(cls, keys: int, fp_rate: float) -> BloomFilter:
        """A filter for `keys` keys at false-positive rate `fp_rate` (the textbook optimum)."""
        keys = max(keys, 1)
        bits = math.ceil(-keys * math.log(fp_rate) / math.log(2) ** 2)
        return cls(bits, round(bits / keys * math.log(2)))

    @property
    def nbytes(self) -> int:
        """Memory of the bit array."""
        return self.words.nbytes

    def _probes(self, hashes: np.ndarray) -> np.ndarray:
        """(keys, probes) bit positions: h1 + i * h2 modulo the size (Kirsch-Mitzenmacher)."""
        first = np.asarray(hashes, dtype=np.uint64)
        # A second, independent hash of the same key; odd, so the probes never all coincide.
        step = mix64(first) | np.uint64(1)
        i = np.arange(self.hashes, dtype=np.uint64)
        with np.errstate(over="ignore"):
            return (first[:, None] + i * step[:, None]) % np.uint64(self.bits)

    def add(self, hashes: np.ndarray) -> None:
        """Add keys (uniform 64-bit hashes)."""
        if len(hashes) == 0:
            return
        probes = self._probes(hashes).ravel()
        masks = np.left_shift(np.uint64(1), probes & np.uint64(63))
        np.bitwise_or.at(self.words, probes >> np.uint64(6), masks)

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        """Per key: True if it may have been added, False if it certainly was not."""
        if len(hashes) == 0:
            return np.zeros(0, dtype=bool)
        probes = self._probes(hashes)
        words = self.words[probes >> np.uint64(6)]
        return (((words >> (probes & np.uint64(63))) & np.uint64(1)) == 1).all(axis=1)

    def merge(self, other: BloomFilter) -> BloomFilter:
        """This filter with `other`'s keys added (same size and probes): a bitwise or."""
        if (self.bits, self.hashes) != (other.bits, other.hashes):
            raise ValueError("only filters of the same size and probes merge")
        np.bitwise_or(self.words, other.words, out=self.words)
        return self


def key_hashes(keys: list[bytes] | bytes) -> np.ndarray:
    """The first 8 bytes of each 16-byte key (digests: already uniform) as 64-bit hashes."""
    data = keys if isinstance(keys, bytes) else b"".join(keys)
    return np.frombuffer(data, dtype="<u8")[::2].copy()
