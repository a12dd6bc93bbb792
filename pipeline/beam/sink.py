"""Tokenization and deterministic Parquet shards."""

from __future__ import annotations

import hashlib
import logging
import math
import time

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from pipeline.beam.transforms import _Counting, _Progress
from pipeline.document import Document
from pipeline.stats import length_bucket
from pipeline.tokenizer import load_tokenizer

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


class Tokenize(_Counting):
    """Batches of documents -> documents with input_ids (tokenizer loaded once per worker)."""

    def __init__(self, spec: str, append_eos: bool):
        self.spec = spec
        self.append_eos = append_eos

    def setup(self):
        self.tokenizer = load_tokenizer(self.spec)
        self.progress = _Progress("documents kept and tokenized")

    def process(self, batch: list[Document]):
        self.progress.tick(len(batch))
        started = time.perf_counter()
        # Documents the exact_substring stage left uncut carry ids from the same tokenizer.
        fresh = [d.text for d in batch if d.input_ids is None]
        encoded = iter(self.tokenizer.encode_batch(fresh, self.append_eos) if fresh else [])
        eos = [self.tokenizer.eos_id] if self.append_eos else []
        self.counts[("seconds", "tokenize")] += time.perf_counter() - started
        for doc in batch:
            ids = next(encoded) if doc.input_ids is None else [*doc.input_ids, *eos]
            self.counts[("stage", "tokenize", "in")] += 1
            self.counts[("stage", "tokenize", "out")] += 1
            self.counts[("stage", "tokenize", "words_out")] += len(doc.text.split())
            self.counts[("stage", "tokenize", "tokens_out")] += len(ids)
            self.counts[("final", "tokens")] += len(ids)
            self.counts[("hist", "tokens_final", length_bucket(len(ids)))] += 1
            yield doc.replace(input_ids=ids)


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


class WriteShard(beam.DoFn):
    """(shard index, rows) -> one sorted Parquet file; yields its manifest entry."""

    def __init__(self, output: str, signals: list[str]):
        self.output = output
        self.signals = signals

    def process(self, item, count: int):
        index, rows = item
        # The source breaks ties: one record read from two copies of a file has one id.
        rows = sorted(rows, key=lambda r: (r["id"], r["source"]))
        yield write_shard(self.output, index, count, rows, parquet_schema(self.signals))


def write_shard(output: str, index: int, count: int, rows: list[dict], schema: pa.Schema) -> dict:
    """Write rows (already sorted) as one shard; return {path, rows, tokens, bytes}."""
    relative = f"data/{shard_name(index, count)}"
    table = pa.Table.from_pylist(rows, schema=schema)
    average = max(1, sum(row_bytes(r) for r in rows) // max(len(rows), 1))
    row_group = max(1, ROW_GROUP_BYTES // average)
    with FileSystems.create(FileSystems.join(output, relative)) as handle:
        pq.write_table(table, handle, compression="zstd", row_group_size=row_group)
    tokens = sum(r["num_tokens"] or 0 for r in rows)
    log.info("wrote %s: %d documents, %d tokens", relative, len(rows), tokens)
    return {"path": relative, "rows": len(rows), "tokens": tokens}


def write_shards(docs, output: str, signals: list[str], target_bytes: int):
    """Documents -> (manifest entries, shard count), shards sized near `target_bytes`."""
    rows = docs | "To rows" >> beam.Map(to_row, signals)
    count = (
        rows
        | "Row sizes" >> beam.Map(row_bytes)
        | "Total size" >> beam.CombineGlobally(sum)
        | "Shard count" >> beam.Map(lambda total: max(1, math.ceil(total / target_bytes)))
    )
    count_side = beam.pvalue.AsSingleton(count)
    entries = (
        rows
        | "Assign shard" >> beam.Map(lambda r, n: (shard_of(r["id"], n), r), count_side)
        | "Group shard" >> beam.GroupByKey()
        | "Write shard" >> beam.ParDo(WriteShard(output, signals), count_side)
    )
    return entries, count
