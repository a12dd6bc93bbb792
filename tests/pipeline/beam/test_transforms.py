from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

import apache_beam as beam
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from filters.base import KEEP, Filter, drop
from pipeline.beam.transforms import run_stage
from pipeline.document import Document
from pipeline.stats import merge_counters


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


def test_generic_wrapper_keeps_drops_counts_and_reports_errors():
    docs = [
        Document(id=str(i), url=f"u{i}", text=t)
        for i, t in enumerate(["long enough", "tiny", "also long", "boom"])
    ]
    with TestPipeline(runner=FnApiRunner()) as p:
        kept, stats, dropped, errors = run_stage(p | beam.Create(docs), LengthFilter())
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
        merged = (
            stats
            | beam.CombineGlobally(merge_counters)
            | beam.Map(lambda c: Counter({k: v for k, v in c.items() if k[0] != "seconds"}))
        )
        assert_that(
            merged,
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
