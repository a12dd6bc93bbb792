"""The registry of stages: complete, consistent with the stage objects, and what the docs say."""

from __future__ import annotations

import re

import apache_beam as beam
import pytest

from pipeline.beam.stage import load_transform
from pipeline.config import Config
from pipeline.stages import (
    SKIPPABLE,
    STAGES,
    RunSpec,
    build_stage,
    funnel_plan,
    planned,
    recipe_stages,
)
from tests.conftest import ROOT

NAMES = [stage.name for stage in STAGES]
REFINEDWEB = [stage.name for stage in recipe_stages("refinedweb")]


def test_names_are_unique_and_snake_case():
    assert len(set(NAMES)) == len(NAMES)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in NAMES)


@pytest.mark.parametrize("stage", STAGES, ids=NAMES)
def test_each_entry_builds_a_stage_its_transform_runs(stage):
    built = build_stage(stage.name, Config.load())
    # Stage objects that name themselves agree with the registry, reasons included.
    assert getattr(built, "name", stage.name) == stage.name
    assert set(getattr(built, "reasons", ())) <= set(stage.reasons)
    transform = load_transform(stage.transform)
    assert issubclass(transform, beam.PTransform)
    transform(built)  # constructs from the stage object alone


def test_the_plan_follows_the_registry_minus_skipped():
    config = Config.load()
    spec = RunSpec([], "", config, "tiktoken:cl100k_base", skip=frozenset({"minhash", "quality"}))
    names = [name for name, _ in funnel_plan(spec)]
    assert names == [n for n in REFINEDWEB if n not in {"minhash", "quality"}]
    assert [entry.name for entry, _ in planned(spec)] == names
    assert tuple(n for n in NAMES if n not in {"read", "extract", "language"}) == SKIPPABLE


def test_token_ids_are_handed_on_only_to_a_tokenize_stage_with_the_same_tokenizer():
    config = Config.load()
    same = RunSpec([], "", config, "tiktoken:cl100k_base")
    assert build_stage("exact_substring", config, same).hand_on_ids
    skipped = RunSpec([], "", config, "tiktoken:cl100k_base", skip=frozenset({"tokenize"}))
    assert not build_stage("exact_substring", config, skipped).hand_on_ids
    other = Config.load(overrides={"exact_substring.tokenizer": "tiktoken:o200k_base"})
    assert not build_stage("exact_substring", other, same).hand_on_ids


def test_the_readme_lists_every_stage_in_run_order():
    with open(ROOT + "/README.md", encoding="utf-8") as handle:
        readme = handle.read()
    table = readme.split("## What it does", 1)[1].split("\n\n", 2)[1]
    listed = re.findall(r"^\| `([a-z0-9_]+)` \|", table, flags=re.M)
    assert listed == NAMES
    # The --skip line names every stage that can be left out.
    skip_line = re.search(r"- `--skip` leaves stages out \(([^)]*)\)", readme).group(1)
    assert re.findall(r"`([a-z0-9_]+)`", skip_line) == list(SKIPPABLE)


def test_a_re_entered_run_goes_on_after_the_last_stage_its_input_applied():
    from pipeline.beam.reentry import ReadShards
    from pipeline.reentry import ShardInput
    from pipeline.stages import applied_stages

    applied = tuple(NAMES[: NAMES.index("line_corrections") + 1])
    spec = RunSpec(
        [],
        "",
        Config.load(),
        "x",
        skip=frozenset({"minhash"}),
        applied=applied,
        input_signals=("s",),
    )
    rest = ["exact_dedup", "exact_substring", "url_dedup", "tokenize"]
    assert [name for name, _ in funnel_plan(spec)] == ["read", *rest]
    read = planned(spec)[0][1]
    assert read == ShardInput(signals=("s",)) and load_transform(read.transform) is ReadShards
    assert applied_stages(spec) == [*applied, *rest]
    assert applied_stages(RunSpec([], "", Config.load(), "x")) == REFINEDWEB


def test_dedup_stages_are_given_the_earlier_index_files():
    from pipeline.index import EarlierIndex

    earlier = (
        EarlierIndex("a", ("a/index/0.parquet",), 5, band_keys=False),
        EarlierIndex("b", ("b/index/0.parquet", "b/index/1.parquet"), 7, band_keys=True),
    )
    spec = RunSpec([], "", Config.load(), "tiktoken:cl100k_base", earlier=earlier)
    stages = {entry.name: stage for entry, stage in planned(spec)}
    every = ("a/index/0.parquet", "b/index/0.parquet", "b/index/1.parquet")
    for name in ("exact_dedup", "url_dedup"):
        assert (stages[name].earlier_files, stages[name].earlier_documents) == (every, 12)
    # Only indexes with band keys serve MinHash.
    assert stages["minhash"].earlier_files == every[1:]
    assert stages["minhash"].earlier_documents == 7


def test_adjacent_filters_share_one_transform_and_the_others_have_their_own():
    from pipeline.beam.run import transform_groups

    config = Config.load()
    skip = frozenset({"quality", "minhash"})
    spec = RunSpec([], "", config, "tiktoken:cl100k_base", skip=skip)
    groups = [[entry.name for entry, _ in group] for group in transform_groups(planned(spec))]
    filters = ["url_filter", "extract", "language", "repetition", "line_corrections"]
    dedup = ["exact_dedup", "exact_substring", "url_dedup", "tokenize"]
    assert groups == [["read"], filters, *([name] for name in dedup)]
