"""Reading a run's Parquet shards back for training (plain pyarrow, streaming)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import numpy as np
import pyarrow.parquet as pq


def shard_paths(output: str) -> list[str]:
    """The shards of a run, in manifest order."""
    with open(os.path.join(output, "manifest.json"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    return [os.path.join(output, shard["path"]) for shard in manifest["shards"]]


def iter_token_sequences(output: str, length: int, batch_rows: int = 1024) -> Iterator[np.ndarray]:
    """Fixed-length uint32 token sequences, packed across documents (EOS separates them).

    Streams one row group batch at a time, so memory stays at one batch plus one sequence;
    the tail shorter than `length` is dropped.
    """
    buffer = np.empty(0, dtype=np.uint32)
    for path in shard_paths(output):
        for batch in pq.ParquetFile(path).iter_batches(
            batch_size=batch_rows, columns=["input_ids"]
        ):
            ids = batch.column(0).flatten().to_numpy(zero_copy_only=False).astype(np.uint32)
            buffer = np.concatenate([buffer, ids])
            whole = len(buffer) // length * length
            yield from buffer[:whole].reshape(-1, length)
            buffer = buffer[whole:]
