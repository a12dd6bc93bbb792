import os

import numpy as np
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.shards import iter_token_sequences, shard_paths
from tests.conftest import load_json


@pytest.fixture(scope="module")
def run_output(sample_warc, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("shards"))
    assert (
        main(
            [
                "run",
                "--input",
                sample_warc,
                "--output",
                output,
                "--languages",
                "all",
                "--set",
                "output.shard_target_bytes=4000",
            ]
        )
        == 0
    )
    return output


def test_shards_are_named_sized_and_complete(run_output):
    manifest = load_json(os.path.join(run_output, "manifest.json"))
    count = len(manifest["shards"])
    assert count > 1  # the small target forces several shards
    names = sorted(os.listdir(os.path.join(run_output, "data")))
    assert names == [f"part-{i:05d}-of-{count:05d}.parquet" for i in range(count)]
    rows = 0
    for shard in manifest["shards"]:
        table = pq.read_table(os.path.join(run_output, shard["path"]))
        assert table.num_rows == shard["rows"]
        assert sum(table.column("num_tokens").to_pylist()) == shard["tokens"]
        ids = table.column("id").to_pylist()
        assert ids == sorted(ids)  # sorted within a shard, so reruns write identical files
        rows += table.num_rows
        meta = pq.ParquetFile(os.path.join(run_output, shard["path"])).metadata
        assert meta.num_rows == 0 or meta.row_group(0).column(0).compression == "ZSTD"
    assert rows == manifest["documents"]
    assert manifest["tokenizer"]["spec"] == "tiktoken:cl100k_base"
    assert manifest["tokenizer"]["eos_id"] == 100257
    assert len(manifest["config_hash"]) == 16 and manifest["config"]["language"]["min_score"]


def test_input_ids_are_uint32(run_output):
    schema = pq.read_schema(shard_paths(run_output)[0])
    assert str(schema.field("input_ids").type) == "list<element: uint32>"


def test_stream_fixed_length_sequences(run_output):
    manifest = load_json(os.path.join(run_output, "manifest.json"))
    sequences = list(iter_token_sequences(run_output, 128, batch_rows=2))
    assert all(s.shape == (128,) and s.dtype == np.uint32 for s in sequences)
    assert len(sequences) == manifest["tokens"] // 128
    everything = np.concatenate(
        [
            np.concatenate(pq.read_table(p).column("input_ids").to_pylist() or [[]])
            for p in shard_paths(run_output)
        ]
    ).astype(np.uint32)
    assert np.array_equal(np.concatenate(sequences), everything[: len(sequences) * 128])
