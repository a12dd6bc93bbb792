"""MosaicML's MDS shards, as `streaming` (LocalDataset, StreamingDataset) reads them.

A split directory holds `index.json` (`{"version": 2, "shards": [...]}`, one entry per shard
file: its columns, sample count and file size) and the shard files. A shard file, all
little-endian:

    samples u32 (N)  offsets u32[N + 1] (where each sample starts in the file, then the end)
    the shard's configuration as JSON  then the samples

A sample is the byte sizes (u32) of its variable-size columns, then each column's bytes,
columns in name order. Here the columns are `id` (`str`: UTF-8) and `input_ids`
(`ndarray:DTYPE`: a fixed dtype with the shape stored in the sample: one byte `ndim << 2 |
shape width code`, the shape in that width, then the values), which `streaming` decodes to a
numpy array of the document's token ids.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.export import (
    PROVENANCE_SCHEMA,
    Create,
    DocumentBatch,
    ProvenanceWriter,
    file_entry,
)

log = logging.getLogger("macrodata")

INDEX = "index.json"
DOCUMENTS = "documents.parquet"
VERSION = 2
# streaming's default shard size: a shard is built in memory before it is written.
SIZE_LIMIT = 1 << 26
# streaming counts this much per sample beyond its bytes (its offset) against the limit.
SAMPLE_OVERHEAD = 4
# Shape widths of the ndarray encoding: code -> dtype.
_SHAPE_WIDTHS = ((0, np.uint8), (1, np.uint16), (2, np.uint32), (3, np.uint64))


def token_dtype(vocab_size: int) -> np.dtype:
    """The narrowest unsigned dtype that holds every token id."""
    return np.dtype(np.uint16 if vocab_size <= 2**16 else np.uint32)


def columns(dtype: np.dtype) -> dict[str, str]:
    """Column name -> MDS encoding."""
    return {"id": "str", "input_ids": f"ndarray:{np.dtype(dtype).name}"}


def shard_config(dtype: np.dtype, size_limit: int = SIZE_LIMIT) -> dict:
    """What every shard entry of index.json (and every shard file) says about its layout."""
    names = sorted(columns(dtype))
    return {
        "version": VERSION,
        "format": "mds",
        "compression": None,
        "hashes": [],
        "size_limit": size_limit,
        "column_names": names,
        "column_encodings": [columns(dtype)[n] for n in names],
        "column_sizes": [None] * len(names),  # both vary per sample
    }


def _shape_bytes(length: int) -> bytes:
    for code, width in _SHAPE_WIDTHS:
        if length <= np.iinfo(width).max:
            return (
                bytes([1 << 2 | code])
                + np.array([length], width).astype(np.dtype(width).newbyteorder("<")).tobytes()
            )
    raise ValueError(f"a document of {length} tokens")


def encode_sample(doc_id: str, tokens: np.ndarray) -> bytes:
    """One sample: the sizes of `id` and `input_ids`, then their bytes."""
    name = doc_id.encode("utf-8")
    ids = _shape_bytes(len(tokens)) + tokens.astype(tokens.dtype.newbyteorder("<")).tobytes()
    return np.array([len(name), len(ids)], "<u4").tobytes() + name + ids


def shard_bytes(samples: list[bytes], config: dict) -> bytes:
    """A whole shard file of encoded samples."""
    header = json.dumps(config, sort_keys=True).encode("utf-8")
    start = 4 + 4 * (len(samples) + 1) + len(header)
    offsets = start + np.concatenate([[0], np.cumsum([len(s) for s in samples])])
    if offsets[-1] >= 2**32:
        raise ValueError("an MDS shard must stay under 4 GiB")
    return b"".join(
        [np.array([len(samples)], "<u4").tobytes(), offsets.astype("<u4").tobytes(), header]
        + samples
    )


class MdsPart:
    """The samples one input shard gives one split: shard files of at most `size_limit` bytes.

    A shard file is built in memory (at most `size_limit`, as streaming's own writer does) and
    written whole; provenance goes to a temporary file the split's `documents.parquet` is
    later assembled from (`merge_provenance`).
    """

    def __init__(
        self,
        create: Create,
        directory: str,
        relative_directory: str,
        stem: str,
        split: str,
        dtype,
        size_limit: int = SIZE_LIMIT,
    ):
        self.create = create
        self.directory = directory.rstrip("/")
        self.relative_directory = relative_directory
        self.stem = stem
        self.split = split
        self.dtype = np.dtype(dtype)
        self.size_limit = size_limit
        self.config = shard_config(self.dtype, size_limit)
        self.overhead = 8 + len(json.dumps(self.config, sort_keys=True))
        self.pending: list[bytes] = []
        self.pending_bytes = self.overhead
        self.pending_tokens = 0
        self.shards: list[dict] = []  # index.json entries
        self.files: list[dict] = []  # export.json entries
        self.documents = self.tokens = 0
        self.provenance_path = f"{self.directory}/.{stem}.{DOCUMENTS}"
        self.provenance = ProvenanceWriter(create, self.provenance_path)

    def add(self, batch: DocumentBatch) -> None:
        """Append the documents of `batch`, in order."""
        self.provenance.write(batch.provenance(self.tokens))
        tokens = batch.tokens.astype(self.dtype)
        start = 0
        for doc_id, length in zip(batch.ids, batch.lengths.tolist(), strict=True):
            sample = encode_sample(doc_id, tokens[start : start + length])
            start += length
            size = len(sample) + SAMPLE_OVERHEAD
            if self.pending and self.pending_bytes + size > self.size_limit:
                self._flush()
            self.pending.append(sample)
            self.pending_bytes += size
            self.pending_tokens += length
        self.documents += len(batch.ids)
        self.tokens += int(batch.lengths.sum())

    def _flush(self) -> None:
        basename = f"{self.stem}.{len(self.shards):05d}.mds"
        data = shard_bytes(self.pending, self.config)
        with self.create(f"{self.directory}/{basename}") as handle:
            handle.write(data)
        raw = {"basename": basename, "bytes": len(data), "hashes": {}}
        self.shards.append(
            {**self.config, "samples": len(self.pending), "raw_data": raw, "zip_data": None}
        )
        self.files.append(
            file_entry(
                f"{self.relative_directory}/{basename}",
                self.split,
                len(self.pending),
                self.pending_tokens,
            )
        )
        self.pending, self.pending_bytes, self.pending_tokens = [], self.overhead, 0

    def close(self) -> dict:
        """Finish the part: its shards (index.json entries), files, and provenance file."""
        if self.pending:
            self._flush()
        self.provenance.close()
        if self.documents:
            log.info(
                "wrote %s/%s.*.mds: %d documents, %d tokens",
                self.relative_directory,
                self.stem,
                self.documents,
                self.tokens,
            )
        return {
            "shards": self.shards,
            "files": self.files,
            "documents": self.documents,
            "tokens": self.tokens,
            "provenance": self.provenance_path if self.documents else None,
        }


def index_json(shards: list[dict]) -> bytes:
    """A split's index.json."""
    return json.dumps({"version": VERSION, "shards": shards}, sort_keys=True).encode("utf-8")


def merge_provenance(parts: list[tuple[str, int]], open_file, handle) -> None:
    """One split's documents.parquet from its parts' (provenance file, first token) in order.

    Streams a row group at a time; each part's token starts are moved by the tokens of the
    parts before it, so they count from the start of the split.
    """
    with pq.ParquetWriter(handle, PROVENANCE_SCHEMA, compression="zstd") as writer:
        for path, offset in parts:
            with open_file(path) as source:
                provenance = pq.ParquetFile(source)
                for group in range(provenance.num_row_groups):
                    table = provenance.read_row_group(group)
                    starts = table.column("token_start").to_numpy() + offset
                    writer.write_table(
                        table.set_column(3, "token_start", pa.array(starts, pa.int64()))
                    )
        if not parts:
            writer.write_table(PROVENANCE_SCHEMA.empty_table())
