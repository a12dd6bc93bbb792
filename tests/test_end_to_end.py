"""`macrodata run` over sample_data/ (and the real-page corpus when present), end to end."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from core.tokenizer import load_tokenizer
from pipeline.cli import main
from pipeline.stats import check_funnel
from tests.conftest import load_json


def run(args: list[str]) -> int:
    return main(["run", *args])


def dropped_reasons(output: str) -> dict[str, str]:
    """url -> "stage/reason" for every sampled dropped document."""
    reasons = {}
    for path in glob.glob(os.path.join(output, "dropped", "*", "*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                sample = json.loads(line)
                reasons[sample["url"]] = f"{sample['stage']}/{sample['reason']}"
    return reasons


@pytest.fixture(scope="module")
def sample_run(sample_warc, tmp_path_factory):
    output = str(tmp_path_factory.mktemp("sample-run"))
    assert run(["--input", sample_warc, "--output", output, "--overwrite"]) == 0
    return output


def test_sample_funnel_reconciles_and_counts_every_record(sample_run):
    stats = load_json(os.path.join(sample_run, "stats.json"))
    check_funnel(stats)
    read = stats["stages"][0]
    assert read["name"] == "read"
    # 1 warcinfo + 3 records (request, response, metadata) for each of the 27 captures.
    assert read["in"] == stats["read"]["records"] == 82
    assert read["dropped"]["not_response"] == 55
    assert read["dropped"]["http_status_not_200"] == 2
    assert read["dropped"]["not_html"] == 1


def test_sample_every_stage_has_work(sample_run):
    stats = load_json(os.path.join(sample_run, "stats.json"))
    for row in stats["stages"]:
        name = row["name"]
        if name == "exact_substring":
            # Its copies are gone after exact_dedup and minhash; what is left is cut, not dropped.
            assert stats["dedup"][name]["documents_cut"] > 0
        elif name == "url_dedup":
            # The sample's same-URL re-capture is also an exact copy, so exact_dedup takes it
            # first; tests/pipeline/beam/test_dedup_stages.py runs url_dedup on it alone.
            continue
        elif name != "tokenize":
            assert sum(row["dropped"].values()) > 0, name


def test_sample_drops_the_right_pages_for_the_right_reasons(sample_run):
    reasons = dropped_reasons(sample_run)
    assert reasons["https://www.casino-jackpot.example/bonus"] == "url_filter/blocklisted_domain"
    assert reasons["https://videos.example.net/free-porn-clips"] == "url_filter/strict_word"
    assert reasons["https://en.wikipedia.org/wiki/Harbour"] == "url_filter/high_quality_source"
    assert reasons["https://media.example.com/gallery"] == "extract/empty_extraction"
    assert reasons["https://shop.example.com/"].startswith("quality/")
    assert reasons["https://zeitung.example.de/bibliothek"] == "language/language_not_selected"
    assert reasons["https://watches.example.com/deals"].startswith("repetition/")
    assert reasons["https://blog.example.com/short"] == "quality/too_few_words"
    assert reasons["https://birds.example.org/count"] == "line_corrections/too_many_words_removed"


def test_sample_output_rows_and_tokens(sample_run):
    manifest = load_json(os.path.join(sample_run, "manifest.json"))
    tokenizer = load_tokenizer(manifest["tokenizer"])
    rows = pq.read_table(os.path.join(sample_run, "data")).to_pylist()
    assert {r["language"] for r in rows} == {"en"}
    assert "https://news.example.org/harbour" in {r["url"] for r in rows}
    for row in rows:
        assert row["num_tokens"] == len(row["input_ids"])
        assert tokenizer.decode(row["input_ids"]) == row["text"] + "<|endoftext|>"
        assert "http" not in row["text"]
    assert manifest["documents"] == len(rows)
    assert manifest["tokens"] == sum(r["num_tokens"] for r in rows)
    assert manifest["tokens"] == sum(s["tokens"] for s in manifest["shards"])
    stats = load_json(os.path.join(sample_run, "stats.json"))
    assert stats["final"] == {
        "documents": len(rows),
        "tokens": manifest["tokens"],
        "words": stats["final"]["words"],
    }
    assert os.path.exists(os.path.join(sample_run, "report.html"))
    assert os.path.exists(os.path.join(sample_run, "errors", "errors.jsonl"))


def test_all_languages_and_legacy_encodings(sample_warc, tmp_path):
    assert run(["--input", sample_warc, "--output", str(tmp_path), "--languages", "all"]) == 0
    rows = {r["url"]: r for r in pq.read_table(os.path.join(tmp_path, "data")).to_pylist()}
    assert rows["https://zeitung.example.de/bibliothek"]["language"] == "de"
    assert (
        "Größere" in rows["https://stadt.example.de/markt"]["text"]
        or "größeren" in rows["https://stadt.example.de/markt"]["text"]
    )
    assert "célèbre" in rows["https://journal.example.fr/festival"]["text"]
    assert rows["https://news.example.cn/library"]["language"] == "zh"
    assert rows["https://diario.example.es/parque"]["language"] == "es"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--input", "/nonexistent/*.warc.gz", "--output", "{tmp}"], "input matches no file"),
        (
            ["--input", "{sample}", "--output", "{tmp}", "--set", "quality.nope=1"],
            "unknown config key quality.nope",
        ),
        (["--input", "{sample}", "--output", "{tmp}", "--skip", "extract"], "cannot be skipped"),
        (
            ["--input", "{sample}", "--output", "{tmp}", "--tokenizer", "bad:x"],
            "unknown tokenizer spec",
        ),
        (["--input", "{sample}", "--output", "/proc/macrodata-out"], "error"),
    ],
)
def test_bad_arguments_give_one_line_errors(args, message, sample_warc, tmp_path):
    args = [a.format(tmp=tmp_path, sample=sample_warc) for a in args]
    result = cli("run", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_rerun_into_a_used_output_refuses(sample_run, sample_warc):
    result = cli("run", "--input", sample_warc, "--output", sample_run)
    assert result.returncode == 2 and "already holds a run" in result.stderr


def test_config_command_prints_the_defaults():
    result = cli("config")
    assert result.returncode == 0 and "min_score: 0.65" in result.stdout


def test_corpus_run_meets_the_extraction_targets(corpus_dir, tmp_path):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "bench"))
    from gold import score

    files = os.path.join(corpus_dir, "*.warc.gz")
    assert run(["--input", files, "--output", str(tmp_path), "--languages", "all"]) == 0
    stats = load_json(os.path.join(tmp_path, "stats.json"))
    check_funnel(stats)
    html_pages = stats["stages"][0]["out"]
    assert stats["final"]["documents"] >= html_pages / 2
    quality = score(str(tmp_path), os.path.join(corpus_dir, "extraction-gold.json"))
    assert quality["recall"] >= 0.90
    assert quality["leak"] <= 0.15
    manifest = load_json(os.path.join(tmp_path, "manifest.json"))
    tokenizer = load_tokenizer(manifest["tokenizer"])
    rows = pq.read_table(os.path.join(tmp_path, "data")).to_pylist()
    assert manifest["documents"] == len(rows) == stats["final"]["documents"]
    assert manifest["tokens"] == sum(r["num_tokens"] for r in rows) == stats["final"]["tokens"]
    for row in rows:
        assert row["num_tokens"] == len(row["input_ids"])
        assert tokenizer.decode(row["input_ids"]) == row["text"] + "<|endoftext|>"
