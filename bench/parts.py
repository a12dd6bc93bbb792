"""Parts run one after another, each against all earlier ones: checks, memory and costs.

    python bench/parts.py experiment OUT (--corpus ../shared/corpus | --synthetic 60) [--parts 4]
    python bench/parts.py memory OUT --corpus ../shared/corpus [--parts 12]
    python bench/parts.py scale OUT --corpus ../shared/corpus [--earlier 0,1,2,4,8,12]
        [--earlier-documents 250000]
    python bench/parts.py costs OUT --corpus ../shared/corpus

`experiment` makes dumps with re-crawls (bench/make_dumps.py), runs parts 0..N-1 of them one
after another, each with `--dedup-against` every earlier part, and each part again alone, then
checks: every input file is read by exactly one part; no canonical URL is kept in two parts;
each part run against the earlier ones keeps a subset of what it keeps alone, and every document
it drops beyond that is dropped under a reason naming "earlier" and explained by an earlier part
(its canonical URL or its text key was kept there, or it shares a MinHash band with a document
kept there or with such a document of its own part).

`memory` runs a chain of N parts (12 by default) and prints each part's peak memory (the whole
process tree, sampled) and CPU against the number of parts before it. `scale` runs one part
against 0, 1, 2, ... earlier indexes of `--earlier-documents` random documents each (written
here in the index format, with band keys), so the earlier side is thousands of times the part:
what a part's memory and CPU do when the earlier parts are large. `costs` prints the index bytes
per document with and without band keys, and what the join adds to a part's CPU.

Each run is the real CLI in a child process (`bench_pipeline.measure`); compare figures from one
invocation, the machine may be shared.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from make_dumps import corpus_pages, make_dumps, synthetic_pages  # noqa: E402

from dedup.minhash import MinHasher, MinHashSettings  # noqa: E402
from dedup.url import canonical_url  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.index import BAND_HASHES, HEADER, IndexSettings, header, schema  # noqa: E402

EARLIER = "kept_by_earlier_run"
# What every run of the experiments does besides its part: all languages (the corpus is mostly
# German and English), the cheap MinHash preset with band keys in the index, every dropped
# document sampled (the checks read them), small shards (several files per part).
COMMON = [
    "--languages",
    "all",
    "--set",
    "dedup.minhash_preset=fineweb",
    "--set",
    "index.band_keys=true",
    "--set",
    "output.dropped_samples_per_reason=100000",
]
_CLI = "import sys; from pipeline.cli import main; sys.exit(main(sys.argv[1:]))"


def macrodata(args: list[str], measured: bool = True) -> dict:
    """`macrodata ARGS` in a child process: its figures (wall, cpu, peak_mb), or in-process."""
    if not measured:
        from pipeline.cli import main

        code = main(args)
        if code:
            raise SystemExit(f"macrodata {' '.join(args)} exited {code}")
        return {}
    from bench_pipeline import measure

    figures = measure([sys.executable, "-c", _CLI, *args])
    return {k: figures[k] for k in ("wall", "cpu", "peak_mb")}


def part_dir(out: str, kind: str, k: int) -> str:
    """Where part k's run of one kind ("chain", "alone") writes."""
    return os.path.join(out, kind, f"part-{k:02d}")


def run_part(
    inputs: str, out: str, kind: str, k: int, n: int, earlier: list[str], extra: list[str],
    measured: bool = True,
) -> dict | None:  # fmt: skip
    """One part's run; skipped (figures None) when its output already has a manifest."""
    output = part_dir(out, kind, k)
    if os.path.exists(os.path.join(output, "manifest.json")):
        return None
    args = ["run", "--input", inputs, "--output", output, "--part", f"{k}/{n}", "--overwrite"]
    for directory in earlier:
        args += ["--dedup-against", directory]
    return macrodata(args + COMMON + extra, measured)


def run_chain(inputs: str, out: str, n: int, extra: list[str], measured: bool = True) -> list:
    """Parts 0..n-1, each against every earlier one: each part's figures."""
    figures = []
    for k in range(n):
        earlier = [part_dir(out, "chain", j) for j in range(k)]
        figures.append(run_part(inputs, out, "chain", k, n, earlier, extra, measured))
    return figures


def run_alone(inputs: str, out: str, n: int, extra: list[str], measured: bool = True) -> list:
    """Parts 0..n-1, each on its own."""
    return [run_part(inputs, out, "alone", k, n, [], extra, measured) for k in range(n)]


# --- reading a run back --------------------------------------------------------------------


def load_json(path: str):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def final_documents(output: str) -> dict[str, dict]:
    """id -> {url, text} of a run's shards."""
    table = pq.read_table(os.path.join(output, "data"), columns=["id", "url", "text"])
    return {row["id"]: row for row in table.to_pylist()}


def index_keys(output: str) -> dict[str, dict]:
    """id -> index row of a run."""
    files = sorted(glob.glob(os.path.join(output, "index", "*.parquet")))
    rows = {}
    for path in files:
        for row in pq.read_table(path).to_pylist():
            rows[row["id"]] = row
    return rows


def dropped(output: str) -> dict[str, dict]:
    """id -> dropped sample of a run (every one, with the experiments' sampling)."""
    samples = {}
    for path in glob.glob(os.path.join(output, "dropped", "*", "*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                sample = json.loads(line)
                samples[sample["id"]] = sample
    return samples


def band_sets(texts: dict[str, str], config: Config) -> dict[str, set[tuple[int, int]]]:
    """id -> its (band, hash) pairs under the run's MinHash settings."""
    params = MinHashSettings.from_config(config.section("dedup")).params
    hasher = MinHasher(params)
    ids = sorted(texts)
    hashes, has = hasher.text_band_hashes([texts[i] for i in ids]) if ids else ([], [])
    return {
        doc_id: {(band, int(value)) for band, value in enumerate(row)} if ok else set()
        for doc_id, row, ok in zip(ids, hashes, has, strict=True)
    }


# --- the checks ----------------------------------------------------------------------------


def check_parts(out: str, n: int, files: list[str], extra: list[str]) -> dict:
    """The experiment's checks over the chain and alone runs; problems listed, figures counted."""
    config = Config(load_json(os.path.join(part_dir(out, "chain", 0), "manifest.json"))["config"])
    problems: list[str] = []
    figures: Counter = Counter()
    read: list[str] = []
    kept_urls: dict[str, int] = {}
    earlier_docs: dict[str, dict] = {}  # every document kept by an earlier part of the chain
    earlier_index: dict[str, dict] = {}
    earlier_bands: set[tuple[int, int]] = set()
    for k in range(n):
        chain, alone = part_dir(out, "chain", k), part_dir(out, "alone", k)
        stats = load_json(os.path.join(chain, "stats.json"))
        read += stats["run"]["inputs"]
        mine = final_documents(chain)
        by_itself = final_documents(alone)
        figures["documents_chain"] += len(mine)
        figures["documents_alone"] += len(by_itself)
        for doc in mine.values():
            url = canonical_url(doc["url"])
            if url in kept_urls:
                problems.append(f"part {k}: {url} also kept by part {kept_urls[url]}")
            kept_urls[url] = k
        extra_kept = set(mine) - set(by_itself)
        if extra_kept:
            problems.append(f"part {k}: kept against earlier parts but not alone: {extra_kept}")
        changed = [i for i in set(mine) & set(by_itself) if mine[i]["text"] != by_itself[i]["text"]]
        figures["same_document_other_text"] += len(changed)
        gone = set(by_itself) - set(mine)
        samples = dropped(chain)
        alone_index = index_keys(alone)
        near = {}
        for doc_id in sorted(gone):
            sample = samples.get(doc_id)
            if sample is None or not sample["reason"].endswith(EARLIER):
                reason = sample and f"{sample['stage']}/{sample['reason']}"
                problems.append(f"part {k}: {doc_id} dropped, not for an earlier run: {reason}")
                continue
            figures[sample["reason"]] += 1
            if sample["reason"] == "url_kept_by_earlier_run":
                url = canonical_url(by_itself[doc_id]["url"])
                explained = kept_urls.get(url, k) < k
            elif sample["reason"] == "text_kept_by_earlier_run":
                # The key exact_dedup compared, as the part alone recorded it, among the keys
                # of the documents the earlier parts kept.
                key = alone_index[doc_id]["text_key"]
                named = sample["detail"].rsplit(" ", 1)[-1]
                explained = named in earlier_docs and earlier_index[named]["text_key"] == key
            else:
                near[doc_id] = by_itself[doc_id]["text"]
                continue
            if not explained:
                problems.append(f"part {k}: {doc_id} ({sample['reason']}) not explained")
        # Near-duplicates: each shares a band with an earlier document, or with another of this
        # part's near-duplicates that does (its component held an earlier document).
        bands = band_sets(near, config)
        reached = {i for i, b in bands.items() if b & earlier_bands}
        pending = set(bands) - reached
        while pending:
            grown = {i for i in pending if any(bands[i] & bands[j] for j in reached)}
            if not grown:
                break
            reached |= grown
            pending -= grown
        for doc_id in sorted(pending):
            problems.append(f"part {k}: {doc_id} (near-duplicate of an earlier run) not explained")
        earlier_docs.update(mine)
        earlier_index.update(index_keys(chain))
        for band in band_sets({i: d["text"] for i, d in mine.items()}, config).values():
            earlier_bands |= band
    counted = Counter(read)
    if sorted(counted) != sorted(files) or max(counted.values(), default=1) != 1:
        problems.append(f"files read {sorted(counted.items())} != inputs {sorted(files)}")
    figures["files"] = len(files)
    return {"problems": problems, "figures": dict(figures)}


# --- the commands --------------------------------------------------------------------------


def dumps(out: str, args) -> tuple[str, list[str]]:
    """Write the dumps (once) under OUT/dumps: the --input glob and the files."""
    where = os.path.join(out, "dumps")
    if not os.path.isdir(where):
        pages = corpus_pages(args.corpus) if args.corpus else synthetic_pages(args.synthetic)
        make_dumps(where, pages, args.dumps, args.files, args.seed)
    pattern = os.path.join(where, "*", "*.warc.gz")
    return pattern, sorted(glob.glob(pattern))


def command_experiment(args, extra: list[str]) -> None:
    pattern, files = dumps(args.out, args)
    print(f"{len(files)} WARC files, {args.parts} parts")
    run_chain(pattern, args.out, args.parts, extra)
    run_alone(pattern, args.out, args.parts, extra)
    result = check_parts(args.out, args.parts, files, extra)
    for key, value in sorted(result["figures"].items()):
        print(f"  {key}: {value}")
    for problem in result["problems"]:
        print("PROBLEM", problem)
    print("all checks passed" if not result["problems"] else f"{len(result['problems'])} problems")


def command_memory(args, extra: list[str]) -> None:
    pattern, files = dumps(args.out, args)
    figures = run_chain(pattern, args.out, args.parts, extra)
    print("part  files  earlier docs  documents  peak MB   CPU s  wall s")
    earlier = 0
    for k, f in enumerate(figures):
        output = part_dir(args.out, "chain", k)
        stats = load_json(os.path.join(output, "stats.json"))
        docs = stats["final"]["documents"]
        if f:
            print(
                f"{k:4d} {stats['run']['files']:6d} {earlier:13d} {docs:10d} "
                f"{f['peak_mb']:8.0f} {f['cpu']:7.1f} {f['wall']:7.1f}"
            )
        earlier += docs


def fake_earlier_run(directory: str, documents: int, seed: int, config: Config) -> None:
    """An earlier run's index of `documents` random documents (keys and band hashes), and a
    manifest: what --dedup-against reads, at any size, without running the pipeline."""
    params = MinHashSettings.from_config(config.section("dedup")).params
    rng = np.random.default_rng(seed)
    os.makedirs(os.path.join(directory, "index"), exist_ok=True)
    files = []
    per_file = 100_000
    for start in range(0, documents, per_file):
        rows = min(per_file, documents - start)
        keys = rng.integers(0, 2**63, size=(rows, 4), dtype=np.int64).view(np.uint8)
        bands = rng.integers(0, 2**63, size=(rows, params.bands), dtype=np.int64).view(np.uint8)
        relative = f"index/part-{len(files):05d}.parquet"
        table = pa.table(
            {
                "id": [f"20230101000000-{seed:04x}{start + i:016x}" for i in range(rows)],
                "url_key": [bytes(r[:16]) for r in keys],
                "text_key": [bytes(r[16:]) for r in keys],
                BAND_HASHES: [bytes(r) for r in bands],
            },
            schema=schema(True),
        )
        pq.write_table(table, os.path.join(directory, relative), compression="zstd")
        files.append(relative)
    settings = IndexSettings(band_keys=True, minhash=params)
    with open(os.path.join(directory, HEADER), "w", encoding="utf-8") as handle:
        json.dump(header(settings, documents, files), handle)
    with open(os.path.join(directory, "manifest.json"), "w", encoding="utf-8") as handle:
        json.dump({"documents": documents, "note": "index only, made by bench/parts.py"}, handle)


def command_scale(args, extra: list[str]) -> None:
    pattern, files = dumps(args.out, args)
    config = Config.load(None, {"dedup.minhash_preset": "fineweb", "index.band_keys": True})
    counts = [int(x) for x in args.earlier.split(",")]
    for j in range(max(counts)):
        directory = os.path.join(args.out, "earlier", f"run-{j:02d}")
        if not os.path.exists(os.path.join(directory, "manifest.json")):
            fake_earlier_run(directory, args.earlier_documents, j + 1, config)
    # One part, re-entered from its filtered documents, so each run is the dedup stages only.
    filtered = os.path.join(args.out, "filtered")
    if not os.path.exists(os.path.join(filtered, "manifest.json")):
        skip = "exact_dedup,minhash,exact_substring,url_dedup,tokenize"
        macrodata(["run", "--input", pattern, "--output", filtered, "--skip", skip] + COMMON)
    print(
        "earlier runs  earlier docs  own docs  keys read  keys passed  band entries read  passed"
        "  peak MB   CPU s  wall s"
    )
    for count in counts:
        output = os.path.join(args.out, "scale", f"against-{count:02d}")
        shutil.rmtree(output, ignore_errors=True)
        run_args = ["run", "--input", filtered, "--output", output]
        for j in range(count):
            run_args += ["--dedup-against", os.path.join(args.out, "earlier", f"run-{j:02d}")]
        f = macrodata(run_args + COMMON + extra)
        stats = load_json(os.path.join(output, "stats.json"))
        dedup = stats["dedup"]
        read = sum(dedup.get(s, {}).get("earlier_keys_read", 0) for s in dedup)
        passed = sum(dedup.get(s, {}).get("earlier_keys_passed", 0) for s in dedup)
        bands = dedup.get("minhash", {})
        failed = sum(dedup.get(s, {}).get("earlier_index_files_failed", 0) for s in dedup)
        if failed:
            raise SystemExit(f"{failed} earlier index files could not be read: see {output}")
        own = stats["stages"][0]["out"]
        print(
            f"{count:12d} {count * args.earlier_documents:13,d} {own:9d} {read:10,d} "
            f"{passed:12,d} {bands.get('earlier_band_entries_read', 0):18,d} "
            f"{bands.get('earlier_band_entries_passed', 0):7,d} "
            f"{f['peak_mb']:8.0f} {f['cpu']:7.1f} {f['wall']:7.1f}"
        )


def _index_bytes(output: str) -> tuple[int, int]:
    """(bytes of the index files and header, documents)."""
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(output, "index", "*")))
    return total, load_json(os.path.join(output, HEADER))["documents"]


def command_costs(args, extra: list[str]) -> None:
    pattern, files = dumps(args.out, args)
    filtered = os.path.join(args.out, "filtered")
    skip = "exact_dedup,minhash,exact_substring,url_dedup,tokenize"
    if not os.path.exists(os.path.join(filtered, "manifest.json")):
        macrodata(["run", "--input", pattern, "--output", filtered, "--skip", skip] + COMMON)
    print("index bytes per document (the dedup stages re-entered from the filtered documents):")
    for name, settings in [
        ("no band keys", ["--set", "index.band_keys=false"]),
        ("band keys, fineweb (14 x 8)", ["--set", "dedup.minhash_preset=fineweb"]),
        ("band keys, refinedweb (450 x 20)", ["--set", "dedup.minhash_preset=refinedweb"]),
    ]:
        output = os.path.join(args.out, "costs", name.split(",")[0].replace(" ", "-"))
        shutil.rmtree(output, ignore_errors=True)
        macrodata(["run", "--input", filtered, "--output", output] + COMMON + settings + extra)
        size, docs = _index_bytes(output)
        print(f"  {name:34s} {size / max(docs, 1):8.0f} bytes ({docs} documents, {size:,} bytes)")
    # The join's cost: part 1 of 2 alone, and against part 0 (the same files, the same work
    # but the join).
    for kind in ("chain", "alone"):
        shutil.rmtree(os.path.join(args.out, kind), ignore_errors=True)
    chain = run_chain(pattern, args.out, 2, extra)
    alone = run_alone(pattern, args.out, 2, extra)
    docs = load_json(os.path.join(part_dir(args.out, "chain", 0), HEADER))["documents"]
    print(
        f"part 1 of 2: alone {alone[1]['cpu']:.1f} CPU-s, {alone[1]['peak_mb']:.0f} MB; against "
        f"part 0 ({docs} documents): {chain[1]['cpu']:.1f} CPU-s, {chain[1]['peak_mb']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("experiment", "memory", "scale", "costs"))
    parser.add_argument("out")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", metavar="DIR")
    source.add_argument("--synthetic", type=int, metavar="N")
    parser.add_argument("--parts", type=int, default=None)
    parser.add_argument("--dumps", type=int, default=3)
    parser.add_argument("--files", type=int, default=4, help="WARC files per dump")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--earlier", default="0,1,2,4,8,12")
    parser.add_argument("--earlier-documents", type=int, default=250_000)
    args, extra = parser.parse_known_args()
    extra = [a for a in extra if a != "--"]
    args.parts = args.parts or (12 if args.command == "memory" else 4)
    os.makedirs(args.out, exist_ok=True)
    commands = {
        "experiment": command_experiment,
        "memory": command_memory,
        "scale": command_scale,
        "costs": command_costs,
    }
    commands[args.command](args, extra)


if __name__ == "__main__":
    main()
