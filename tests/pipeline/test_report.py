"""The report: counts tagged and equal to stats.json, self-contained, merging, in a browser."""

from __future__ import annotations

import copy
import glob
import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.report import (
    REFINEDWEB_KEPT,
    REFINEDWEB_NONE,
    load_samples,
    rebuild_report,
    render_report,
)
from pipeline.stages import STAGES, recipe_stages
from pipeline.stats import MergeError, check_funnel, load_stats, merge_stats, percent
from tests.conftest import SAMPLE_WARC, corpus_path

CORPUS = corpus_path()
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def synthetic_stats(scale: int = 1) -> dict:
    """A small reconciled stats.json with every section the report reads."""
    stages = [
        ("read", 100, 40, {"not_response": 55, "not_html": 5}, 0),
        ("url_filter", 40, 38, {"blocklisted_domain": 2, "strict_word": 0}, 0),
        ("extract", 38, 36, {"empty_extraction": 2}, 9000),
        ("language", 36, 30, {"language_score_too_low": 6}, 8000),
        ("quality", 30, 20, {"too_few_words": 7, "alpha_words_frac_too_low": 3}, 6000),
        ("minhash", 20, 20, {"near_duplicate": 0}, 6000),
        ("exact_substring", 20, 20, {"too_short": 0}, 5900),
        ("tokenize", 20, 20, {}, 5900),
    ]
    rows = []
    for name, n_in, n_out, dropped, words in stages:
        row = {
            "name": name,
            "in": n_in * scale,
            "out": n_out * scale,
            "dropped": {k: v * scale for k, v in dropped.items()},
            "words_out": words * scale,
        }
        if name == "tokenize":
            row["tokens_out"] = 9100 * scale
        rows.append(row)
    stats = {
        "stages": rows,
        "final": {"documents": 20 * scale, "tokens": 9100 * scale, "words": 6000 * scale},
        "read": {"files": scale, "records": 100 * scale},
        "limits": {"extract.text_chars": scale},
        "dedup": {
            "exact_substring": {
                "documents_cut": 4 * scale,
                "tokens_in": 9400 * scale,
                "tokens_removed": 321 * scale,
                "chars_removed": 1500 * scale,
            },
            "minhash": {"rounds": 3 * scale, "residual_edges": 0},
        },
        "languages": {
            "identified": {
                "en": {"documents": 25 * scale, "words": 7000 * scale},
                "de": {"documents": 11 * scale, "words": 2000 * scale},
            }
        },
        "histograms": {
            "words_extracted": {"16": 6 * scale, "256": 20 * scale, "1024": 10 * scale},
            "tokens_final": {"128": 5 * scale, "512": 15 * scale},
            "minhash_cluster_size": {"2": 3 * scale, "4": 1 * scale},
        },
        "domains": {
            "top": 5,
            "kept": [{"domain": "example.org", "documents": 12 * scale}],
            "dropped": [
                {
                    "domain": "spam.example",
                    "documents": 4 * scale,
                    "reasons": {"quality/too_few_words": 3 * scale, "url_filter/x": scale},
                }
            ],
        },
        "minhash": {"pairs": [{"a": "id1", "b": "id2", "jaccard": 0.91}]},
        "exact_substring": {
            "spans": [{"id": "id3", "url": "https://e.org/s", "start": 5, "end": 80, "text": "x"}]
        },
        "version": "0.1.0",
        "config_hash": "abc123",
        "config": {"quality": {"min_words": 50}},
        "run": {
            "inputs": ["a/*.warc.gz"],
            "files": scale,
            "runner": "FnApiRunner",
            "stage_seconds": {"extract": 1.5 * scale},
        },
    }
    check_funnel(stats)
    return stats


class _Page(HTMLParser):
    """Tagged numbers, all tags with their attributes, and the text of the page."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.counts: list[tuple[str, str, list]] = []
        self.shares: list[tuple[str, str, list]] = []
        self._open: list[tuple[str, dict, list]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if "data-key" in attrs or "data-num" in attrs:
            self._open.append((tag, attrs, []))

    def handle_data(self, data):
        self.text.append(data)
        for _, _, parts in self._open:
            parts.append(data)

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            _, attrs, parts = self._open.pop()
            text = "".join(parts)
            if "data-key" in attrs:
                self.counts.append((attrs["data-key"], attrs["data-value"], text))
            else:
                self.shares.append((attrs["data-num"], attrs["data-den"], text))


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    return parser


def lookup(stats: dict, key: str):
    value = stats
    for part in key.split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def assert_counts_match(page: str, stats: dict) -> _Page:
    """Every tagged number equals stats.json at its path, as shown; every share recomputes."""
    parsed = parse(page)
    assert parsed.counts and parsed.shares
    for key, value, text in parsed.counts:
        expected = lookup(stats, key)
        assert float(value) == pytest.approx(expected), key
        shown = float(text.replace(",", ""))
        assert shown == pytest.approx(expected, abs=0.051), (key, text)
    for num, den, text in parsed.shares:
        expected = percent(lookup(stats, num), lookup(stats, den))
        assert text == f"{expected:.2f}%", (num, den, text)
    shown = {key for key, _, _ in parsed.counts}
    for index, row in enumerate(stats["stages"]):
        assert {f"stages/{index}/in", f"stages/{index}/out"} <= shown
        for reason, count in row["dropped"].items():
            assert not count or f"stages/{index}/dropped/{reason}" in shown
    return parsed


def assert_self_contained(page: str) -> None:
    """No reference that could load anything: no scripts, links, images or URLs in attributes."""
    parsed = parse(page)
    for tag, attrs in parsed.tags:
        assert tag not in {"script", "link", "img", "iframe", "object", "embed", "base"}, tag
        assert "src" not in attrs and "srcset" not in attrs, tag
        for name, value in attrs.items():
            assert "://" not in (value or ""), (tag, name, value)
            if name == "href":
                assert value.startswith("#"), value
    assert "url(" not in page and "@import" not in page
    # Web addresses appear only as text (sample URLs), never in markup.
    markup = re.sub(r">[^<]*<", "><", page)
    assert "http://" not in markup and "https://" not in markup
    assert "Content-Security-Policy" in page


def test_counts_match_stats():
    stats = synthetic_stats()
    assert_counts_match(render_report(stats), stats)


def test_published_refinedweb_shares_beside_ours():
    page = render_report(synthetic_stats())
    assert "language ID: 47.51% (documents)" in page
    assert "document-wise filtering: 30.15% (tokens)" in page
    assert "fuzzy dedup: 14.50% (tokens)" in page
    assert "exact dedup (substring cuts): 11.67% (tokens)" in page


def test_every_stage_has_a_refinedweb_figure_or_says_why_not():
    for stage in STAGES[1:]:  # the read stage is the funnel's 100%
        assert (stage.name in REFINEDWEB_KEPT) != (stage.name in REFINEDWEB_NONE), stage.name
    stats = synthetic_stats()
    stats["stages"].insert(5, {**stats["stages"][4], "name": "exact_dedup", "dropped": {}})
    page = render_report(stats)
    row = re.search(r"<td class=\"l\">exact_dedup</td>.*?</tr>", page).group(0)
    assert "11.67" not in row and REFINEDWEB_NONE["exact_dedup"] in row


def test_self_contained_and_escaped():
    stats = synthetic_stats()
    stats["domains"]["kept"][0]["domain"] = "<b>x</b>"
    samples = {
        "quality/too_few_words": [
            {"url": "https://e.org/?a=<i>", "text": "<script>alert(1)</script>" + "w " * 900}
        ]
    }
    page = render_report(stats, samples)
    assert_self_contained(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert "https://e.org/?a=&lt;i&gt;" in page
    assert " […]" in page  # long text is cut


def test_missing_dedup_sections_say_not_run():
    stats = synthetic_stats()
    for key in ("minhash", "exact_substring", "domains"):
        stats.pop(key)
    stats["stages"] = [
        r for r in stats["stages"] if r["name"] not in ("minhash", "exact_substring")
    ]
    stats["histograms"].pop("minhash_cluster_size")
    page = render_report(stats)
    assert "MinHash dedup: stage not run." in page
    assert "exact-substring dedup: stage not run." in page
    assert "minhash_cluster_size: stage not run." in page
    assert "domain counting: stage not run." in page
    full = render_report(synthetic_stats())
    assert "stage not run" not in full
    assert "tokens_removed" in full and "0.910" in full


def test_merge_sums_funnel():
    one, three = synthetic_stats(1), synthetic_stats(3)
    merged = merge_stats([one, three], ["a", "b"])
    for row, a, b in zip(merged["stages"], one["stages"], three["stages"], strict=True):
        assert row["in"] == a["in"] + b["in"] and row["out"] == a["out"] + b["out"]
        for reason in a["dropped"]:
            assert row["dropped"][reason] == a["dropped"][reason] + b["dropped"][reason]
    assert merged["final"]["tokens"] == 4 * 9100
    assert merged["histograms"]["words_extracted"]["256"] == 80
    assert merged["languages"]["identified"]["de"]["documents"] == 44
    assert merged["domains"]["kept"] == [{"domain": "example.org", "documents": 48}]
    assert merged["domains"]["dropped"][0]["reasons"]["quality/too_few_words"] == 12
    assert merged["dedup"]["exact_substring"]["tokens_removed"] == 4 * 321
    assert merged["limits"] == {"extract.text_chars": 4}
    assert len(merged["exact_substring"]["spans"]) == len(merged["minhash"]["pairs"]) == 2
    assert [r["dir"] for r in merged["runs"]] == ["a", "b"]
    page = render_report(merged)
    assert_counts_match(page, merged)
    assert "2 runs merged" in page


def test_merge_refuses_different_stages():
    other = synthetic_stats()
    other["stages"] = [r for r in other["stages"] if r["name"] != "quality"]
    other["stages"][-1]["in"] = other["stages"][-2]["out"]
    with pytest.raises(MergeError, match="differ"):
        merge_stats([synthetic_stats(), other], ["a", "b"])


def _write_run(directory, stats: dict) -> str:
    os.makedirs(os.path.join(directory, "dropped", "quality"))
    with open(os.path.join(directory, "stats.json"), "w") as handle:
        json.dump(stats, handle)
    sample = {"url": "https://e.org/p", "text": "short", "rank": "00", "language": "en"}
    with open(os.path.join(directory, "dropped", "quality", "too_few_words.jsonl"), "w") as handle:
        handle.write(json.dumps(sample) + "\n")
    return str(directory)


def test_cli_report_merges_dirs(tmp_path, capsys):
    from pipeline.cli import main

    a = _write_run(tmp_path / "a", synthetic_stats(1))
    b = _write_run(tmp_path / "b", synthetic_stats(2))
    out = tmp_path / "merged.html"
    assert main(["report", a, b, "--output", str(out)]) == 0
    page = out.read_text()
    assert_counts_match(page, merge_stats([synthetic_stats(1), synthetic_stats(2)], [a, b]))
    assert page.count("https://e.org/p") == 2  # the samples of both runs
    assert main(["report", a]) == 0
    assert os.path.exists(os.path.join(a, "report.html"))
    bad = synthetic_stats()
    bad["stages"] = bad["stages"][:-1]
    bad["final"]["documents"] = bad["stages"][-1]["out"]
    c = _write_run(tmp_path / "c", bad)
    assert main(["report", a, c]) == 2
    assert "cannot merge" in capsys.readouterr().err


# ---- a real browser ----


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no headless browser: apt-get install chromium to run the browser checks")


def open_in_browser(path: str, tmp_path) -> tuple[str, list[str]]:
    """(DOM after load, console error lines) from headless Chromium."""
    result = subprocess.run(
        [
            _browser(),
            *BROWSER_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            f"file://{path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    return result.stdout, errors


def test_browser_sees_console_errors(tmp_path):
    """The console check can fail: a page with a broken script and a remote image reports both."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><meta http-equiv='Content-Security-Policy' content=\"default-src 'none';"
        " script-src 'unsafe-inline'\"><script>undefinedFunction()</script>"
    )
    _, errors = open_in_browser(str(page), tmp_path)
    assert any("undefinedFunction" in line for line in errors), errors


def assert_renders(path: str, tmp_path) -> None:
    dom, errors = open_in_browser(path, tmp_path)
    assert errors == []
    plots = re.findall(r'<svg class="plot"', dom)
    assert len(plots) >= 4, "funnel, languages and the two length histograms"
    assert dom.count('class="bar"') >= 10
    assert "Funnel" in dom


def test_report_renders_in_browser(tmp_path):
    path = tmp_path / "report.html"
    path.write_text(render_report(synthetic_stats()))
    assert_renders(str(path), tmp_path)


# ---- a real run of sample_data/ ----


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> str:
    from pipeline.cli import main

    out = tmp_path_factory.mktemp("sample") / "out"
    assert main(["run", "--input", SAMPLE_WARC, "--output", str(out)]) == 0
    return str(out)


def test_the_report_of_a_real_run_shows_every_stage_that_ran(sample_run):
    stats = load_stats(sample_run)
    page = render_report(stats, load_samples([sample_run]))
    # What the run wrote is what `macrodata report` renders from its stats.json.
    assert Path(sample_run, "report.html").read_text() == page
    parsed = assert_counts_match(page, stats)  # each stage's in, out and drops, as stats.json
    shown = {key for key, _, _ in parsed.counts}
    assert [row["name"] for row in stats["stages"]] == [
        stage.name for stage in recipe_stages("refinedweb")
    ]
    assert "stage not run" not in page
    for section in ("read", "limits"):
        assert {_path_of(section, k) for k in stats[section]} <= shown
    for stage, figures in stats["dedup"].items():
        assert {_path_of("dedup", stage, k) for k in figures} <= shown, stage
    # The sample plants a paragraph in several pages: the cut and its spans are on the page.
    assert stats["dedup"]["exact_substring"]["documents_cut"] > 0
    spans = stats["exact_substring"]["spans"]
    assert spans and all(html.escape(span["text"][:50]) in page for span in spans)
    assert {f"minhash/pairs/{i}/jaccard" for i in range(len(stats["minhash"]["pairs"]))} <= {
        key for key in (attrs.get("data-key") for _, attrs in parsed.tags) if key
    }


def _path_of(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


# ---- real runs over slices of the corpus ----


def _slice(source: str, target: str, records: int) -> None:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    with open(source, "rb") as inp, open(target, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        for index, record in enumerate(ArchiveIterator(inp)):
            if index >= records:
                break
            writer.write_record(record)


@pytest.fixture(scope="module")
def corpus_runs(tmp_path_factory):
    files = sorted(glob.glob(os.path.join(CORPUS, "*.warc.gz")))
    if len(files) < 2:
        pytest.skip(f"{CORPUS} is absent")
    from pipeline.cli import main

    root = tmp_path_factory.mktemp("runs")
    outputs = []
    for index, source in enumerate(files[:2]):
        warc = root / f"slice-{index}.warc.gz"
        _slice(source, str(warc), 120)
        out = root / f"out-{index}"
        assert main(["run", "--input", str(warc), "--output", str(out), "--languages", "all"]) == 0
        outputs.append(str(out))
    return outputs


def test_real_run_report(corpus_runs, tmp_path):
    out = corpus_runs[0]
    with open(os.path.join(out, "stats.json")) as handle:
        stats = json.load(handle)
    page = Path(out, "report.html").read_text()
    assert_counts_match(page, stats)
    assert_self_contained(page)
    assert stats["domains"]["kept"] and stats["config"] and stats["run"]["wall_seconds"] > 0
    assert "extract" in stats["run"]["stage_seconds"]
    assert all("seconds" not in row for row in stats["stages"])  # timings stay out of the funnel
    assert_renders(os.path.join(out, "report.html"), tmp_path)


def test_real_runs_merge(corpus_runs, tmp_path):
    runs = []
    for out in corpus_runs:
        with open(os.path.join(out, "stats.json")) as handle:
            runs.append(json.load(handle))
    path = rebuild_report(corpus_runs, str(tmp_path / "merged.html"))
    merged = merge_stats(copy.deepcopy(runs), corpus_runs)
    assert merged["final"]["documents"] == sum(r["final"]["documents"] for r in runs)
    assert merged["stages"][0]["in"] == sum(r["stages"][0]["in"] for r in runs)
    page = Path(path).read_text()
    assert_counts_match(page, merged)
    assert_self_contained(page)
