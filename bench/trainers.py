"""Exports read by the trainers' own loaders, and what an export costs next to its run.

    python bench/trainers.py --peer-python PEERS/bin/python --input 'WARC_PATTERN' [--input ...]
    python bench/trainers.py --peer-python PEERS/bin/python --run RUN_DIR [--run-cpu SECONDS]

The peers' environment holds megatron-core 0.19 and mosaicml-streaming 0.13 (never project
dependencies; this script installs nothing). With `--input` the bench first runs the pipeline
on the files (the real CLI in a child process), measuring the CPU seconds of its whole process
tree; with `--run` it exports a finished run (`--run-cpu`: that run's CPU seconds, if known).
Then it exports the run in both formats (`--validation-fraction`, default 0.01), each measured
the same way (CPU and peak resident memory of the whole process tree), and checks:

- here, with pyarrow: every exported file's provenance table against the run's shards (ids,
  URLs, sources, token counts and starts), and every document of the run exported exactly
  once, to the same split in both formats;
- with the peers' python (bench/peer_trainers.py): every Megatron part opened with
  megatron-core's IndexedDataset and every MDS split with streaming's LocalDataset and
  StreamingDataset, each document's tokens compared with the shards' input_ids.

It prints one line per file checked, and for each format its CPU seconds, peak memory and CPU
share of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_pipeline import measure  # noqa: E402 (the project's tree CPU and memory sampler)

PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_trainers.py")
FORMATS = ("megatron", "mds")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


def run_pipeline(inputs: list[str], work: str) -> tuple[str, float, float]:
    """A measured run of the pipeline: its output, CPU seconds and peak memory (MB)."""
    output = os.path.join(work, "run")
    command = cli("run", "--output", output, "--overwrite")
    for pattern in inputs:
        command += ["--input", pattern]
    figures = measure(command)
    return output, figures["cpu"], figures["peak_mb"]


def export(run: str, export_format: str, work: str, fraction: float) -> tuple[str, dict]:
    """A measured export of `run`: its directory and figures."""
    output = os.path.join(work, f"export-{export_format}")
    command = cli(
        "export",
        run,
        "--format",
        export_format,
        "--output",
        output,
        "--overwrite",
        "--validation-fraction",
        str(fraction),
    )
    return output, measure(command)


def shard_documents(run: str) -> dict[str, tuple[str, str, np.ndarray]]:
    """id -> (url, source, token ids) of every document of a run, from its shards."""
    with open(os.path.join(run, "manifest.json"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    documents = {}
    for shard in manifest["shards"]:
        table = pq.read_table(
            os.path.join(run, shard["path"]), columns=["id", "url", "source", "input_ids"]
        )
        for batch in table.to_batches():
            ids = batch.column("input_ids")
            offsets = ids.offsets.to_numpy()
            values = ids.values.to_numpy()
            for i, (doc_id, url, source) in enumerate(
                zip(
                    batch.column("id").to_pylist(),
                    batch.column("url").to_pylist(),
                    batch.column("source").to_pylist(),
                    strict=True,
                )
            ):
                documents[doc_id] = (url, source, values[offsets[i] : offsets[i + 1]].copy())
    return documents


def units(directory: str, summary: dict) -> list[tuple[str, str, str]]:
    """(split, what a loader opens, its provenance file) of an export."""
    found = []
    for entry in summary["files"]:
        path = entry["path"]
        if summary["format"] == "megatron" and path.endswith(".bin"):
            prefix = os.path.join(directory, path.removesuffix(".bin"))
            found.append((entry["split"], prefix, prefix + ".documents.parquet"))
        if summary["format"] == "mds" and path.endswith("/index.json") and entry["documents"]:
            split_dir = os.path.join(directory, entry["split"])
            found.append((entry["split"], split_dir, os.path.join(split_dir, "documents.parquet")))
    return found


def check_here(
    directory: str, documents: dict, work: str
) -> tuple[list[dict], dict[str, str], list[str]]:
    """Provenance against the shards; the peers' plan (expected tokens); id -> split."""
    with open(os.path.join(directory, "export.json"), encoding="utf-8") as handle:
        summary = json.load(handle)
    plan, split_of, problems = [], {}, []
    for n, (split, target, provenance_path) in enumerate(units(directory, summary)):
        table = pq.read_table(provenance_path).to_pylist()
        start, lengths, ids, pieces = 0, [], [], []
        for row in table:
            url, source, tokens = documents[row["id"]]
            if (row["url"], row["source"]) != (url, source):
                problems.append(f"{provenance_path}: {row['id']}: url or source differs")
            if row["token_start"] != start or row["token_count"] != len(tokens):
                problems.append(f"{provenance_path}: {row['id']}: token range differs")
            if row["id"] in split_of:
                problems.append(f"{provenance_path}: {row['id']}: exported twice")
            split_of[row["id"]] = split
            start += len(tokens)
            lengths.append(len(tokens))
            ids.append(row["id"])
            pieces.append(tokens)
        stem = os.path.join(work, f"{summary['format']}-{n}")
        tokens = np.concatenate(pieces) if pieces else np.zeros(0, np.uint32)
        np.save(stem + ".tokens.npy", tokens.astype(np.int64))
        np.save(stem + ".lengths.npy", np.array(lengths, np.int64))
        with open(stem + ".ids.json", "w", encoding="utf-8") as handle:
            json.dump(ids, handle)
        item = {
            "format": summary["format"],
            "ids": stem + ".ids.json",
            "lengths": stem + ".lengths.npy",
            "tokens": stem + ".tokens.npy",
            "dtype": summary["dtype"],
        }
        item["prefix" if summary["format"] == "megatron" else "directory"] = target
        plan.append(item)
    missing = set(documents) - set(split_of)
    if missing:
        problems.append(f"{directory}: {len(missing)} documents of the run not exported")
    return plan, split_of, problems


def read_with_peers(peer_python: str, plan: list[dict], work: str) -> dict:
    """The peers' loaders over every part; their summary (the last line they print)."""
    path = os.path.join(work, "plan.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(plan, handle)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [peer_python, PEER_SCRIPT, path], capture_output=True, text=True, env=env, cwd=work
    )
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise SystemExit(f"peer loaders failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    for line in lines[:-1]:
        print("  " + line)
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", action="append", help="WARC files to run the pipeline on")
    source.add_argument("--run", help="a finished run's output directory")
    parser.add_argument("--run-cpu", type=float, help="--run: that run's CPU seconds")
    parser.add_argument("--peer-python", required=True, help="python of the peers' venv")
    parser.add_argument("--validation-fraction", type=float, default=0.01)
    parser.add_argument("--work", help="where runs and exports go (default: a temp directory)")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="macrodata-trainers-")
    os.makedirs(work, exist_ok=True)
    if args.input:
        run, run_cpu, run_peak = run_pipeline(args.input, work)
        print(f"run of {' '.join(args.input)}: {run_cpu:.1f} CPU s, peak {run_peak:.0f} MB")
    else:
        run, run_cpu = os.path.abspath(args.run), args.run_cpu
    documents = shard_documents(run)
    tokens = sum(len(t) for _, _, t in documents.values())
    print(f"run {run}: {len(documents):,} documents, {tokens:,} tokens")
    figures, splits, failed = {}, {}, False
    for export_format in FORMATS:
        directory, measured = export(run, export_format, work, args.validation_fraction)
        figures[export_format] = measured
        plan, splits[export_format], problems = check_here(directory, documents, work)
        for problem in problems[:20]:
            print("  PROVENANCE " + problem)
        peers = read_with_peers(args.peer_python, plan, work)
        failed |= bool(problems or peers["failures"]) or peers["documents"] != len(documents)
        print(
            f"{export_format}: {peers['checked']} files read by the loaders, "
            f"{peers['documents']:,} documents, {peers['tokens']:,} tokens equal to the shards; "
            f"provenance problems: {len(problems)}; loader failures: {len(peers['failures'])}"
        )
    if splits["megatron"] != splits["mds"]:
        print("SPLITS DIFFER between the two exports")
        failed = True
    validation = sum(1 for s in splits["mds"].values() if s == "validation")
    print(f"splits: {validation:,} of {len(documents):,} documents in validation, same in both")
    for export_format, measured in figures.items():
        share = f", {100 * measured['cpu'] / run_cpu:.2f}% of the run's CPU" if run_cpu else ""
        print(
            f"export {export_format}: {measured['cpu']:.1f} CPU s, {measured['wall']:.1f} s wall, "
            f"peak {measured['peak_mb']:.0f} MB (process tree){share}"
        )
    if run_cpu:
        print(f"run: {run_cpu:.1f} CPU s")
    print("FAILED" if failed else "all exported documents read back by the trainers' loaders")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
