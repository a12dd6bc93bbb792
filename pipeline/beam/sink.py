"""Tokenization and deterministic Parquet shards."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import NamedTuple

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from core.document import Document
from core.tokenizer import TokenizeSettings, load_tokenizer
from pipeline.beam.stage import (
    DOCUMENTS,
    STATS,
    CountingDoFn,
    Progress,
    StageResult,
    packed,
    unpacked,
)

log = logging.getLogger("macrodata")

BASE_COLUMNS = [
    ("id", pa.string()),
    ("url", pa.string()),
    ("text", pa.string()),
    ("language", pa.string()),
    ("language_score", pa.float32()),
    ("crawl_date", pa.string()),
    ("source", pa.string()),
    ("truncated", pa.bool_()),
    ("input_ids", pa.list_(pa.uint32())),
    ("num_tokens", pa.int64()),
]
# Uncompressed bytes per row group: small enough for streaming readers, large enough to scan.
ROW_GROUP_BYTES = 32 * 1024 * 1024


def parquet_schema(signals: list[str]) -> pa.Schema:
    """Document columns, then one float column per filter signal."""
    return pa.schema(BASE_COLUMNS + [(name, pa.float32()) for name in signals])


def shard_name(index: int, count: int) -> str:
    """`part-00000-of-00004.parquet`."""
    return f"part-{index:05d}-of-{count:05d}.parquet"


def shard_of(doc_id: str, count: int) -> int:
    """A stable shard for a document id (independent of runner and bundle order)."""
    return int.from_bytes(hashlib.blake2b(doc_id.encode(), digest_size=8).digest(), "big") % count


class TokenizeBatch(CountingDoFn):
    """Batches of documents -> documents with input_ids (tokenizer loaded once per worker)."""

    stage_name = TokenizeSettings.name

    def __init__(self, settings: TokenizeSettings):
        self.settings = settings

    def setup(self):
        self.tokenizer = load_tokenizer(self.settings.spec)
        self.progress = Progress("documents kept and tokenized")

    def process(self, batch: list[Document]):
        self.progress.tick(len(batch))
        append_eos = self.settings.append_eos
        started = time.perf_counter()
        # Documents an earlier stage handed their ids to (same tokenizer) are not encoded again.
        fresh = [d.text for d in batch if d.text_ids is None]
        encoded = iter(self.tokenizer.encode_batch(fresh, append_eos) if fresh else [])
        eos = np.array([self.tokenizer.eos_id] if append_eos else [], dtype=np.uint32)
        funnel = self.funnel
        funnel.seconds(time.perf_counter() - started)
        for doc in batch:
            if doc.text_ids is None:
                ids = np.array(next(encoded), dtype=np.uint32)
            else:
                ids = np.concatenate([doc.text_ids, eos])
            funnel.entered()
            funnel.kept(doc, tokens=len(ids))
            funnel.final_tokens(len(ids))
            funnel.histogram("tokens_final", len(ids))
            yield doc.replace(input_ids=ids, text_ids=None)


class TokenizeStage(beam.PTransform):
    """Token ids (and EOS) of every document, in batches, with the output tokenizer."""

    def __init__(self, settings: TokenizeSettings):
        super().__init__()
        self.settings = settings

    def expand(self, docs):
        tokenized = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=16, max_batch_size=256)
            | "Tokenize"
            >> beam.ParDo(TokenizeBatch(self.settings)).with_outputs(STATS, main=DOCUMENTS)
        )
        return StageResult(tokenized[DOCUMENTS], tokenized[STATS])


def to_row(doc: Document, signals: list[str]) -> dict:
    """One Parquet row."""
    row = {
        "id": doc.id,
        "url": doc.url,
        "text": doc.text,
        "language": doc.language,
        "language_score": doc.language_score,
        "crawl_date": doc.crawl_date,
        "source": doc.source,
        "truncated": doc.truncated,
        "input_ids": doc.input_ids,
        "num_tokens": len(doc.input_ids) if doc.input_ids is not None else None,
    }
    for name in signals:
        value = doc.signals.get(name)
        row[name] = None if value is None or value != value else value
    return row


def row_bytes(row: dict) -> int:
    """Approximate uncompressed size, for sizing shards."""
    return len(row["text"].encode("utf-8")) + 4 * (row["num_tokens"] or 0) + 200


class PackedRow(NamedTuple):
    """A row as it crosses the shard shuffle: its sort key and size, the rest compressed."""

    id: str
    source: str
    size: int  # row_bytes
    tokens: int
    data: bytes  # the row dict, packed


def pack_row(row: dict) -> PackedRow:
    """The shuffled form of a row (the local runner holds about five copies of a shuffle)."""
    return PackedRow(
        row["id"], row["source"], row_bytes(row), row["num_tokens"] or 0, packed(row, True)
    )


class WriteShard(beam.DoFn):
    """(shard index, packed rows) -> one sorted Parquet file; yields its manifest entry."""

    def __init__(self, output: str, signals: list[str]):
        self.output = output
        self.signals = signals

    def process(self, item, count: int):
        index, rows = item
        # The source breaks ties: one record read from two copies of a file has one id.
        rows = sorted(rows, key=lambda r: (r.id, r.source))
        yield write_shard(self.output, index, count, rows, parquet_schema(self.signals))


def _ids_column(ids: list[np.ndarray | None]) -> pa.Array:
    """list<uint32> from numpy arrays (None: a null list), without a Python int per token."""
    lengths = np.array([0 if a is None else len(a) for a in ids], dtype=np.int32)
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths, dtype=np.int32)]))
    present = [a for a in ids if a is not None]
    values = np.concatenate(present).astype(np.uint32) if present else np.zeros(0, np.uint32)
    mask = pa.array([a is None for a in ids]) if len(present) < len(ids) else None
    return pa.ListArray.from_arrays(offsets, pa.array(values), mask=mask)


def rows_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """An Arrow table of rows; token ids go straight from numpy."""
    columns = []
    for field in schema:
        values = [row[field.name] for row in rows]
        if field.name == "input_ids":
            columns.append(_ids_column(values))
        else:
            columns.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def write_shard(
    output: str, index: int, count: int, rows: list[PackedRow], schema: pa.Schema
) -> dict:
    """Write packed rows (already sorted) as one shard, a row group at a time; its manifest entry.

    Rows are unpacked a row group at a time, and only that row group is an Arrow table, so
    writing costs about one row group of memory beyond the packed rows.
    """
    relative = f"data/{shard_name(index, count)}"
    average = max(1, sum(r.size for r in rows) // max(len(rows), 1))
    row_group = max(1, ROW_GROUP_BYTES // average)
    path = FileSystems.join(output, relative)
    with (
        FileSystems.create(path) as handle,
        pq.ParquetWriter(handle, schema, compression="zstd") as writer,
    ):
        for start in range(0, len(rows), row_group):
            group = [unpacked(r.data) for r in rows[start : start + row_group]]
            writer.write_table(rows_table(group, schema))
        if not rows:
            writer.write_table(rows_table([], schema))
    tokens = sum(r.tokens for r in rows)
    log.info("wrote %s: %d documents, %d tokens", relative, len(rows), tokens)
    return {"path": relative, "rows": len(rows), "tokens": tokens}


def write_shards(docs, output: str, signals: list[str], target_bytes: int):
    """Documents -> (manifest entries, shard count), shards sized near `target_bytes`."""
    rows = docs | "To rows" >> beam.Map(lambda doc: pack_row(to_row(doc, signals)))
    count = (
        rows
        | "Row sizes" >> beam.Map(lambda row: row.size)
        | "Total size" >> beam.CombineGlobally(sum)
        | "Shard count" >> beam.Map(lambda total: max(1, math.ceil(total / target_bytes)))
    )
    count_side = beam.pvalue.AsSingleton(count)
    entries = (
        rows
        | "Assign shard" >> beam.Map(lambda r, n: (shard_of(r.id, n), r), count_side)
        | "Group shard" >> beam.GroupByKey()
        | "Write shard" >> beam.ParDo(WriteShard(output, signals), count_side)
    )
    return entries, count
