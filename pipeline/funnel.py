"""Run counters: how stages count, and the one place counter keys are made and read.

Every stage counts through a `Funnel`: documents in, kept, dropped with a reason, and its own
figures. The counts are plain dicts summed across workers (`merge_counters`), then turned into
stats.json (`pipeline.stats.build_stats`) by the readers at the end of this module. No Beam here.

Counter keys are tuples:
  ("stage", STAGE, "in" | "out" | "words_out" | "tokens_out")   the funnel row of STAGE
  ("stage", STAGE, "dropped", REASON)
  ("read", WHAT)                       stats.json read.WHAT (records, files, ...)
  ("limit", STAGE, WHAT)               limits."STAGE.WHAT": documents cut by a limit, kept
  ("dedup", STAGE, WHAT)               dedup.STAGE.WHAT: a stage's own figures
  ("lang", PHASE, LANGUAGE, "documents" | "words")
  ("hist", NAME, BUCKET)               power-of-two histograms
  ("seconds", STAGE)                   worker seconds in the stage's own code (run.stage_seconds)
  ("final", "tokens")
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from core.document import Document


def words_of(doc: Document) -> int:
    """Whitespace-separated words of a document's text (the funnel's word counts)."""
    return doc.words


def length_bucket(value: int) -> int:
    """Power-of-two bucket (lower bound) for length histograms: 0, 1, 2, 4, 8, ..."""
    return 0 if value <= 0 else 1 << (int(value).bit_length() - 1)


class Funnel:
    """The counts of one stage on one worker; `take()` hands them on and starts afresh."""

    def __init__(self, stage: str):
        self.stage = stage
        self.counts: Counter = Counter()

    def take(self) -> dict:
        """The counts so far (for the stats output), and a fresh start."""
        counts, self.counts = dict(self.counts), Counter()
        return counts

    # -- the funnel row: in == out + dropped --

    def entered(self, n: int = 1) -> None:
        """`n` documents (or records) came into the stage."""
        self.counts[("stage", self.stage, "in")] += n

    def kept(self, doc: Document, words: int | None = None, tokens: int | None = None) -> None:
        """One document leaves the stage; its words (and tokens) count in the row."""
        self.counts[("stage", self.stage, "out")] += 1
        self.counts[("stage", self.stage, "words_out")] += words_of(doc) if words is None else words
        if tokens is not None:
            self.counts[("stage", self.stage, "tokens_out")] += tokens

    def dropped(self, reason: str, n: int = 1) -> None:
        """`n` documents (or records) dropped for `reason`."""
        self.counts[("stage", self.stage, "dropped", reason)] += n

    # -- the stage's other figures, each a section of stats.json --

    def figure(self, what: str, n: int | float = 1) -> None:
        """A figure of the stage's own (stats.json dedup.STAGE.what), e.g. tokens removed."""
        self.counts[("dedup", self.stage, what)] += n

    def limit(self, what: str) -> None:
        """A document the stage cut at a limit and kept (stats.json limits."STAGE.what")."""
        self.counts[("limit", self.stage, what)] += 1

    def read(self, what: str, n: int = 1) -> None:
        """A figure of the input (stats.json read.what): files, records, failures."""
        self.counts[("read", what)] += n

    def language(self, phase: str, language: str, words: int) -> None:
        """One document of `language` (stats.json languages.phase.language)."""
        self.counts[("lang", phase, language or "unknown", "documents")] += 1
        self.counts[("lang", phase, language or "unknown", "words")] += words

    def histogram(self, name: str, value: int) -> None:
        """One document into the power-of-two histogram `name`."""
        self.counts[("hist", name, length_bucket(value))] += 1

    def seconds(self, seconds: float) -> None:
        """Worker time spent in the stage's own code."""
        self.counts[("seconds", self.stage)] += seconds

    def final_tokens(self, n: int) -> None:
        """Tokens in the output (stats.json final.tokens)."""
        self.counts[("final", "tokens")] += n


def merge_counters(counters: Iterable[dict]) -> Counter:
    """Sum of many counters (the Beam combine step)."""
    total: Counter = Counter()
    for counter in counters:
        total.update(counter)
    return total


# -- reading the keys back --


def stage_row(counts: Counter, stage: str, reasons: Iterable[str] = ()) -> dict:
    """One funnel row: every known reason listed, at zero when nothing was dropped for it."""
    dropped = {reason: 0 for reason in reasons}
    for key, value in counts.items():
        if key[:3] == ("stage", stage, "dropped"):
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


def sections(counts: Counter) -> dict:
    """The counters outside the funnel rows, by stats.json section, in a fixed order.

    Every mapping is sorted: the counters' merge order differs between runs.
    """
    histograms: dict[str, dict[str, int]] = {}
    languages: dict[str, dict[str, dict[str, int]]] = {}
    read: dict[str, int] = {}
    limits: dict[str, int] = {}
    dedup: dict[str, dict[str, int]] = {}
    seconds: dict[str, float] = {}
    for key, value in counts.items():
        kind = key[0]
        if kind == "hist":
            histograms.setdefault(key[1], {})[str(key[2])] = value
        elif kind == "lang":
            phase = languages.setdefault(key[1], {})
            phase.setdefault(key[2], {"documents": 0, "words": 0})[key[3]] += value
        elif kind == "read":
            read[key[1]] = value
        elif kind == "limit":
            limits[f"{key[1]}.{key[2]}"] = value
        elif kind == "dedup":
            dedup.setdefault(key[1], {})[key[2]] = value
        elif kind == "seconds":
            seconds[key[1]] = round(value, 3)
    return {
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
        "final_tokens": counts.get(("final", "tokens"), 0),
        "stage_seconds": seconds,
    }
