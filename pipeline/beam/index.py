"""The run index under Beam: written from the final documents, and joined against by later runs.

Joining against earlier runs never groups or holds their index: it streams through a Bloom
filter of this run's own keys (`OwnKeysFilter`, sized by this run, not by the earlier ones)
and only what passes joins this run's documents, inside the stage's own GroupByKey. The local
runner keeps every GroupByKey's whole input in memory, so the earlier index must never be one:
what reaches the join is this run's keys, their true matches and about 1% of false positives
(dedup/bloom.py), however many runs came before.
"""

from __future__ import annotations

import copy
import logging
from typing import NamedTuple

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import TaggedOutput

from core.document import Document
from dedup.arrays import split_by
from dedup.bloom import BloomFilter, fp_rate_for, key_hashes
from dedup.lsh import EARLIER_HANDLE, BandChunk, band_mix, earlier_entries, entry_buckets
from dedup.minhash import MinHasher
from pipeline.beam.sink import shard_name, shard_of
from pipeline.beam.stage import (
    ERRORS,
    STATS,
    CountingDoFn,
    StageResult,
    error_record,
    in_global_window,
    packed,
)
from pipeline.index import BAND_HASHES, INDEX_DIR, IndexSettings, document_keys, schema

log = logging.getLogger("macrodata")

# Index rows read at a time: keys are 16 bytes, band hashes up to a few kB a row.
KEY_BATCH_ROWS = 65536
BAND_BATCH_ROWS = 2048


# --- writing --------------------------------------------------------------------------------


class IndexRow(NamedTuple):
    """One kept document's keys, as they wait for their index shard."""

    id: str
    source: str
    url_key: bytes
    text_key: bytes
    band_hashes: bytes | None  # `bands` little-endian uint64; None without shingles or keys


class IndexRows(beam.DoFn):
    """Batches of final documents -> their IndexRows (band hashes when the index has them)."""

    def __init__(self, settings: IndexSettings):
        self.settings = settings

    def setup(self):
        self.hasher = MinHasher(self.settings.minhash) if self.settings.band_keys else None

    def process(self, batch: list[Document]):
        bands: list[bytes | None] = [None] * len(batch)
        if self.hasher is not None:
            hashes, has_shingles = self.hasher.text_band_hashes([doc.text for doc in batch])
            bands = [
                row.astype("<u8").tobytes() if has else None
                for row, has in zip(hashes, has_shingles, strict=True)
            ]
        for doc, band_hashes in zip(batch, bands, strict=True):
            yield IndexRow(doc.id, doc.source, *document_keys(doc), band_hashes)


class WriteIndexShard(beam.DoFn):
    """(shard index, rows) -> one sorted index file; yields its {"path", "rows"}."""

    def __init__(self, output: str, band_keys: bool):
        self.output = output
        self.band_keys = band_keys

    def process(self, item, count: int):
        index, rows = item
        rows = sorted(rows, key=lambda r: (r.id, r.source))
        relative = f"{INDEX_DIR}/{shard_name(index, count)}"
        columns = {
            "id": [r.id for r in rows],
            "url_key": [r.url_key for r in rows],
            "text_key": [r.text_key for r in rows],
        }
        if self.band_keys:
            columns[BAND_HASHES] = [r.band_hashes for r in rows]
        table = pa.table(columns, schema=schema(self.band_keys))
        with FileSystems.create(FileSystems.join(self.output, relative)) as handle:
            pq.write_table(table, handle, compression="zstd")
        yield {"path": relative, "rows": len(rows)}


def write_index(docs, output: str, shard_count, settings: IndexSettings):
    """Final documents -> index files, sharded like the data; their {"path", "rows"} entries."""
    count = beam.pvalue.AsSingleton(shard_count)
    return (
        docs
        | "Index batch" >> beam.BatchElements(min_batch_size=16, max_batch_size=256)
        | "Index keys" >> beam.ParDo(IndexRows(settings))
        | "Assign index shard" >> beam.Map(lambda row, n: (shard_of(row.id, n), row), count)
        | "Group index shard" >> beam.GroupByKey()
        | "Write index shard" >> beam.ParDo(WriteIndexShard(output, settings.band_keys), count)
    )


# --- this run's keys, summarised --------------------------------------------------------------


class FillFilter(beam.DoFn):
    """Arrays of this run's key hashes -> one Bloom filter per bundle, sized for all of them."""

    def __init__(self, earlier_keys: int):
        self.earlier_keys = earlier_keys

    def start_bundle(self):
        self.filter = None

    def process(self, hashes: np.ndarray, own_keys: int):
        if self.filter is None:
            rate = fp_rate_for(own_keys, self.earlier_keys)
            self.filter = BloomFilter.sized(own_keys, rate)
        self.filter.add(hashes)

    def finish_bundle(self):
        if self.filter is not None:
            yield in_global_window(self.filter)


class MergeFilters(beam.CombineFn):
    """The per-bundle filters or-ed into one (None when this run has no keys)."""

    def create_accumulator(self):
        return None

    def add_input(self, accumulator, bloom):
        # The first input is copied: inputs must not be changed.
        return copy.deepcopy(bloom) if accumulator is None else accumulator.merge(bloom)

    def merge_accumulators(self, accumulators):
        merged = None
        for accumulator in accumulators:
            if accumulator is not None:
                merged = accumulator if merged is None else merged.merge(accumulator)
        return merged

    def extract_output(self, accumulator):
        return accumulator


class OwnKeysFilter(beam.PTransform):
    """Arrays of this run's 64-bit key hashes -> one Bloom filter of them all (a singleton).

    Counted first, so the filter is sized by this run's keys; `earlier_keys` only sets its
    false-positive rate (about 1% of this run's keys pass by chance).
    """

    def __init__(self, earlier_keys: int):
        super().__init__()
        self.earlier_keys = earlier_keys

    def expand(self, hashes):
        own_keys = (
            hashes | "Count own keys" >> beam.Map(len) | "Sum own keys" >> beam.CombineGlobally(sum)
        )
        return (
            hashes
            | "Fill filters"
            >> beam.ParDo(FillFilter(self.earlier_keys), beam.pvalue.AsSingleton(own_keys))
            | "Merge filters" >> beam.CombineGlobally(MergeFilters())
        )


# --- reading earlier indexes through the filter ---------------------------------------------


def _index_batches(path: str, columns: list[str], rows: int):
    """Record batches of one index file, `rows` at a time (never the whole file)."""
    handle = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    with handle:
        yield from pq.ParquetFile(handle).iter_batches(batch_size=rows, columns=columns)


def _fixed_width(column: pa.Array, width: int) -> tuple[bytes, np.ndarray]:
    """A fixed-size binary column's values as one byte string, and which rows are present."""
    data = column.buffers()[1]
    start = column.offset * width
    values = bytes(memoryview(data)[start : start + len(column) * width]) if data else b""
    present = np.ones(len(column), dtype=bool)
    if column.null_count:
        present = column.is_valid().to_numpy(zero_copy_only=False)
    return values, present


class EarlierDoFn(CountingDoFn):
    """Reads earlier runs' index files; an unreadable one is an error record, not a crash."""

    def __init__(self, stage_name: str):
        self.stage_name = stage_name

    def process(self, path: str, own_filter: BloomFilter | None):
        self.funnel.figure("earlier_index_files")
        if own_filter is None:  # this run has no keys: nothing can match
            return
        try:
            yield from self.matches(path, own_filter)
        except Exception as error:
            log.warning("%s: cannot read earlier index %s: %s", self.stage_name, path, error)
            self.funnel.figure("earlier_index_files_failed")
            yield TaggedOutput(
                ERRORS,
                error_record(path, -1, "unreadable_index", error, stage=self.stage_name),
            )

    def matches(self, path: str, own_filter: BloomFilter):
        raise NotImplementedError


class EarlierKeys(EarlierDoFn):
    """An earlier index file -> (key, (earlier id, None)) for each key the filter passes."""

    progress_what = "earlier index keys read"

    def __init__(self, stage_name: str, column: str):
        super().__init__(stage_name)
        self.column = column

    def matches(self, path: str, own_filter: BloomFilter):
        for batch in _index_batches(path, ["id", self.column], KEY_BATCH_ROWS):
            keys, present = _fixed_width(batch.column(1), 16)
            passed = own_filter.contains(key_hashes(keys)) & present
            self.progress(len(batch))
            self.funnel.figure("earlier_keys_read", len(batch))
            self.funnel.figure("earlier_keys_passed", int(passed.sum()))
            ids = batch.column(0)
            for row in np.flatnonzero(passed):
                key = keys[16 * row : 16 * row + 16]
                yield key, (ids[int(row)].as_py(), None)


class EarlierBandChunks(EarlierDoFn):
    """An earlier index file -> (bucket, packed BandChunk) of the band entries the filter
    passes, every one a row of EARLIER_HANDLE: they enter this run's LSH buckets."""

    progress_what = "earlier index documents read"

    def __init__(self, stage_name: str, bands: int, buckets: int):
        super().__init__(stage_name)
        self.bands = bands
        self.buckets = buckets

    def matches(self, path: str, own_filter: BloomFilter):
        width = 8 * self.bands
        for batch in _index_batches(path, [BAND_HASHES], BAND_BATCH_ROWS):
            values = [v for v in batch.column(0).to_pylist() if v is not None and len(v) == width]
            self.progress(len(batch))
            if not values:
                continue
            hashes = np.frombuffer(b"".join(values), dtype="<u8").reshape(len(values), -1)
            entries = earlier_entries(hashes)
            passed = entries[own_filter.contains(band_mix(entries))]
            self.funnel.figure("earlier_band_entries_read", len(entries))
            self.funnel.figure("earlier_band_entries_passed", len(passed))
            for bucket, at in split_by(entry_buckets(passed, self.buckets)):
                yield bucket, packed(BandChunk(EARLIER_HANDLE, passed[at]))


class EarlierMatches(beam.PTransform):
    """This run's key hashes -> what earlier index files hold that may match them.

    `read` is the EarlierDoFn for the key kind (URL/text keys, or band entries); its output is
    flattened into the stage's own GroupByKey.
    """

    def __init__(self, files: tuple[str, ...], earlier_keys: int, read: EarlierDoFn):
        super().__init__()
        self.files = files
        self.earlier_keys = earlier_keys
        self.read = read

    def expand(self, own_hashes):
        own_filter = own_hashes | "Own keys filter" >> OwnKeysFilter(self.earlier_keys)
        matches = (
            own_hashes.pipeline
            | "Earlier index files" >> beam.Create(sorted(self.files))
            | "Spread earlier files" >> beam.Reshuffle()
            | "Read earlier index"
            >> beam.ParDo(self.read, beam.pvalue.AsSingleton(own_filter)).with_outputs(
                STATS, ERRORS, main="matches"
            )
        )
        return StageResult(matches.matches, matches[STATS], errors=matches[ERRORS])
