"""Signature + band-key throughput (documents/s on one core) and peak memory of MinHash.

Texts come from a run's Parquet output (e.g. `macrodata run ... --skip tokenize`):
    python bench/bench_minhash.py OUTPUT_DIR [--repeat 3]
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import statistics
import time
import tracemalloc

import pyarrow.parquet as pq

from dedup.minhash import PRESETS, MinHasher

BATCH = 64


def load_texts(output: str) -> list[str]:
    """Every `text` in OUTPUT/data/*.parquet."""
    texts = []
    for path in sorted(glob.glob(os.path.join(output, "data", "*.parquet"))):
        texts += pq.read_table(path, columns=["text"]).column("text").to_pylist()
    return texts


def run(texts: list[str], preset: str) -> float:
    """Documents per CPU-second for band keys of all texts, one process, a fresh hasher."""
    hasher = MinHasher(PRESETS[preset])  # a cold token cache, as a worker starts
    started = time.process_time()  # CPU time: one core's work, robust to a shared machine
    for i in range(0, len(texts), BATCH):
        hasher.band_keys(texts[i : i + BATCH])
    return len(texts) / (time.process_time() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", help="a macrodata output directory with data/*.parquet")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = load_texts(args.output)
    chars = sum(map(len, texts))
    print(f"{len(texts)} documents, {chars / 1e6:.1f} M characters")
    rates: dict[str, list[float]] = {"refinedweb": [], "fineweb": []}
    for _ in range(args.repeat):  # presets interleaved: machine noise hits both alike
        for preset, runs in rates.items():
            runs.append(run(texts, preset))
    for preset, runs in rates.items():
        print(
            f"{preset:>10} ({PRESETS[preset].num_perm} hashes): "
            f"{statistics.median(runs):8.1f} docs/s per core, median of {len(runs)} "
            f"(min {min(runs):.1f}, max {max(runs):.1f})"
        )
    tracemalloc.start()
    run(texts, "refinedweb")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # One very long page (the corpus concatenated): chunking must keep the block bounded.
    long_text = " ".join(texts)
    tracemalloc.start()
    MinHasher(PRESETS["refinedweb"]).band_keys([long_text])
    _, long_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak traced allocations, one {len(long_text) / 1e6:.1f} M-character page "
        f"(9000 hashes): {long_peak / 1e6:.1f} MB"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak traced allocations (9000 hashes): {peak / 1e6:.1f} MB")
    print(f"peak RSS of this process (texts loaded, numpy, pyarrow): {rss:.0f} MB")


if __name__ == "__main__":
    main()
