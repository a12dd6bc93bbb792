from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from core.document import Document
from filters.base import KEEP, Filter, drop
from pipeline.beam.transforms import FilterStage
from pipeline.extract import Extraction
from pipeline.funnel import merge_counters
from tests.pipeline.test_extract import in_process, pages


@dataclass(frozen=True)
class LengthFilter(Filter):
    name: ClassVar[str] = "length"
    signals: ClassVar[tuple[str, ...]] = ("chars",)
    min_chars: int = 5

    def score(self, doc):
        if doc.text == "boom":
            raise RuntimeError("broken document")
        return {"chars": float(len(doc.text))}

    def keep(self, scores):
        return KEEP if scores["chars"] >= self.min_chars else drop("too_short")


def without_seconds(stats):
    """The merged counters of a stage, but the worker seconds (they vary)."""
    return (
        stats
        | beam.CombineGlobally(merge_counters)
        | beam.Map(lambda c: Counter({k: v for k, v in c.items() if k[0] != "seconds"}))
    )


def test_generic_wrapper_keeps_drops_counts_and_reports_errors():
    docs = [
        Document(id=str(i), url=f"u{i}", text=t)
        for i, t in enumerate(["long enough", "tiny", "also long", "boom"])
    ]
    with TestPipeline(runner=FnApiRunner()) as p:
        kept, stats, dropped, errors, _ = p | beam.Create(docs) | FilterStage(LengthFilter())
        assert_that(
            kept | beam.Map(lambda d: (d.id, d.signals["chars"])),
            equal_to([("0", 11.0), ("2", 9.0)]),
            label="kept",
        )
        assert_that(
            dropped | beam.Map(lambda kv: (kv[0], kv[1]["id"])),
            equal_to([("length/too_short", "1")]),
            label="dropped",
        )
        assert_that(
            errors | beam.Map(lambda e: (e["stage"], e["id"], e["reason"])),
            equal_to([("length", "3", "processing_error")]),
            label="errors",
        )
        # Worker seconds vary; every other counter is exact.
        assert_that(
            without_seconds(stats),
            equal_to(
                [
                    Counter(
                        {
                            ("stage", "length", "in"): 4,
                            ("stage", "length", "out"): 2,
                            ("stage", "length", "words_out"): 4,
                            ("stage", "length", "dropped", "too_short"): 1,
                            ("stage", "length", "dropped", "processing_error"): 1,
                        }
                    )
                ]
            ),
            label="stats",
        )


@dataclass(frozen=True)
class HeldFilter(Filter):
    """Finishes nothing until flush, like a stage working on several documents at once."""

    name: ClassVar[str] = "held"
    held: list = field(default_factory=list, compare=False)

    def submit(self, doc):
        self.held.append(doc)
        return []

    def flush(self):
        finished = [
            (d, RuntimeError("broken"))
            if d.text == "boom"
            else (d, KEEP if d.text else drop("empty"))
            for d in self.held
        ]
        self.held.clear()
        return finished


def test_documents_finished_at_the_end_of_a_bundle_are_output_counted_and_reported():
    docs = [
        Document(id=str(i), url=f"u{i}", text=t) for i, t in enumerate(["one", "", "boom", "two"])
    ]
    with TestPipeline(runner=FnApiRunner()) as p:
        kept, stats, dropped, errors, _ = p | beam.Create(docs) | FilterStage(HeldFilter())
        assert_that(kept | beam.Map(lambda d: d.id), equal_to(["0", "3"]), label="kept")
        assert_that(
            dropped | beam.Map(lambda kv: (kv[0], kv[1]["id"])),
            equal_to([("held/empty", "1")]),
            label="dropped",
        )
        assert_that(
            errors | beam.Map(lambda e: (e["stage"], e["id"], e["reason"], e["detail"])),
            equal_to([("held", "2", "processing_error", "RuntimeError: broken")]),
            label="errors",
        )
        assert_that(
            without_seconds(stats),
            equal_to(
                [
                    Counter(
                        {
                            ("stage", "held", "in"): 4,
                            ("stage", "held", "out"): 2,
                            ("stage", "held", "words_out"): 2,
                            ("stage", "held", "dropped", "empty"): 1,
                            ("stage", "held", "dropped", "processing_error"): 1,
                        }
                    )
                ]
            ),
            label="stats",
        )


def test_extraction_in_two_processes_outputs_every_document_once():
    docs = pages(19)
    expected = in_process(docs)
    kept_ids = [doc_id for doc_id, _, reason in expected if not reason]
    dropped_ids = [("extract/" + reason, doc_id) for doc_id, _, reason in expected if reason]
    assert kept_ids and dropped_ids
    with TestPipeline(runner=FnApiRunner()) as p:
        kept, stats, dropped, errors, _ = (
            p | beam.Create(docs) | FilterStage(Extraction(timeout_seconds=30, processes=2))
        )
        assert_that(
            kept | beam.Map(lambda d: (d.id, d.text)),
            equal_to([(doc_id, text) for doc_id, text, reason in expected if not reason]),
            label="kept",
        )
        assert_that(
            dropped | beam.Map(lambda kv: (kv[0], kv[1]["id"])),
            equal_to(dropped_ids),
            label="dropped",
        )
        assert_that(errors, equal_to([]), label="errors")
        assert_that(
            without_seconds(stats)
            | beam.Map(
                lambda c: (
                    c[("stage", "extract", "in")],
                    c[("stage", "extract", "out")],
                    sum(v for k, v in c.items() if k[:3] == ("stage", "extract", "dropped")),
                )
            ),
            equal_to([(len(docs), len(kept_ids), len(dropped_ids))]),
            label="funnel",
        )


@dataclass(frozen=True)
class Shout(Filter):
    """Rewrites every text (upper case) and keeps it, so a later stage sees the change."""

    name: ClassVar[str] = "shout"

    def apply(self, doc):
        return doc.replace(text=doc.text.upper()), KEEP


@dataclass(frozen=True)
class Uppercase(Filter):
    """Keeps only texts already in upper case: fails unless `Shout` ran before it."""

    name: ClassVar[str] = "upper"

    def apply(self, doc):
        return doc, KEEP if doc.text.isupper() else drop("lower_case")


FOUR_STAGES = (LengthFilter(), HeldFilter(), Shout(), Uppercase())


@pytest.mark.parametrize(
    "transforms",
    [[FilterStage(stage) for stage in FOUR_STAGES], [FilterStage(*FOUR_STAGES)]],
    ids=["one wrapper each", "one wrapper for all"],
)
def test_adjacent_stages_in_one_wrapper_count_and_output_as_each_alone(transforms):
    docs = [
        Document(id=str(i), url=f"u{i}", text=t)
        for i, t in enumerate(["long enough", "tiny", "", "boom", "two words", "also long"])
    ]
    row = {"in": 3, "out": 3, "words_out": 6}
    expected = Counter(
        {
            ("stage", "length", "in"): 6,
            ("stage", "length", "out"): 3,
            ("stage", "length", "words_out"): 6,
            ("stage", "length", "dropped", "too_short"): 2,
            ("stage", "length", "dropped", "processing_error"): 1,
            **{
                ("stage", name, key): n
                for name in ("held", "shout", "upper")
                for key, n in row.items()
            },
        }
    )
    with TestPipeline(runner=FnApiRunner()) as p:
        flowing, results = p | beam.Create(docs), []
        for index, transform in enumerate(transforms):
            result = flowing | f"stage {index}" >> transform
            flowing = result.documents
            results.append(result)
        stats = tuple(r.stats for r in results) | "stats" >> beam.Flatten()
        dropped = tuple(r.dropped for r in results) | "dropped" >> beam.Flatten()
        errors = tuple(r.errors for r in results) | "errors" >> beam.Flatten()
        # What the held stage finished at the end of the bundle went on through the rest.
        assert_that(
            flowing | beam.Map(lambda d: (d.id, d.text)),
            equal_to([("0", "LONG ENOUGH"), ("4", "TWO WORDS"), ("5", "ALSO LONG")]),
            label="kept",
        )
        assert_that(
            dropped | beam.Map(lambda kv: (kv[0], kv[1]["id"])),
            equal_to([("length/too_short", "1"), ("length/too_short", "2")]),
            label="dropped",
        )
        assert_that(
            errors | beam.Map(lambda e: (e["stage"], e["id"])),
            equal_to([("length", "3")]),
            label="errors",
        )
        assert_that(without_seconds(stats), equal_to([expected]), label="stats")
