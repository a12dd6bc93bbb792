"""stats.json: its shape, how a run writes it, how runs merge, and the funnel check.

The one owner of the format: the pipeline builds it here from merged counters
(`build_stats`), the report reads these sections, and `merge_stats` merges every section of
several runs (one per part or CommonCrawl dump) into one. Plain Python, no Beam.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from typing import Any, TypedDict

from filters.url import url_host
from pipeline.funnel import sections, stage_row

# One funnel row. "in" is a Python keyword, hence the functional form.
StageRow = TypedDict(
    "StageRow",
    {
        "name": str,
        "in": int,
        "out": int,
        "dropped": dict[str, int],  # every known reason, zeros included
        "words_out": int,
        # "tokens_out": int, only on stages that tokenize
    },
)


class Final(TypedDict):
    """What the run delivered."""

    documents: int
    tokens: int
    words: int


class Domains(TypedDict, total=False):
    """The top domains by documents kept and dropped."""

    top: int
    kept: list[dict]  # {"domain", "documents"}
    dropped: list[dict]  # {"domain", "documents", "reasons": {stage/reason: n}}
    merged: bool  # set when runs were merged (a domain outside a run's top list counts 0)


class RunEntry(TypedDict, total=False):
    """What ran (stats.json "run"): timings vary from run to run, the rest of stats.json not."""

    inputs: list[str]  # the files read: WARC files (of its part), or re-entered shards
    input_patterns: list[str]  # --input as given
    files: int
    recipe: str  # --recipe (pipeline/recipes.py)
    part: str  # "K/N", with --part
    dedup_against: list[str]  # the earlier runs' directories, with --dedup-against
    input_runs: list[str]  # the run directories re-entered, when the input is one
    runner: str
    extract_processes: int
    started_unix: float
    wall_seconds: float
    stage_seconds: dict[str, float]


class Stats(TypedDict, total=False):
    """stats.json. Sections named after a stage (e.g. "minhash") hold that stage's audit."""

    stages: list[StageRow]  # in run order; reconciles (check_funnel)
    final: Final
    read: dict[str, int]  # records, files, files_failed, ...
    limits: dict[str, int]  # "stage.limit": documents cut by a limit and kept
    languages: dict[str, dict[str, dict[str, int]]]  # phase -> language -> documents, words
    dedup: dict[str, dict[str, int]]  # stage -> its own figures (tokens_removed, ...)
    histograms: dict[str, dict[str, int]]  # name -> power-of-two bucket -> documents
    version: str
    config_hash: str
    config: dict[str, Any]
    run: RunEntry
    domains: Domains
    # After a merge, instead of one run's version/config_hash/config/run:
    runs: list[dict[str, Any]]  # {"dir", "run", "version", "config_hash"} per run
    configs: dict[str, dict[str, Any]]  # config hash -> configuration


class FunnelError(AssertionError):
    """Counts that do not reconcile: a bug in the pipeline, never rounding."""


class MergeError(ValueError):
    """Runs that cannot be merged into one (different stage lists)."""


def build_stats(
    counts: Counter, plan: list[tuple[str, tuple[str, ...]]], extra: dict | None = None
) -> Stats:
    """stats.json content from merged counters and the run's stages (name, known reasons)."""
    rows = [stage_row(counts, name, reasons) for name, reasons in plan]
    counted = sections(counts)
    stats: Stats = {
        "stages": rows,
        "final": {
            "documents": rows[-1]["out"] if rows else 0,
            "tokens": counted["final_tokens"],
            "words": rows[-1]["words_out"] if rows else 0,
        },
        "read": counted["read"],
        "limits": counted["limits"],
        "languages": counted["languages"],
        "dedup": counted["dedup"],
        "histograms": counted["histograms"],
    }
    stats.update(extra or {})
    # Timings vary from run to run: they live under "run", apart from the deterministic counts.
    seconds = {
        name: counted["stage_seconds"][name] for name, _ in plan if name in counted["stage_seconds"]
    }
    if seconds:
        stats.setdefault("run", {})["stage_seconds"] = seconds
    return stats


def check_funnel(stats: Stats) -> None:
    """Raise FunnelError unless every stage reconciles with itself and with the next."""
    stages = stats["stages"]
    if not stages:
        raise FunnelError("no stages")
    records = stats.get("read", {}).get("records")
    if records is not None and stages[0]["in"] != records:
        raise FunnelError(f"first stage in={stages[0]['in']} but {records} records were read")
    previous_out = None
    for row in stages:
        dropped = sum(row["dropped"].values())
        if row["in"] != row["out"] + dropped:
            raise FunnelError(
                f"stage {row['name']}: in={row['in']} != out={row['out']} + dropped={dropped}"
            )
        if previous_out is not None and row["in"] != previous_out:
            raise FunnelError(f"stage {row['name']}: in={row['in']} != previous out={previous_out}")
        previous_out = row["out"]
    if stats["final"]["documents"] != previous_out:
        raise FunnelError("final documents differ from the last stage's out")


def audit_sections(stats: Stats) -> dict[str, dict[str, list]]:
    """The sections named after a stage: each holds that stage's audit (lists of records)."""
    names = {row["name"] for row in stats["stages"]} - set(Stats.__annotations__)
    return {name: stats[name] for name in sorted(names) if isinstance(stats.get(name), dict)}


# -- merging runs --


def _sum_dicts(items: list[dict]) -> dict:
    """Key-wise sum of nested dicts of numbers."""
    total: dict = {}
    for item in items:
        for key, value in item.items():
            if isinstance(value, dict):
                total[key] = _sum_dicts([total.get(key, {}), value])
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                total[key] = total.get(key, 0) + value
    return total


def _sorted_keys(table: dict) -> dict:
    return dict(sorted(table.items()))


def _merge_stages(runs: list[Stats], names: list[str]) -> list[StageRow]:
    plan = [row["name"] for row in runs[0]["stages"]]
    for name, stats in zip(names, runs, strict=True):
        other = [row["name"] for row in stats["stages"]]
        if other != plan:
            raise MergeError(
                f"cannot merge {name}: its stages {', '.join(other)} differ from "
                f"{names[0]}'s {', '.join(plan)}"
            )
    stages = []
    for index, name in enumerate(plan):
        row = {"name": name, **_sum_dicts([stats["stages"][index] for stats in runs])}
        row["dropped"] = _sorted_keys(row.get("dropped", {}))
        stages.append(row)
    return stages


def _merge_domains(items: list[Domains]) -> Domains:
    top = max(d.get("top", 0) for d in items)
    kept: Counter = Counter()
    dropped: dict[str, Counter] = {}
    for domains in items:
        for d in domains.get("kept", []):
            kept[d["domain"]] += d["documents"]
        for d in domains.get("dropped", []):
            dropped.setdefault(d["domain"], Counter()).update(d["reasons"])
    ranked = sorted(dropped.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))[:top]
    return {
        "top": top,
        "merged": True,
        "kept": [
            {"domain": d, "documents": n}
            for d, n in sorted(kept.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        ],
        "dropped": [
            {"domain": d, "documents": sum(r.values()), "reasons": dict(sorted(r.items()))}
            for d, r in ranked
        ],
    }


def _merge_audits(runs: list[Stats]) -> dict[str, dict[str, list]]:
    """Each stage's audit lists, concatenated in run order."""
    merged: dict[str, dict[str, list]] = {}
    for stats in runs:
        for stage, audit in audit_sections(stats).items():
            for key, records in audit.items():
                merged.setdefault(stage, {}).setdefault(key, []).extend(records)
    return dict(sorted(merged.items()))


def merge_stats(runs: list[Stats], names: list[str] | None = None) -> Stats:
    """One stats dict from several runs: every section merged, the funnel still reconciling."""
    if len(runs) == 1:
        return runs[0]
    names = names or [str(i) for i in range(len(runs))]
    summed = {
        section: _sum_dicts([stats.get(section, {}) for stats in runs])
        for section in ("final", "read", "limits", "languages", "dedup", "histograms")
    }
    merged: Stats = {
        "stages": _merge_stages(runs, names),
        "final": summed["final"],
        "read": _sorted_keys(summed["read"]),
        "limits": _sorted_keys(summed["limits"]),
        "languages": {
            phase: dict(sorted(table.items(), key=lambda kv: (-kv[1]["documents"], kv[0])))
            for phase, table in sorted(summed["languages"].items())
        },
        "dedup": {stage: _sorted_keys(t) for stage, t in sorted(summed["dedup"].items())},
        "histograms": {
            name: dict(sorted(buckets.items(), key=lambda kv: int(kv[0])))
            for name, buckets in sorted(summed["histograms"].items())
        },
        "runs": [
            {
                "dir": name,
                "run": stats.get("run", {}),
                "version": stats.get("version"),
                "config_hash": stats.get("config_hash"),
            }
            for name, stats in zip(names, runs, strict=True)
        ],
        "configs": {s.get("config_hash"): s["config"] for s in runs if s.get("config")},
    }
    domains = [stats["domains"] for stats in runs if stats.get("domains")]
    if domains:
        merged["domains"] = _merge_domains(domains)
    merged.update(_merge_audits(runs))
    check_funnel(merged)
    return merged


def load_stats(directory: str) -> Stats:
    """DIR/stats.json."""
    with open(os.path.join(directory, "stats.json"), encoding="utf-8") as handle:
        return json.load(handle)


def url_domain(url: str) -> str:
    """The host of a URL, lower case, without a leading "www." (how stats group pages)."""
    return url_host(url) or "(no host)"


def percent(part: float, whole: float) -> float:
    """part / whole in percent, 0 for an empty whole."""
    return 0.0 if not whole else 100.0 * part / whole


def safe_float(value: float) -> float | None:
    """JSON has no NaN: None instead."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value
