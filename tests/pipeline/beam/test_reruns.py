"""Reruns into a used output (refuse, or replace whole), and the Dataflow dry run."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil

import pytest

from pipeline.beam.io import InputError, check_output, publish_run, staging_dir
from pipeline.cli import main
from pipeline.stages import recipe_stages
from tests.conftest import SAMPLE_WARC

SMALL_SHARDS = ["--set", "output.shard_target_bytes=8000"]


def run(output: str, *args: str) -> int:
    return main(["run", "--input", SAMPLE_WARC, "--output", output, "--languages", "all", *args])


def shards(output: str) -> list[str]:
    return sorted(os.listdir(os.path.join(output, "data")))


def snapshot(output: str) -> dict[str, bytes]:
    files = {}
    for directory, _, names in os.walk(output):
        for name in names:
            with open(os.path.join(directory, name), "rb") as handle:
                files[os.path.relpath(os.path.join(directory, name), output)] = handle.read()
    return files


@pytest.fixture(scope="module")
def previous_run(tmp_path_factory) -> str:
    """A finished run with several shards (copied before a test changes it)."""
    output = str(tmp_path_factory.mktemp("previous") / "run")
    assert run(output, *SMALL_SHARDS) == 0
    assert len(shards(output)) >= 2
    return output


@pytest.fixture
def used_output(previous_run, tmp_path) -> str:
    output = str(tmp_path / "out")
    shutil.copytree(previous_run, output)
    return output


def test_rerun_refuses_and_leaves_the_run_alone(used_output, capsys):
    before = snapshot(used_output)
    assert run(used_output) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert snapshot(used_output) == before
    assert os.listdir(os.path.dirname(used_output)) == ["out"]  # no staging left behind


def test_overwrite_replaces_the_whole_run(used_output):
    old = shards(used_output)
    assert run(used_output, "--overwrite") == 0  # default shard size: one shard
    assert shards(used_output) == ["part-00000-of-00001.parquet"] != old
    with open(os.path.join(used_output, "manifest.json"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    assert [s["path"] for s in manifest["shards"]] == ["data/part-00000-of-00001.parquet"]
    assert os.listdir(os.path.dirname(used_output)) == ["out"]


def test_failed_overwrite_keeps_the_previous_run(used_output, monkeypatch):
    from pipeline.beam import run as run_module

    def broken(self, *args, **kwargs):
        raise RuntimeError("worker lost")

    before = snapshot(used_output)
    monkeypatch.setattr(run_module.Finalize, "process", broken)
    with pytest.raises(Exception, match="worker lost"):
        run(used_output, "--overwrite")
    assert snapshot(used_output) == before
    assert os.listdir(os.path.dirname(used_output)) == ["out"]


def test_output_that_is_not_a_run_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds no macrodata run"):
        check_output(str(tmp_path), overwrite=True)
    check_output(str(tmp_path / "new"), overwrite=False)  # absent: fine


@pytest.mark.parametrize("existing", ["absent", "empty", "run"])
def test_publish_run_swaps_in_the_new_run(tmp_path, existing):
    output = tmp_path / "out"
    if existing != "absent":
        output.mkdir()
    if existing == "run":
        (output / "data").mkdir()
        (output / "data" / "part-00000-of-00002.parquet").write_text("old")
    staging = staging_dir(str(output))
    os.makedirs(os.path.join(staging, "data"))
    with open(os.path.join(staging, "data", "part-00000-of-00001.parquet"), "w") as handle:
        handle.write("new")
    publish_run(staging, str(output))
    assert sorted(os.listdir(output / "data")) == ["part-00000-of-00001.parquet"]
    assert os.listdir(tmp_path) == ["out"]


def test_dataflow_dry_run_builds_the_job_offline(capsys, monkeypatch):
    if importlib.util.find_spec("google.cloud.storage") is None:
        pytest.skip("needs apache-beam[gcp] (pip install 'macrodata[gcp]')")
    import apache_beam as beam

    results = []
    submit = beam.Pipeline.run

    def keep_result(self, *args, **kwargs):
        results.append(submit(self, *args, **kwargs))
        return results[-1]

    monkeypatch.setattr(beam.Pipeline, "run", keep_result)
    image = "europe-docker.pkg.dev/macrodata-example/images/macrodata:0.1.0"
    status = main(
        [
            "run",
            "--input",
            SAMPLE_WARC,
            "--output",
            "gs://macrodata-example/out",
            "--runner",
            "DataflowRunner",
            "--dry_run=True",
            "--project",
            "macrodata-example",
            "--region",
            "us-central1",
            "--temp_location",
            "gs://macrodata-example/tmp",
            "--sdk_container_image",
            image,
            "--sdk_location=container",
        ]
    )
    assert status == 0
    assert "dry run: job built for DataflowRunner" in capsys.readouterr().out
    job = results[0].job.proto_pipeline
    names = {t.unique_name for t in job.components.transforms.values()}
    assert {"read/Read WARC", "Write shard", "Finalize"} <= names
    # Each stage's composite, by its registry name; adjacent filters share one ("a+b+c").
    composites = {part for name in names if "/" not in name for part in name.split("+")}
    assert {stage.name for stage in recipe_stages("refinedweb")} <= composites
    environments = [e.payload for e in job.components.environments.values()]
    assert any(image.encode() in payload for payload in environments)
