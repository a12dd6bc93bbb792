"""The shape every stage shares under Beam: its result, its output tags, how its DoFns count.

A stage is a composite PTransform, built from one plain stage object, that takes a PCollection
(documents; file names for the read stage) and returns a `StageResult`. Its DoFns count
through a `Funnel` (`CountingDoFn`) and send what they drop and what fails to tagged outputs.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import pickle
import time
from typing import NamedTuple

import apache_beam as beam
from apache_beam.pvalue import PCollection, TaggedOutput
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from core import document
from core.document import Document
from pipeline.funnel import Funnel

log = logging.getLogger("macrodata")

# Output tags of every stage's DoFns.
DOCUMENTS = "documents"
STATS = "stats"
DROPPED = "dropped"
ERRORS = "errors"
# Characters of a dropped document kept in its sample.
SAMPLE_CHARS = 2000


class StageResult(NamedTuple):
    """What a stage hands on; the run flattens each field over all its stages."""

    documents: PCollection  # kept documents, to the next stage
    stats: PCollection  # counter dicts (pipeline.funnel), merged into stats.json
    dropped: PCollection | None = None  # ("stage/reason", sample) of dropped documents
    errors: PCollection | None = None  # error records, to errors/errors.jsonl
    # One element: the stage's audit section of stats.json, e.g. {"pairs": [...]}.
    audit: PCollection | None = None


def load_transform(path: str) -> type[beam.PTransform]:
    """The composite named by a registry entry ("module:Class")."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class CountingDoFn(beam.DoFn):
    """A DoFn of stage `stage_name`: counts into `self.funnel`, sent once per bundle on STATS.

    `progress(n)` reports `progress_what` as it goes: a line when the step starts on this
    worker, then one every 15 seconds, so a long dedup phase is never silent.
    """

    stage_name = ""
    progress_what = ""  # e.g. "documents hashed"; empty: no progress lines

    def start_bundle(self):
        self.funnel = Funnel(self.stage_name)

    def progress(self, n: int = 1) -> None:
        """Count `n` more of `progress_what` done."""
        if "_progress" not in self.__dict__:
            self._progress = Progress(f"{self.stage_name}: {self.progress_what}")
        self._progress.tick(n)

    def finish_bundle(self):
        counts = self.funnel.take()
        if counts:
            yield TaggedOutput(STATS, in_global_window(counts))


def in_global_window(value) -> WindowedValue:
    """A value for output from finish_bundle, which must say its window."""
    return WindowedValue(value, GlobalWindow().max_timestamp(), (GlobalWindow(),))


def error_record(source: str, offset: int, reason: str, detail, **where) -> dict:
    """One errors/errors.jsonl entry: where (file, offset, stage, id), why, and the detail."""
    if isinstance(detail, BaseException):
        detail = f"{type(detail).__name__}: {detail}"
    record = {"source": source, "offset": offset, "reason": reason, "detail": str(detail)[:1000]}
    return {**record, **where}


def dropped_sample(doc: Document, stage: str, reason: str, detail: str = "") -> tuple[str, dict]:
    """("stage/reason", sample) of a dropped document: enough to judge the decision."""
    body = doc.text or (doc.html or "")
    return (
        f"{stage}/{reason}",
        {
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
        },
    )


class Progress:
    """Rate-limited progress lines for long local runs: when work starts, then every 15 s."""

    def __init__(self, what: str, every_seconds: float = 15.0):
        self.what = what
        self.every = every_seconds
        self.started = self.last = time.monotonic()
        self.count = 0

    def tick(self, n: int = 1) -> None:
        if not self.count:
            log.info("%s: started", self.what)
        self.count += n
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            rate = self.count / max(now - self.started, 1e-9)
            log.info("%s: %s so far (%.0f/s on this worker)", self.what, f"{self.count:,}", rate)


_PICKLED, _COMPRESSED = b"P", b"Z"


def packed(value, compress: bool = False) -> bytes:
    """A shuffled value pickled once into bytes, compressed on request; Beam only copies it.

    Beam's default coder would encode each numpy array and document of the value on its own,
    through its pickle fallback, and again to estimate sizes. Documents compress themselves
    when pickled; ask for compression for other text or token ids (hashes do not compress).
    """
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _COMPRESSED + document.compress(data) if compress else _PICKLED + data


def unpacked(data: bytes):
    """The value `packed` made."""
    if data[:1] == _COMPRESSED:
        return pickle.loads(document.decompress(memoryview(data)[1:]))
    return pickle.loads(memoryview(data)[1:])
