"""Shard writing: row groups streamed from numpy token ids, the same file as a whole table."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.beam import sink
from pipeline.beam.sink import pack_row, parquet_schema, row_bytes, write_shard


def rows(with_ids: bool) -> list[dict]:
    rng = np.random.default_rng(3)
    out = []
    for i in range(50):
        ids = rng.integers(0, 100_000, size=int(rng.integers(0, 300)), dtype=np.uint32)
        out.append(
            {
                "id": f"{i:04d}",
                "url": f"https://e.org/{i}",
                "text": "word " * int(rng.integers(1, 400)),
                "language": "en",
                "language_score": 0.9,
                "crawl_date": "2023-06-01",
                "source": f"f.warc.gz@{i}",
                "truncated": i % 5 == 0,
                "input_ids": ids if with_ids else None,
                "num_tokens": len(ids) if with_ids else None,
                "quality_words": float(i) if i % 7 else None,
            }
        )
    return out


@pytest.mark.parametrize("with_ids", [True, False])
def test_streamed_row_groups_equal_one_whole_table(with_ids, tmp_path, monkeypatch):
    data = rows(with_ids)
    schema = parquet_schema(["quality_words"])
    # Small row groups: the shard is written in several, the last one shorter.
    monkeypatch.setattr(sink, "ROW_GROUP_BYTES", 12_000)
    entry = write_shard(str(tmp_path), 0, 1, [pack_row(r) for r in data], schema)
    written = (tmp_path / "data" / "part-00000-of-00001.parquet").read_bytes()
    assert pq.ParquetFile(io.BytesIO(written)).metadata.num_row_groups > 3
    # The reference: every row as Python objects, one table, the same row-group size.
    as_lists = [
        {**r, "input_ids": None if r["input_ids"] is None else r["input_ids"].tolist()}
        for r in data
    ]
    average = max(1, sum(row_bytes(r) for r in data) // len(data))
    reference = io.BytesIO()
    pq.write_table(
        pa.Table.from_pylist(as_lists, schema=schema),
        reference,
        compression="zstd",
        row_group_size=max(1, 12_000 // average),
    )
    assert written == reference.getvalue()
    assert entry["rows"] == 50 and entry["tokens"] == sum(r["num_tokens"] or 0 for r in data)


def test_an_empty_shard_is_a_valid_file(tmp_path):
    schema = parquet_schema([])
    write_shard(str(tmp_path), 2, 3, [], schema)
    table = pq.read_table(tmp_path / "data" / "part-00002-of-00003.parquet")
    assert table.num_rows == 0 and table.schema.equals(schema)
