"""The macrodata pipeline graph: WARC files (or previous runs' shards) -> stages -> shards,
index, stats, manifest, report."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from core.tokenizer import load_tokenizer
from pipeline import __version__
from pipeline.beam.index import write_index
from pipeline.beam.sink import parquet_schema, shard_name, write_shard, write_shards
from pipeline.beam.stage import load_transform
from pipeline.beam.transforms import top_domains, write_dropped_samples, write_errors
from pipeline.funnel import merge_counters
from pipeline.index import HEADER, header
from pipeline.report import pick_samples, render_report
from pipeline.stages import (
    FILTER,
    RunSpec,
    Stage,
    applied_stages,
    funnel_plan,
    index_settings,
    planned,
)
from pipeline.stats import build_stats, check_funnel

log = logging.getLogger("macrodata")


def build(pipeline: beam.Pipeline, spec: RunSpec) -> None:
    """Add the whole run to `pipeline`: the registry's stages in order, then the outputs."""
    stats, dropped, errors, audits = [], [], [], {}
    # Shards read back keep their signal columns, in their order, so a re-entered run writes
    # the same columns as a run of all its stages at once.
    signals: list[str] = list(spec.input_signals)
    flowing = pipeline | "Input files" >> beam.Create(spec.files)
    for group in transform_groups(planned(spec)):
        names = [entry.name for entry, _ in group]
        objects = [stage for _, stage in group]
        transform = load_transform(transform_path(*group[0]))
        result = flowing | "+".join(names) >> transform(*objects)
        flowing = result.documents
        stats.append(result.stats)
        for outputs, pcoll in ((dropped, result.dropped), (errors, result.errors)):
            if pcoll is not None:
                outputs.append(pcoll)
        if result.audit is not None:
            audits[names[0]] = beam.pvalue.AsSingleton(result.audit)
        for stage in objects:
            signals.extend(s for s in getattr(stage, "signals", ()) if s not in signals)

    output_config = spec.config.section("output")
    shards, shard_count = write_shards(
        flowing, spec.output, signals, output_config["shard_target_bytes"]
    )
    # What later runs deduplicate against: the keys of the documents this run delivers.
    index_files = write_index(flowing, spec.output, shard_count, index_settings(spec.config))
    # A run of stages that drop nothing (re-entry for tokenization alone) has no drop outputs.
    if not dropped:
        dropped.append(pipeline | "No drops" >> beam.Create([]))
    all_dropped = tuple(dropped) | "All dropped" >> beam.Flatten()
    samples = write_dropped_samples(
        all_dropped, spec.output, output_config["dropped_samples_per_reason"]
    )
    kept_domains, dropped_domains = top_domains(flowing, all_dropped, output_config["top_domains"])
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
            Finalize(spec, signals),
            beam.pvalue.AsSingleton(counts),
            beam.pvalue.AsList(shards),
            beam.pvalue.AsSingleton(shard_count),
            beam.pvalue.AsSingleton(kept_domains),
            beam.pvalue.AsSingleton(dropped_domains),
            beam.pvalue.AsList(samples),
            beam.pvalue.AsList(index_files),
            **audits,
        )
    )


def transform_path(entry: Stage, stage) -> str:
    """The composite that runs a stage: its object's own, else its registry entry's."""
    return getattr(stage, "transform", None) or entry.transform


def transform_groups(plan: list[tuple[Stage, Any]]) -> list[list[tuple[Stage, Any]]]:
    """The plan in the transforms that run it: adjacent Filters (the generic wrapper) share
    one, so a document goes through all of them in one DoFn; every other stage has its own."""
    groups: list[list[tuple[Stage, Any]]] = []
    for entry, stage in plan:
        fused = transform_path(entry, stage) == FILTER
        if fused and groups and transform_path(*groups[-1][-1]) == FILTER:
            groups[-1].append((entry, stage))
        else:
            groups.append([(entry, stage)])
    return groups


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

    def __init__(self, spec: RunSpec, signals: list[str]):
        self.spec = spec
        self.signals = signals

    def process(
        self,
        _,
        counts,
        shards,
        shard_count,
        kept_domains,
        dropped_domains,
        samples,
        index_files,
        **audits,
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
        plan = funnel_plan(spec)
        stats = build_stats(
            counts,
            plan,
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
        # Each stage's audit is the section of stats.json named after it, in run order.
        stats.update({name: audits[name] for name, _ in plan if name in audits})
        check_funnel(stats)
        tokenize = config.section("tokenize")
        index_files = sorted(index_files, key=lambda f: f["path"])
        settings = index_settings(config)
        index_header = header(
            settings, sum(f["rows"] for f in index_files), [f["path"] for f in index_files]
        )
        _write_text(spec.output, HEADER, json.dumps(index_header, indent=2))
        index_entry = {
            "header": HEADER,
            "documents": index_header["documents"],
            "band_keys": settings.band_keys,
        }
        manifest = {
            "version": __version__,
            "documents": sum(s["rows"] for s in shards),
            "tokens": sum(s["tokens"] for s in shards),
            "shards": shards,
            "tokenizer": None
            if "tokenize" in spec.skip
            else tokenizer_entry(spec.tokenizer, tokenize["append_eos"]),
            "columns": [name for name in parquet_schema(self.signals).names],
            "signals": list(self.signals),
            "config": config.data,
            "config_hash": config.digest(),
            "skipped_stages": sorted(spec.skip),
            # Where a run re-entering from this output starts (pipeline/reentry.py).
            "applied_stages": applied_stages(spec),
            "index": index_entry,
            # Re-entry and --dedup-against check it (manifests before recipes: refinedweb).
            "recipe": spec.recipe,
        }
        text = json.dumps(stats, indent=2, sort_keys=False)
        _write_text(spec.output, "stats.json", text)
        # Rendered from stats.json as written (JSON has string keys only), as `macrodata report`.
        report = render_report(json.loads(text), pick_samples(dict(samples)))
        _write_text(spec.output, "report.html", report)
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
