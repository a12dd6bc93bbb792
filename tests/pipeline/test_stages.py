"""The registry of stages: complete, consistent with the stage objects, and what the docs say."""

from __future__ import annotations

import re

import apache_beam as beam
import pytest

from pipeline.beam.stage import load_transform
from pipeline.config import Config
from pipeline.stages import SKIPPABLE, STAGES, RunSpec, build_stage, funnel_plan, planned
from tests.conftest import ROOT

NAMES = [stage.name for stage in STAGES]


def test_names_are_unique_and_snake_case():
    assert len(set(NAMES)) == len(NAMES)
    assert all(re.fullmatch(r"[a-z][a-z_]*", name) for name in NAMES)


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
    assert names == [n for n in NAMES if n not in {"minhash", "quality"}]
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
    listed = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.M)
    assert listed == NAMES
    # The --skip line names every stage that can be left out.
    skip_line = re.search(r"- `--skip` leaves stages out \(([^)]*)\)", readme).group(1)
    assert re.findall(r"`([a-z_]+)`", skip_line) == list(SKIPPABLE)
