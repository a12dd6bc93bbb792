"""Exact-substring dedup as Beam shuffles: winnowed fingerprints, candidate windows, cut.

The graph (see dedup/exact_substring.py for why it is exact). Records are numpy arrays per
(batch of documents, hash bucket), not one element per fingerprint or window: a batch is keyed
by its first document id, a bucket is a hash modulo `buckets`.
  batches -> token ids and winnowed 25-gram fingerprints, per bucket
  fingerprints -> distinct ones counted per bucket (a combiner: hot keys take one row)
  (repeated fps, fingerprints) by bucket -> repeated (document, q) per batch
  (token ids, repeated q) by batch -> 128-bit keys of the candidate 50-token windows, per bucket
  windows -> counted per bucket; (repeated windows, windows) by bucket -> flagged starts per batch
  (documents, flagged starts) by batch -> cut, drop.
Documents travel through one shuffle; token ids through two (no re-tokenising).
"""

from __future__ import annotations

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput

from core.document import Document
from dedup.arrays import split_by
from dedup.exact_substring import (
    KEEP_FIRST,
    TOO_SHORT,
    ExactSubstring,
    KeyCounts,
    bucket_of,
    candidate_starts,
    cut_text,
    kept_enough,
    span_rank,
    span_tokenizer,
    union_intervals,
    window_hashes,
)
from filters.base import PROCESSING_ERROR
from pipeline.beam.stage import (
    DOCUMENTS,
    DROPPED,
    ERRORS,
    STATS,
    CountingDoFn,
    StageResult,
    dropped_sample,
    error_record,
    packed,
    unpacked,
)

NAME = ExactSubstring.name
SPAN_CHARS = 500
# Tagged outputs inside the stage.
GRAMS, IDS, SPANS = "grams", "ids", "spans"
# Beam metrics (not stats.json) of what the stage shuffles, read by the benchmark.
KEYED_RECORDS = Metrics.counter(NAME, "keyed_records")
KEYED_BYTES = Metrics.counter(NAME, "keyed_bytes")
DOC_RECORDS = Metrics.counter(NAME, "document_records")
DOC_BYTES = Metrics.counter(NAME, "document_bytes")


def _shuffled(record, counter=KEYED_RECORDS, size=KEYED_BYTES, compress=False):
    """(key, value) -> (key, the value packed), counted."""
    key, value = record
    data = packed(value, compress)
    counter.inc()
    size.inc(len(data))
    return key, data


class _Stage(CountingDoFn):
    """Shared by the stage's DoFns: the parameters and a per-worker tokenizer."""

    stage_name = NAME

    def __init__(self, stage: ExactSubstring):
        self.stage = stage

    def setup(self):
        self.tokenizer = span_tokenizer(self.stage.tokenizer)

    def _out(self, doc: Document, ids: np.ndarray | None = None) -> Document:
        """A kept document; with the ids of its (unchanged) text when they are handed on."""
        self.funnel.kept(doc)
        # The ids are what the output tokenizer would compute (hand_on_ids says it is the same).
        ids = ids if self.stage.hand_on_ids else None
        return doc if doc.text_ids is ids else doc.replace(text_ids=ids)


def _per_bucket(batch: str, keys: np.ndarray, buckets: int, *columns):
    """(bucket, (batch, *columns, keys)) records: the rows of one batch split by key bucket."""
    for bucket, at in split_by(bucket_of(keys, buckets)):
        yield bucket, (batch, *(c[at] for c in columns), keys[at])


class Fingerprint(_Stage):
    """A batch of documents -> (batch, docs with their ids), (batch, (ids)) and per bucket the
    winnowed fingerprints."""

    progress_what = "documents tokenized and fingerprinted"

    def process(self, batch: list[Document]):
        self.progress(len(batch))
        funnel, stage = self.funnel, self.stage
        funnel.entered(len(batch))
        try:
            encoded = self.tokenizer.ids([d.text for d in batch])
        except Exception:  # find the bad document one at a time
            encoded = [None] * len(batch)
        docs, ids_list, doc_rows, positions, hashes = [], [], [], [], []
        for doc, ids in zip(batch, encoded, strict=True):
            try:
                if ids is None:
                    ids = self.tokenizer.ids([doc.text])[0]
                picked, picked_hashes = stage.fingerprints(ids)
            except Exception as error:  # one bad document must not stop the run
                funnel.dropped(PROCESSING_ERROR)
                record = error_record(
                    doc.source, -1, PROCESSING_ERROR, error, stage=NAME, id=doc.id
                )
                yield TaggedOutput(ERRORS, record)
                continue
            funnel.figure("tokens_in", len(ids))
            funnel.figure("windows_all", max(len(ids) - stage.min_tokens + 1, 0))
            # A document too short to hold a window has no fingerprint and is never cut; it
            # still goes to the cut with the others, so the kept documents are one collection.
            if len(picked):
                funnel.figure("fingerprints", len(picked))
                doc_rows.append(np.full(len(picked), len(docs), dtype=np.int32))
                positions.append(picked.astype(np.int32))
                hashes.append(picked_hashes)
            docs.append(doc.replace(text_ids=ids))  # the cut needs them; documents compress
            ids_list.append(ids)
        if not docs:
            return
        key = docs[0].id
        yield _shuffled((key, docs), DOC_RECORDS, DOC_BYTES)
        if not hashes:
            return
        names = np.array([d.id.encode("utf-8") for d in docs])
        record = (key, (names, ids_list))
        yield TaggedOutput(IDS, _shuffled(record, DOC_RECORDS, DOC_BYTES, compress=True))
        rows, grams = np.concatenate(doc_rows), np.concatenate(hashes)
        for record in _per_bucket(key, grams, stage.buckets, rows, np.concatenate(positions)):
            yield TaggedOutput(GRAMS, _shuffled(record))


class CountKeys(beam.CombineFn):
    """Per bucket: its distinct keys counted up to 2 (and, for windows, their first copy).

    The accumulator is a list of KeyCounts, merged into one only when the pending parts
    outgrow the merged one: each merge sorts, so merging on every input would be quadratic.
    """

    def create_accumulator(self):
        return []

    def add_input(self, accumulator, part):
        accumulator.append(part)
        pending = sum(len(p.keys) for p in accumulator[1:])
        if pending > max(len(accumulator[0].keys), 1 << 16):
            accumulator[:] = [KeyCounts.merge(accumulator)]
        return accumulator

    def merge_accumulators(self, accumulators):
        parts = [p for a in accumulators for p in a]
        return [KeyCounts.merge(parts)] if parts else []

    def compact(self, accumulator):
        return [KeyCounts.merge(accumulator)] if len(accumulator) > 1 else accumulator

    def extract_output(self, accumulator):
        return KeyCounts.merge(accumulator).repeated() if accumulator else None


def _count_repeats(records, label: str, stage: ExactSubstring, to_counts):
    """(bucket, chunk) records -> (bucket, KeyCounts of the keys seen twice or more)."""
    return (
        records
        | f"{label.capitalize()} keys"
        >> beam.MapTuple(lambda b, chunk: (b, to_counts(unpacked(chunk))))
        | f"Count {label}"
        >> beam.CombinePerKey(CountKeys()).with_hot_key_fanout(stage.hot_key_fanout)
    )


def _repeated_rows(item, keep_first: bool = False):
    """(bucket, {repeated, at: chunks}) -> (batch, (doc rows, positions)) of the repeated keys."""
    _, joined = item
    repeated = joined["repeated"][0] if joined["repeated"] else None
    if repeated is None or len(repeated.keys) == 0:
        return
    for chunk in map(unpacked, joined["at"]):
        batch, rows, positions, keys = chunk[:4]
        names = chunk[4][rows] if keep_first else None
        hit = repeated.hits(keys, names, positions)
        if hit.any():
            yield _shuffled((batch, (rows[hit], positions[hit])))


def _gathered(chunks) -> dict[int, np.ndarray]:
    """(doc rows, positions) chunks of one batch -> doc row -> sorted distinct positions."""
    chunks = [unpacked(c) for c in chunks]
    if not chunks:
        return {}
    rows = np.concatenate([r for r, _ in chunks])
    positions = np.concatenate([p for _, p in chunks])
    return {row: np.unique(positions[at]) for row, at in split_by(rows)}


class Candidates(_Stage):
    """(batch, {ids, repeated q}) -> per bucket the 128-bit keys of its candidate windows."""

    progress_what = "batches' candidate windows"

    def process(self, item):
        batch, joined = item
        self.progress()
        names, ids_list = unpacked(joined["ids"][0])
        stage, keep_first = self.stage, self.stage.mode == KEEP_FIRST
        doc_rows, starts, keys = [], [], []
        for row, grams in _gathered(joined["q"]).items():
            ids = ids_list[row]
            at = candidate_starts(grams, len(ids), stage.k, stage.min_tokens)
            doc_rows.append(np.full(len(at), row, dtype=np.int32))
            starts.append(at.astype(np.int32))
            keys.append(window_hashes(ids, at, stage.min_tokens))
        if not keys:
            return
        rows, keys = np.concatenate(doc_rows), np.concatenate(keys)
        self.funnel.figure("candidate_windows", len(rows))
        for bucket, (_, rows_b, starts_b, keys_b) in _per_bucket(
            batch, keys, stage.buckets, rows, np.concatenate(starts)
        ):
            chunk = (batch, rows_b, starts_b, keys_b, names if keep_first else None)
            yield _shuffled((bucket, chunk))


def _window_counts(keep_first: bool):
    def to_counts(chunk) -> KeyCounts:
        _, rows, starts, keys, names = chunk
        if keep_first:
            return KeyCounts.of(keys, names[rows], starts.astype(np.int64))
        return KeyCounts.of(keys)

    return to_counts


class Cut(_Stage):
    """(batch, {docs, flagged starts}) -> the documents without their repeated spans."""

    progress_what = "batches cut"

    def process(self, item):
        _, joined = item
        self.progress()
        docs, flagged = unpacked(joined["doc"][0]), _gathered(joined["start"])
        for row, doc in enumerate(docs):
            starts = flagged.get(row)
            if starts is None:
                yield self._out(doc, doc.text_ids)
            else:
                yield from self.cut(doc, doc.text_ids, starts)

    def cut(self, doc: Document, ids: np.ndarray, starts: np.ndarray):
        funnel, stage = self.funnel, self.stage
        intervals = union_intervals(starts, stage.min_tokens)
        tokens = self.tokenizer.offsets(doc.text, ids)
        text, removed = cut_text(doc.text, tokens, intervals)
        funnel.figure("documents_cut")
        funnel.figure("tokens_removed", sum(b - a for a, b in intervals))
        funnel.figure("chars_removed", len(doc.text) - len(text))
        for start, end in removed:
            yield TaggedOutput(
                SPANS,
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
            funnel.dropped(TOO_SHORT)
            yield TaggedOutput(DROPPED, dropped_sample(doc, NAME, TOO_SHORT, text))
            return
        yield self._out(doc.replace(text=text, text_ids=None))


class ExactSubstringStage(beam.PTransform):
    """Every span of >= min_tokens tokens seen twice or more is cut (all copies, or all but
    the first); documents left too short are dropped. The audit samples the removed spans."""

    def __init__(self, stage: ExactSubstring):
        super().__init__()
        self.stage = stage

    def expand(self, docs):
        stage = self.stage
        keep_first = stage.mode == KEEP_FIRST
        first = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=16, max_batch_size=1024)
            | "Fingerprint"
            >> beam.ParDo(Fingerprint(stage)).with_outputs(
                STATS, ERRORS, GRAMS, IDS, main=DOCUMENTS
            )
        )
        repeated_fps = _count_repeats(first[GRAMS], "fps", stage, lambda c: KeyCounts.of(c[3]))
        positions = (
            {"repeated": repeated_fps, "at": first[GRAMS]}
            | "Join fps" >> beam.CoGroupByKey()
            | "Repeated positions" >> beam.FlatMap(_repeated_rows)
        )
        windows = (
            {"ids": first[IDS], "q": positions}
            | "Ids with fps" >> beam.CoGroupByKey()
            | "Windows" >> beam.ParDo(Candidates(stage)).with_outputs(STATS, main="windows")
        )
        repeated_windows = _count_repeats(
            windows.windows, "windows", stage, _window_counts(keep_first)
        )
        flagged = (
            {"repeated": repeated_windows, "at": windows.windows}
            | "Join windows" >> beam.CoGroupByKey()
            | "Flag" >> beam.FlatMap(_repeated_rows, keep_first)
        )
        cut = (
            {"doc": first[DOCUMENTS], "start": flagged}
            | "Docs with flags" >> beam.CoGroupByKey()
            | "Cut" >> beam.ParDo(Cut(stage)).with_outputs(STATS, DROPPED, SPANS, main=DOCUMENTS)
        )
        audit = (
            cut[SPANS]
            | "Sample spans"
            >> beam.combiners.Top.Of(stage.span_samples, key=lambda s: s["rank"], reverse=True)
            | "Audit section"
            >> beam.Map(lambda spans: {"spans": sorted(spans, key=lambda s: s["rank"])})
        )
        stats = (first[STATS], windows[STATS], cut[STATS]) | "Stats" >> beam.Flatten()
        return StageResult(cut[DOCUMENTS], stats, cut[DROPPED], first[ERRORS], audit)
