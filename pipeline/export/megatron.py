"""Megatron's indexed datasets: a `.bin` of token ids and an `.idx` that indexes it.

The layout megatron-core reads (`megatron.core.datasets.indexed_dataset`, version 1), all
little-endian:

    .idx: b"MMIDIDX\\x00\\x00"  version u64 = 1  dtype code u8
          sequence count u64 (S)  document count u64 (D = documents + 1)
          sequence lengths i32[S]  sequence byte offsets into .bin i64[S]
          document indices i64[D] (the first sequence of each document, then S)
    .bin: every sequence's token ids, one after the other, in the dtype of the code

One sequence per document here, so the document indices are 0, 1, ..., S. Megatron's own
preprocessing picks the token dtype from the vocabulary size (`DType.optimal_dtype`): uint16
below 65,500 entries, else int32.
"""

from __future__ import annotations

import logging
import struct

import numpy as np

from pipeline.export import (
    Create,
    DocumentBatch,
    ProvenanceWriter,
    file_entry,
)

log = logging.getLogger("macrodata")

HEADER = b"MMIDIDX\x00\x00"
VERSION = 1
# Megatron's DType enumeration.
DTYPE_CODES = {
    np.dtype(np.uint8): 1,
    np.dtype(np.int8): 2,
    np.dtype(np.int16): 3,
    np.dtype(np.int32): 4,
    np.dtype(np.int64): 5,
    np.dtype(np.float64): 6,
    np.dtype(np.float32): 7,
    np.dtype(np.uint16): 8,
}
# Below this vocabulary size Megatron stores tokens as uint16.
UINT16_VOCABULARY = 65500


def token_dtype(vocab_size: int) -> np.dtype:
    """The dtype Megatron's preprocessing picks for a vocabulary of this size."""
    return np.dtype(np.uint16 if vocab_size < UINT16_VOCABULARY else np.int32)


def index_bytes(lengths: np.ndarray, dtype: np.dtype) -> bytes:
    """The `.idx` of sequences of `lengths` tokens of `dtype`, one document each."""
    count = len(lengths)
    lengths = np.asarray(lengths, dtype=np.int64)
    pointers = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)[:count]
    pointers *= dtype.itemsize
    documents = np.arange(count + 1, dtype=np.int64)
    return b"".join(
        [
            HEADER,
            struct.pack("<Q", VERSION),
            struct.pack("<B", DTYPE_CODES[dtype]),
            struct.pack("<Q", count),
            struct.pack("<Q", count + 1),
            lengths.astype("<i4").tobytes(),
            pointers.astype("<i8").tobytes(),
            documents.astype("<i8").tobytes(),
        ]
    )


class MegatronPart:
    """One part of one split: `PREFIX.bin`, `PREFIX.idx` and `PREFIX.documents.parquet`.

    Tokens stream to the `.bin` as they come; only the sequence lengths stay in memory (8
    bytes a document) until the `.idx` is written at the end. A part that gets no document is
    not written at all: Megatron cannot map an empty `.bin`.
    """

    def __init__(self, create: Create, prefix: str, relative_prefix: str, split: str, dtype):
        self.create = create
        self.prefix = prefix
        self.relative_prefix = relative_prefix
        self.split = split
        self.dtype = np.dtype(dtype)
        self.lengths: list[np.ndarray] = []
        self.tokens = 0
        self.bin = None
        self.provenance = ProvenanceWriter(create, prefix + ".documents.parquet")

    def add(self, batch: DocumentBatch) -> None:
        """Append the documents of `batch`, in order."""
        if self.bin is None:
            self.bin = self.create(self.prefix + ".bin")
        self.provenance.write(batch.provenance(self.tokens))
        self.bin.write(batch.tokens.astype(self.dtype.newbyteorder("<")).tobytes())
        self.lengths.append(batch.lengths)
        self.tokens += int(batch.lengths.sum())

    def close(self) -> list[dict]:
        """Finish the part; its files for export.json (none when it got no document)."""
        if self.bin is None:
            return []
        self.bin.close()
        self.provenance.close()
        lengths = np.concatenate(self.lengths)
        with self.create(self.prefix + ".idx") as handle:
            handle.write(index_bytes(lengths, self.dtype))
        documents = len(lengths)
        log.info("wrote %s: %d documents, %d tokens", self.relative_prefix, documents, self.tokens)
        return [
            file_entry(self.relative_prefix + suffix, self.split, documents, self.tokens)
            for suffix in (".bin", ".idx", ".documents.parquet")
        ]
