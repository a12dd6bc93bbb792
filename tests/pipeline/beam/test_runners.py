"""The same run on the local FnApiRunner and on the PortableRunner against an external worker
pool (pickled code in other processes, as on Flink, Spark and Dataflow): identical output, and
identical again on a second run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT, SAMPLE_WARC, load_json

# The input of every run here: one place to point the runner tests at other data.
RUNNER_INPUT = SAMPLE_WARC
# Small shards so several are written and shard assignment is exercised.
RUN_ARGS = ["--languages", "all", "--set", "output.shard_target_bytes=8000"]
# Seconds before a run (or the worker pool start) counts as hung.
RUN_TIMEOUT = 600
POOL_START_TIMEOUT = 60


def run_env() -> dict:
    """This checkout importable, and the venv's `python` first on PATH: the worker pool starts
    workers with the bare `python`, and a worker without Beam dies silently."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    return env


def macrodata_run(output: str, *beam_args: str) -> None:
    """`macrodata run` over RUNNER_INPUT in a subprocess, under a timeout."""
    command = [sys.executable, "-m", "pipeline.cli", "run", "--input", RUNNER_INPUT]
    command += ["--output", output, *RUN_ARGS, *beam_args]
    result = subprocess.run(
        command, env=run_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    assert result.returncode == 0, result.stderr[-3000:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, pool: subprocess.Popen) -> None:
    deadline = time.monotonic() + POOL_START_TIMEOUT
    while time.monotonic() < deadline:
        if pool.poll() is not None:
            pytest.fail(f"worker pool exited with {pool.returncode}")
        with socket.socket() as probe:
            if probe.connect_ex(("localhost", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"worker pool did not listen on port {port} within {POOL_START_TIMEOUT}s")


def comparable_stats(output: str) -> str:
    """stats.json without what legitimately differs between runs: the timings under "run"."""
    with open(os.path.join(output, "stats.json"), encoding="utf-8") as handle:
        stats = json.load(handle)
    stats.pop("run")
    # Text, not dicts: key order must match too.
    return json.dumps(stats, indent=1)


def run_files(output: str) -> dict[str, bytes]:
    """Every file of a run by relative path, but stats.json and report.html (they hold times)."""
    files = {}
    for directory, _, names in os.walk(output):
        for name in names:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, output)
            if relative not in ("stats.json", "report.html"):
                with open(path, "rb") as handle:
                    files[relative] = handle.read()
    return files


def assert_same_run(a: str, b: str) -> None:
    files_a, files_b = run_files(a), run_files(b)
    assert sorted(files_a) == sorted(files_b)
    rows_a = pq.read_table(os.path.join(a, "data")).to_pylist()
    rows_b = pq.read_table(os.path.join(b, "data")).to_pylist()
    assert rows_a == rows_b
    assert comparable_stats(a) == comparable_stats(b)
    different = [name for name in sorted(files_a) if files_a[name] != files_b[name]]
    assert different == []


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> str:
    output = str(tmp_path_factory.mktemp("runners") / "local")
    macrodata_run(output)
    return output


@pytest.fixture(scope="module")
def worker_pool():
    """A local external worker pool, as a Flink/Spark worker-pool sidecar; always stopped."""
    port = free_port()
    pool = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "apache_beam.runners.worker.worker_pool_main",
            f"--service_port={port}",
        ],
        env=run_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its workers go with it
    )
    try:
        wait_for_port(port, pool)
        yield port
    finally:
        os.killpg(pool.pid, 9)
        pool.wait(timeout=30)


def test_local_run_has_something_to_compare(local_run):
    manifest = load_json(os.path.join(local_run, "manifest.json"))
    assert len(manifest["shards"]) >= 2
    assert manifest["documents"] > 0 and manifest["tokens"] > 0
    assert len(os.listdir(os.path.join(local_run, "dropped"))) >= 3


@pytest.mark.distributed
def test_second_local_run_is_identical(local_run, tmp_path):
    again = str(tmp_path / "again")
    macrodata_run(again)
    assert_same_run(local_run, again)


@pytest.mark.distributed
def test_portable_run_on_a_worker_pool_equals_the_local_run(local_run, worker_pool, tmp_path):
    portable = str(tmp_path / "portable")
    macrodata_run(
        portable,
        "--runner",
        "PortableRunner",
        "--job_endpoint=embed",
        "--environment_type=EXTERNAL",
        f"--environment_config=localhost:{worker_pool}",
    )
    with open(os.path.join(portable, "stats.json"), encoding="utf-8") as handle:
        assert json.load(handle)["run"]["runner"] == "PortableRunner"
    assert_same_run(local_run, portable)
