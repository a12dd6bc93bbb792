"""The read stage, the one generic wrapper of per-document stages, and the run's writers."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import TaggedOutput

from core.document import LIMITS_KEY, Document
from filters.base import FIGURES_KEY, PROCESSING_ERROR, Filter, Verdict
from pipeline.beam.stage import (
    DOCUMENTS,
    DROPPED,
    ERRORS,
    STATS,
    CountingDoFn,
    Progress,
    StageResult,
    dropped_sample,
    error_record,
    in_global_window,
)
from pipeline.funnel import Funnel, merge_counters, words_of
from pipeline.stats import url_domain
from pipeline.warc import BAD_URI, BINARY, DAMAGE_REASONS, ReadLimits, iter_warc

log = logging.getLogger("macrodata")

READ_STAGE = "read"
# Read outcomes that are damage (not ordinary non-HTML records): each gets an errors/ entry.
REPORTED_REASONS = (*DAMAGE_REASONS, BAD_URI, BINARY)


class ReadWarcFile(CountingDoFn):
    """One WARC file path -> its HTML documents; every record counted, damage reported."""

    stage_name = READ_STAGE

    def __init__(self, limits: ReadLimits):
        self.limits = limits

    def setup(self):
        self.progress = Progress("WARC records read")

    def process(self, path: str):
        funnel = self.funnel
        funnel.read("files")
        records = 0
        try:
            handle = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except Exception as error:
            funnel.read("files_failed")
            yield TaggedOutput(ERRORS, error_record(path, -1, "unreadable_file", error))
            return
        with handle:
            outcomes = iter_warc(handle, path, self.limits)
            while True:
                try:
                    outcome = next(outcomes)
                except StopIteration:
                    break
                except Exception as error:  # I/O failure mid-file: what was read still counts
                    funnel.read("files_failed")
                    yield TaggedOutput(ERRORS, error_record(path, -1, "read_failed", error))
                    break
                if outcome.file_level:
                    funnel.read("files_failed")
                    yield TaggedOutput(
                        ERRORS, error_record(path, outcome.offset, outcome.reason, outcome.detail)
                    )
                    continue
                records += 1
                self.progress.tick()
                funnel.entered()
                funnel.read("records")
                if outcome.document is not None:
                    document = outcome.document
                    funnel.kept(document, words=0)
                    if outcome.capped:
                        funnel.limit("payload_bytes")
                    if document.truncated:
                        funnel.read("truncated")
                    if outcome.warc_truncated:
                        funnel.read("warc_truncated")
                    if outcome.damage:
                        funnel.read(f"damaged_kept.{outcome.damage}")
                        yield TaggedOutput(
                            ERRORS,
                            error_record(
                                path,
                                outcome.offset,
                                outcome.damage,
                                outcome.detail,
                                kept=True,
                                id=document.id,
                            ),
                        )
                    yield document
                    continue
                funnel.dropped(outcome.reason)
                if outcome.reason in DAMAGE_REASONS:
                    funnel.read(f"damaged_dropped.{outcome.reason}")
                if outcome.reason in REPORTED_REASONS:
                    yield TaggedOutput(
                        ERRORS, error_record(path, outcome.offset, outcome.reason, outcome.detail)
                    )
        log.debug("read %s: %d records", path, records)


class ReadStage(beam.PTransform):
    """WARC file paths -> the HTML documents in them (spread over workers a file at a time)."""

    def __init__(self, limits: ReadLimits):
        super().__init__()
        self.limits = limits

    def expand(self, files):
        read = (
            files
            | "Spread files" >> beam.Reshuffle()
            | "Read WARC"
            >> beam.ParDo(ReadWarcFile(self.limits)).with_outputs(STATS, ERRORS, main=DOCUMENTS)
        )
        return StageResult(read[DOCUMENTS], read[STATS], errors=read[ERRORS])


class ApplyFilters(beam.DoFn):
    """The one generic wrapper: Filters adjacent in the plan, run in turn on each document.

    One DoFn for the lot, so a document pays Beam's per-element work once, not once per stage.
    Each stage still counts its own funnel row, drops and errors, exactly as if it ran alone:
    what a stage keeps goes on to the next stage, what it drops or fails on stops there. A stage
    may hold documents in flight (`Filter.submit`); the ones it finishes later, or at the end
    of the bundle (`Filter.flush`), go on through the later stages then.
    """

    def __init__(self, stages: Sequence[Filter]):
        self.stages = tuple(stages)

    def setup(self):
        for stage in self.stages:
            stage.setup()

    def teardown(self):
        for stage in self.stages:
            stage.teardown()

    def start_bundle(self):
        self.funnels = [Funnel(stage.name) for stage in self.stages]

    def process(self, doc: Document):
        outputs: list = []
        self._submit(0, doc, outputs)
        return outputs

    def finish_bundle(self):
        # Documents a stage still works on belong to this bundle: finish them here, stage by
        # stage (what one stage finishes may be held by a later one), in the global window
        # (batch runs have no other).
        outputs: list = []
        for index, stage in enumerate(self.stages):
            funnel = self.funnels[index]
            started = time.perf_counter()
            try:
                finished = stage.flush()
            finally:
                funnel.seconds(time.perf_counter() - started)
            self._hand_on(index, finished, outputs)
        counts = merge_counters(funnel.take() for funnel in self.funnels)
        if counts:
            outputs.append(TaggedOutput(STATS, dict(counts)))
        for output in outputs:
            if isinstance(output, TaggedOutput):
                yield TaggedOutput(output.tag, in_global_window(output.value))
            else:
                yield in_global_window(output)

    def _submit(self, index: int, doc: Document, outputs: list) -> None:
        """`doc` into stage `index`; the outputs of what it and the later stages finish."""
        funnel = self.funnels[index]
        funnel.entered()
        started = time.perf_counter()
        try:
            finished = self.stages[index].submit(doc)
        except Exception as error:  # one bad document must not stop the run
            finished = [(doc, error)]
        funnel.seconds(time.perf_counter() - started)
        self._hand_on(index, finished, outputs)

    def _hand_on(self, index: int, finished, outputs: list) -> None:
        """Count what stage `index` finished; its kept documents on to the next stage."""
        last = index == len(self.stages) - 1
        for doc, verdict in finished:
            if FIGURES_KEY in doc.meta:
                doc = self._take_figures(index, doc)
            if self._count(index, doc, verdict, outputs):
                if last:
                    outputs.append(doc)
                else:
                    self._submit(index + 1, doc, outputs)

    def _take_figures(self, index: int, doc: Document) -> Document:
        """Count the stage's own figures about `doc`; the document without them."""
        meta = dict(doc.meta)
        funnel = self.funnels[index]
        for what, n in meta.pop(FIGURES_KEY).items():
            if n:
                funnel.figure(what, n)
        return doc.replace(meta=meta)

    def _count(self, index: int, doc: Document, verdict: Verdict | Exception, outputs: list):
        """Count one document stage `index` finished; True if kept, else its drop sample or
        error record added to `outputs`."""
        stage, funnel = self.stages[index], self.funnels[index]
        if isinstance(verdict, Exception):
            funnel.dropped(PROCESSING_ERROR)
            record = error_record(
                doc.source, -1, PROCESSING_ERROR, verdict, stage=stage.name, id=doc.id
            )
            outputs.append(TaggedOutput(ERRORS, record))
            return False
        for limit in doc.meta.get(LIMITS_KEY, ()):
            funnel.limit(limit)
        words = words_of(doc)
        if stage.language_phase:
            funnel.language(stage.language_phase, doc.language, words)
        if verdict.keep:
            funnel.kept(doc, words)
            if stage.words_histogram:
                funnel.histogram(stage.words_histogram, words)
            return True
        funnel.dropped(verdict.reason)
        sample = dropped_sample(doc, stage.name, verdict.reason, doc.meta.get("error", ""))
        outputs.append(TaggedOutput(DROPPED, sample))
        return False


class FilterStage(beam.PTransform):
    """Per-document stages (Filters, adjacent in the plan) through the generic wrapper."""

    def __init__(self, *stages: Filter):
        super().__init__()
        self.stages = stages

    def expand(self, docs):
        results = docs | "Apply" >> beam.ParDo(ApplyFilters(self.stages)).with_outputs(
            STATS, DROPPED, ERRORS, main=DOCUMENTS
        )
        return StageResult(results[DOCUMENTS], results[STATS], results[DROPPED], results[ERRORS])


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
