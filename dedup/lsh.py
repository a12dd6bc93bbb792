"""LSH banding: the band entries dedup shuffles, the stars of each bucket, and the arithmetic
(candidate probability, (bands, rows) for a threshold)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from datasketch.lsh import _optimal_param

from dedup.arrays import split_by

# One document in one band, as shuffled: 12 bytes. The document is a row of its chunk's
# handle table (core.document.id_handle, 16 bytes a document, once per chunk).
BAND_ENTRY = np.dtype([("band", "<u2"), ("hash", "<u8"), ("row", "<u2")])
# Spreads one band's hashes over the buckets (any odd 64-bit constant).
_BAND_MIX = np.uint64(0x9E3779B97F4A7C15)
# The node that stands for every document of earlier runs (--dedup-against): the smallest
# handle there is, so a component holding one is labelled with it, whatever the crawl dates.
EARLIER_HANDLE = bytes(16)


class BandChunk(NamedTuple):
    """The band entries of one batch of documents in one bucket."""

    handles: bytes  # the batch's id handles, 16 bytes each, in row order
    entries: np.ndarray  # BAND_ENTRY


def band_entries(band_hashes: np.ndarray) -> np.ndarray:
    """BAND_ENTRY rows for each document (row) and each of its bands."""
    docs, bands = band_hashes.shape
    if docs > np.iinfo(np.uint16).max:
        raise ValueError(f"at most {np.iinfo(np.uint16).max} documents a batch, got {docs}")
    entries = np.empty(docs * bands, dtype=BAND_ENTRY)
    entries["band"] = np.tile(np.arange(bands, dtype=np.uint16), docs)
    entries["hash"] = band_hashes.reshape(-1)
    entries["row"] = np.repeat(np.arange(docs, dtype=np.uint16), bands)
    return entries


def band_mix(entries: np.ndarray) -> np.ndarray:
    """One 64-bit value per band entry, equal exactly for equal (band, hash)."""
    with np.errstate(over="ignore"):
        return entries["hash"] ^ (entries["band"].astype(np.uint64) * _BAND_MIX)


def entry_buckets(entries: np.ndarray, buckets: int) -> np.ndarray:
    """The shuffle bucket of each band entry: every copy of a (band, hash) meets in one."""
    return (band_mix(entries) % np.uint64(buckets)).astype(np.int64)


def earlier_entries(band_hashes: np.ndarray) -> np.ndarray:
    """BAND_ENTRY rows of earlier runs' documents ((documents, bands) hashes): all row 0, the
    row of EARLIER_HANDLE, since only "an earlier run kept this" matters, not which document."""
    docs, bands = band_hashes.shape
    entries = np.zeros(docs * bands, dtype=BAND_ENTRY)
    entries["band"] = np.tile(np.arange(bands, dtype=np.uint16), docs)
    entries["hash"] = band_hashes.reshape(-1)
    return entries


def band_chunks(handles: bytes, band_hashes: np.ndarray, buckets: int):
    """(bucket, BandChunk) of a batch: its band entries split by bucket, each chunk carrying
    the handles of the documents it names only.

    With few buckets (the default 64) every document has entries in every chunk, and a
    document costs 12 bytes a band plus 16 bytes a bucket; with more buckets than bands (a
    whole dump in one job) a chunk names each document about once, and the handle costs 16
    bytes an entry instead of a table the size of the batch in every chunk.
    """
    table = np.frombuffer(handles, dtype="V16")
    entries = band_entries(band_hashes)
    for bucket, at in split_by(entry_buckets(entries, buckets)):
        chunk = entries[at]
        present, rows = np.unique(chunk["row"], return_inverse=True)
        chunk["row"] = rows
        yield bucket, BandChunk(table[present].tobytes(), chunk)


def _handles(hi: np.ndarray, lo: np.ndarray) -> list[bytes]:
    pairs = np.empty((len(hi), 2), dtype=">u8")
    pairs[:, 0], pairs[:, 1] = hi, lo
    # An unstructured void view lists each row as its raw 16 bytes, trailing zeros kept.
    return pairs.view("V16").ravel().tolist()


def bucket_stars(chunks: list[BandChunk]) -> Iterator[tuple[bytes, bytes]]:
    """Edges (member, smallest member) of every run of equal (band, hash) in one bucket.

    The same edges as star_edges over each band key's documents, in one sort: a document
    listed twice (one record in two copies of a file) is never an edge to itself.
    """
    chunks = [c for c in chunks if len(c.entries)]
    if not chunks:
        return
    band = np.concatenate([c.entries["band"] for c in chunks])
    value = np.concatenate([c.entries["hash"] for c in chunks])
    # Each entry's document as the two big-endian halves of its handle: (hi, lo) order is
    # id order.
    halves = [
        np.frombuffer(c.handles, dtype=">u8").reshape(-1, 2)[c.entries["row"]] for c in chunks
    ]
    hi = np.concatenate([h[:, 0] for h in halves]).astype(np.uint64)
    lo = np.concatenate([h[:, 1] for h in halves]).astype(np.uint64)
    order = np.lexsort((lo, hi, value, band))
    band, value, hi, lo = band[order], value[order], hi[order], lo[order]
    starts = np.r_[True, (band[1:] != band[:-1]) | (value[1:] != value[:-1])]
    smallest = np.maximum.accumulate(np.where(starts, np.arange(len(band)), 0))
    member = (hi != hi[smallest]) | (lo != lo[smallest])
    rows = np.flatnonzero(member)
    first = smallest[rows]
    yield from zip(_handles(hi[rows], lo[rows]), _handles(hi[first], lo[first]), strict=True)


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Chance two documents at Jaccard `similarity` share at least one band: 1-(1-s^r)^b."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def threshold_point(bands: int, rows: int) -> float:
    """The similarity where the candidate probability is about one half: (1/b)^(1/r)."""
    return (1.0 / bands) ** (1.0 / rows)


def params_for_threshold(
    threshold: float, num_perm: int, false_positive_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows) using at most `num_perm` hashes that best separate at `threshold`.

    datasketch minimises the weighted false-positive and false-negative areas under the
    candidate curve (numerically: some seconds at 9000 hashes).
    """
    return _optimal_param(threshold, num_perm, false_positive_weight, 1.0 - false_positive_weight)
