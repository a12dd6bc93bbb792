"""The dedup stages against earlier runs' index files, under Beam (the CLI is tested apart)."""

from __future__ import annotations

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from dedup.exact_doc import ExactDocumentDedup, text_key
from dedup.minhash import PRESETS, MinHasher, MinHashSettings
from dedup.url import URLDedup, url_key
from pipeline.beam.dedup import KeepEarliest, MinHashStage
from pipeline.funnel import merge_counters
from pipeline.index import INDEX_KEYS, schema
from tests.pipeline.beam.test_dedup_stages import doc, prose, substitute


def write_index(path, docs, band_keys=False, params=PRESETS["fineweb"]):
    """An earlier run's index file holding `docs`."""
    columns = {
        "id": [d.id for d in docs],
        "url_key": [url_key(d.url) for d in docs],
        "text_key": [text_key(d.text) for d in docs],
    }
    if band_keys:
        hashes, _ = MinHasher(params).text_band_hashes([d.text for d in docs])
        columns["band_hashes"] = [row.astype("<u8").tobytes() for row in hashes]
    pq.write_table(pa.table(columns, schema=schema(band_keys)), str(path))
    return str(path)


def outcomes(result):
    """(id, "kept") for kept documents, (id, reason) for dropped ones."""
    kept = result.documents | "kept" >> beam.Map(lambda d: (d.id, "kept"))
    gone = result.dropped | "gone" >> beam.MapTuple(lambda _, s: (s["id"], s["reason"]))
    return (kept, gone) | "outcomes" >> beam.Flatten()


def figures(result, stage):
    return (
        result.stats
        | "merge" >> beam.CombineGlobally(merge_counters)
        | "figures"
        >> beam.Map(lambda c: {k[2]: v for k, v in c.items() if k[:2] == ("dedup", stage)})
    )


def test_urls_an_earlier_run_kept_are_dropped_whatever_the_dates(tmp_path):
    words = " ".join(prose("json"))
    earlier = [
        doc(20, "e1", "https://a.example/page", "old text"),
        doc(21, "e2", "https://b.example/", "x"),
    ]
    index = write_index(tmp_path / "index.parquet", earlier)
    # This run's captures are older than the earlier run's: earlier runs still win.
    mine = [
        doc(1, "m1", "https://a.example/page?utm_source=x", words),
        doc(2, "m2", "HTTPS://A.example:443/page", words + " more"),
        doc(3, "m3", "https://c.example/", words),
        doc(4, "m4", "https://c.example/#top", words),
    ]
    stage = URLDedup(earlier_files=(index,), earlier_documents=2)
    with TestPipeline(runner=FnApiRunner()) as p:
        result = p | beam.Create(mine) | KeepEarliest(stage)
        expected = [
            (mine[0].id, "url_kept_by_earlier_run"),
            (mine[1].id, "url_kept_by_earlier_run"),
            (mine[2].id, "kept"),
            (mine[3].id, "duplicate_url"),
        ]
        assert_that(outcomes(result), equal_to(expected))
        assert_that(
            figures(result, "url_dedup"),
            equal_to(
                [{"earlier_index_files": 1, "earlier_keys_read": 2, "earlier_keys_passed": 1}]
            ),
            label="figures",
        )


def test_the_kept_document_records_the_key_its_stage_compared(tmp_path):
    mine = [
        doc(1, "m1", "https://a.example/", "Same words."),
        doc(2, "m2", "https://b/", "same words"),
    ]
    with TestPipeline(runner=FnApiRunner()) as p:
        result = p | beam.Create(mine) | KeepEarliest(ExactDocumentDedup())
        keys = result.documents | beam.Map(lambda d: (d.id, d.meta[INDEX_KEYS]["text_key"]))
        assert_that(keys, equal_to([(mine[0].id, text_key("Same words."))]))


def test_a_missing_earlier_index_file_is_an_error_record_not_a_crash(tmp_path):
    mine = [doc(1, "m1", "https://a.example/", "words")]
    stage = ExactDocumentDedup(earlier_files=(str(tmp_path / "gone.parquet"),), earlier_documents=1)
    with TestPipeline(runner=FnApiRunner()) as p:
        result = p | beam.Create(mine) | KeepEarliest(stage)
        assert_that(outcomes(result), equal_to([(mine[0].id, "kept")]))
        errors = result.errors | beam.Map(lambda e: (e["reason"], e["stage"]))
        assert_that(errors, equal_to([("unreadable_index", "exact_dedup")]), label="errors")


def test_near_duplicates_of_earlier_documents_are_dropped_with_their_component(tmp_path):
    base = prose("argparse")
    other = prose("logging")
    earlier = [doc(9, "e", "https://a.example/", " ".join(base))]
    index = write_index(tmp_path / "index.parquet", earlier, band_keys=True)
    # A file none of whose band entries meets this run's: nothing passes, nothing fails.
    unrelated = [doc(9, "u", "https://u.example/", " ".join(prose("zipfile")))]
    other_index = write_index(tmp_path / "other.parquet", unrelated, band_keys=True)
    near = doc(1, "near", "https://b.example/", substitute(base, 0.01, 1))
    nearer = doc(2, "nearer", "https://c.example/", substitute(base, 0.01, 2))
    alone = doc(3, "alone", "https://d.example/", " ".join(other))
    twin = doc(4, "twin", "https://e.example/", substitute(other, 0.01, 3))
    settings = MinHashSettings(
        params=PRESETS["fineweb"],
        earlier_files=(index, other_index),
        earlier_documents=2,
        batch_size=2,
    )
    with TestPipeline(runner=FnApiRunner()) as p:
        result = p | beam.Create([near, nearer, alone, twin]) | MinHashStage(settings)
        expected = [
            # The smallest id of a component holding an earlier document goes too.
            (near.id, "near_duplicate_kept_by_earlier_run"),
            (nearer.id, "near_duplicate_kept_by_earlier_run"),
            (alone.id, "kept"),
            (twin.id, "near_duplicate"),
        ]
        assert_that(outcomes(result), equal_to(expected))
        # Only pairs within the run are audited.
        audited = result.audit | beam.Map(lambda a: sorted(p["dropped_id"] for p in a["pairs"]))
        assert_that(audited, equal_to([[twin.id]]), label="audit")
        assert_that(result.errors, equal_to([]), label="no errors")
