"""Read exports with the trainers' own loaders (run by a side venv's python; see trainers.py).

    PEER_PYTHON bench/peer_trainers.py PLAN.json

PLAN.json lists what to open and what each must hold: a Megatron part prefix (opened with
megatron-core's IndexedDataset) or an MDS split directory (opened with mosaicml-streaming's
LocalDataset and StreamingDataset), with the document ids, token counts and tokens (a .npy of
all tokens one document after the other) it must give back, in order. Prints one line per item
and a last line of JSON: {"checked": items, "documents": n, "tokens": n, "failures": [...]}.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import numpy as np


def expected(item: dict) -> tuple[list[str], np.ndarray, np.ndarray]:
    with open(item["ids"], encoding="utf-8") as handle:
        ids = json.load(handle)
    lengths = np.load(item["lengths"])
    tokens = np.load(item["tokens"], mmap_mode="r")
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return ids, starts, tokens


def check_megatron(item: dict) -> tuple[int, int]:
    from megatron.core.datasets.indexed_dataset import IndexedDataset

    ids, starts, tokens = expected(item)
    dataset = IndexedDataset(item["prefix"])
    if len(dataset) != len(ids):
        raise AssertionError(f"{len(dataset)} sequences, expected {len(ids)}")
    if dataset.index.dtype.__name__ != item["dtype"]:
        raise AssertionError(f"dtype {dataset.index.dtype.__name__}, expected {item['dtype']}")
    if not np.array_equal(dataset.document_indices, np.arange(len(ids) + 1)):
        raise AssertionError("document indices are not one sequence per document")
    for i in range(len(ids)):
        got = dataset[i]
        if not np.array_equal(got.astype(np.int64), tokens[starts[i] : starts[i + 1]]):
            raise AssertionError(f"sequence {i} ({ids[i]}): tokens differ")
    return len(ids), int(starts[-1])


def _compare_sample(sample: dict, i: int, ids, starts, tokens, where: str) -> None:
    if sample["id"] != ids[i]:
        raise AssertionError(f"{where} sample {i}: id {sample['id']}, expected {ids[i]}")
    got = np.asarray(sample["input_ids"])
    if not np.array_equal(got.astype(np.int64), tokens[starts[i] : starts[i + 1]]):
        raise AssertionError(f"{where} sample {i} ({ids[i]}): tokens differ")


def check_mds(item: dict) -> tuple[int, int]:
    from streaming import LocalDataset, StreamingDataset

    ids, starts, tokens = expected(item)
    local = LocalDataset(local=item["directory"])
    if len(local) != len(ids):
        raise AssertionError(f"LocalDataset: {len(local)} samples, expected {len(ids)}")
    for i in range(len(ids)):
        _compare_sample(local[i], i, ids, starts, tokens, "LocalDataset")
    # StreamingDataset with no remote reads the shards where they are; a fresh name each time
    # keeps its shared-memory state apart from other runs.
    streaming = StreamingDataset(
        local=item["directory"], shuffle=False, batch_size=1, replication=None
    )
    if len(streaming) != len(ids):
        raise AssertionError(f"StreamingDataset: {len(streaming)} samples, expected {len(ids)}")
    for i in range(len(ids)):
        _compare_sample(streaming[i], i, ids, starts, tokens, "StreamingDataset")
    seen = sorted(sample["id"] for sample in streaming)  # the iterator, as a trainer reads it
    if seen != sorted(ids):
        raise AssertionError("StreamingDataset iteration does not give every sample once")
    return len(ids), int(starts[-1])


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        plan = json.load(handle)
    os.environ.setdefault("TMPDIR", tempfile.mkdtemp(prefix="peer-trainers-"))
    checked = documents = tokens = 0
    failures = []
    for item in plan:
        where = item.get("prefix") or item["directory"]
        try:
            check = check_megatron if item["format"] == "megatron" else check_mds
            n, t = check(item)
        except Exception as error:  # reported, and the others still checked
            failures.append(f"{where}: {type(error).__name__}: {error}")
            print(f"FAIL {item['format']} {where}: {error}", flush=True)
            continue
        checked += 1
        documents += n
        tokens += t
        print(f"ok   {item['format']} {where}: {n} documents, {t} tokens", flush=True)
    summary = {"checked": checked, "documents": documents, "tokens": tokens, "failures": failures}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
