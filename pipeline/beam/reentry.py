"""The read stage of a run whose input is previous runs' output: their shards, as documents."""

from __future__ import annotations

import logging

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import TaggedOutput

from core.document import Document
from pipeline.beam.stage import (
    DOCUMENTS,
    ERRORS,
    STATS,
    CountingDoFn,
    Progress,
    StageResult,
    error_record,
)
from pipeline.reentry import INVALID_ROW, ShardInput

log = logging.getLogger("macrodata")

# What later stages need of a document (token ids are not read: only a run that has not
# tokenized can be re-entered).
COLUMNS = ("id", "url", "text", "language", "language_score", "crawl_date", "source", "truncated")
# Rows converted at a time.
BATCH_ROWS = 1024


def row_document(row: dict, signals: tuple[str, ...]) -> Document | None:
    """A shard row as the document it was (None without an id or a text)."""
    if not row.get("id") or row.get("text") is None:
        return None
    return Document(
        id=row["id"],
        url=row.get("url") or "",
        text=row["text"],
        source=row.get("source") or "",
        language=row.get("language") or "",
        language_score=row.get("language_score") or 0.0,
        crawl_date=row.get("crawl_date") or "",
        truncated=bool(row.get("truncated")),
        # A null signal was NaN or absent: written back as null again.
        signals={name: row[name] for name in signals if row.get(name) is not None},
    )


class ReadShardFile(CountingDoFn):
    """One shard path -> its documents; every row counted, an unreadable file reported."""

    stage_name = ShardInput.name

    def __init__(self, source: ShardInput):
        self.source = source

    def setup(self):
        self.progress = Progress("shard rows read")

    def process(self, path: str):
        funnel = self.funnel
        funnel.read("files")
        signals = self.source.signals
        try:
            handle = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
            with handle:
                shard = pq.ParquetFile(handle)
                present = set(shard.schema_arrow.names)
                columns = [c for c in (*COLUMNS, *signals) if c in present]
                for batch in shard.iter_batches(batch_size=BATCH_ROWS, columns=columns):
                    for row in batch.to_pylist():
                        self.progress.tick()
                        funnel.entered()
                        funnel.read("records")
                        doc = row_document(row, signals)
                        if doc is None:
                            funnel.dropped(INVALID_ROW)
                            continue
                        funnel.kept(doc)
                        yield doc
        except Exception as error:  # what was read still counts; the file is reported
            funnel.read("files_failed")
            yield TaggedOutput(ERRORS, error_record(path, -1, "unreadable_file", error))


class ReadShards(beam.PTransform):
    """Shard paths of previous runs -> their documents (spread over workers a file at a time)."""

    def __init__(self, source: ShardInput):
        super().__init__()
        self.source = source

    def expand(self, files):
        read = (
            files
            | "Spread files" >> beam.Reshuffle()
            | "Read shards"
            >> beam.ParDo(ReadShardFile(self.source)).with_outputs(STATS, ERRORS, main=DOCUMENTS)
        )
        return StageResult(read[DOCUMENTS], read[STATS], errors=read[ERRORS])
