import importlib
import inspect
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from core.document import Document, document_id
from dedup.components import canonical, union_find_labels
from dedup.exact_doc import ExactDocumentDedup
from dedup.minhash import MinHashParams, MinHashSettings
from dedup.shingles import jaccard, shingle_set
from dedup.url import URLDedup
from pipeline.beam.dedup import ConnectedComponents, KeepEarliest, MinHashStage
from pipeline.funnel import merge_counters
from pipeline.stats import check_funnel
from tests.conftest import corpus_path
from tests.dedup.test_components import GRAPHS

CORPUS = Path(corpus_path())
ROOT = Path(__file__).resolve().parents[3]


def run_components(edges, rounds, budget):
    distinct = sorted({canonical(a, b) for a, b in edges if a != b})
    with TestPipeline(runner=FnApiRunner()) as p:
        labels, _ = p | beam.Create(distinct) | ConnectedComponents(rounds, budget)
        assert_that(labels, equal_to(list(union_find_labels(distinct).items())))


@pytest.mark.parametrize("name", ["chain", "star_at_largest", "mixed", "random_3"])
def test_beam_components_equal_union_find(name):
    run_components(GRAPHS[name], rounds=2, budget=10_000)


def test_beam_components_with_no_rounds_use_the_residual():
    run_components(GRAPHS["random_5"], rounds=0, budget=10_000)


def test_beam_components_fail_loudly_over_budget():
    with pytest.raises(Exception, match="unsettled"):
        run_components(GRAPHS["chain"], rounds=0, budget=3)


# --- a planted near-duplicate corpus from real prose (standard-library documentation) ---

MODULES = [
    "argparse", "collections", "json", "subprocess", "threading", "tarfile",
    "logging", "zipfile", "shutil", "statistics", "functools", "inspect",
]  # fmt: skip
WORDS = 400


def prose(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    parts = [inspect.getdoc(module) or ""]
    for _, member in sorted(vars(module).items()):
        if getattr(member, "__module__", None) == module_name:
            parts.append(inspect.getdoc(member) or "")
    words = " ".join(parts).split()
    assert len(words) >= WORDS, module_name
    return words[:WORDS]


def substitute(words: list[str], share: float, seed: int) -> str:
    rng = random.Random(seed)
    out = list(words)
    for i in rng.sample(range(len(words)), round(share * len(words))):
        out[i] = f"subst{rng.randrange(10**9)}"
    return " ".join(out)


def doc(day: int, name: str, url: str, text: str) -> Document:
    date = f"2023-01-{day:02d}T00:00:00Z"
    return Document(id=document_id(date, name), url=url, text=text, crawl_date=date)


def planted_corpus():
    docs, expected_kept, expected_dropped, pairs = [], [], {}, []
    for i, module in enumerate(MODULES):
        words = prose(module)
        base = doc(1, f"{module}-base", f"https://site{i}.example/page", " ".join(words))
        near = doc(
            2, f"{module}-near", f"https://mirror{i}.example/copy", substitute(words, 0.005, i)
        )
        far = doc(3, f"{module}-far", f"https://other{i}.example/x", substitute(words, 0.4, i))
        copy = doc(4, f"{module}-copy", f"https://copy{i}.example/y?id=3", base.text)
        docs += [base, near, far, copy]
        expected_kept += [base.id, far.id]
        expected_dropped[near.id] = "minhash/near_duplicate"
        expected_dropped[copy.id] = "exact_dedup/exact_duplicate"
        pairs.append((base.text, near.text, "near"))
        pairs.append((base.text, far.text, "far"))
    # Same page under a tracking URL with other text: one capture per URL, the earliest.
    docs.append(doc(5, "tracked", "HTTPS://site0.example:443/page?utm_source=feed", "x y z w v u"))
    expected_dropped[docs[-1].id] = "url_dedup/duplicate_url"
    return docs, expected_kept, expected_dropped, pairs


def test_planted_pairs_have_the_intended_similarity():
    _, _, _, pairs = planted_corpus()
    for a, b, kind in pairs:
        similarity = jaccard(shingle_set(a), shingle_set(b))
        assert similarity >= 0.9 if kind == "near" else similarity <= 0.3, (kind, similarity)


def check_counts(counts):
    order = ["exact_dedup", "minhash", "url_dedup"]
    previous = None
    for stage in order:
        dropped = sum(v for k, v in counts.items() if k[:3] == ("stage", stage, "dropped"))
        assert counts[("stage", stage, "in")] == counts[("stage", stage, "out")] + dropped
        if previous is not None:
            assert counts[("stage", stage, "in")] == previous
        previous = counts[("stage", stage, "out")]
    assert sum(v for k, v in counts.items() if k[:2] == ("hist", "minhash_cluster_size")) == 12
    assert counts[("dedup", "minhash", "rounds")] == 2


def test_dedup_stages_on_planted_corpus():
    docs, kept, dropped, _ = planted_corpus()
    settings = MinHashSettings(params=MinHashParams(), rounds=2, audit_pairs=4, batch_size=8)
    with TestPipeline(runner=FnApiRunner()) as p:
        pcoll = p | beam.Create(docs)
        d1, s1, x1, _, _ = pcoll | "exact" >> KeepEarliest(ExactDocumentDedup())
        d2, s2, x2, _, audit = d1 | MinHashStage(settings)
        d3, s3, x3, _, _ = d2 | "url" >> KeepEarliest(URLDedup())
        assert_that(d3 | beam.Map(lambda d: d.id), equal_to(kept), label="kept")
        assert_that(
            (x1, x2, x3)
            | "all dropped" >> beam.Flatten()
            | beam.MapTuple(lambda r, s: (s["id"], r)),
            equal_to(list(dropped.items())),
            label="dropped",
        )
        counts = (s1, s2, s3) | "all stats" >> beam.Flatten() | beam.CombineGlobally(merge_counters)
        _ = counts | beam.Map(check_counts)
        assert_that(
            audit
            | beam.FlatMap(lambda section: section["pairs"])
            | beam.Map(lambda r: (r["jaccard"] >= 0.9, r["dropped_id"] in dropped)),
            equal_to([(True, True)] * 4),
            label="audit",
        )


def run_cli(out: Path, inputs: list[Path], *options: str) -> dict:
    command = [sys.executable, "-m", "pipeline.cli", "run", "--output", str(out)]
    for path in inputs:
        command += ["--input", str(path)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        command + ["--languages", "all", *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads((out / "stats.json").read_text())


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus absent")
def test_macrodata_run_with_dedup_reconciles(tmp_path):
    files = sorted(CORPUS.glob("*.warc.gz"))[:1]
    skip = "tokenize,repetition,quality,exact_substring"
    stats = run_cli(
        tmp_path / "out", files, "--skip", skip, "--set", "dedup.minhash_preset=fineweb"
    )
    check_funnel(stats)  # raises unless every stage reconciles with itself and its neighbours
    names = [row["name"] for row in stats["stages"]]
    assert names[-3:] == ["exact_dedup", "minhash", "url_dedup"]
    assert stats["stages"][-3]["dropped"]["exact_duplicate"] > 0  # the corpus holds re-captures
    assert stats["dedup"]["minhash"]["rounds"] == 3  # the default, one counter per run
    assert "residual_edges" in stats["dedup"]["minhash"]
    assert "pairs" in stats["minhash"]


def test_url_dedup_alone_on_sample(tmp_path):
    sample = ROOT / "sample_data" / "sample.warc.gz"
    skip = "exact_dedup,minhash,exact_substring,tokenize"
    stats = run_cli(tmp_path / "out", [sample], "--skip", skip)
    check_funnel(stats)
    names = [row["name"] for row in stats["stages"]]
    assert "minhash" not in names and "exact_dedup" not in names
    assert "minhash" not in stats
    # The sample re-captures one article under the same URL and copies another under a
    # tracking-parameter URL: both share a canonical URL with an earlier capture.
    assert stats["stages"][-1]["name"] == "url_dedup"
    # No --dedup-against: nothing is dropped for an earlier run (the reason is listed at 0).
    assert stats["stages"][-1]["dropped"] == {"duplicate_url": 2, "url_kept_by_earlier_run": 0}


def test_stage_plan_order():
    from pipeline.config import Config
    from pipeline.stages import RunSpec, funnel_plan

    spec = RunSpec(files=[], output="", config=Config.load(), tokenizer="tiktoken:cl100k_base")
    names = [name for name, _ in funnel_plan(spec)]
    dedup = ["exact_dedup", "minhash", "exact_substring", "url_dedup", "tokenize"]
    assert names[-5:] == dedup
    skipped = RunSpec([], "", Config.load(), "x", skip=frozenset({"minhash", "url_dedup"}))
    assert [n for n, _ in funnel_plan(skipped)][-3:] == [
        "exact_dedup",
        "exact_substring",
        "tokenize",
    ]


def test_skip_dedup_stages(tmp_path):
    from pipeline.cli import SKIPPABLE, _skip

    assert {"exact_dedup", "minhash", "url_dedup"} <= set(SKIPPABLE)
    assert _skip("minhash,url_dedup") == {"minhash", "url_dedup"}
