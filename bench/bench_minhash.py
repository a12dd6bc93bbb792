"""Signature + band-key throughput (documents/s on one core) and peak memory of MinHash.

Texts come from a run's Parquet output (e.g. `macrodata run ... --skip tokenize`):
    python bench/bench_minhash.py OUTPUT_DIR [--repeat 1]
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
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


def run(texts: list[str], preset: str, repeat: int) -> tuple[float, float]:
    """(documents/s, seconds) for band keys of all texts, `repeat` times, one process."""
    hasher = MinHasher(PRESETS[preset])
    started = time.process_time()  # CPU time: one core's work, robust to a shared machine
    for _ in range(repeat):
        for i in range(0, len(texts), BATCH):
            hasher.band_keys(texts[i : i + BATCH])
    seconds = time.process_time() - started
    return repeat * len(texts) / seconds, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", help="a macrodata output directory with data/*.parquet")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    texts = load_texts(args.output)
    chars = sum(map(len, texts))
    print(f"{len(texts)} documents, {chars / 1e6:.1f} M characters")
    for preset in ("refinedweb", "fineweb"):
        rate, seconds = run(texts, preset, args.repeat)
        num_perm = PRESETS[preset].num_perm
        print(
            f"{preset:>10} ({num_perm} hashes): {rate:8.1f} docs/s per core ({seconds:.1f} s CPU)"
        )
    tracemalloc.start()
    run(texts, "refinedweb", 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak traced allocations (9000 hashes): {peak / 1e6:.1f} MB")
    print(f"peak RSS of this process (texts loaded, numpy, pyarrow): {rss:.0f} MB")


if __name__ == "__main__":
    main()
