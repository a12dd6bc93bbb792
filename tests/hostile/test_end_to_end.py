"""The whole pipeline on the damaged corpus: completes, loses no good record, explains damage."""

from __future__ import annotations

import difflib
import json
import os

import pyarrow.parquet as pq
import pytest

from pipeline.cli import SKIPPABLE, main
from pipeline.stages import BY_NAME
from pipeline.stats import check_funnel
from pipeline.warc import DAMAGE_REASONS, KEPT_DAMAGE, READ_REASONS
from tests.hostile import make_corpus

# Reading is under test: the dedup stages would rightly collapse the good records that the
# damaged files and their clean twin share.
DEDUP_STAGES = ",".join(
    s for s in SKIPPABLE if s in {"exact_dedup", "minhash", "exact_substring", "url_dedup"}
)


def run(inputs: list[str], output: str) -> tuple[dict, dict[str, str], set[str]]:
    """stats.json, {id: text} and the ids of documents flagged truncated."""
    args = ["run", "--output", output, "--languages", "all", "--overwrite", "--skip", DEDUP_STAGES]
    for pattern in inputs:
        args += ["--input", pattern]
    assert main(args) == 0
    with open(os.path.join(output, "stats.json")) as handle:
        stats = json.load(handle)
    table = pq.read_table(os.path.join(output, "data")).to_pydict()
    flagged = {i for i, cut in zip(table["id"], table["truncated"], strict=True) if cut}
    return stats, dict(zip(table["id"], table["text"], strict=True)), flagged


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    corpus = make_corpus.build(str(base / "corpus"))
    patterns = [os.path.join(corpus.directory, p) for p in ("*.warc*", "*.arc*")]
    damaged = run(patterns, str(base / "damaged"))
    clean = run(corpus.clean_files, str(base / "clean"))
    return corpus, damaged, clean, str(base / "damaged")


def test_every_good_record_comes_out(runs):
    corpus, (_, damaged, _), (_, clean, flagged), _ = runs
    assert len(clean) == len(corpus.good)
    assert set(damaged) == set(clean)
    assert not flagged
    partial = {
        doc_id for doc_id, text in clean.items() if any_opening(corpus.partial, corpus, text)
    }
    assert len(partial) == len(corpus.partial)
    for doc_id, text in clean.items():
        if doc_id in partial:
            # A clipped page: its text is the start of the whole page's text.
            start = damaged[doc_id][:200]
            assert len(start) == 200 and text.startswith(start), doc_id
            continue
        # Invalid UTF-8 bytes become other characters; everything else is identical.
        assert difflib.SequenceMatcher(None, damaged[doc_id], text).ratio() > 0.98, doc_id


def any_opening(record_ids: set[str], corpus, text: str) -> bool:
    return any(corpus.good[r].split("\n")[0] in text for r in record_ids)


def test_pages_kept_despite_damage_are_flagged(runs):
    corpus, (stats, _, flagged), _, output = runs
    with open(os.path.join(output, "errors", "errors.jsonl")) as handle:
        kept = {e["id"] for e in map(json.loads, handle) if e.get("kept")}
    read = stats["read"]
    assert len(kept) == sum(d.kept for d in corpus.damages)
    assert sum(read.get(f"damaged_kept.{reason}", 0) for reason in KEPT_DAMAGE) == len(kept)
    # The one other flagged page in the output is the one the crawler cut (WARC-Truncated).
    assert kept <= flagged and len(flagged - kept) == read["warc_truncated"] == 1
    # One more page is flagged at read: the 200,000 nested <div>s, cut at the payload cap,
    # which then have no text.
    assert stats["limits"]["read.payload_bytes"] == 1
    assert read["truncated"] == len(flagged) + 1


def test_legacy_encodings_come_out_readable(runs):
    corpus, (_, damaged, _), (_, clean, _), _ = runs
    assert len(corpus.legacy) == 9
    for record_id, special in corpus.legacy.items():
        opening = corpus.good[record_id].split("\n")[0]
        (doc_id,) = [doc_id for doc_id, text in clean.items() if opening in text]
        text = damaged[doc_id]
        for line in special.split("\n"):
            assert line in text


def test_funnel_reconciles_and_counts_every_record(runs):
    _, (stats, _, _), _, _ = runs
    check_funnel(stats)
    read = stats["stages"][0]
    assert read["in"] == stats["read"]["records"]
    # Every reason of the read stage, at zero when nothing was dropped for it.
    assert set(READ_REASONS) <= set(read["dropped"]) == set(BY_NAME["read"].reasons)
    assert stats["read"]["files_failed"] == 4
    for reason in DAMAGE_REASONS:
        assert stats["read"].get(f"damaged_dropped.{reason}", 0) == read["dropped"][reason]


def test_errors_explain_every_damaged_record_and_file(runs):
    corpus, (stats, _, _), _, output = runs
    with open(os.path.join(output, "errors", "errors.jsonl")) as handle:
        errors = [json.loads(line) for line in handle]
    expected = sorted(
        (d.file, d.expect, d.kept)
        for d in corpus.damages
        if d.expect in READ_REASONS or d.expect == "file"
    )
    file_reasons = ("empty_file", "not_warc", "unsupported_compression")
    found = sorted(
        (e["source"], "file" if e["reason"] in file_reasons else e["reason"], e.get("kept", False))
        for e in errors
    )
    assert found == expected
    assert all(e["offset"] >= 0 and e["detail"] for e in errors)
    damaged_in_stats = sum(
        n
        for reason, n in stats["stages"][0]["dropped"].items()
        if reason not in ("not_response", "not_html", "http_status_not_200")
    )
    kept = sum(stats["read"].get(f"damaged_kept.{reason}", 0) for reason in KEPT_DAMAGE)
    assert damaged_in_stats + kept == len(errors) - stats["read"]["files_failed"]
