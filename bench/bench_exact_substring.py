"""Exact-substring dedup: tokens per CPU-second and shuffle volume vs hashing every window.

Usage: PYTHONPATH=. python bench/bench_exact_substring.py [--corpus DIR] [--mode M] [--repeats N]
       [--scale K]
Texts are extracted from the corpus WARCs (trafilatura, as the pipeline does) and cached.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import string

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from core.document import Document
from dedup.exact_substring import ExactSubstring, find_repeats, span_tokenizer
from pipeline.beam.exact_substring import ExactSubstringStage
from pipeline.extract import ExtractSettings, extract_main_text
from pipeline.funnel import merge_counters
from pipeline.warc import iter_warc

DOC_ID_BYTES = 34  # document_id(): 14-digit date, "-", 20 hex digits
POS_BYTES = 4


def cpu() -> float:
    """CPU seconds of this process and its children (the local runner is in-process)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def load_texts(corpus: str, cache: str) -> dict[str, str]:
    if os.path.exists(cache):
        with open(cache, encoding="utf-8") as handle:
            return json.load(handle)
    texts = {}
    for path in sorted(glob.glob(os.path.join(corpus, "*.warc.gz"))):
        with open(path, "rb") as handle:
            for outcome in iter_warc(handle, path):
                doc = outcome.document
                if doc is not None and doc.html:
                    text = extract_main_text(doc.html, ExtractSettings())
                    if text.strip():
                        texts[doc.id] = text
    with open(cache, "w", encoding="utf-8") as handle:
        json.dump(texts, handle)
    return texts


def scaled_corpus(texts: dict[str, str], copies: int) -> dict[str, str]:
    """The texts and `copies - 1` copies of them, each copy's letters rotated by its number."""
    lower, upper = string.ascii_lowercase, string.ascii_uppercase
    scaled = dict(texts)
    for copy in range(1, copies):
        table = str.maketrans(
            lower + upper, lower[copy:] + lower[:copy] + upper[copy:] + upper[:copy]
        )
        scaled.update({f"{doc_id}-{copy}": text.translate(table) for doc_id, text in texts.items()})
    return scaled


def save_counts(counts, path: str) -> None:
    with open(path, "w") as handle:
        json.dump([[list(k), v] for k, v in counts.items()], handle)


def read_documents(path: str):
    """The documents of a texts file (read on the worker, as a pipeline reads its input)."""
    with open(path, encoding="utf-8") as handle:
        for doc_id, text in json.load(handle).items():
            yield Document(id=doc_id, url="", text=text)


def run_beam(texts: dict[str, str], stage: ExactSubstring | None) -> tuple[float, dict, dict]:
    """CPU seconds of a local run (the stage, or only read+count when stage is None), its
    stats counters and its shuffle metrics."""
    # The documents are read from a file inside the job: beam.Create would pickle and compress
    # them into the job graph, a cost no real run has.
    source = "/tmp/macrodata-bench-input.json"
    with open(source, "w", encoding="utf-8") as handle:
        json.dump(texts, handle)
    path = "/tmp/macrodata-bench-counts.json"
    started = cpu()
    p = beam.Pipeline(runner=FnApiRunner())
    created = p | beam.Create([source]) | beam.FlatMap(read_documents)
    if stage is None:
        _ = created | beam.combiners.Count.Globally()
    else:
        kept, stats, *_ = created | ExactSubstringStage(stage)
        _ = kept | beam.combiners.Count.Globally()
        counts_pc = stats | beam.CombineGlobally(merge_counters)
        _ = counts_pc | beam.Map(save_counts, path)
    result = p.run()
    result.wait_until_finish()
    elapsed = cpu() - started
    if stage is None:
        return elapsed, {}, {}
    found = result.metrics().query(MetricsFilter().with_namespace(stage.name))["counters"]
    shuffled = {m.key.metric.name: m.committed for m in found}
    with open(path) as handle:
        return elapsed, {tuple(k): v for k, v in json.load(handle)}, shuffled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--corpus",
        default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpus"),
    )
    parser.add_argument("--cache", default="/tmp/macrodata-bench-texts.json")
    parser.add_argument("--mode", default="all_copies")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--scale",
        type=int,
        default=4,
        help="copies of the corpus in the larger run (rate at scale)",
    )
    args = parser.parse_args()
    texts = load_texts(args.corpus, args.cache)
    stage = ExactSubstring(mode=args.mode)
    print(f"{len(texts)} documents, {sum(map(len, texts.values())) / 1e6:.2f} M characters")

    tokenizer = span_tokenizer(stage.tokenizer)  # loaded once, as a worker does
    tokenize_runs, hashing_runs = [], []
    for _ in range(args.repeats):
        started = cpu()
        ids = dict(zip(texts, tokenizer.ids(list(texts.values())), strict=True))
        tokenize_runs.append(cpu() - started)
        started = cpu()
        intervals, sizes = find_repeats(ids, stage)
        hashing_runs.append(cpu() - started)
    tokenize_s, hashing_s = statistics.median(tokenize_runs), statistics.median(hashing_runs)
    tokens = sum(len(i) for i in ids.values())
    removed = sum(b - a for iv in intervals.values() for a, b in iv)
    print(f"tokens: {tokens:,}; removed: {removed:,} ({100 * removed / tokens:.2f}%)")
    print(f"tokenize only:         {tokens / tokenize_s / 1e6:6.2f} M tokens/CPU-s")
    print(f"hash+winnow+group:     {tokens / hashing_s / 1e6:6.2f} M tokens/CPU-s (no tokenize)")

    run_beam(dict(list(texts.items())[:5]), stage)  # imports and per-process caches
    # A larger corpus for the rate at scale: copies of the corpus with their letters rotated,
    # so each copy repeats within itself as the corpus does but never matches another copy.
    larger = scaled_corpus(texts, args.scale)
    larger_tokens = sum(len(i) for i in tokenizer.ids(list(larger.values())))
    runs: dict[str, list[float]] = {"base": [], "stage": [], "larger base": [], "larger stage": []}
    for _ in range(args.repeats):
        runs["base"].append(run_beam(texts, None)[0])
        elapsed, counts, shuffled = run_beam(texts, stage)
        runs["stage"].append(elapsed)
        runs["larger base"].append(run_beam(larger, None)[0])
        runs["larger stage"].append(run_beam(larger, stage)[0])
    med = {k: statistics.median(v) for k, v in runs.items()}
    net, larger_net = med["stage"] - med["base"], med["larger stage"] - med["larger base"]
    print(
        f"Beam stage (FnApiRunner, incl. tokenize and shuffles), medians of {args.repeats}: "
        f"{tokens / med['stage'] / 1e6:.2f} M tokens/CPU-s gross ({med['stage']:.1f} CPU-s), "
        f"{tokens / net / 1e6:.2f} net of a read+count pipeline ({med['base']:.1f} CPU-s)"
    )
    # The slope between the corpus and the larger one leaves out what a run pays once whatever
    # its size (graph construction, worker and tokenizer set-up): the rate at scale.
    marginal = (larger_tokens - tokens) / max(larger_net - net, 1e-9)
    print(
        f"  at scale (slope from the corpus to {args.scale}x it, {larger_tokens:,} tokens, net): "
        f"{marginal / 1e6:.2f} M tokens/CPU-s; fixed cost per run ~{net - (tokens / marginal):.1f}"
        f" CPU-s; without tokenisation (its ids are handed on to the tokenize stage): "
        f"{1 / max(1 / marginal - tokenize_s / tokens, 1e-12) / 1e6:.2f} M tokens/CPU-s"
    )

    # Shuffle volume. The per-window design this replaces shuffled one record per fingerprint
    # (twice), repeated fingerprint, candidate window and flagged start, and the documents
    # twice; here records are numpy arrays per (batch, bucket), measured by Beam metrics
    # (combiner accumulators, at most one per bucket and bundle, not included).
    entry = DOC_ID_BYTES + POS_BYTES
    windows = sizes["all_windows"]
    fps, cands = sizes["fingerprints"], sizes["candidate_windows"]
    flagged = sum(max(b - a - stage.min_tokens + 1, 0) for iv in intervals.values() for a, b in iv)
    old_records = 2 * fps + sizes["repeated_fingerprints"] + cands + flagged
    old_bytes = fps * 12 + fps * (8 + entry) + sizes["repeated_fingerprints"] * entry
    old_bytes += cands * (16 + entry) + flagged * entry
    all_bytes = windows * (16 + entry) + flagged * entry
    print(
        f"windows: {windows:,}; fingerprints: {fps:,} ({100 * fps / windows:.1f}%); "
        f"candidate windows: {cands:,} ({100 * cands / windows:.1f}%)"
    )
    doc_bytes = sum(len(t.encode()) for t in texts.values()) + 4 * tokens
    print(
        f"keyed shuffles: {shuffled.get('keyed_records', 0):,} records, "
        f"{shuffled.get('keyed_bytes', 0) / 1e6:.2f} MB; per-record design (est.): "
        f"{old_records:,} records, {old_bytes / 1e6:.2f} MB; every window (est.): "
        f"{windows + flagged:,} records, {all_bytes / 1e6:.2f} MB"
    )
    print(
        f"document shuffles: {shuffled.get('document_records', 0):,} records, "
        f"{shuffled.get('document_bytes', 0) / 1e6:.2f} MB (text once, token ids twice); "
        f"per-document design: {2 * len(texts):,} records, ~{2 * doc_bytes / 1e6:.1f} MB"
    )
    beam_check = {k[2]: v for k, v in counts.items() if k[:2] == ("dedup", "exact_substring")}
    print(f"Beam counters: {beam_check}")
    assert beam_check.get("tokens_removed", 0) == removed, "Beam and in-memory results differ"


if __name__ == "__main__":
    main()
