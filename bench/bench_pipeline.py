"""Throughput and memory of `macrodata run`, whole and per stage.

    python bench/bench_pipeline.py --input '../shared/corpus/*.warc.gz' [--repeat 3]
        [--case NAME ...] [-- extra macrodata/Beam arguments]

For each case it runs the real CLI in a child process `--repeat` times and prints medians of:
documents per CPU-second (HTML documents read / user+system CPU of the run and all its
processes), wall seconds, peak resident memory of the largest process, and the split of worker
time between stages (stats.json run.stage_seconds). `--stages` instead times each per-document
stage in-process, without Beam, on the same documents (documents per CPU-second per stage).
Compare ratios measured in one invocation: the machine may be shared.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

FILTER_ONLY = "url_filter,line_corrections,minhash,exact_substring,url_dedup,tokenize,exact_dedup"
CASES = {
    # The peer's stage set: read, extraction, language ID, Gopher repetition and quality.
    "filters-trafilatura": ["--languages", "all", "--skip", FILTER_ONLY],
    "filters-resiliparse": [
        "--languages",
        "all",
        "--skip",
        FILTER_ONLY,
        "--extractor",
        "resiliparse",
    ],
    # Every stage, both dedups, tokenization.
    "full": ["--languages", "all"],
}
_MEASURE = """
import json, resource, subprocess, sys, time
started = time.monotonic()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "wall": time.monotonic() - started,
                  "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}))
"""


def known_stages() -> set[str]:
    """Stage names this version of the CLI accepts in --skip."""
    from pipeline.cli import SKIPPABLE

    return set(SKIPPABLE)


def case_args(name: str) -> list[str]:
    """A case's arguments, with --skip narrowed to stages this version has."""
    args = list(CASES[name])
    if "--skip" in args:
        i = args.index("--skip") + 1
        args[i] = ",".join(s for s in args[i].split(",") if s in known_stages())
    return args


def run_once(inputs: list[str], args: list[str]) -> dict:
    """One measured run of the CLI; returns the figures and the run's stats."""
    output = tempfile.mkdtemp(prefix="macrodata-bench-")
    command = [sys.executable, "-m", "pipeline.cli", "run", "--output", output, "--overwrite"]
    for pattern in inputs:
        command += ["--input", pattern]
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command, *args], capture_output=True, text=True
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    if figures["code"] != 0:
        raise SystemExit(f"run failed: {' '.join(command + args)}\n{result.stderr[-2000:]}")
    with open(os.path.join(output, "stats.json"), encoding="utf-8") as handle:
        figures["stats"] = json.load(handle)
    return figures


def report_case(name: str, runs: list[dict]) -> None:
    stats = runs[-1]["stats"]
    documents = stats["stages"][0]["out"]
    cpu = statistics.median(r["cpu"] for r in runs)
    wall = statistics.median(r["wall"] for r in runs)
    peak = max(r["peak_mb"] for r in runs)
    print(f"\n== {name}: {documents} HTML documents, {len(runs)} run(s)")
    print(f"   documents per CPU-second: {documents / cpu:8.1f}   (CPU {cpu:.1f}s)")
    print(f"   documents per wall-second:{documents / wall:8.1f}   (wall {wall:.1f}s)")
    print(f"   peak memory of the largest process: {peak:.0f} MB")
    seconds: dict[str, list[float]] = {}
    for run in runs:
        for stage, value in run["stats"].get("run", {}).get("stage_seconds", {}).items():
            seconds.setdefault(stage, []).append(value)
    total = sum(statistics.median(v) for v in seconds.values()) or 1.0
    for stage, values in seconds.items():
        median = statistics.median(values)
        share = 100 * median / total
        print(f"   {stage:18s} {median:8.2f}s worker time  {share:5.1f}%")
    tokens = stats["final"].get("tokens", 0)
    if tokens:
        print(f"   output: {stats['final']['documents']} documents, {tokens:,} tokens")


def bench_stages(inputs: list[str], repeat: int) -> None:
    """Each per-document stage alone, in-process: documents per CPU-second."""
    from pipeline.config import Config
    from pipeline.stages import build_stages
    from pipeline.warc import iter_warc

    files = sorted({f for pattern in inputs for f in glob.glob(pattern)})
    docs = []
    started = time.process_time()
    for path in files:
        with open(path, "rb") as handle:
            docs += [o.document for o in iter_warc(handle, path) if o.document is not None]
    read = time.process_time() - started
    print(f"read {len(docs)} documents: {len(docs) / read:.0f} documents per CPU-second")
    overrides = {"language.languages": ["all"], "extract.timeout_seconds": 0}
    for stage in build_stages(Config.load(overrides=overrides)):
        stage.setup()
        rates, kept = [], []
        for _ in range(repeat):
            kept = []
            started = time.process_time()
            for doc in docs:
                doc, verdict = stage.apply(doc)
                if verdict.keep:
                    kept.append(doc)
            rates.append(len(docs) / max(time.process_time() - started, 1e-9))
        print(
            f"{stage.name:18s} {len(docs):5d} -> {len(kept):5d}  "
            f"{statistics.median(rates):9.1f} documents per CPU-second"
        )
        docs = kept


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", action="append", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--stages", action="store_true", help="time each stage in-process")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    if args.stages:
        bench_stages(args.input, args.repeat)
        return
    for name in args.case or list(CASES):
        runs = [run_once(args.input, case_args(name) + extra) for _ in range(args.repeat)]
        report_case(name, runs)


if __name__ == "__main__":
    main()
