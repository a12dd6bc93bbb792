"""Mergeable run counters and the stats.json they become (plain Python, no Beam)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from filters.url import url_host

# Counter keys are tuples: ("stage", name, "in" | "out" | "words_out" | "tokens_out"),
# ("stage", name, "dropped", reason), ("read", what), ("hist", name, bucket),
# ("lang", phase, language, "documents" | "words"), ("seconds", stage) (worker seconds in the
# stage's own code, summed over workers), ("limit", stage, what): documents cut by a limit
# (they go on, cut), ("dedup", stage, what) for dedup figures such as tokens removed
# (stats.json "dedup": {stage: {what: n}}).


class FunnelError(AssertionError):
    """Counts that do not reconcile: a bug in the pipeline, never rounding."""


def merge_counters(counters: Iterable[dict]) -> Counter:
    """Sum of many counters (the Beam combine step)."""
    total: Counter = Counter()
    for counter in counters:
        total.update(counter)
    return total


def length_bucket(value: int) -> int:
    """Power-of-two bucket (lower bound) for length histograms: 0, 1, 2, 4, 8, ..."""
    return 0 if value <= 0 else 1 << (int(value).bit_length() - 1)


def stage_counts(counts: Counter, stage: str, reasons: Iterable[str] = ()) -> dict:
    """One funnel row from the counters."""
    dropped = {reason: 0 for reason in reasons}
    for key, value in counts.items():
        if key[:2] == ("stage", stage) and key[2] == "dropped":
            dropped[key[3]] = dropped.get(key[3], 0) + value
    row = {
        "name": stage,
        "in": counts.get(("stage", stage, "in"), 0),
        "out": counts.get(("stage", stage, "out"), 0),
        "dropped": dict(sorted(dropped.items())),
        "words_out": counts.get(("stage", stage, "words_out"), 0),
    }
    if ("stage", stage, "tokens_out") in counts:
        row["tokens_out"] = counts[("stage", stage, "tokens_out")]
    return row


def url_domain(url: str) -> str:
    """The host of a URL, lower case, without a leading "www." (how the report groups pages)."""
    return url_host(url) or "(no host)"


def build_stats(
    counts: Counter, stages: list[tuple[str, tuple[str, ...]]], extra: dict | None = None
) -> dict:
    """stats.json content from merged counters and the run's stages (name, known reasons)."""
    rows = [stage_counts(counts, name, reasons) for name, reasons in stages]
    last = rows[-1]["out"] if rows else 0
    histograms: dict[str, dict[str, int]] = {}
    languages: dict[str, dict[str, dict[str, int]]] = {}
    read: dict[str, int] = {}
    limits: dict[str, int] = {}
    dedup: dict[str, dict[str, int]] = {}
    for key, value in counts.items():
        if key[0] == "hist":
            histograms.setdefault(key[1], {})[str(key[2])] = value
        elif key[0] == "lang":
            phase = languages.setdefault(key[1], {})
            phase.setdefault(key[2], {"documents": 0, "words": 0})[key[3]] += value
        elif key[0] == "read":
            read[key[1]] = value
        elif key[0] == "limit":
            limits[f"{key[1]}.{key[2]}"] = value
        elif key[0] == "dedup":
            dedup.setdefault(key[1], {})[key[2]] = value
    stats = {
        "stages": rows,
        "final": {
            "documents": last,
            "tokens": counts.get(("final", "tokens"), 0),
            "words": rows[-1]["words_out"] if rows else 0,
        },
        # Every mapping in a fixed order: the counters' merge order differs between runs.
        "read": dict(sorted(read.items())),
        "limits": dict(sorted(limits.items())),
        "languages": {
            phase: dict(sorted(table.items(), key=lambda kv: (-kv[1]["documents"], kv[0])))
            for phase, table in sorted(languages.items())
        },
        "dedup": {stage: dict(sorted(table.items())) for stage, table in sorted(dedup.items())},
        "histograms": {
            name: dict(sorted(buckets.items(), key=lambda kv: int(kv[0])))
            for name, buckets in sorted(histograms.items())
        },
    }
    stats.update(extra or {})
    # Timings vary from run to run: they live under "run", apart from the deterministic counts.
    seconds = {
        name: round(counts[("seconds", name)], 3)
        for name, _ in stages
        if ("seconds", name) in counts
    }
    if seconds:
        stats.setdefault("run", {})["stage_seconds"] = seconds
    return stats


def check_funnel(stats: dict) -> None:
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


def percent(part: float, whole: float) -> float:
    """part / whole in percent, 0 for an empty whole."""
    return 0.0 if not whole else 100.0 * part / whole


def safe_float(value: float) -> float | None:
    """JSON has no NaN: None instead."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value
