"""Exact-substring dedup as Beam shuffles: winnowed fingerprints, candidate windows, cut.

The graph (see dedup/exact_substring.py for why it is exact):
  documents -> tokens, winnowed 25-gram fingerprints (fp, (doc id, q))
  fingerprints -> count per fp (hot-key fan-out) -> repeated fps -> repeated (doc id, q)
  (doc, repeated q) by doc id -> 128-bit keys of the candidate 50-token windows
  windows grouped by key -> flagged (doc id, start) -> (doc, starts) by doc id -> cut, drop.
Documents without a repeated fingerprint leave the stage after the first join, untouched.
"""

from __future__ import annotations

import json

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import TaggedOutput

from dedup.exact_substring import (
    TOO_SHORT,
    ExactSubstring,
    SpanTokenizer,
    cut_text,
    kept_enough,
    span_rank,
    union_intervals,
)
from pipeline.beam.transforms import (
    DROPPED,
    ERRORS,
    PROCESSING_ERROR,
    STATS,
    _Counting,
    _error,
    sample_of,
)
from pipeline.document import Document

NAME = ExactSubstring.name
SPANS_FILE = "exact_substring_spans.json"
SPAN_CHARS = 500


def _ids(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint32)


class _Stage(_Counting):
    """Shared by the stage's DoFns: the parameters and a per-worker tokenizer."""

    def __init__(self, stage: ExactSubstring):
        self.stage = stage

    def setup(self):
        self.tokenizer = SpanTokenizer(self.stage.tokenizer)

    def _out(self, doc: Document) -> Document:
        self.counts[("stage", NAME, "out")] += 1
        self.counts[("stage", NAME, "words_out")] += len(doc.text.split())
        return doc


class Fingerprint(_Stage):
    """A batch of documents -> (doc id, (doc, ids)) and winnowed (fp, (doc id, q))."""

    def process(self, batch: list[Document]):
        counts = self.counts
        counts[("stage", NAME, "in")] += len(batch)
        try:
            encoded = self.tokenizer.ids([d.text for d in batch])
        except Exception:  # find the bad document one at a time
            encoded = [None] * len(batch)
        for doc, ids in zip(batch, encoded, strict=True):
            try:
                if ids is None:
                    ids = self.tokenizer.ids([doc.text])[0]
                positions, hashes = self.stage.fingerprints(ids)
            except Exception as error:  # one bad document must not stop the run
                counts[("stage", NAME, "dropped", PROCESSING_ERROR)] += 1
                record = _error(doc.source, -1, PROCESSING_ERROR, error)
                yield TaggedOutput(ERRORS, {**record, "stage": NAME, "id": doc.id})
                continue
            counts[("dedup", NAME, "tokens_in")] += len(ids)
            counts[("dedup", NAME, "windows_all")] += max(len(ids) - self.stage.min_tokens + 1, 0)
            if len(positions) == 0:  # too short to hold a window: cannot be cut
                yield TaggedOutput("untouched", self._out(doc))
                continue
            counts[("dedup", NAME, "fingerprints")] += len(positions)
            for q, h in zip(positions.tolist(), hashes.tolist(), strict=True):
                yield TaggedOutput("grams", (h, (doc.id, q)))
            yield doc.id, (doc, ids.tobytes())


def _repeated_positions(item):
    """(fp, {"count": [n] if n >= 2, "at": [(doc id, q), ...]}) -> (doc id, q) if repeated."""
    _, joined = item
    if joined["count"]:
        yield from joined["at"]


class Candidates(_Stage):
    """(doc id, {doc, repeated q}) -> 128-bit keys of candidate windows, or the doc untouched."""

    def process(self, item):
        doc_id, joined = item
        (doc, data), grams = joined["doc"][0], sorted(joined["q"])
        if not grams:
            yield TaggedOutput("untouched", self._out(doc))
            return
        starts, keys = self.stage.windows(_ids(data), np.array(grams, dtype=np.int64))
        self.counts[("dedup", NAME, "candidate_windows")] += len(starts)
        for start, key in zip(starts.tolist(), keys, strict=True):
            yield TaggedOutput("windows", (key, (doc_id, start)))
        yield doc_id, (doc, data)


class Cut(_Stage):
    """(doc id, {doc, flagged starts}) -> the document without its repeated spans."""

    def process(self, item):
        _, joined = item
        (doc, data), starts = joined["doc"][0], joined["start"]
        counts, stage = self.counts, self.stage
        if not starts:
            yield self._out(doc)
            return
        intervals = union_intervals(np.array(starts, dtype=np.int64), stage.min_tokens)
        tokens = self.tokenizer.offsets(doc.text, _ids(data))
        text, removed = cut_text(doc.text, tokens, intervals)
        counts[("dedup", NAME, "documents_cut")] += 1
        counts[("dedup", NAME, "tokens_removed")] += sum(b - a for a, b in intervals)
        counts[("dedup", NAME, "chars_removed")] += len(doc.text) - len(text)
        for start, end in removed:
            yield TaggedOutput(
                "spans",
                {
                    "rank": span_rank(doc.id, start),
                    "id": doc.id,
                    "url": doc.url,
                    "start": start,
                    "end": end,
                    "text": doc.text[start:end][:SPAN_CHARS],
                },
            )
        if not kept_enough(text, stage.min_chars_after):
            counts[("stage", NAME, "dropped", TOO_SHORT)] += 1
            yield TaggedOutput(
                DROPPED, (f"{NAME}/{TOO_SHORT}", sample_of(doc, NAME, TOO_SHORT, text))
            )
            return
        yield self._out(doc.replace(text=text))


class WriteSpans(beam.DoFn):
    """The sampled removed spans -> OUTPUT/exact_substring_spans.json."""

    def __init__(self, output: str):
        self.output = output

    def process(self, spans):
        spans = sorted(spans, key=lambda s: s["rank"])
        with FileSystems.create(FileSystems.join(self.output, SPANS_FILE)) as handle:
            handle.write(json.dumps(spans, ensure_ascii=False, indent=2).encode("utf-8"))
        yield SPANS_FILE


def exact_substring(docs, stage: ExactSubstring, output: str | None = None):
    """The stage on `docs`: (kept documents, stats, dropped samples, errors) PCollections."""
    first = (
        docs
        | "ExactSubstr batch" >> beam.BatchElements(min_batch_size=16, max_batch_size=256)
        | "ExactSubstr fingerprint"
        >> beam.ParDo(Fingerprint(stage)).with_outputs(
            STATS, ERRORS, "grams", "untouched", main="docs"
        )
    )
    repeated = (
        first.grams
        | "ExactSubstr ones" >> beam.MapTuple(lambda fp, _: (fp, 1))
        | "ExactSubstr count" >> beam.CombinePerKey(sum).with_hot_key_fanout(stage.hot_key_fanout)
        | "ExactSubstr repeated fps" >> beam.Filter(lambda kv: kv[1] >= 2)
    )
    positions = (
        {"count": repeated, "at": first.grams}
        | "ExactSubstr join fps" >> beam.CoGroupByKey()
        | "ExactSubstr repeated positions" >> beam.FlatMap(_repeated_positions)
    )
    second = (
        {"doc": first.docs, "q": positions}
        | "ExactSubstr docs with fps" >> beam.CoGroupByKey()
        | "ExactSubstr windows"
        >> beam.ParDo(Candidates(stage)).with_outputs(STATS, "windows", "untouched", main="docs")
    )
    flagged = (
        second.windows
        | "ExactSubstr group windows" >> beam.GroupByKey()
        | "ExactSubstr flag" >> beam.FlatMapTuple(lambda _, occ: stage.flagged(iter(occ)))
    )
    cut = (
        {"doc": second.docs, "start": flagged}
        | "ExactSubstr docs with flags" >> beam.CoGroupByKey()
        | "ExactSubstr cut"
        >> beam.ParDo(Cut(stage)).with_outputs(STATS, DROPPED, "spans", main="docs")
    )
    if output is not None:
        _ = (
            cut.spans
            | "ExactSubstr sample spans"
            >> beam.combiners.Top.Of(stage.span_samples, key=lambda s: s["rank"], reverse=True)
            | "ExactSubstr write spans" >> beam.ParDo(WriteSpans(output))
        )
    kept = (first.untouched, second.untouched, cut.docs) | "ExactSubstr kept" >> beam.Flatten()
    stats = (first[STATS], second[STATS], cut[STATS]) | "ExactSubstr stats" >> beam.Flatten()
    return kept, stats, cut[DROPPED], first[ERRORS]


def stage_from_config(config, tokenizer: str) -> ExactSubstring:
    """The configured stage; a null tokenizer means the run's output tokenizer."""
    params = config.section(NAME)
    params["tokenizer"] = params.get("tokenizer") or tokenizer
    return ExactSubstring(**params)


def add_exact_substring(docs, spec, stats: list, dropped: list, errors: list):
    """Wire the stage into a run (unless skipped); returns the kept documents."""
    if NAME in spec.skip:
        return docs
    stage = stage_from_config(spec.config, spec.tokenizer)
    docs, stage_stats, stage_dropped, stage_errors = exact_substring(docs, stage, spec.output)
    stats.append(stage_stats)
    dropped.append(stage_dropped)
    errors.append(stage_errors)
    return docs
