import os

import pytest

from pipeline.reentry import ReentryError, applied_stages, run_input, signal_columns
from pipeline.stages import NAMES

FILTERED = list(NAMES[: NAMES.index("line_corrections") + 1])


def manifest(applied, shards=("data/part-00000-of-00001.parquet",), signals=("a", "b")):
    return {
        "applied_stages": list(applied),
        "signals": list(signals),
        "shards": [{"path": path} for path in shards],
    }


def test_an_older_manifest_applied_every_stage_it_did_not_skip():
    old = {"skipped_stages": ["minhash", "tokenize"]}
    assert applied_stages(old, NAMES) == tuple(n for n in NAMES if n not in old["skipped_stages"])


def test_signal_columns_follow_the_base_columns():
    old = {"columns": ["id", "text", "input_ids", "num_tokens", "x", "y"]}
    assert signal_columns(old) == ("x", "y")
    assert signal_columns({"columns": []}) == ()


def test_run_directories_become_one_input():
    found = run_input(
        {"/r/a": manifest(FILTERED), "/r/b": manifest(FILTERED, signals=("a", "c"))},
        os.path.join,
        NAMES,
    )
    assert found.directories == ("/r/a", "/r/b")
    assert found.files == (
        "/r/a/data/part-00000-of-00001.parquet",
        "/r/b/data/part-00000-of-00001.parquet",
    )
    assert found.applied == tuple(FILTERED)
    assert found.signals == ("a", "b", "c")


def test_runs_that_stopped_at_different_stages_are_refused():
    with pytest.raises(ReentryError, match="applied different stages"):
        run_input({"a": manifest(FILTERED), "b": manifest(NAMES[:-1])}, os.path.join, NAMES)


def test_a_run_that_applied_every_stage_is_refused():
    with pytest.raises(ReentryError, match="nothing is left to run"):
        run_input({"a": manifest(NAMES)}, os.path.join, NAMES)
