"""Parts, the run index, --dedup-against and re-entry, end to end through `macrodata run`.

Dumps with re-crawls across files and dumps come from bench/make_dumps.py: generated articles
(always), and the real-page corpus when it is there. The checks of a chain of parts are
bench/parts.py's `check_parts`, which the benchmark prints for larger dumps.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sys

import pyarrow.parquet as pq
import pytest

from dedup.url import canonical_url
from pipeline.cli import main
from pipeline.parts import files_of_part
from pipeline.stats import check_funnel
from tests.conftest import ROOT, load_json

sys.path.insert(0, os.path.join(ROOT, "bench"))
import parts as bench_parts  # noqa: E402
from make_dumps import corpus_pages, make_dumps, synthetic_pages  # noqa: E402

PARTS = 3
FILTER_ONLY = ["--skip", "exact_dedup,minhash,exact_substring,url_dedup,tokenize"]


def run(*args: str) -> int:
    return main(["run", *args])


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> tuple[str, str, list[str]]:
    """(experiment directory, --input glob, files) of three dumps of generated articles."""
    out = str(tmp_path_factory.mktemp("parts"))
    make_dumps(os.path.join(out, "dumps"), synthetic_pages(40), dumps=3, files=3, seed=3)
    pattern = os.path.join(out, "dumps", "*", "*.warc.gz")
    return out, pattern, sorted(glob.glob(pattern))


@pytest.fixture(scope="module")
def chain(dumps) -> tuple[str, list[str]]:
    """Parts 0..2, each against every earlier one, and each alone."""
    out, pattern, files = dumps
    assert all(files_of_part(files, k, PARTS) for k in range(PARTS))  # no part is empty
    bench_parts.run_chain(pattern, out, PARTS, [], measured=False)
    bench_parts.run_alone(pattern, out, PARTS, [], measured=False)
    return out, files


def test_parts_against_earlier_ones_differ_from_alone_only_by_what_those_explain(chain):
    out, files = chain
    result = bench_parts.check_parts(out, PARTS, files, [])
    assert result["problems"] == []
    figures = result["figures"]
    # Each kind of earlier drop happened: same URL (a new page at an old address), same text
    # (re-crawls, mirrors, tracking URLs), near-duplicate (slightly changed re-crawls).
    for reason in ("url", "text", "near_duplicate"):
        assert figures[f"{reason}_kept_by_earlier_run"] > 0, figures
    assert figures["documents_chain"] < figures["documents_alone"]


def test_every_file_is_read_by_one_part_and_no_url_is_kept_twice(chain):
    out, files = chain
    read, urls = [], []
    for k in range(PARTS):
        output = bench_parts.part_dir(out, "chain", k)
        stats = load_json(os.path.join(output, "stats.json"))
        check_funnel(stats)
        assert stats["run"]["part"] == f"{k}/{PARTS}"
        assert stats["run"]["inputs"] == files_of_part(files, k, PARTS)
        read += stats["run"]["inputs"]
        urls += [
            canonical_url(u) for u in pq.read_table(f"{output}/data").column("url").to_pylist()
        ]
    assert sorted(read) == files
    assert len(urls) == len(set(urls))


def test_each_part_writes_its_index(chain):
    out, _ = chain
    for k in range(PARTS):
        output = bench_parts.part_dir(out, "chain", k)
        manifest = load_json(os.path.join(output, "manifest.json"))
        header = load_json(os.path.join(output, "index", "_header.json"))
        assert header["documents"] == manifest["documents"] == manifest["index"]["documents"]
        assert header["band_keys"]["bands"] == 14  # the fineweb preset the runs use
        table = pq.read_table(os.path.join(output, "index"))
        ids = pq.read_table(os.path.join(output, "data"), columns=["id"]).column("id")
        assert sorted(table.column("id").to_pylist()) == sorted(ids.to_pylist())
        assert {len(b) for b in table.column("band_hashes").to_pylist()} == {14 * 8}


def test_a_driver_that_reruns_the_loop_skips_finished_parts(chain, dumps):
    out, pattern, _ = dumps
    manifests = [
        os.path.join(bench_parts.part_dir(out, "chain", k), "manifest.json") for k in range(PARTS)
    ]
    written = [os.stat(path).st_mtime_ns for path in manifests]
    assert bench_parts.run_chain(pattern, out, PARTS, [], measured=False) == [None] * PARTS
    assert [os.stat(path).st_mtime_ns for path in manifests] == written


def test_one_report_over_all_parts(chain, tmp_path):
    out, _ = chain
    parts = sorted(glob.glob(os.path.join(out, "chain", "part-*")))
    merged = tmp_path / "all.html"
    assert main(["report", *parts, "--output", str(merged)]) == 0
    assert "3 runs merged" in merged.read_text()


def test_a_part_without_files_is_a_valid_empty_run(dumps, tmp_path):
    _, pattern, files = dumps
    count = 40
    empty = next(k for k in range(count) if not files_of_part(files, k, count))
    output = str(tmp_path / "empty")
    assert run("--input", pattern, "--output", output, "--part", f"{empty}/{count}") == 0
    stats = load_json(os.path.join(output, "stats.json"))
    check_funnel(stats)
    assert stats["final"]["documents"] == 0 and stats["run"]["inputs"] == []
    manifest = load_json(os.path.join(output, "manifest.json"))
    assert [s["rows"] for s in manifest["shards"]] == [0]
    assert load_json(os.path.join(output, "index", "_header.json"))["files"] == []
    # A later part deduplicates against it as against any other.
    later = next(k for k in range(count) if files_of_part(files, k, count))
    after = str(tmp_path / "after")
    args = ["--input", pattern, "--output", after, "--part", f"{later}/{count}"]
    assert run(*args, "--dedup-against", output) == 0
    assert load_json(os.path.join(after, "stats.json"))["final"]["documents"] > 0


def test_filtering_then_deduplicating_from_parquet_gives_the_one_shot_shards(dumps, tmp_path):
    _, pattern, _ = dumps
    small = ["--set", "output.shard_target_bytes=20000", "--languages", "all"]
    one_shot, filtered, deduplicated = (str(tmp_path / n) for n in ("one", "filtered", "dedup"))
    assert run("--input", pattern, "--output", one_shot, *small) == 0
    assert run("--input", pattern, "--output", filtered, *small, *FILTER_ONLY) == 0
    assert run("--input", filtered, "--output", deduplicated, *small) == 0

    def files(output, sub):
        paths = sorted(glob.glob(os.path.join(output, sub, "*")))
        assert paths
        return {os.path.basename(p): open(p, "rb").read() for p in paths}

    assert len(files(one_shot, "data")) > 1
    assert files(deduplicated, "data") == files(one_shot, "data")
    assert files(deduplicated, "index") == files(one_shot, "index")
    again = load_json(os.path.join(deduplicated, "manifest.json"))
    assert (
        again["applied_stages"]
        == load_json(os.path.join(one_shot, "manifest.json"))["applied_stages"]
    )
    stats = load_json(os.path.join(deduplicated, "stats.json"))
    check_funnel(stats)
    # The funnel starts with the rows read: the filtered run's documents.
    assert stats["stages"][0]["in"] == load_json(f"{filtered}/stats.json")["final"]["documents"]
    assert [r["name"] for r in stats["stages"]][1] == "exact_dedup"
    assert stats["run"]["input_runs"] == [filtered]


def cli_error(capsys, *args: str) -> str:
    """The one-line error of a refused run."""
    assert run(*args) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error
    return error


@pytest.mark.parametrize("part", ["3/3", "1/0", "a/b", "2"])
def test_a_bad_part_is_a_usage_error(part, dumps, tmp_path, capsys):
    _, pattern, _ = dumps
    error = cli_error(capsys, "--input", pattern, "--output", str(tmp_path / "o"), "--part", part)
    assert "--part expects K/N with 0 <= K < N" in error
    assert not os.path.exists(tmp_path / "o")


def test_dedup_against_a_directory_without_a_run_or_an_index_is_refused(chain, tmp_path, capsys):
    out, _ = chain
    args = [
        "--input",
        os.path.join(out, "dumps", "*", "*.warc.gz"),
        "--output",
        str(tmp_path / "o"),
    ]
    error = cli_error(capsys, *args, "--dedup-against", str(tmp_path / "nothing"))
    assert "no manifest.json there" in error
    copy = str(tmp_path / "no-index")
    shutil.copytree(bench_parts.part_dir(out, "chain", 0), copy)
    shutil.rmtree(os.path.join(copy, "index"))
    assert "no index/_header.json there" in cli_error(capsys, *args, "--dedup-against", copy)


def test_an_index_of_other_minhash_settings_is_refused_in_one_line(chain, tmp_path, capsys):
    out, _ = chain
    args = ["--input", os.path.join(out, "dumps", "*", "*.warc.gz"), "--output", str(tmp_path)]
    earlier = bench_parts.part_dir(out, "chain", 0)
    error = cli_error(capsys, *args, "--dedup-against", earlier)  # refinedweb preset here
    assert "index band keys were made with MinHash bands=14 rows=8 ngram=5 seed=1" in error
    assert "this run uses bands=450 rows=20 ngram=5 seed=1" in error
    seed = ["--set", "dedup.minhash_preset=fineweb", "--set", "dedup.seed=2"]
    assert "seed=2" in cli_error(capsys, *args, *seed, "--dedup-against", earlier)
    # Without the minhash stage the band keys are not used: the index is fine.
    assert run(*args, "--skip", "minhash", "--dedup-against", earlier, "--overwrite") == 0


def test_mixed_or_unfinished_inputs_are_usage_errors(chain, tmp_path, capsys):
    out, _ = chain
    pattern = os.path.join(out, "dumps", "*", "*.warc.gz")
    done = bench_parts.part_dir(out, "chain", 0)
    output = ["--output", str(tmp_path / "o")]
    assert "not both" in cli_error(capsys, "--input", pattern, "--input", done, *output)
    assert "nothing is left to run" in cli_error(capsys, "--input", done, *output)
    filtered = str(tmp_path / "filtered")
    assert run("--input", pattern, "--output", filtered, "--part", "0/3", *FILTER_ONLY) == 0
    error = cli_error(capsys, "--input", filtered, "--input", done, "--skip", "minhash", *output)
    assert "applied different stages" in error
    assert "--part selects WARC files" in cli_error(
        capsys, "--input", filtered, "--part", "0/2", *output
    )
    assert "is also an --input" in cli_error(
        capsys, "--input", filtered, "--dedup-against", filtered, *output
    )
    skip_dedup = ["--skip", "exact_dedup,minhash,url_dedup"]
    assert "skips every dedup stage" in cli_error(
        capsys, "--input", pattern, "--dedup-against", done, *skip_dedup, *output
    )


def test_corpus_parts_differ_from_alone_only_by_what_earlier_parts_explain(corpus_dir, tmp_path):
    out = str(tmp_path)
    pages = corpus_pages(corpus_dir)[:240]  # a third of the corpus: enough re-crawls, quicker
    make_dumps(os.path.join(out, "dumps"), pages, dumps=2, files=3, seed=5)
    pattern = os.path.join(out, "dumps", "*", "*.warc.gz")
    fast = ["--extractor", "resiliparse"]
    bench_parts.run_chain(pattern, out, 2, fast, measured=False)
    bench_parts.run_alone(pattern, out, 2, fast, measured=False)
    result = bench_parts.check_parts(out, 2, sorted(glob.glob(pattern)), fast)
    assert result["problems"] == []
    assert result["figures"]["text_kept_by_earlier_run"] > 0, json.dumps(result["figures"])
