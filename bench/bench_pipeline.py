"""Throughput and memory of `macrodata run`, whole and per stage, and against the closest peer.

    python bench/bench_pipeline.py --input '../shared/corpus/*.warc.gz' [--repeat 3]
        [--case NAME ...] [--peer-python PEER_VENV/bin/python] [-- extra macrodata/Beam arguments]
    python bench/bench_pipeline.py --input BIG.warc.gz --cc-file [--case NAME ...] [--save DIR]

For each case it runs the real CLI in a child process `--repeat` times (the cases' runs taking
turns) and prints medians of: documents per CPU-second (HTML documents read / user+system CPU of
the run and all its processes), wall seconds, peak resident memory of the whole process tree (the
run, its extraction processes and any Beam workers, summed at one instant, sampled from /proc
every 0.25 s), and the split of worker time between stages (stats.json run.stage_seconds).

`--peer-python` adds the case "peer-datatrove": bench/peer_datatrove.py run by that interpreter
(a separate environment with datatrove 0.10.1; never a dependency of this project) does the same
work with datatrove's own pipeline (WARC reader, Trafilatura, language ID for every language,
Gopher repetition and quality), under the same measurement and with the same language model.
It prints both funnels (documents into and out of each step), each side's documents per
CPU-second on the HTML pages it read itself, and the ratio of each of our cases to the peer.

Every case is also run on WARCs holding no page (one warcinfo record each, as many files as the
input): what a run costs whatever its size (interpreter and Beam start-up, job graph, models,
the extraction processes, report). Its CPU is printed as the fixed cost, and documents per
CPU-second net of it as the rate at scale, where a worker's fixed cost is spread over many WARC
files.

`--cc-file` is the case of one CommonCrawl-sized WARC file (tens of thousands of pages): one run
of each case (by default `full`; `full-no-minhash` and `full-no-exact-substring` leave one dedup
out), no fixed-cost runs, and for each the tree's memory when the last record was read (the
extraction processes go idle) and a timeline of its peak with the runner stage then running
(the bench turns on the runner's per-stage log line). Then trafilatura alone, in a plain loop in
a child process with the default extraction options, on one HTML page in k of the same files (at
least `--alone-pages`), and each case's documents per CPU-second over trafilatura's. `--save DIR`
keeps each run's stats.json and memory timeline.

`--recipes` runs the cases recipe-refinedweb and recipe-fineweb (each recipe as it ships, on
the same input, taking turns) and prints the fineweb recipe's documents per CPU-second over the
refinedweb recipe's; with `--cc-file`, one run of each on one CommonCrawl-sized file.

`--stages` instead times each per-document stage in-process, without Beam, on the same documents
(documents per CPU-second and peak resident memory per stage). Compare ratios measured in one
invocation: the machine may be shared.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

# The filter figures: read, extraction, language ID, Gopher repetition and quality (and the
# exact-document dedup, which costs little).
FILTER_ONLY = "url_filter,line_corrections,minhash,exact_substring,url_dedup,tokenize"
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
    # The full run less one corpus-level stage: what that stage costs in CPU and memory.
    "full-no-minhash": ["--languages", "all", "--skip", "minhash"],
    "full-no-exact-substring": ["--languages", "all", "--skip", "exact_substring"],
    # Each recipe as it ships (English pages, every stage of the recipe): --recipes runs both.
    "recipe-refinedweb": ["--recipe", "refinedweb"],
    "recipe-fineweb": ["--recipe", "fineweb"],
    # The fineweb recipe without trafilatura's fallback extractors (refinedweb's `fast`).
    "recipe-fineweb-fast-extract": ["--recipe", "fineweb", "--set", "extract.fast=true"],
}
RECIPE_CASES = ("recipe-refinedweb", "recipe-fineweb")
# The cases run when none is named.
DEFAULT_CASES = ("filters-trafilatura", "filters-resiliparse", "full")
PEER = "peer-datatrove"
PEER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_datatrove.py")
# Our stages that do the peer's steps, in the peer's order.
PEER_STEPS = ("read", "extract", "language", "repetition", "quality")
# How often the process tree is sampled for memory.
SAMPLE_SECONDS = 0.25
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# In the command line of an extraction process only (pipeline/extract.py starts them so).
EXTRACTION_PROCESS = b"_sandbox_entry"
# The portable runner logs each fused stage it starts at DEBUG; the bench turns that logger on
# (the CLI leaves Beam at WARNING), so the memory timeline can say which stage was running.
BUNDLE_LOGGER = "apache_beam.runners.portability.fn_api_runner.fn_runner.run_bundle"
BUNDLE_LINE = "Running bundle for stage "
_CLI = (
    f"import logging, sys; logging.getLogger({BUNDLE_LOGGER!r}).setLevel(logging.DEBUG); "
    "from pipeline.cli import main; sys.exit(main(sys.argv[1:]))"
)


# Trafilatura alone, in a plain loop over every `every`-th HTML page of the files, with the
# default config's extraction options and HTML cap; prints the loop's CPU seconds.
_EXTRACT_ALONE = """
import json, logging, sys, time
from pipeline.config import Config
from pipeline.extract import extract_main_text
from pipeline.stages import build_stage
from pipeline.warc import ReadLimits, iter_warc

every, paths = int(sys.argv[1]), sys.argv[2:]
config = Config.load()
stage = build_stage("extract", config)
limits = ReadLimits(**config.section("read"))
pages, seen = [], 0
for path in paths:
    with open(path, "rb") as handle:
        for outcome in iter_warc(handle, path, limits):
            if outcome.document is not None:
                if seen % every == 0:
                    pages.append(outcome.document.html[: stage.max_html_chars])
                seen += 1
# As in the extraction process: no per-page chatter, and the import and warm-up not timed.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
extract_main_text("<html><body><p>ready</p></body></html>", stage.settings)
started, cpu = time.monotonic(), time.process_time()
for html in pages:
    extract_main_text(html, stage.settings)
print(json.dumps({"pages": len(pages), "of": seen, "every": every,
                  "cpu": time.process_time() - cpu, "wall": time.monotonic() - started}))
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


def empty_warcs(count: int) -> list[str]:
    """`count` WARC files with one warcinfo record and no page: the input of the fixed-cost
    runs. As many files as the real input, so that a run starts as many workers."""
    from warcio.warcwriter import WARCWriter

    folder = tempfile.mkdtemp(prefix="macrodata-bench-")
    paths = []
    for i in range(count):
        paths.append(os.path.join(folder, f"empty-{i:05d}.warc.gz"))
        with open(paths[-1], "wb") as handle:
            writer = WARCWriter(handle, gzip=True)
            info = writer.create_warcinfo_record(os.path.basename(paths[-1]), {"software": "bench"})
            writer.write_record(info)
    return paths


def input_files(inputs: list[str]) -> list[str]:
    """The files the input patterns name, sorted."""
    return sorted({f for pattern in inputs for f in glob.glob(pattern)})


def _processes() -> dict[int, tuple[int, float, int]]:
    """Every process now: pid -> (parent pid, CPU seconds so far, resident bytes)."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                # Fields after the command name (which may hold spaces and parentheses): state,
                # ppid, ..., utime and stime (fields 14, 15 of proc(5)), ..., rss (24, pages).
                fields = handle.read().rpartition(b")")[2].split()
        except OSError:  # it exited meanwhile
            continue
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        found[int(name)] = (int(fields[1]), cpu, int(fields[21]) * PAGE_BYTES)
    return found


def _tree(root: int, processes: dict[int, tuple[int, float, int]]) -> list[int]:
    """`root` and all its descendants among `processes`."""
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        if pid in processes:
            tree.append(pid)
            pending += children.get(pid, [])
    return tree


class TreeSampler(threading.Thread):
    """Samples the resident memory of a process and all its descendants, summed at one instant.

    The largest process alone (ru_maxrss) misses the extraction processes and any Beam workers,
    which hold memory at the same time. Samples are (seconds since start, tree bytes, CPU seconds
    the extraction processes have used so far, and the whole tree): the extraction processes go
    idle once the last page is read.
    """

    def __init__(self, root: int):
        super().__init__(daemon=True)
        self.root = root
        self.started = time.monotonic()
        self.samples: list[tuple[float, int, float, float]] = []
        self.done = threading.Event()
        self.cpu: dict[int, float] = {}  # process of the tree -> its CPU seconds so far
        self.extraction: set[int] = set()
        self.others: set[int] = set()

    def run(self) -> None:
        while not self.done.is_set():
            processes = _processes()
            tree = _tree(self.root, processes)
            if tree:
                rss = sum(processes[pid][2] for pid in tree)
                for pid in tree:
                    self.cpu[pid] = processes[pid][1]
                    if pid not in self.extraction and self._is_extraction(pid):
                        self.extraction.add(pid)
                extraction_cpu = sum(self.cpu[pid] for pid in self.extraction)
                tree_cpu = sum(self.cpu.values())  # processes that exited keep their last figure
                now = time.monotonic() - self.started
                self.samples.append((now, rss, extraction_cpu, tree_cpu))
            self.done.wait(SAMPLE_SECONDS)

    def _is_extraction(self, pid: int) -> bool:
        if pid in self.others:
            return False
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if EXTRACTION_PROCESS in handle.read():
                    return True
        except OSError:
            pass
        self.others.add(pid)
        return False

    def stop(self) -> None:
        self.done.set()
        self.join()

    def peak_mb(self) -> float:
        return max((sample[1] for sample in self.samples), default=0) / 2**20


def measure(command: list[str]) -> dict:
    """CPU (of the command and all its processes), wall, and the memory of the process tree.

    Also returns the memory samples and the command's log lines, each with its time.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeSampler(process.pid)
    sampler.start()
    log = [(time.monotonic() - started, line.decode("utf-8", "replace")) for line in process.stderr]
    process.wait()
    sampler.stop()
    wall = time.monotonic() - started
    # The children's CPU counts every descendant that was waited for: extraction processes and
    # Beam workers are, by their parents.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if process.returncode != 0:
        error = "".join(line for _, line in log)[-2000:]
        raise SystemExit(f"run failed: {' '.join(command)}\n{error}")
    return {
        "wall": wall,
        "cpu": cpu,
        "peak_mb": sampler.peak_mb(),
        "samples": sampler.samples,
        "log": log,
    }


def run_once(inputs: list[str], args: list[str]) -> dict:
    """One measured run of the CLI; returns the figures, the run's stats and memory timeline."""
    output = tempfile.mkdtemp(prefix="macrodata-bench-")
    command = [sys.executable, "-c", _CLI, "run", "--output", output, "--overwrite"]
    for pattern in inputs:
        command += ["--input", pattern]
    figures = measure(command + args)
    with open(os.path.join(output, "stats.json"), encoding="utf-8") as handle:
        figures["stats"] = json.load(handle)
    figures["timeline"] = timeline(figures["samples"], figures["log"], figures["cpu"])
    return figures


def stage_label(fused: str) -> str:
    """A short name for one of the runner's fused stages: its input and the DoFns it runs."""
    parts = [part.strip("()") for part in fused.split(")+(")]
    first = parts[0].removesuffix("/Read")
    first = re.sub(r"^ref_AppliedPTransform_(.*?)_\d+$", r"\1", first)
    dofns = []
    for part in parts[1:]:
        match = re.search(r"-ParDo-(\w+?)-_\d+$", part)
        if match and match.group(1) not in dofns:
            dofns.append(match.group(1))
    return f"{first} [{', '.join(dofns)}]" if dofns else first


def timeline(samples: list, log: list, cpu: float) -> dict:
    """When each runner stage started, when reading ended, and the tree's memory and CPU then."""
    stages = [
        (t, stage_label(line.split(BUNDLE_LINE, 1)[1].strip()))
        for t, line in log
        if BUNDLE_LINE in line
    ]
    # Reading ends with the last page extracted: the extraction processes then stop using CPU.
    final = samples[-1][2] if samples else 0.0
    read_end = next((s[0] for s in samples if s[2] >= final), 0.0) if final else 0.0
    if not read_end:  # no extraction process seen: the last progress line of the reader
        read_end = max((t for t, line in log if "WARC records read" in line), default=0.0)
    before = [s[1] for s in samples if s[0] <= read_end] or [0]
    after = [s[1] for s in samples if s[0] > read_end] or [0]
    read_cpu = max((s[3] for s in samples if s[0] <= read_end), default=0.0)
    return {
        "read_end": read_end,
        "read_end_cpu": read_cpu,
        # From the run's own CPU: /proc misses what processes used in their last instant.
        "after_read_cpu": cpu - read_cpu,
        "read_end_mb": before[-1] / 2**20,
        "peak_before_mb": max(before) / 2**20,
        "peak_after_mb": max(after) / 2**20,
        "stages": stages,
    }


def stage_at(stages: list, t: float) -> str:
    """The runner stage running at time `t` (the last one started before it)."""
    return next((name for started, name in reversed(stages) if started <= t), "(start-up)")


def report_memory(figures: dict, rows: int = 12) -> None:
    """The tree's memory when reading ended, and over time with the stage then running."""
    line = figures["timeline"]
    samples = figures["samples"]
    print(
        f"   memory of the process tree, last run: {line['read_end_mb']:.0f} MB when the last "
        f"record was read (at {line['read_end']:.0f}s; peak until then "
        f"{line['peak_before_mb']:.0f} MB), peak after it {line['peak_after_mb']:.0f} MB"
    )
    print(
        f"   CPU of the process tree until the last record was read: {line['read_end_cpu']:.1f}s,"
        f" after it (dedup, shards, report): {line['after_read_cpu']:.1f}s"
    )
    if not samples:
        return
    # `rows` equal slices of the run: the peak in each and the stage running at that peak.
    end = samples[-1][0]
    print(f"   {'time':>11s} {'peak MB':>8s}  runner stage at that peak")
    for row in range(rows):
        low, high = end * row / rows, end * (row + 1) / rows
        chunk = [(s[1], s[0]) for s in samples if low <= s[0] <= high]
        if chunk:
            rss, t = max(chunk)
            print(f"   {low:4.0f}-{high:4.0f}s {rss / 2**20:8.0f}  {stage_at(line['stages'], t)}")


def save_run(folder: str, name: str, index: int, figures: dict) -> None:
    """A run's stats.json and memory timeline (samples, log lines) under `folder`."""
    os.makedirs(folder, exist_ok=True)
    stem = os.path.join(folder, f"{name}-{index}")
    with open(stem + ".stats.json", "w", encoding="utf-8") as handle:
        json.dump(figures["stats"], handle, indent=2)
    kept = {k: figures[k] for k in ("wall", "cpu", "peak_mb", "timeline", "samples", "log")}
    with open(stem + ".timeline.json", "w", encoding="utf-8") as handle:
        json.dump(kept, handle)


def extract_alone(inputs: list[str], pages_read: int, least: int) -> dict:
    """Trafilatura alone on every k-th HTML page (at least `least` pages), in a child process."""
    every = max(1, pages_read // least)
    command = [sys.executable, "-c", _EXTRACT_ALONE, str(every), *input_files(inputs)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"trafilatura alone failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def report_extract_alone(alone: dict, rates: dict[str, float]) -> None:
    """Trafilatura alone's documents per CPU-second, and each case's ratio to it."""
    rate = alone["pages"] / alone["cpu"]
    sample = "every page" if alone["every"] == 1 else f"one page in {alone['every']}"
    print(
        f"\n== trafilatura alone (default extract options, plain loop, one process): "
        f"{alone['pages']} of {alone['of']} HTML pages ({sample})"
    )
    print(f"   documents per CPU-second: {rate:8.1f}   (CPU {alone['cpu']:.1f}s)")
    for name, case_rate in rates.items():
        print(f"   {name} / trafilatura alone: {case_rate / rate:.3f} (documents per CPU-second)")


def lid_model(extra: list[str]) -> str:
    """The language model our runs use: --lid-model if given, else the configured one."""
    from pipeline.config import Config
    from pipeline.langid import bundled_model_path

    if "--lid-model" in extra[:-1]:
        return os.path.abspath(extra[extra.index("--lid-model") + 1])
    return Config.load().section("language")["model_path"] or bundled_model_path()


def run_peer(inputs: list[str], peer_python: str, model: str) -> dict:
    """One measured run of the peer's pipeline; returns the figures and its funnel."""
    logs = tempfile.mkdtemp(prefix="peer-datatrove-bench-")
    command = [peer_python, PEER_SCRIPT, "--lid-model", model, "--logging-dir", logs]
    figures = measure(command + input_files(inputs))
    with open(os.path.join(logs, "funnel.json"), encoding="utf-8") as handle:
        figures["funnel"] = json.load(handle)
    return figures


def check_read(figures: dict, name: str) -> dict:
    """A run over the real input must have read pages (else the figures mean nothing)."""
    steps = figures["funnel"] if "funnel" in figures else figures["stats"]["stages"]
    if steps[0]["out"] == 0:
        raise SystemExit(f"{name} read no HTML page: check --input")
    return figures


def report_figures(name: str, documents: int, runs: list[dict], fixed: list[dict]) -> float:
    """Prints a case's medians; returns its documents per CPU-second."""
    cpu = statistics.median(r["cpu"] for r in runs)
    wall = statistics.median(r["wall"] for r in runs)
    peak = max(r["peak_mb"] for r in runs)
    print(f"\n== {name}: {documents} HTML documents, {len(runs)} run(s)")
    print(f"   documents per CPU-second: {documents / cpu:8.1f}   (CPU {cpu:.1f}s)")
    print(f"   documents per wall-second:{documents / wall:8.1f}   (wall {wall:.1f}s)")
    print(f"   peak memory of the process tree (summed RSS): {peak:.0f} MB")
    if fixed:
        fixed_cpu = statistics.median(r["cpu"] for r in fixed)
        net = max(cpu - fixed_cpu, 1e-9)
        print(
            f"   fixed cost of a run (no page): {fixed_cpu:.1f} CPU-s, "
            f"{statistics.median(r['wall'] for r in fixed):.1f}s wall, "
            f"{max(r['peak_mb'] for r in fixed):.0f} MB"
        )
        print(f"   documents per CPU-second net of it (at scale): {documents / net:8.1f}")
    return documents / cpu


def report_case(name: str, runs: list[dict], fixed: list[dict]) -> float:
    """Prints one of our cases; returns its documents per CPU-second."""
    stats = runs[-1]["stats"]
    rate = report_figures(name, stats["stages"][0]["out"], runs, fixed)
    seconds: dict[str, list[float]] = {}
    for run in runs:
        for stage, value in run["stats"].get("run", {}).get("stage_seconds", {}).items():
            seconds.setdefault(stage, []).append(value)
    total = sum(statistics.median(v) for v in seconds.values()) or 1.0
    for stage, values in seconds.items():
        median = statistics.median(values)
        share = 100 * median / total
        print(f"   {stage:18s} {median:8.2f}s worker time  {share:5.1f}%")
    rest = statistics.median(r["wall"] for r in runs) - total
    if rest > 0:  # one in-process worker: the wall the timed stages leave
        print(f"   the rest of the wall (start-up, reading, dedup, shards, Beam): {rest:.1f}s")
    tokens = stats["final"].get("tokens", 0)
    if tokens:
        print(f"   output: {stats['final']['documents']} documents, {tokens:,} tokens")
    report_memory(runs[-1])
    return rate


def report_peer(runs: list[dict], fixed: list[dict]) -> float:
    """Prints the peer's figures and step times; returns its documents per CPU-second."""
    steps = runs[-1]["funnel"]
    rate = report_figures(PEER, steps[0]["out"], runs, fixed)
    total = sum(step["seconds"] for step in steps) or 1.0
    for step in steps:
        share = 100 * step["seconds"] / total
        print(f"   {step['name']:18s} {step['seconds']:8.2f}s task time    {share:5.1f}%")
    return rate


def report_same_work(ours: dict[str, list[dict]], peer: list[dict]) -> None:
    """Documents into and out of each step, ours next to the peer's, and where reading differs."""
    steps = peer[-1]["funnel"]
    print("\n== same work: documents in -> out of each step (ours: stats.json; peer: its stats)")
    print(f"   {'step':12s}" + "".join(f"{name:>24s}" for name in ours) + f"  {PEER}")
    for stage, step in zip(PEER_STEPS, steps, strict=True):
        row = f"   {stage:12s}"
        for runs in ours.values():
            found = [s for s in runs[-1]["stats"]["stages"] if s["name"] == stage]
            row += f"{found[0]['in']:>11d} -> {found[0]['out']:<9d}" if found else f"{'-':>24s}"
        reasons = ", ".join(f"{k} {v}" for k, v in step["dropped"].items() if v)
        print(f"{row}{step['in']:>11d} -> {step['out']:<6d} {step['name']} {reasons}".rstrip())
    peer_read = steps[0]["out"]
    for name, runs in ours.items():
        read = runs[-1]["stats"]["stages"][0]
        if read["out"] == peer_read:
            print(f"   {name} and {PEER} read the same number of HTML pages: {peer_read}")
            continue
        reasons = ", ".join(f"{k} {v}" for k, v in read["dropped"].items() if v)
        note = (
            f"NOTE: the readers differ: {name} read {read['out']} HTML pages of {read['in']}"
            f" WARC records (it dropped {reasons}); {PEER} yielded {peer_read} (response"
            " records with an HTML payload type that decode, whatever their HTTP status)."
            " Documents per CPU-second count each side's own pages read."
        )
        print(textwrap.fill(note, 96, initial_indent="   ", subsequent_indent="   "))


def _resident_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in MB."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    """Start a new peak-memory measurement (Linux: VmHWM restarts from the current RSS)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
        handle.write("5")


def bench_stages(inputs: list[str], repeat: int) -> None:
    """Each per-document stage alone, in-process: documents per CPU-second, peak memory."""
    from pipeline.config import Config
    from pipeline.stages import filter_stages
    from pipeline.warc import iter_warc

    files = input_files(inputs)
    docs = []
    started = time.process_time()
    for path in files:
        with open(path, "rb") as handle:
            docs += [o.document for o in iter_warc(handle, path) if o.document is not None]
    read = time.process_time() - started
    print(f"read {len(docs)} documents: {len(docs) / read:.0f} documents per CPU-second")
    print(f"process holding them: {_resident_mb('VmRSS'):.0f} MB")
    overrides = {"language.languages": ["all"], "extract.timeout_seconds": 0}
    print("stage                  in ->   out    documents/CPU-s   peak RSS (growth in the stage)")
    for stage in filter_stages(Config.load(overrides=overrides)):

        def kept_by(stage=stage, docs=docs) -> list:
            return [doc for doc, verdict in map(stage.apply, docs) if verdict.keep]

        # Set-up (models) counts towards the stage's memory, not its time.
        seconds, peak, growth, kept = _timed_peak(kept_by, repeat, prepare=stage.setup)
        print(
            f"{stage.name:18s} {len(docs):6d} -> {len(kept):5d}  {len(docs) / seconds:12.1f}"
            f"      {peak:6.0f} MB (+{growth:.0f} MB)"
        )
        stage.teardown()
        docs = kept
    bench_corpus_stages(docs, repeat)


def _timed_peak(step, repeat: int, prepare=None) -> tuple[float, float, float, object]:
    """Median CPU seconds of `step()` over `repeat` runs, peak RSS, its growth, last result.

    `prepare` runs first, inside the memory measurement but outside the timing.
    """
    before = _resident_mb("VmRSS")
    _reset_peak()
    if prepare is not None:
        prepare()
    times, result = [], None
    for _ in range(repeat):
        started = time.process_time()
        result = step()
        times.append(time.process_time() - started)
    peak = _resident_mb("VmHWM")
    return max(statistics.median(times), 1e-9), peak, peak - before, result


def bench_corpus_stages(docs: list, repeat: int) -> None:
    """MinHash, exact-substring and tokenization on the filtered documents, without Beam."""
    from core.tokenizer import load_tokenizer
    from dedup.exact_substring import ExactSubstring, find_repeats, span_tokenizer
    from dedup.minhash import PRESETS, MinHasher
    from pipeline.config import Config

    texts = [doc.text for doc in docs]
    preset = Config.load().section("dedup")["minhash_preset"]
    hasher = MinHasher(PRESETS[preset])
    seconds, peak, growth, _ = _timed_peak(lambda: hasher.band_keys(texts), repeat)
    print(
        f"{'minhash':18s} {len(texts):6d} documents  {len(texts) / seconds:12.1f}"
        f"      {peak:6.0f} MB (+{growth:.0f} MB)  signatures and band keys, "
        f"{PRESETS[preset].num_perm} hashes"
    )
    stage = ExactSubstring()
    spans = span_tokenizer(stage.tokenizer)
    seconds, peak, growth, ids = _timed_peak(lambda: spans.ids(texts), repeat)
    tokens = sum(len(i) for i in ids)
    print(
        f"{'tokenize (spans)':18s} {tokens:6d} tokens  {tokens / seconds / 1e6:10.2f} M/CPU-s"
        f"   {peak:6.0f} MB (+{growth:.0f} MB)  the ids exact_substring hands on to tokenize"
    )
    by_doc = {doc.id: i for doc, i in zip(docs, ids, strict=True)}
    seconds, peak, growth, _ = _timed_peak(lambda: find_repeats(by_doc, stage), repeat)
    print(
        f"{'exact_substring':18s} {tokens:6d} tokens  {tokens / seconds / 1e6:10.2f} M/CPU-s"
        f"   {peak:6.0f} MB (+{growth:.0f} MB)  in memory, without tokenizing or shuffles "
        "(bench_exact_substring.py: with Beam's)"
    )
    tokenizer = load_tokenizer(Config.load().section("tokenize")["tokenizer"])
    seconds, peak, growth, _ = _timed_peak(lambda: tokenizer.encode_batch(texts), repeat)
    print(
        f"{'tokenize':18s} {tokens:6d} tokens  {tokens / seconds / 1e6:10.2f} M/CPU-s"
        f"   {peak:6.0f} MB (+{growth:.0f} MB)  output tokenizer, from text"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", action="append", required=True)
    parser.add_argument("--repeat", type=int, help="runs of each case (default 3; --cc-file: 1)")
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--stages", action="store_true", help="time each stage in-process")
    parser.add_argument(
        "--no-fixed", action="store_true", help="skip the fixed-cost runs on a WARC with no page"
    )
    parser.add_argument(
        "--peer-python", help="interpreter of a datatrove 0.10.1 environment: adds " + PEER
    )
    parser.add_argument(
        "--cc-file",
        action="store_true",
        help="CommonCrawl-sized input: one run of each case (default: full), no fixed-cost "
        "runs, then trafilatura alone on the same pages and each case's ratio to it",
    )
    parser.add_argument(
        "--alone-pages",
        type=int,
        default=3000,
        help="--cc-file: trafilatura alone extracts every k-th page, at least this many",
    )
    parser.add_argument("--save", help="folder for each run's stats.json and memory timeline")
    parser.add_argument(
        "--recipes",
        action="store_true",
        help="run both recipes (" + ", ".join(RECIPE_CASES) + ") and print their ratio",
    )
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    repeat = args.repeat or (1 if args.cc_file else 3)
    if args.stages:
        bench_stages(args.input, repeat)
        return
    names = args.case or (["full"] if args.cc_file else list(DEFAULT_CASES))
    if args.recipes:
        names = [*dict.fromkeys([*(args.case or []), *RECIPE_CASES])]
    model = lid_model(extra) if args.peer_python else ""
    ours: dict[str, list[dict]] = {name: [] for name in names}
    ours_fixed: dict[str, list[dict]] = {name: [] for name in names}
    peer: list[dict] = []
    peer_fixed: list[dict] = []
    fixed = not (args.no_fixed or args.cc_file)
    empty = empty_warcs(len(input_files(args.input))) if fixed else []
    for index in range(repeat):  # cases take turns, so a slow spell of the machine hits all
        for name in names:
            ours[name].append(check_read(run_once(args.input, case_args(name) + extra), name))
            if args.save:
                save_run(args.save, name, index, ours[name][-1])
            if empty:
                ours_fixed[name].append(run_once(empty, case_args(name) + extra))
        if args.peer_python:
            peer.append(check_read(run_peer(args.input, args.peer_python, model), PEER))
            if empty:
                peer_fixed.append(run_peer(empty, args.peer_python, model))
    rates = {name: report_case(name, ours[name], ours_fixed[name]) for name in names}
    if args.recipes:
        refinedweb = rates[RECIPE_CASES[0]]
        print()
        for name in names:
            if name != RECIPE_CASES[0] and name.startswith("recipe-"):
                print(
                    f"{name}: {rates[name]:.1f} documents per CPU-second, recipe-refinedweb "
                    f"{refinedweb:.1f}: {rates[name] / refinedweb:.2f}x"
                )
    if args.cc_file:
        pages_read = ours[names[0]][-1]["stats"]["stages"][0]["out"]
        report_extract_alone(extract_alone(args.input, pages_read, args.alone_pages), rates)
    if not peer:
        return
    peer_rate = report_peer(peer, peer_fixed)
    report_same_work(ours, peer)
    print()
    for name, rate in rates.items():
        print(f"{name} vs {PEER}: {rate / peer_rate:.2f}x documents per CPU-second")


if __name__ == "__main__":
    main()
