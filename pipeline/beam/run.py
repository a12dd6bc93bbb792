"""The macrodata pipeline graph: WARC files -> stages -> shards, stats, manifest, report."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field, replace

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from dedup.exact_substring import ExactSubstring
from pipeline import __version__
from pipeline.beam.dedup import (
    DEDUP_REASONS,
    EXACT_DEDUP,
    MINHASH,
    URL_DEDUP,
    MinHashSettings,
    exact_dedup,
    minhash_dedup,
    url_dedup,
)
from pipeline.beam.exact_substring import add_exact_substring
from pipeline.beam.sink import Tokenize, parquet_schema, shard_name, write_shard, write_shards
from pipeline.beam.transforms import (
    DROPPED,
    ERRORS,
    PROCESSING_ERROR,
    READ_STAGE,
    STATS,
    ReadWarcFile,
    WriteJsonLines,
    run_stage,
    top_domains,
    write_dropped_samples,
    write_errors,
)
from pipeline.config import Config
from pipeline.report import pick_samples, render_report
from pipeline.stages import DEDUP_STAGES, build_stages
from pipeline.stats import build_stats, check_funnel, merge_counters
from pipeline.tokenizer import load_tokenizer
from pipeline.warc import READ_REASONS, ReadLimits

log = logging.getLogger("macrodata")


@dataclass(frozen=True)
class RunSpec:
    """What one run does: its input files, output directory, configuration and stage choice."""

    files: list[str]
    output: str
    config: Config
    tokenizer: str
    skip: frozenset[str] = frozenset()
    # Extraction processes per stage instance (pages are extracted that many at a time).
    extract_processes: int = 1
    run_info: dict = field(default_factory=dict)


def stage_plan(spec: RunSpec) -> list[tuple[str, tuple[str, ...]]]:
    """(stage name, known drop reasons) in funnel order."""
    plan = [(READ_STAGE, READ_REASONS)]
    for stage in build_stages(spec.config, spec.skip):
        plan.append((stage.name, stage.reasons + (PROCESSING_ERROR,)))
    # Corpus-level dedup in run order: exact_dedup, minhash, exact_substring, url_dedup.
    for name in DEDUP_STAGES[:2]:
        if name not in spec.skip:
            plan.append((name, DEDUP_REASONS[name]))
    if ExactSubstring.name not in spec.skip:
        plan.append((ExactSubstring.name, ExactSubstring.reasons + (PROCESSING_ERROR,)))
    if URL_DEDUP not in spec.skip:
        plan.append((URL_DEDUP, DEDUP_REASONS[URL_DEDUP]))
    if "tokenize" not in spec.skip:
        plan.append(("tokenize", ()))
    return plan


def build(pipeline: beam.Pipeline, spec: RunSpec) -> None:
    """Add the whole run to `pipeline`."""
    config = spec.config
    stats, dropped, errors = [], [], []

    files = pipeline | "Input files" >> beam.Create(spec.files) | "Spread files" >> beam.Reshuffle()
    read = files | "Read WARC" >> beam.ParDo(
        ReadWarcFile(ReadLimits(**config.section("read")))
    ).with_outputs(STATS, ERRORS, main="documents")
    docs = read.documents
    stats.append(read[STATS])
    errors.append(read[ERRORS])

    stages = build_stages(config, spec.skip)
    signals: list[str] = []
    for stage in stages:
        options = {}
        if stage.name == "extract":
            options["histogram"] = "words_extracted"
            stage = replace(stage, processes=spec.extract_processes)
        if stage.name == "language":
            options["language_phase"] = "identified"
        docs, stage_stats, stage_dropped, stage_errors = run_stage(docs, stage, **options)
        stats.append(stage_stats)
        dropped.append(stage_dropped)
        errors.append(stage_errors)
        signals.extend(s for s in stage.signals if s not in signals)

    # Corpus-level dedup, in DEDUP_STAGES order: exact copies first (cheap), then near copies,
    # then repeated spans, then one capture per URL.
    audit = pipeline | "No dedup audit" >> beam.Create([])
    if EXACT_DEDUP not in spec.skip:
        docs, stage_stats, stage_dropped = exact_dedup(docs)
        stats.append(stage_stats)
        dropped.append(stage_dropped)
    if MINHASH not in spec.skip:
        settings = MinHashSettings.from_config(config.section("dedup"))
        docs, minhash_stats, stage_dropped, audit = minhash_dedup(docs, settings)
        stats.extend(minhash_stats)
        dropped.append(stage_dropped)
    docs = add_exact_substring(docs, spec, stats, dropped, errors)
    if URL_DEDUP not in spec.skip:
        docs, stage_stats, stage_dropped = url_dedup(docs)
        stats.append(stage_stats)
        dropped.append(stage_dropped)

    if "tokenize" not in spec.skip:
        tokenize = config.section("tokenize")
        tokenized = (
            docs
            | "Batch for tokenizer" >> beam.BatchElements(min_batch_size=16, max_batch_size=256)
            | "Tokenize"
            >> beam.ParDo(Tokenize(spec.tokenizer, tokenize["append_eos"])).with_outputs(
                STATS, main="documents"
            )
        )
        docs = tokenized.documents
        stats.append(tokenized[STATS])

    output_config = config.section("output")
    shards, shard_count = write_shards(
        docs, spec.output, signals, output_config["shard_target_bytes"]
    )
    all_dropped = tuple(dropped) | "All dropped" >> beam.Flatten()
    samples = write_dropped_samples(
        all_dropped, spec.output, output_config["dropped_samples_per_reason"]
    )
    kept_domains, dropped_domains = top_domains(docs, all_dropped, output_config["top_domains"])
    write_errors(tuple(errors) | "All errors" >> beam.Flatten(), spec.output)
    counts = (
        tuple(stats)
        | "All stats" >> beam.Flatten()
        | "Merge stats" >> beam.CombineGlobally(merge_counters)
    )
    _ = (
        pipeline
        | "Finalize trigger" >> beam.Create([None])
        | "Finalize"
        >> beam.ParDo(
            Finalize(spec, stage_plan(spec), signals),
            beam.pvalue.AsSingleton(counts),
            beam.pvalue.AsList(shards),
            beam.pvalue.AsSingleton(shard_count),
            beam.pvalue.AsSingleton(kept_domains),
            beam.pvalue.AsSingleton(dropped_domains),
            beam.pvalue.AsList(samples),
            beam.pvalue.AsList(audit),
        )
    )


def tokenizer_entry(spec: str, append_eos: bool) -> dict:
    """The manifest's tokenizer description (load_tokenizer accepts it back)."""
    tokenizer = load_tokenizer(spec)
    return {
        "spec": spec,
        "vocab_size": tokenizer.vocab_size,
        "eos_id": tokenizer.eos_id,
        "append_eos": append_eos,
    }


class Finalize(beam.DoFn):
    """Runs once after everything else: stats.json, manifest.json, report.html."""

    def __init__(self, spec: RunSpec, plan, signals: list[str]):
        self.spec = spec
        self.plan = plan
        self.signals = signals

    def process(
        self, _, counts, shards, shard_count, kept_domains, dropped_domains, samples, audit
    ):
        spec = self.spec
        shards = sorted(shards, key=lambda s: s["path"])
        written = {s["path"] for s in shards}
        # Shards no document hashed to still exist, so the part-i-of-N set is complete.
        for index in range(shard_count):
            if f"data/{shard_name(index, shard_count)}" not in written:
                shards.append(
                    write_shard(spec.output, index, shard_count, [], parquet_schema(self.signals))
                )
        shards.sort(key=lambda s: s["path"])
        config = spec.config
        stats = build_stats(
            counts,
            self.plan,
            {
                "version": __version__,
                "config_hash": config.digest(),
                "config": config.data,
                "run": _run_entry(spec.run_info),
                "domains": {
                    "top": self.spec.config.section("output")["top_domains"],
                    "kept": [{"domain": d, "documents": n} for d, n in _ranked(kept_domains)],
                    "dropped": [
                        {
                            "domain": d,
                            "documents": sum(r.values()),
                            "reasons": dict(sorted(r.items())),
                        }
                        for d, r in _ranked(dropped_domains)
                    ],
                },
            },
        )
        if MINHASH not in spec.skip:
            # The report's "Sampled merged pairs" table reads stats["minhash"]["pairs"].
            stats[MINHASH] = {"pairs": sorted(audit, key=lambda p: p["dropped_id"])}
        if "tokenize" in spec.skip:
            stats["final"]["tokens"] = 0
        check_funnel(stats)
        tokenize = config.section("tokenize")
        manifest = {
            "version": __version__,
            "documents": sum(s["rows"] for s in shards),
            "tokens": sum(s["tokens"] for s in shards),
            "shards": shards,
            "tokenizer": None
            if "tokenize" in spec.skip
            else tokenizer_entry(spec.tokenizer, tokenize["append_eos"]),
            "columns": [name for name in parquet_schema(self.signals).names],
            "config": config.data,
            "config_hash": config.digest(),
            "skipped_stages": sorted(spec.skip),
        }
        _write_text(spec.output, "stats.json", json.dumps(stats, indent=2, sort_keys=False))
        _write_text(spec.output, "report.html", render_report(stats, pick_samples(dict(samples))))
        if not FileSystems.exists(FileSystems.join(spec.output, "errors", "errors.jsonl")):
            _write_text(spec.output, "errors/errors.jsonl", "")
        # Last: a manifest marks a complete run (object stores have no atomic directory swap).
        _write_text(spec.output, "manifest.json", json.dumps(manifest, indent=2))
        yield stats


def _ranked(pairs) -> list:
    """(domain, count or {reason: count}) by count, largest first, then by name."""

    def size(value):
        return sum(value.values()) if isinstance(value, dict) else value

    return sorted(pairs, key=lambda kv: (-size(kv[1]), kv[0]))


def _run_entry(run_info: dict) -> dict:
    """The run description for stats.json, with the wall time so far when the start is known."""
    entry = dict(run_info)
    if "started_unix" in entry:
        entry["wall_seconds"] = round(time.time() - entry["started_unix"], 1)
    return entry


def _write_text(output: str, relative: str, text: str) -> None:
    with FileSystems.create(FileSystems.join(output, relative)) as handle:
        handle.write(text.encode("utf-8"))


__all__ = ["RunSpec", "build", "stage_plan", "WriteJsonLines", "DROPPED"]
