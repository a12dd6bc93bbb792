"""`macrodata export`: Megatron and MDS files read back by readers written from the formats'
specifications (the trainers' own loaders are checked by bench/trainers.py), and the refusals."""

from __future__ import annotations

import glob
import json
import os
import shutil
import struct

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from pipeline.export import validation_share
from tests.conftest import load_json

RUNNER = ["--runner", "FnApiRunner"]


@pytest.fixture(scope="module")
def runs(sample_warc, tmp_path_factory) -> list[str]:
    """Two finished runs (a real run and a copy of it, as two parts of a dump would be)."""
    first = str(tmp_path_factory.mktemp("run-a"))
    assert main(["run", "--input", sample_warc, "--output", first, "--overwrite", *RUNNER]) == 0
    second = str(tmp_path_factory.mktemp("run-b"))
    shutil.copytree(first, second, dirs_exist_ok=True)
    return [first, second]


def shard_documents(run: str) -> list[dict]:
    """id, url, source and input_ids of every row of a run's shards, in manifest order."""
    rows = []
    for shard in load_json(os.path.join(run, "manifest.json"))["shards"]:
        table = pq.read_table(os.path.join(run, shard["path"]))
        rows += table.select(["id", "url", "source", "input_ids"]).to_pylist()
    return rows


def export(runs: list[str], output: str, fmt: str, *extra: str) -> int:
    return main(["export", *runs, "--format", fmt, "--output", output, *extra, *RUNNER])


# Readers from the specifications --------------------------------------------------------------

MEGATRON_DTYPES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 8: np.uint16}


def read_megatron(prefix: str) -> list[np.ndarray]:
    """The sequences of a Megatron indexed dataset (`.idx` version 1 and its `.bin`)."""
    with open(prefix + ".idx", "rb") as handle:
        data = handle.read()
    assert data[:9] == b"MMIDIDX\x00\x00"
    (version,) = struct.unpack_from("<Q", data, 9)
    assert version == 1
    code = data[17]
    sequences, documents = struct.unpack_from("<QQ", data, 18)
    offset = 34
    lengths = np.frombuffer(data, "<i4", sequences, offset)
    offset += 4 * sequences
    pointers = np.frombuffer(data, "<i8", sequences, offset)
    offset += 8 * sequences
    doc_index = np.frombuffer(data, "<i8", documents, offset)
    assert offset + 8 * documents == len(data)
    assert list(doc_index) == list(range(sequences + 1))  # one sequence per document
    dtype = np.dtype(MEGATRON_DTYPES[code]).newbyteorder("<")
    tokens = np.fromfile(prefix + ".bin", dtype)
    assert len(tokens) == int(lengths.sum())
    return [
        tokens[p // dtype.itemsize : p // dtype.itemsize + n]
        for p, n in zip(pointers, lengths, strict=True)
    ]


def read_mds(split_dir: str) -> list[tuple[str, np.ndarray]]:
    """(id, input_ids) of every sample of an MDS split, shards in index.json order."""
    index = load_json(os.path.join(split_dir, "index.json"))
    assert index["version"] == 2
    samples = []
    for shard in index["shards"]:
        assert shard["format"] == "mds" and shard["compression"] is None
        with open(os.path.join(split_dir, shard["raw_data"]["basename"]), "rb") as handle:
            data = handle.read()
        assert len(data) == shard["raw_data"]["bytes"]
        (count,) = struct.unpack_from("<I", data, 0)
        assert count == shard["samples"]
        offsets = np.frombuffer(data, "<u4", count + 1, 4)
        names, encodings = shard["column_names"], shard["column_encodings"]
        for begin, end in zip(offsets[:-1], offsets[1:], strict=True):
            sample = data[begin:end]
            sizes = np.frombuffer(sample, "<u4", len(names), 0)
            position, values = 4 * len(names), {}
            for name, encoding, size in zip(names, encodings, sizes, strict=True):
                values[name] = decode_mds(encoding, sample[position : position + size])
                position += size
            assert position == len(sample)
            samples.append((values["id"], values["input_ids"]))
    return samples


def decode_mds(encoding: str, raw: bytes):
    if encoding == "str":
        return raw.decode("utf-8")
    kind, _, dtype = encoding.partition(":")
    assert kind == "ndarray"
    head = raw[0]
    ndim, width = head >> 2, (np.uint8, np.uint16, np.uint32, np.uint64)[head & 3]
    shape = np.frombuffer(raw, np.dtype(width).newbyteorder("<"), ndim, 1)
    start = 1 + ndim * np.dtype(width).itemsize
    return np.frombuffer(raw[start:], np.dtype(dtype).newbyteorder("<")).reshape(shape)


# What an export holds ---------------------------------------------------------------------------


def check_against_shards(exported: list[tuple[dict, np.ndarray]], runs: list[str], fraction):
    """Every document of the runs exported once, in shard order, tokens equal, split by id."""
    expected = [row for run in runs for row in shard_documents(run)]
    by_split: dict[str, list[dict]] = {}
    for row in expected:
        split = "validation" if validation_share(row["id"]) < fraction else "train"
        by_split.setdefault(split, []).append(row)
    got: dict[str, list] = {}
    for provenance, tokens in exported:
        got.setdefault(provenance["split"], []).append((provenance, tokens))
    assert sorted(got) == sorted(by_split)
    for split, rows in by_split.items():
        assert len(got[split]) == len(rows)
        for row, (provenance, tokens) in zip(rows, got[split], strict=True):
            for key in ("id", "url", "source"):
                assert provenance[key] == row[key]
            assert provenance["token_count"] == len(row["input_ids"])
            assert tokens.tolist() == row["input_ids"]


def test_megatron_parts_hold_every_document_with_its_tokens_and_provenance(runs, tmp_path):
    output = str(tmp_path / "megatron")
    assert export(runs, output, "megatron", "--validation-fraction", "0.4") == 0
    summary = load_json(os.path.join(output, "export.json"))
    assert summary["format"] == "megatron"
    assert summary["tokenizer"] == load_json(os.path.join(runs[0], "manifest.json"))["tokenizer"]
    exported = []
    for prefix in sorted(p[: -len(".idx")] for p in glob.glob(f"{output}/*/part-*.idx")):
        split = os.path.basename(os.path.dirname(prefix))
        assert os.path.basename(prefix).endswith("-of-00002")  # one part per input shard
        sequences = read_megatron(prefix)
        provenance = pq.read_table(prefix + ".documents.parquet").to_pylist()
        assert len(provenance) == len(sequences)
        start = 0
        for row, tokens in zip(provenance, sequences, strict=True):
            assert row["token_start"] == start  # the token range of the document in its .bin
            start += row["token_count"]
            exported.append(({**row, "split": split}, tokens))
    check_against_shards(exported, runs, 0.4)
    # cl100k has over 65,500 ids: Megatron's preprocessing stores them as int32 (code 4).
    first = glob.glob(f"{output}/train/part-*.idx")[0]
    with open(first, "rb") as handle:
        assert handle.read()[17] == 4
    documents = sum(len(shard_documents(r)) for r in runs)
    assert summary["documents"] == documents
    assert summary["tokens"] == sum(len(r["input_ids"]) for x in runs for r in shard_documents(x))
    listed = {f["path"] for f in summary["files"]}
    on_disk = {os.path.relpath(p, output) for p in glob.glob(f"{output}/*/part-*")}
    assert listed == on_disk
    assert [s["config_hash"] for s in summary["sources"]] == [
        load_json(os.path.join(r, "manifest.json"))["config_hash"] for r in runs
    ]


def test_mds_splits_hold_every_document_with_its_tokens_and_provenance(runs, tmp_path):
    output = str(tmp_path / "mds")
    assert export(runs, output, "mds", "--validation-fraction", "0.4") == 0
    exported = []
    for split_dir in sorted(glob.glob(f"{output}/*/")):
        split = os.path.basename(split_dir.rstrip("/"))
        samples = read_mds(split_dir)
        provenance = pq.read_table(os.path.join(split_dir, "documents.parquet")).to_pylist()
        assert [s[0] for s in samples] == [p["id"] for p in provenance]
        for row, (_, tokens) in zip(provenance, samples, strict=True):
            assert tokens.dtype == np.uint32  # cl100k's ids do not fit in 16 bits
            exported.append(({**row, "split": split}, tokens))
    check_against_shards(exported, runs, 0.4)
    assert load_json(os.path.join(output, "export.json"))["format"] == "mds"


def test_a_document_lands_in_the_same_split_in_both_formats_and_every_export(runs, tmp_path):
    splits = []
    for name, fmt in (("a", "megatron"), ("b", "mds"), ("c", "mds")):
        output = str(tmp_path / name)
        assert export(runs[:1], output, fmt, "--validation-fraction", "0.5") == 0
        pattern = "*/*.documents.parquet" if fmt == "megatron" else "*/documents.parquet"
        seen = {}
        for path in glob.glob(os.path.join(output, pattern)):
            split = os.path.basename(os.path.dirname(path))
            seen.update({i: split for i in pq.read_table(path, columns=["id"])["id"].to_pylist()})
        splits.append(seen)
    assert splits[0] == splits[1] == splits[2]
    assert len(splits[0]) == len(shard_documents(runs[0]))


# Refusals ---------------------------------------------------------------------------------------


def refused(capsys, args: list[str]) -> str:
    """The one-line error of an export that exits 2 before writing anything."""
    assert main(["export", *args, *RUNNER]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    return lines[0]


def edited_copy(run: str, folder, edit) -> str:
    copy = str(folder)
    shutil.copytree(run, copy)
    path = os.path.join(copy, "manifest.json")
    manifest = load_json(path)
    edit(manifest)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle)
    return copy


def test_a_directory_without_a_manifest_is_refused(tmp_path, capsys):
    empty, output = tmp_path / "empty", tmp_path / "out"
    empty.mkdir()
    line = refused(capsys, [str(empty), "--format", "mds", "--output", str(output)])
    assert "no manifest.json" in line
    assert not output.exists()


def test_a_run_that_skipped_tokenize_is_refused(runs, tmp_path, capsys):
    def untokenized(manifest):
        manifest["applied_stages"].remove("tokenize")
        manifest["skipped_stages"] = ["tokenize"]

    run = edited_copy(runs[0], tmp_path / "untokenized", untokenized)
    line = refused(capsys, [run, "--format", "megatron", "--output", str(tmp_path / "out")])
    assert "skipped the tokenize stage" in line


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["tokenizer"].update(spec="tiktoken:o200k_base", vocab_size=200019),
        lambda m: m["tokenizer"].update(append_eos=False),
    ],
    ids=["tokenizer", "eos"],
)
def test_runs_with_different_tokenizers_or_eos_are_refused(runs, tmp_path, capsys, edit):
    other = edited_copy(runs[0], tmp_path / "other", edit)
    args = [runs[0], other, "--format", "mds", "--output", str(tmp_path / "out")]
    assert "different tokenizers or EOS settings" in refused(capsys, args)


def test_an_existing_export_needs_overwrite(runs, tmp_path, capsys):
    output = str(tmp_path / "out")
    assert export(runs[:1], output, "mds") == 0
    before = load_json(os.path.join(output, "export.json"))
    line = refused(capsys, [runs[0], "--format", "megatron", "--output", output])
    assert "--overwrite" in line
    assert load_json(os.path.join(output, "export.json")) == before
    assert export(runs[:1], output, "megatron", "--overwrite") == 0
    assert load_json(os.path.join(output, "export.json"))["format"] == "megatron"
    assert not os.path.exists(os.path.join(output, "train", "index.json"))  # mds files gone


@pytest.mark.parametrize("where", ["same", "inside"])
def test_an_output_that_is_or_lies_inside_an_input_is_refused(runs, capsys, where):
    output = runs[0] if where == "same" else os.path.join(runs[0], "export")
    line = refused(capsys, [runs[0], "--format", "mds", "--output", output])
    assert "--output" in line


@pytest.mark.parametrize("fraction", ["1", "-0.1", "nan", "abc", "1.5"])
def test_a_bad_validation_fraction_is_refused(runs, tmp_path, capsys, fraction):
    args = [runs[0], "--format", "mds", "--output", str(tmp_path / "o")]
    line = refused(capsys, [*args, "--validation-fraction", fraction])
    assert "--validation-fraction" in line


def test_an_unknown_option_is_refused(runs, tmp_path, capsys):
    args = [runs[0], "--format", "mds", "--output", str(tmp_path / "o"), "--validaton-fraction"]
    refused(capsys, [*args, "0.1"])


def test_a_row_whose_tokens_disagree_with_num_tokens_stops_the_export(runs, tmp_path, capsys):
    run = str(tmp_path / "broken")
    shutil.copytree(runs[0], run)
    shard = os.path.join(run, load_json(os.path.join(run, "manifest.json"))["shards"][0]["path"])
    table = pq.read_table(shard)
    counts = table["num_tokens"].to_pylist()
    counts[2] += 1
    index = table.schema.get_field_index("num_tokens")
    table = table.set_column(index, "num_tokens", pa.array(counts, table["num_tokens"].type))
    pq.write_table(table, shard)
    output = tmp_path / "out"
    assert export([run], str(output), "megatron") != 0
    error = capsys.readouterr().err
    assert f"{shard} row 2" in error and "num_tokens" in error
    assert not (output / "export.json").exists()  # nothing looks complete
