"""The Beam pieces: reading WARC files, the one generic stage wrapper, counters and samples."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import TaggedOutput
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from filters.base import Filter, Verdict
from pipeline.document import LIMITS_KEY, Document
from pipeline.stats import length_bucket, merge_counters, url_domain
from pipeline.warc import (
    BAD_URI,
    BINARY,
    DAMAGE_REASONS,
    READ_REASONS,
    ReadLimits,
    iter_warc,
)

log = logging.getLogger("macrodata")

STATS = "stats"
DROPPED = "dropped"
ERRORS = "errors"
PROCESSING_ERROR = "processing_error"
READ_STAGE = "read"
# Read outcomes that are damage (not ordinary non-HTML records): each gets an errors/ entry.
REPORTED_REASONS = (*DAMAGE_REASONS, BAD_URI, BINARY)
SAMPLE_CHARS = 2000


def _global(value) -> WindowedValue:
    """A value for output from finish_bundle, which must say its window."""
    return WindowedValue(value, GlobalWindow().max_timestamp(), (GlobalWindow(),))


def sample_of(doc: Document, stage: str, reason: str, detail: str = "") -> dict:
    """What a dropped-document sample keeps: enough to judge the decision, truncated."""
    body = doc.text or (doc.html or "")
    return {
        "stage": stage,
        "reason": reason,
        "id": doc.id,
        "url": doc.url,
        "source": doc.source,
        "language": doc.language,
        "language_score": doc.language_score,
        "signals": {k: v for k, v in doc.signals.items() if v == v},  # drop NaN
        "text": body[:SAMPLE_CHARS],
        "truncated": len(body) > SAMPLE_CHARS,
        "detail": detail,
        # Sampling keeps the lowest ranks: deterministic, and spread over the crawl.
        "rank": hashlib.blake2b(doc.id.encode(), digest_size=8).hexdigest(),
    }


class _Counting(beam.DoFn):
    """Counts into a per-bundle Counter, emitted once per bundle on the stats output."""

    def start_bundle(self):
        self.counts = Counter()

    def finish_bundle(self):
        if self.counts:
            yield TaggedOutput(STATS, _global(dict(self.counts)))
        self.counts = Counter()


class _Progress:
    """Rate-limited progress lines for long local runs."""

    def __init__(self, what: str, every_seconds: float = 15.0):
        self.what = what
        self.every = every_seconds
        self.started = self.last = time.monotonic()
        self.count = 0

    def tick(self, n: int = 1) -> None:
        self.count += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            rate = self.count / max(now - self.started, 1e-9)
            log.info("%s: %s so far (%.0f/s on this worker)", self.what, f"{self.count:,}", rate)


class ReadWarcFile(_Counting):
    """One WARC file path -> its HTML documents; every record counted, damage reported."""

    def __init__(self, limits: ReadLimits):
        self.limits = limits

    def setup(self):
        self.progress = _Progress("WARC records read")

    def process(self, path: str):
        counts = self.counts
        counts[("read", "files")] += 1
        records = 0
        try:
            handle = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except Exception as error:
            counts[("read", "files_failed")] += 1
            yield TaggedOutput(ERRORS, _error(path, -1, "unreadable_file", error))
            return
        with handle:
            outcomes = iter_warc(handle, path, self.limits)
            while True:
                try:
                    outcome = next(outcomes)
                except StopIteration:
                    break
                except Exception as error:  # I/O failure mid-file: what was read still counts
                    counts[("read", "files_failed")] += 1
                    yield TaggedOutput(ERRORS, _error(path, -1, "read_failed", error))
                    break
                if outcome.file_level:
                    counts[("read", "files_failed")] += 1
                    yield TaggedOutput(
                        ERRORS, _error(path, outcome.offset, outcome.reason, outcome.detail)
                    )
                    continue
                records += 1
                self.progress.tick()
                counts[("stage", READ_STAGE, "in")] += 1
                counts[("read", "records")] += 1
                if outcome.document is not None:
                    counts[("stage", READ_STAGE, "out")] += 1
                    if outcome.capped:
                        counts[("limit", READ_STAGE, "payload_bytes")] += 1
                    if outcome.document.truncated:
                        counts[("read", "truncated")] += 1
                    if outcome.warc_truncated:
                        counts[("read", "warc_truncated")] += 1
                    if outcome.damage:
                        counts[("read", f"damaged_kept.{outcome.damage}")] += 1
                        error = _error(path, outcome.offset, outcome.damage, outcome.detail)
                        kept = {"kept": True, "id": outcome.document.id}
                        yield TaggedOutput(ERRORS, {**error, **kept})
                    yield outcome.document
                    continue
                counts[("stage", READ_STAGE, "dropped", outcome.reason)] += 1
                if outcome.reason in DAMAGE_REASONS:
                    counts[("read", f"damaged_dropped.{outcome.reason}")] += 1
                if outcome.reason in REPORTED_REASONS:
                    yield TaggedOutput(
                        ERRORS, _error(path, outcome.offset, outcome.reason, outcome.detail)
                    )
        log.debug("read %s: %d records", path, records)


def _error(source: str, offset: int, reason: str, detail) -> dict:
    if isinstance(detail, BaseException):
        detail = f"{type(detail).__name__}: {detail}"
    return {"source": source, "offset": offset, "reason": reason, "detail": str(detail)[:1000]}


class ApplyStage(_Counting):
    """The one generic wrapper: any Filter, kept documents out, drops counted and sampled."""

    def __init__(self, stage: Filter, histogram: str = "", language_phase: str = ""):
        self.stage = stage
        self.histogram = histogram
        self.language_phase = language_phase

    def setup(self):
        self.stage.setup()

    def teardown(self):
        self.stage.teardown()

    def process(self, doc: Document):
        self.counts[("stage", self.stage.name, "in")] += 1
        try:
            finished = self._timed(self.stage.submit, doc)
        except Exception as error:  # one bad document must not stop the run
            finished = [(doc, error)]
        for result in finished:
            yield from self._outputs(*result)

    def finish_bundle(self):
        # Documents the stage still works on belong to this bundle: finish them here, in the
        # global window (batch runs have no other).
        for doc, verdict in self._timed(self.stage.flush):
            for output in self._outputs(doc, verdict):
                if isinstance(output, TaggedOutput):
                    yield TaggedOutput(output.tag, _global(output.value))
                else:
                    yield _global(output)
        yield from super().finish_bundle()

    def _timed(self, step, *args):
        started = time.perf_counter()
        try:
            return step(*args)
        finally:
            self.counts[("seconds", self.stage.name)] += time.perf_counter() - started

    def _outputs(self, doc: Document, verdict: Verdict | Exception):
        """Count one finished document; it, or its drop sample or error record, as outputs."""
        name = self.stage.name
        counts = self.counts
        if isinstance(verdict, Exception):
            counts[("stage", name, "dropped", PROCESSING_ERROR)] += 1
            yield TaggedOutput(
                ERRORS,
                {**_error(doc.source, -1, PROCESSING_ERROR, verdict), "stage": name, "id": doc.id},
            )
            return
        for limit in doc.meta.get(LIMITS_KEY, ()):
            counts[("limit", name, limit)] += 1
        words = len(doc.text.split()) if doc.text else 0
        if self.language_phase:
            counts[("lang", self.language_phase, doc.language or "unknown", "documents")] += 1
            counts[("lang", self.language_phase, doc.language or "unknown", "words")] += words
        if verdict.keep:
            counts[("stage", name, "out")] += 1
            counts[("stage", name, "words_out")] += words
            if self.histogram:
                counts[("hist", self.histogram, length_bucket(words))] += 1
            yield doc
            return
        counts[("stage", name, "dropped", verdict.reason)] += 1
        detail = doc.meta.get("error", "")
        yield TaggedOutput(
            DROPPED, (f"{name}/{verdict.reason}", sample_of(doc, name, verdict.reason, detail))
        )


def run_stage(docs, stage: Filter, **options):
    """Apply one stage: (kept documents, stats, dropped samples, errors) PCollections."""
    results = docs | f"Stage {stage.name}" >> beam.ParDo(ApplyStage(stage, **options)).with_outputs(
        STATS, DROPPED, ERRORS, main="kept"
    )
    return results.kept, results[STATS], results[DROPPED], results[ERRORS]


class WriteJsonLines(beam.DoFn):
    """(relative path, [records]) -> one JSON-lines file under the output directory."""

    def __init__(self, output: str):
        self.output = output

    def process(self, item):
        relative, records = item
        path = FileSystems.join(self.output, relative)
        with FileSystems.create(path) as handle:
            for record in records:
                handle.write(
                    json.dumps(record, ensure_ascii=False, sort_keys=True).encode() + b"\n"
                )
        yield relative


def write_dropped_samples(dropped, output: str, per_reason: int):
    """Keep the `per_reason` lowest-ranked samples per stage/reason; one file each.

    Returns the (stage/reason, samples) pairs, for the report.
    """
    # The source breaks rank ties (one record in two copies of a file), whatever the order.
    sampled = dropped | "Sample dropped" >> beam.combiners.Top.PerKey(
        per_reason, key=lambda s: (s["rank"], s["source"]), reverse=True
    )
    _ = (
        sampled
        | "Name samples"
        >> beam.MapTuple(
            lambda key, samples: (
                f"dropped/{key}.jsonl",
                sorted(samples, key=lambda s: (s["rank"], s["source"])),
            )
        )
        | "Write samples" >> beam.ParDo(WriteJsonLines(output))
    )
    return sampled


def _desc(name: str) -> tuple[int, ...]:
    """A key ordering names backwards, so ties in a Top.Of keep the alphabetically first."""
    return (*(-ord(c) for c in name), 1)  # 1 ends a name: "ab" before "abc"


def top_domains(kept, dropped, top: int):
    """The `top` domains by documents kept and by documents dropped (with their stage/reason).

    Counts are summed per domain across workers (CombinePerKey) and only the top `top` reach
    one worker (Top.Of keeps `top` per bundle), so millions of domains stay bounded.
    """
    kept_top = (
        kept
        | "Kept domain" >> beam.Map(lambda doc: (url_domain(doc.url), 1))
        | "Count kept domains" >> beam.CombinePerKey(sum)
        | "Top kept domains" >> beam.combiners.Top.Of(top, key=lambda kv: (kv[1], _desc(kv[0])))
    )
    dropped_top = (
        dropped
        | "Dropped domain"
        >> beam.MapTuple(lambda key, sample: (url_domain(sample["url"]), {key: 1}))
        | "Count dropped domains" >> beam.CombinePerKey(merge_counters)
        | "Top dropped domains"
        >> beam.combiners.Top.Of(top, key=lambda kv: (sum(kv[1].values()), _desc(kv[0])))
    )
    return kept_top, dropped_top


def write_errors(errors, output: str):
    """All error records, sorted, in errors/errors.jsonl (they are few, by design)."""
    return (
        errors
        | "Key errors" >> beam.Map(lambda e: (None, e))
        | "Gather errors" >> beam.GroupByKey()
        | "Sort errors"
        >> beam.MapTuple(
            lambda _, es: (
                "errors/errors.jsonl",
                sorted(es, key=lambda e: json.dumps(e, sort_keys=True)),
            )
        )
        | "Write errors" >> beam.ParDo(WriteJsonLines(output))
    )


__all__ = [
    "READ_REASONS",
    "ApplyStage",
    "ReadWarcFile",
    "run_stage",
    "top_domains",
    "write_dropped_samples",
    "write_errors",
]
