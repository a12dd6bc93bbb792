"""`--recipe`: the fineweb recipe end to end, its refusals, and what it records."""

from __future__ import annotations

import glob
import io
import json
import os
import uuid

import pyarrow.parquet as pq
import pytest
import yaml

from pipeline.cli import main
from pipeline.config import Config
from pipeline.recipes import RECIPES
from pipeline.report import render_report
from pipeline.stats import check_funnel
from tests.conftest import SAMPLE_WARC, load_json

FINEWEB = list(RECIPES["fineweb"].stages)

# Four unrelated English articles (distinct text: no near-duplicates), each long enough for the
# Gopher rules and C4's five sentences. The page a sentence is planted in is named by its key.
ARTICLES = {
    "flood": [
        "The river rose three feet overnight after the storm moved across the valley.",
        "Residents on Mill Street were told to leave their homes by noon on Saturday.",
        "Emergency crews opened a shelter at the high school and brought in extra cots.",
        "Officials said that the water should recede by Friday if the rain holds off.",
        "Dr. Alvarez, who runs the clinic near the bridge, treated two people for minor cuts.",
        "The mayor thanked the volunteers who filled sandbags through the night.",
    ],
    "garden": [
        "Tomatoes need at least six hours of direct sun to produce a good crop each summer.",
        "Water the plants deeply twice a week rather than a little every day.",
        "A layer of straw around the stems keeps the soil cool and holds the moisture in.",
        "Pinch off the side shoots so that the plant puts its energy into the fruit.",
        "Most gardeners in the north plant their seedlings out in the middle of May.",
        "By late August the vines are heavy, and the harvest can last until the first frost.",
    ],
    "library": [
        "The town library will reopen next month after a renovation that took two years.",
        "The new building has a reading room with tall windows that face the old harbour.",
        "Children will have their own floor with a small stage for story hours and plays.",
        "The librarians have also added a workshop with sewing machines and a printer.",
        "Funding for the project came from the county and from a campaign of local donors.",
        "Opening hours will be longer on weekdays, and the library will be open on Sundays.",
    ],
    "chess": [
        "The youngest player in the tournament won her first game against a former champion.",
        "She opened with the queen's pawn and kept the pressure on the centre for hours.",
        "Her opponent offered a draw in the middle game, but she decided to play on.",
        "After a long endgame with rooks and pawns, he resigned just before midnight.",
        "The organisers said that the hall had never been so full for an evening round.",
        "Her coach told reporters that she studies old games from the library every morning.",
    ],
}


def _page(title: str, lines: list[str]) -> bytes:
    body = "\n".join(f"<p>{line}</p>" for line in lines)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"</head><body><nav><a href='/'>Home</a></nav><main><article><h1>{title}</h1>{body}"
        "</article></main><footer><p>Contact</p></footer></body></html>"
    ).encode()


def write_warc(path: str, pages: dict[str, list[str]]) -> str:
    """A gzipped WARC of one HTTP 200 HTML response per page, as CommonCrawl lays it out."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    for index, (name, lines) in enumerate(sorted(pages.items())):
        url = f"https://news{index}.example.com/{name}"
        date = f"2024-03-0{index + 1}T00:00:00Z"
        rid = f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url)}>"
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        writer.write_record(
            writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(_page(name.title(), lines)),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": rid},
            )
        )
    with open(path, "wb") as handle:
        handle.write(buffer.getvalue())
    return path


def run(*args: str) -> int:
    return main(["run", *args])


@pytest.fixture(scope="module")
def fineweb_sample(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("fineweb") / "out")
    assert run("--recipe", "fineweb", "--input", SAMPLE_WARC, "--output", out) == 0
    return out


def test_a_fineweb_run_on_the_sample_reconciles_and_shows_its_stages(fineweb_sample):
    stats = load_json(os.path.join(fineweb_sample, "stats.json"))
    check_funnel(stats)
    assert [row["name"] for row in stats["stages"]] == FINEWEB
    assert stats["run"]["recipe"] == "fineweb"
    rows = {row["name"]: row for row in stats["stages"]}
    assert set(rows["c4_quality"]["dropped"]) == {
        "lorem_ipsum",
        "curly_bracket",
        "too_few_sentences",
        "no_lines_left",
        "processing_error",
    }
    assert "line_punct_ratio_too_low" in rows["fineweb_quality"]["dropped"]
    assert rows["pii"]["in"] == rows["pii"]["out"]  # never a drop
    # The recipe's configuration, as `macrodata config --recipe fineweb` resolves it.
    config = Config.load(recipe="fineweb")
    assert stats["config_hash"] == config.digest()
    assert stats["config"]["dedup"]["minhash_preset"] == "fineweb"
    manifest = load_json(os.path.join(fineweb_sample, "manifest.json"))
    assert manifest["recipe"] == "fineweb" and manifest["applied_stages"] == FINEWEB
    table = pq.read_table(os.path.join(fineweb_sample, "data"))
    assert table.num_rows == stats["final"]["documents"] > 0
    assert {"c4_lines_removed_frac", "line_punct_ratio", "char_dup_ratio"} <= set(
        table.column_names
    )
    # c4_quality leaves no blank or short line behind.
    for text in table.column("text").to_pylist():
        assert all(len(line.split()) >= 3 for line in text.split("\n"))


def test_the_fineweb_report_names_its_recipe_and_leaves_out_refinedweb_figures(fineweb_sample):
    with open(os.path.join(fineweb_sample, "report.html"), encoding="utf-8") as handle:
        page = handle.read()
    assert "Recipe <b>fineweb</b> (FineWeb)" in page
    assert "RefinedWeb Fig. 2" not in page and "RefinedWeb kept" not in page
    for stage in ("c4_quality", "fineweb_quality", "pii"):
        assert f'<td class="l">{stage}</td>' in page
    assert "<h2 id='text'>Line rules and PII</h2>" in page
    # A refinedweb report still shows them.
    stats = load_json(os.path.join(fineweb_sample, "stats.json"))
    stats["run"]["recipe"] = "refinedweb"
    assert "RefinedWeb Fig. 2" in render_report(stats)


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory) -> tuple[str, dict]:
    root = tmp_path_factory.mktemp("planted")
    pages = {name: list(lines) for name, lines in ARTICLES.items()}
    pages["flood"].insert(2, "Questions go to the desk at editor.desk@news0.example.com today.")
    pages["flood"].insert(4, "The live map is served from 93.184.216.34 and 192.168.0.10 now.")
    pages["garden"].insert(3, "Lorem ipsum dolor sit amet, consectetur adipiscing elit sed do.")
    pages["library"].insert(1, "Please enable JavaScript in your browser to see the floor plan.")
    pages["library"].insert(5, "Read our privacy policy and the terms of use before you visit.")
    pages["chess"].insert(2, "The scores were stored as {white: 1, black: 0} in the club file.")
    warc = write_warc(str(root / "planted.warc.gz"), pages)
    out = str(root / "out")
    assert run("--recipe", "fineweb", "--input", warc, "--output", out) == 0
    return out, load_json(os.path.join(out, "stats.json"))


def test_planted_lines_and_addresses_are_handled_as_fineweb_did(planted_run):
    out, stats = planted_run
    check_funnel(stats)
    rows = {row["name"]: row for row in stats["stages"]}
    assert rows["c4_quality"]["dropped"]["lorem_ipsum"] == 1
    assert rows["c4_quality"]["dropped"]["curly_bracket"] == 1
    assert stats["dedup"]["c4_quality"]["lines_removed.javascript"] == 1
    assert stats["dedup"]["c4_quality"]["lines_removed.policy"] == 1
    assert stats["dedup"]["pii"] == {
        "documents_changed": 1,
        "emails_replaced": 1,
        "ips_replaced": 1,
    }
    texts = {
        row["url"].rsplit("/", 1)[1]: row["text"]
        for row in pq.read_table(os.path.join(out, "data")).to_pylist()
    }
    assert set(texts) == {"flood", "library"}
    assert "email@example.com" in texts["flood"] and "editor.desk" not in texts["flood"]
    assert "22.214.171.124" in texts["flood"] and "192.168.0.10" in texts["flood"]
    assert "JavaScript" not in texts["library"] and "privacy policy" not in texts["library"]
    dropped = glob.glob(os.path.join(out, "dropped", "c4_quality", "*.jsonl"))
    assert sorted(os.path.basename(p) for p in dropped) == [
        "curly_bracket.jsonl",
        "lorem_ipsum.jsonl",
    ]


def test_skipping_a_fineweb_stage(planted_run, tmp_path):
    warc = write_warc(str(tmp_path / "in.warc.gz"), ARTICLES)
    out = str(tmp_path / "out")
    assert (
        run("--recipe", "fineweb", "--input", warc, "--output", out, "--skip", "pii,c4_quality")
        == 0
    )
    stats = load_json(os.path.join(out, "stats.json"))
    assert [row["name"] for row in stats["stages"]] == [
        n for n in FINEWEB if n not in {"pii", "c4_quality"}
    ]


def one_line_error(capsys) -> str:
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "Traceback" not in error, error
    return error


@pytest.mark.parametrize(
    "args, message",
    [
        (["--recipe", "finewb"], "unknown recipe 'finewb'; choose from refinedweb, fineweb"),
        (["--skip", "c4_quality"], "c4_quality not in the refinedweb recipe"),
        (
            ["--recipe", "fineweb", "--skip", "line_corrections"],
            "line_corrections not in the fineweb",
        ),
        (["--recipe", "fineweb", "--skip", "extract"], "extract cannot be skipped"),
        (["--recipe", "fineweb", "--skip", "nope"], "unknown stage(s) nope"),
    ],
)
def test_bad_recipe_arguments_stop_the_run_before_it_starts(args, message, tmp_path, capsys):
    assert run("--input", SAMPLE_WARC, "--output", str(tmp_path / "out"), *args) == 2
    assert message in one_line_error(capsys)
    assert os.listdir(tmp_path) == []


def test_config_prints_a_recipe_and_takes_a_file_on_top(tmp_path, capsys):
    assert main(["config", "--recipe", "fineweb"]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed == Config.load(recipe="fineweb").data
    assert printed["dedup"]["minhash_preset"] == "fineweb"
    assert printed["extract"]["favor_precision"] is True and printed["extract"]["fast"] is False
    assert printed["c4_quality"]["min_sentences"] == 5
    assert printed["pii"]["email_replacements"][0] == "email@example.com"
    override = tmp_path / "c.yaml"
    override.write_text("c4_quality:\n  min_sentences: 3\n")
    assert main(["config", "--recipe", "fineweb", "--config", str(override)]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["c4_quality"]["min_sentences"] == 3
    # The refinedweb configuration is as it was, and has no FineWeb sections to override.
    assert main(["config"]) == 0
    assert "c4_quality" not in capsys.readouterr().out
    assert main(["config", "--config", str(override)]) == 2
    assert "unknown config key c4_quality" in one_line_error(capsys)
    assert main(["config", "--recipe", "nope"]) == 2
    assert "unknown recipe 'nope'" in one_line_error(capsys)


def test_runs_of_another_recipe_are_refused_as_input_or_earlier_run(tmp_path, capsys):
    warc = write_warc(str(tmp_path / "in.warc.gz"), ARTICLES)
    part = str(tmp_path / "part")
    assert run("--recipe", "fineweb", "--input", warc, "--output", part, "--skip", "tokenize") == 0
    capsys.readouterr()
    # Re-entering a fineweb run needs the fineweb recipe.
    assert run("--input", part, "--output", str(tmp_path / "again")) == 2
    assert "a run of the fineweb recipe; continue it with --recipe fineweb" in one_line_error(
        capsys
    )
    done = str(tmp_path / "done")
    assert run("--recipe", "fineweb", "--input", part, "--output", done) == 0
    stats = load_json(os.path.join(done, "stats.json"))
    assert [row["name"] for row in stats["stages"]] == ["read", "tokenize"]
    assert load_json(os.path.join(done, "manifest.json"))["applied_stages"] == FINEWEB
    # A refinedweb run is no earlier run of a fineweb one (their texts were cleaned apart).
    refined = str(tmp_path / "refined")
    assert run("--input", warc, "--output", refined) == 0
    assert load_json(os.path.join(refined, "manifest.json"))["recipe"] == "refinedweb"
    capsys.readouterr()
    args = ["--input", warc, "--output", str(tmp_path / "x"), "--dedup-against", refined]
    assert run("--recipe", "fineweb", *args) == 2
    assert "a run of the refinedweb recipe; this run is fineweb" in one_line_error(capsys)


def test_the_fineweb_configuration_is_the_defaults_with_the_recipe_over_them():
    default = Config.load().data
    fineweb = Config.load(recipe="fineweb").data
    assert set(fineweb) - set(default) == {"c4_quality", "fineweb_quality", "pii"}
    # The Gopher thresholds are the defaults'; FineWeb's code reads the rules its own way.
    for section in ("repetition", "quality"):
        assert (default[section]["reading"], fineweb[section]["reading"]) == ("paper", "fineweb")
        assert {**fineweb[section], "reading": "paper"} == default[section]
    assert json.dumps(fineweb["tokenize"]) == json.dumps(default["tokenize"])
