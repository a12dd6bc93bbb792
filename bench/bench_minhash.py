"""Signature + band-key throughput (documents per CPU-second on one core) and peak memory of
MinHash, on the compiled path and the numpy one, with the split of the time between the parts.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pyarrow.parquet as pq

from dedup import minhash
from dedup.minhash import EMPTY, PRESETS, MinHasher, band_key_bytes
from dedup.shingles import POSITIONS, ngram_hashes, word_hashes

BATCH = 64


def load_texts(output: str) -> list[str]:
    """Every `text` in OUTPUT/data/*.parquet."""
    texts = []
    for path in sorted(glob.glob(os.path.join(output, "data", "*.parquet"))):
        texts += pq.read_table(path, columns=["text"]).column("text").to_pylist()
    return texts


def run(texts: list[str], preset: str, compiled: bool) -> float:
    """Documents per CPU-second for band keys of all texts, one process, a fresh hasher."""
    hasher = MinHasher(PRESETS[preset], compiled=compiled)  # a cold token cache, as a worker
    started = time.process_time()  # CPU time: one core's work, robust to a shared machine
    for i in range(0, len(texts), BATCH):
        hasher.text_band_hashes(texts[i : i + BATCH])
    return len(texts) / (time.process_time() - started)


class Parts(dict):
    """CPU seconds per part of the work, added up over batches."""

    @contextmanager
    def timing(self, name: str) -> Iterator[None]:
        """Add the CPU time of the block to self[name]."""
        started = time.process_time()
        yield
        self[name] = self.get(name, 0.0) + time.process_time() - started


def numpy_parts(texts: list[str], preset: str) -> Parts:
    """CPU seconds of each step of the numpy path's band_keys, batch by batch."""
    hasher, parts, cache = MinHasher(PRESETS[preset], compiled=False), Parts(), {}
    for i in range(0, len(texts), BATCH):
        batch = texts[i : i + BATCH]
        with parts.timing("normalise + word hashes"):
            words = [word_hashes(text, cache) for text in batch]
        with parts.timing("n-grams"):
            sets = [ngram_hashes(w, hasher.params.ngram) for w in words]
        with parts.timing("signatures"):
            signatures = hasher.signatures(sets)
        with parts.timing("band hashes"):
            bands = hasher.band_hashes(signatures)
        with parts.timing("key bytes"):
            [band_key_bytes(row) for row, s in zip(bands, sets, strict=True) if len(s)]
    return parts


def compiled_parts(texts: list[str], preset: str) -> Parts:
    """CPU seconds of the compiled path's two calls, and of its signature loop alone."""
    hasher, parts = MinHasher(PRESETS[preset], compiled=True), Parts()
    p, kernel = hasher.params, minhash._minhash
    out = np.empty(p.num_perm, dtype=np.uint32)
    bands = np.empty(p.bands, dtype=np.uint64)
    for i in range(0, len(texts), BATCH):
        batch = texts[i : i + BATCH]
        with parts.timing("normalise + word hashes"):
            words = [hasher.word_hashes(text) for text in batch]
        with parts.timing("n-grams + signatures + bands"):
            for w in words:
                kernel.band_hashes(w, hasher.a, POSITIONS, p.ngram, p.bands, p.rows, bands)
        # The signature loop alone, on the same shingles (prepared untimed).
        inputs = [hasher.hash_input(ngram_hashes(w, p.ngram)) for w in words if len(w)]
        with parts.timing("  of which signatures"):
            for x in inputs:
                out.fill(EMPTY)
                kernel.signature(x, hasher.a, out)
    return parts


def peak_bytes(work: Callable[[], object]) -> int:
    """Peak traced allocation of work() (numpy and the compiled module's buffers included)."""
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", help="a macrodata output directory with data/*.parquet")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    texts = load_texts(args.output)
    chars = sum(map(len, texts))
    print(f"{len(texts)} documents, {chars / 1e6:.1f} M characters; compiled: {minhash.BACKEND}")
    paths = [False, True] if minhash._minhash is not None else [False]
    rates: dict[tuple[str, bool], list[float]] = {
        (preset, path): [] for preset in ("refinedweb", "fineweb") for path in paths
    }
    for _ in range(args.repeat):  # cases interleaved: machine noise hits all alike
        for (preset, compiled), runs in rates.items():
            runs.append(run(texts, preset, compiled))
    for (preset, compiled), runs in rates.items():
        print(
            f"{preset:>10} ({PRESETS[preset].num_perm:4d} hashes), "
            f"{'compiled' if compiled else 'numpy':>8}: "
            f"{statistics.median(runs):8.1f} docs/s per core, median of {len(runs)} "
            f"(min {min(runs):.1f}, max {max(runs):.1f})"
        )
    if len(paths) == 2:
        for preset in ("refinedweb", "fineweb"):
            ratio = statistics.median(rates[preset, True]) / statistics.median(rates[preset, False])
            print(f"{preset:>10}: compiled vs numpy {ratio:.2f}x documents per CPU-second")

    print("\nwhere the time goes (ms per document, one pass, cold token cache):")
    for preset in ("refinedweb", "fineweb"):
        for compiled in paths:
            parts = (compiled_parts if compiled else numpy_parts)(texts, preset)
            total = sum(v for k, v in parts.items() if not k.startswith(" "))
            print(
                f"  {preset} {'compiled' if compiled else 'numpy'}: {1e3 * total / len(texts):.3f}"
            )
            for name, seconds in parts.items():
                print(
                    f"    {name:38s} {1e3 * seconds / len(texts):7.3f}  "
                    f"{100 * seconds / total:5.1f}%"
                )

    # One very long page (the corpus concatenated): memory must stay bounded on both paths.
    long_text = " ".join(texts)
    print()
    for compiled in paths:
        name = "compiled" if compiled else "numpy"
        corpus_peak = peak_bytes(lambda c=compiled: run(texts, "refinedweb", c))
        hasher = MinHasher(PRESETS["refinedweb"], compiled=compiled)
        long_peak = peak_bytes(lambda h=hasher: h.text_band_hashes([long_text]))
        print(
            f"peak traced allocations (9000 hashes), {name}: {corpus_peak / 1e6:.1f} MB over the "
            f"corpus, {long_peak / 1e6:.1f} MB on one {len(long_text) / 1e6:.1f} M-character page"
        )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process (texts loaded, numpy, pyarrow): {rss:.0f} MB")


if __name__ == "__main__":
    main()
