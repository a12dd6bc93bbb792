"""Per-document sizes at each stage, for the scale plan in docs/runners.md.

    python bench/scale.py [WARC ...]        (default: ../shared/corpus/*.warc.gz)

Runs the per-document stages in plain Python (no Beam) with --languages all and prints, per
WARC file and per document, what each stage boundary would carry through a shuffle: the pickled
Document (Beam's fallback coder for it is pickle) and its text/HTML bytes; then the final
tokens, and the compressed Parquet bytes of the kept rows.
"""

from __future__ import annotations

import glob
import io
import os
import pickle
import sys
import time

import numpy as np
import pyarrow.parquet as pq

from core.tokenizer import load_tokenizer
from pipeline.beam.sink import parquet_schema, rows_table, to_row
from pipeline.config import Config
from pipeline.stages import filter_stages
from pipeline.warc import ReadLimits, iter_warc

CORPUS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpus", "*.warc.gz")


def measure(files: list[str]) -> None:
    config = Config.load(None, {"language.languages": ["all"]})
    stages = filter_stages(config)
    tokenizer = load_tokenizer(config.section("tokenize")["tokenizer"])
    boundary: dict[str, list[int]] = {"read": [0, 0, 0]}  # docs, pickled bytes, text bytes
    for stage in stages:
        boundary[stage.name] = [0, 0, 0]
    records = warc_bytes = 0
    seconds: dict[str, float] = {}
    rows = []
    signals = [s for stage in stages for s in stage.signals]
    for path in files:
        warc_bytes += os.path.getsize(path)
        with open(path, "rb") as handle:
            started = time.perf_counter()
            docs = []
            for outcome in iter_warc(handle, path, ReadLimits(**config.section("read"))):
                records += 1
                if outcome.document is not None:
                    docs.append(outcome.document)
            seconds["read"] = seconds.get("read", 0) + time.perf_counter() - started
        for doc in docs:
            _add(boundary["read"], doc)
            for stage in stages:
                started = time.perf_counter()
                doc, verdict = stage.apply(doc)
                seconds[stage.name] = seconds.get(stage.name, 0) + time.perf_counter() - started
                if not verdict.keep:
                    break
                _add(boundary[stage.name], doc)
            else:
                ids = np.array(tokenizer.encode_batch([doc.text])[0], dtype=np.uint32)
                rows.append(to_row(doc.replace(input_ids=ids), signals))
    for stage in stages:
        stage.teardown()
    buffer = io.BytesIO()
    pq.write_table(rows_table(rows, parquet_schema(signals)), buffer, compression="zstd")
    n_files = len(files)
    print(f"{n_files} WARC files, {warc_bytes / n_files / 1e6:.1f} MB each (gzipped)")
    print(f"records per file: {records / n_files:,.0f}")
    header = f"{'after stage':<18}{'docs/file':>10}{'pickled B/doc':>15}{'text B/doc':>12}"
    print(f"{header}{'s/doc':>9}")
    for name, (docs, pickled, text) in boundary.items():
        per_doc = seconds.get(name, 0) / max(boundary["read"][0], 1)
        print(
            f"{name:<18}{docs / n_files:>10,.1f}{pickled / max(docs, 1):>15,.0f}"
            f"{text / max(docs, 1):>12,.0f}{per_doc:>9.4f}"
        )
    tokens = sum(r["num_tokens"] for r in rows)
    print(f"final rows: {len(rows)}, tokens/doc {tokens / max(len(rows), 1):,.0f}")
    row_pickled = sum(len(pickle.dumps(r)) for r in rows) / max(len(rows), 1)
    print(f"final row, pickled (the shard shuffle): {row_pickled:,.0f} B/doc")
    print(f"Parquet (zstd): {buffer.tell() / max(len(rows), 1):,.0f} B/doc")


def _add(total: list[int], doc) -> None:
    total[0] += 1
    total[1] += len(pickle.dumps(doc))
    total[2] += len((doc.html or doc.text or "").encode("utf-8"))


if __name__ == "__main__":
    measure(sys.argv[1:] or sorted(glob.glob(CORPUS)))
