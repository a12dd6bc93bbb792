"""Where a run's CPU goes: py-spy samples of the worker and extraction processes, by component.

    python bench/profile_run.py record --input FILE --profile OUT.raw [--rate 50]
        [-- extra macrodata arguments, e.g. --skip minhash]
    python bench/profile_run.py summary OUT.raw [OUT.raw ...]

`record` runs `macrodata run --languages all` (every stage, the default local mode) under
`py-spy record --subprocesses --format raw` (py-spy must be installed: `pip install py-spy`),
so the worker and every extraction process are sampled. `summary` splits the samples by process
(worker, extraction processes) and, within each, by component: each sample goes to the innermost
frame that belongs to a known component (library code such as numpy, pickle or the tokenizer
backends counts for the project code that called it), so e.g. fastText counts as language ID
and Beam's coders as Beam. Samples are of threads running or ready to run (py-spy leaves
sleeping threads out), so on a busy machine they overstate CPU where processes compete for
cores: profile with `--extract-processes 1` on two cores, and read shares, not seconds.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from collections import Counter

# Each frame is matched as "file:function", against any of a rule's patterns. Checked on the
# whole stack first: start-up work.
WHOLE_STACK = [
    ("start-up: imports", [r"<frozen importlib\._bootstrap"]),
    ("start-up: extraction processes", [r"extract\.py:_Sandbox\.start$"]),
    ("start-up: job graph", [r":PTransform\.to_runner_api$", r"pipeline_options\.py:"]),
    (
        "start-up: models, tokenizers",
        [r"langid\.py:load_model$", r"tokenizer\.py:_load$", r":SpanTokenizer\.__init__$"],
    ),
]
# Then innermost frame first: the first rule a frame matches names the sample's component;
# frames no rule matches (numpy, pickle, re, tokenizer backends...) count for their caller.
FRAMES = [
    # The worker.
    (
        "read: decoding, charset detection",
        [r"charset_normalizer/", r"warc\.py:(detect_charset|decode_html|declared_charset)$"],
    ),
    ("read: WARC parsing (warcio, gzip)", [r"warcio/", r"/gzip\.py:", r"pipeline/warc\.py:"]),
    ("read: WARC parsing (warcio, gzip)", [r":ReadWarcFile\."]),
    (
        "extract: hand-off to the extraction processes",
        [
            r"multiprocessing/connection\.py:",
            r":_Pool\.",
            r":_Sandbox\.",
            r":Extraction\.(submit|flush|_finished|extract)$",
        ],
    ),
    ("extraction process: extract_main_text itself", [r"extract\.py:extract_main_text$"]),
    ("extract: clean-up in the worker (URLs, newlines)", [r"pipeline/extract\.py:"]),
    ("language ID (fastText)", [r"pipeline/langid\.py:", r"fasttext"]),
    ("url_filter", [r"filters/url\.py:"]),
    ("repetition", [r"filters/repetition\.py:"]),
    ("quality", [r"filters/quality\.py:"]),
    ("line_corrections", [r"filters/lines\.py:"]),
    (
        "exact_dedup, url_dedup (keys, keep smallest)",
        [r"dedup/(exact_doc|normalize|url)\.py:", r":KeepSmallest\."],
    ),
    ("minhash: signatures", [r":MinHasher\.(signatures|hash_input)$"]),
    (
        "minhash: band keys",
        [
            r":MinHasher\.band_hashes$",
            r":band_key_bytes$",
            r"shingles\.py:combine$",
            r":BandKeys\.",
        ],
    ),
    ("minhash: shingles", [r"dedup/shingles\.py:", r":MinHasher\.shingles$"]),
    ("minhash: band keys", [r"dedup/minhash\.py:"]),
    (
        "minhash: buckets, components, join (DoFns)",
        # Not _words: the dedup stages' word counts belong to whichever stage calls it.
        [r"dedup/components\.py:", r"pipeline/beam/dedup\.py:(?!_words$)"],
    ),
    ("exact_substring: tokenizing", [r":SpanTokenizer\."]),
    ("exact_substring: pickling its records", [r"beam/exact_substring\.py:(_shuffled|_unpacked)$"]),
    ("exact_substring: fingerprints, counts, cut", [r"exact_substring\.py:"]),
    ("tokenize", [r"core/tokenizer\.py:", r":Tokenize\."]),
    ("Parquet shards (rows, writing)", [r"pyarrow/", r"pipeline/beam/sink\.py:"]),
    (
        "stage wrapper (counts, drop samples, outputs)",
        [r"pipeline/beam/transforms\.py:", r"filters/base\.py:"],
    ),
    ("stats and report", [r"pipeline/(report|stats)\.py:"]),
    ("tokenizing: tiktoken's threads (exact_substring, tokenize)", [r"tiktoken/"]),
    # Beam's operations and coders are compiled: their time shows in the Python frame that
    # calls them (decoding a stage's input and running its DoFns; encoding its outputs).
    (
        "Beam: decoding inputs, calling DoFns (compiled operations)",
        [r"bundle_processor\.py:DataInputOperation\.process_encoded$"],
    ),
    (
        "Beam: encoding outputs (coders)",
        [r"bundle_processor\.py:DataOutputOperation\.process$", r"apache_beam/coders/"],
    ),
    ("Beam: grouping buffers (GroupByKey in memory)", [r"execution\.py:GroupingBuffer\."]),
    ("Beam: runner and data plane", [r"apache_beam/runners/"]),
    ("Beam: other", [r"apache_beam/"]),
    # The extraction processes.
    ("extraction process: receive page, send text", [r"extract\.py:_sandbox_main$"]),
]
WHOLE_STACK = [(name, re.compile("|".join(patterns))) for name, patterns in WHOLE_STACK]
FRAMES = [(name, re.compile("|".join(patterns))) for name, patterns in FRAMES]
TRAFILATURA = re.compile(r"(trafilatura|justext|htmldate|courlan|lxml_html_clean)/(\w+)\.py:")
FRAME = re.compile(r"^(.*) \((.*):\d+\)$")


def frame_key(frame: str) -> str:
    """py-spy's "function (file:line)" as "file:function"."""
    match = FRAME.match(frame)
    return f"{match.group(2)}:{match.group(1)}" if match else frame


def role(keys: list[str]) -> str:
    """Which process a stack is from: an extraction process or the worker (the CLI)."""
    if any(key.endswith((":_sandbox_entry", ":_sandbox_main")) for key in keys):
        return "extraction processes"
    return "worker"


def component(keys: list[str]) -> str:
    """The component one stack's sample counts for."""
    for name, pattern in WHOLE_STACK:
        if any(pattern.search(key) for key in keys):
            return name
    for key in reversed(keys):
        match = TRAFILATURA.search(key)
        if match:  # the library's own module, e.g. "trafilatura: main_extractor"
            return f"{match.group(1)}: {match.group(2)}"
        for name, pattern in FRAMES:
            if pattern.search(key):
                return name
    return "other (interpreter, threads)"


def summarize(paths: list[str], rate: int) -> dict[str, Counter]:
    """Samples per (process role, component) in py-spy raw files."""
    table: dict[str, Counter] = {}
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                stack, _, count = line.rstrip("\n").rpartition(" ")
                if not count.isdigit():  # a command line's own newline split this stack
                    continue
                frames = stack.split(";")
                if frames[0].startswith("process "):  # --subprocesses: the process comes first
                    frames = frames[1:]
                keys = [frame_key(frame) for frame in frames]
                table.setdefault(role(keys), Counter())[component(keys)] += int(count)
    for name, counts in sorted(table.items(), key=lambda kv: kv[0] != "worker"):
        total = sum(counts.values())
        print(f"\n== {name}: {total} samples, about {total / rate:.0f} CPU-s at {rate}/s")
        for part, samples in counts.most_common():
            print(f"   {100 * samples / total:5.1f}%  {samples / rate:8.1f}s  {part}")
    return table


def record(args, extra: list[str]) -> None:
    """One whole run under py-spy, every process sampled."""
    output = tempfile.mkdtemp(prefix="macrodata-profile-")
    command = [
        "py-spy", "record", "--subprocesses", "--format", "raw", "--rate", str(args.rate),
        "--output", args.profile, "--",
        sys.executable, "-m", "pipeline.cli", "run", "--languages", "all",
        "--output", output, "--overwrite",
    ]  # fmt: skip
    for pattern in args.input:
        command += ["--input", pattern]
    subprocess.run(command + extra, check=True)
    print(f"run output in {output}")
    summarize([args.profile], args.rate)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("record", help="profile one run")
    run.add_argument("--input", action="append", required=True)
    run.add_argument("--profile", required=True, help="py-spy raw output file")
    run.add_argument("--rate", type=int, default=50, help="samples per second")
    summary = commands.add_parser("summary", help="split py-spy raw files by component")
    summary.add_argument("profiles", nargs="+")
    summary.add_argument("--rate", type=int, default=50, help="the rate they were recorded at")
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    if args.command == "record":
        record(args, extra)
    else:
        if extra:
            parser.error(f"unexpected arguments: {' '.join(extra)}")
        summarize(args.profiles, args.rate)


if __name__ == "__main__":
    main()
