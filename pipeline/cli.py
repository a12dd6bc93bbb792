"""macrodata command line: run | export | report | config."""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import shutil
import sys
import time
from dataclasses import replace

from core.tokenizer import TokenizerError, load_tokenizer
from pipeline import __version__
from pipeline.config import Config, ConfigError, default_text
from pipeline.export import FORMATS, ExportError, parse_fraction
from pipeline.index import HEADER, EarlierIndex, UnusableIndex, check_header, earlier_index
from pipeline.parts import PartError, files_of_part, parse_part
from pipeline.recipes import DEFAULT_RECIPE, RECIPES, RecipeError, get_recipe, recipe_of
from pipeline.reentry import ReentryError, RunInput, run_input
from pipeline.stages import NAMES, SKIPPABLE, RunSpec, check_skip, funnel_plan
from pipeline.stats import MergeError, RunEntry

# Local default: the portable in-process runner, named directly because the DirectRunner
# first tries to download Prism.
LOCAL_RUNNER = "FnApiRunner"
# Local worker processes at most (each holds the models and an extraction process).
LOCAL_MAX_WORKERS = 8
# About half of a run's CPU is extraction, so one in-process worker with its extraction
# processes keeps about two cores busy: up to that many cores it is the fastest local mode.
IN_PROCESS_MAX_CORES = 2

log = logging.getLogger("macrodata")


class UsageError(Exception):
    """A bad argument: reported in one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="macrodata",
        description="RefinedWeb-style web-data curation on Apache Beam.",
    )
    parser.add_argument("--version", action="version", version=f"macrodata {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser(
        "run",
        help="run the pipeline",
        description="Run the pipeline. Other --options go to Beam's pipeline options (e.g. "
        "--runner, --direct_num_workers, --project); an option neither knows is an error.",
    )
    run.add_argument(
        "--input",
        action="append",
        required=True,
        metavar="PATTERN",
        help="WARC files: path, glob, gs:// or s3:// URL, or a warc.paths.gz list; or a "
        "previous run's output directory (its documents enter after the stages it applied)",
    )
    run.add_argument("--output", required=True, metavar="DIR")
    run.add_argument(
        "--part",
        metavar="K/N",
        help="read only the input files of part K of N (by a hash of each file's name)",
    )
    run.add_argument(
        "--dedup-against",
        action="append",
        default=[],
        metavar="DIR",
        help="a previous run's output: drop documents it kept (same URL, same text, or near "
        "copies when both indexes have band keys); repeatable",
    )
    run.add_argument(
        "--recipe",
        default=DEFAULT_RECIPE,
        metavar="NAME",
        help=f"which pipeline: {' or '.join(RECIPES)} (default {DEFAULT_RECIPE}); "
        "its stages and configuration (macrodata config --recipe NAME)",
    )
    run.add_argument("--config", metavar="FILE", help="YAML overriding the recipe's values")
    run.add_argument("--languages", help="comma-separated codes to keep, or 'all' (default en)")
    run.add_argument("--extractor", choices=("trafilatura", "resiliparse"))
    run.add_argument(
        "--tokenizer",
        metavar="SPEC",
        help="tiktoken:cl100k_base (default), tiktoken:o200k_base, hf:PATH",
    )
    run.add_argument("--lid-model", metavar="PATH", help="fastText model (e.g. lid.176.bin)")
    run.add_argument(
        "--skip",
        default="",
        metavar="STAGE[,STAGE]",
        help=f"stages to leave out: {', '.join(SKIPPABLE)}",
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config value (YAML syntax), e.g. --set quality.min_words=30",
    )
    run.add_argument(
        "--cc-base-url",
        default=None,
        metavar="URL",
        help="base of the relative paths in a warc.paths.gz (default s3://commoncrawl/)",
    )
    run.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a previous run in --output instead of refusing",
    )
    run.add_argument(
        "--extract-processes",
        type=int,
        default=0,
        metavar="N",
        help="extraction processes per worker (default: one per core when a local run "
        "has one worker, else one per worker)",
    )

    # For the hint on a misspelled option.
    run.set_defaults(run_options=[o for action in run._actions for o in action.option_strings])

    export = commands.add_parser(
        "export",
        help="write runs' documents for a trainer: Megatron indexed datasets or MDS shards",
        description="Write the documents of finished runs in a format a trainer's own loader "
        "reads. Other --options go to Beam's pipeline options, as --name=value.",
    )
    export.add_argument("runs", nargs="+", metavar="RUN_DIR", help="finished runs' outputs")
    export.add_argument("--format", required=True, choices=FORMATS)
    export.add_argument("--output", required=True, metavar="DIR")
    export.add_argument(
        "--validation-fraction",
        default="0",
        metavar="F",
        help="share of documents (by a hash of their id) in DIR/validation/ (default 0)",
    )
    export.add_argument(
        "--overwrite", action="store_true", help="replace a previous export in --output"
    )
    export.set_defaults(
        run_options=[o for action in export._actions for o in action.option_strings]
    )

    report = commands.add_parser("report", help="rebuild DIR/report.html from DIR/stats.json")
    report.add_argument("dirs", nargs="+", metavar="DIR")
    report.add_argument("--output", metavar="FILE", help="where to write (default DIR/report.html)")

    config = commands.add_parser("config", help="print the default (or resolved) configuration")
    config.add_argument("--config", metavar="FILE")
    config.add_argument(
        "--recipe", metavar="NAME", help=f"the configuration of a recipe: {', '.join(RECIPES)}"
    )
    return parser


def _overrides(args) -> dict:
    import yaml

    overrides = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise UsageError(f"--set expects SECTION.KEY=VALUE, got {item!r}")
        overrides[key.strip()] = yaml.safe_load(value)
    if args.languages:
        overrides["language.languages"] = [
            x.strip() for x in args.languages.split(",") if x.strip()
        ]
    if args.extractor:
        overrides["extract.extractor"] = args.extractor
    if args.lid_model:
        if not os.path.isfile(args.lid_model):
            raise UsageError(f"--lid-model: no such file: {args.lid_model}")
        overrides["language.model_path"] = os.path.abspath(args.lid_model)
    if args.tokenizer:
        overrides["tokenize.tokenizer"] = args.tokenizer
    return overrides


def _skip(value: str, recipe: str = DEFAULT_RECIPE) -> frozenset[str]:
    skip = frozenset(s.strip() for s in value.split(",") if s.strip())
    check_skip(skip, recipe)
    return skip


def _beam_options(extra: list[str], files: int = 1):
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    if any(a.startswith("--runner") for a in extra):
        return PipelineOptions(extra)
    local = [f"--runner={LOCAL_RUNNER}"]
    cores = os.cpu_count() or 1
    workers = min(cores, files, LOCAL_MAX_WORKERS)
    if (
        workers > 1
        and cores > IN_PROCESS_MAX_CORES
        and not any(a.startswith("--direct_") for a in extra)
    ):
        # Files are spread over worker processes, each feeding one extraction process. On two
        # cores (the corpus, 2 files) one in-process worker with two extraction processes
        # ended the full run 8% sooner than two such workers, for 22% less CPU; beyond two
        # cores one worker would hold the run back.
        local += ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
    options = PipelineOptions([*local, *extra])
    options.view_as(StandardOptions).runner = LOCAL_RUNNER
    return options


def _check_known(arguments: list[str], ours: list[str]) -> None:
    """A usage error unless Beam's pipeline options (of every runner) take all `arguments`.

    Beam alone only logs "Discarding unparseable args" and runs the job without them: a
    misspelled --languages would run the default job to the end.
    """
    from apache_beam.options.pipeline_options import PipelineOptions

    unknown: list[str] = []
    known: list[str] = list(ours)

    def check(parser) -> None:
        def error(message: str):
            raise UsageError(message)

        parser.error = error  # argparse would print its usage and exit
        known.extend(opt for action in parser._actions for opt in action.option_strings)
        unknown.extend(parser.parse_known_args(arguments)[1])

    # retain_unknown_options: no "Discarding unparseable args" warning; only `check` reads.
    PipelineOptions(arguments).get_all_options(add_extra_args_fn=check, retain_unknown_options=True)
    options = [a for a in unknown if a.startswith("-")]
    if options:
        name = options[0].split("=", 1)[0]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(
            f"unknown option {name}{hint}: neither macrodata nor Beam's pipeline options know it"
        )
    if unknown:
        raise UsageError(f"unexpected argument(s): {' '.join(unknown)}")


def _beam_arguments(extra: list[str]) -> list[str]:
    """The Beam options after `run`'s own, with `--dry_run` made strict.

    Beam ignores a bare `--dry_run` (with a warning), which would start the real job, and
    takes any value given to it, "False" included, as true.
    """
    extra = [a for a in extra if a != "--"]  # the optional separator before Beam's options
    arguments, index = [], 0
    while index < len(extra):
        arg, index = extra[index], index + 1
        if arg != "--dry_run" and not arg.startswith("--dry_run="):
            arguments.append(arg)
            continue
        if arg.startswith("--dry_run="):
            value = arg.partition("=")[2]
        elif index < len(extra) and not extra[index].startswith("--"):
            value, index = extra[index], index + 1
        else:
            value = "True"
        if value.lower() not in ("true", "false"):
            raise UsageError(f"--dry_run takes True or False, not {value!r}")
        if value.lower() == "true":
            arguments.append("--dry_run=True")
    return arguments


def command_run(args, extra: list[str]) -> int:
    from apache_beam.options.pipeline_options import TestOptions

    from pipeline.beam.io import check_output, is_local

    extra = _beam_arguments(extra)
    _check_known(extra, args.run_options)
    recipe = get_recipe(args.recipe).name
    part = parse_part(args.part) if args.part is not None else None
    config = Config.load(args.config, _overrides(args), recipe=recipe)
    skip = _skip(args.skip, recipe)
    tokenizer = config.section("tokenize")["tokenizer"]
    if "tokenize" not in skip:
        load_tokenizer(tokenizer)  # fail now, not on a worker an hour later
    if args.extract_processes < 0:
        raise UsageError("--extract-processes must be 0 (automatic) or more")
    # A dry run only builds the job: it must not need (or touch) the output's storage.
    dry_run = bool(_beam_options(extra).view_as(TestOptions).dry_run)
    if is_local(args.output):
        args.output = os.path.abspath(args.output)
    files, reentry = _input_files(args, part)
    spec = RunSpec(
        files=files,
        output=args.output,
        config=config,
        tokenizer=tokenizer,
        skip=skip,
        applied=reentry.applied if reentry else (),
        input_signals=reentry.signals if reentry else (),
        recipe=recipe,
    )
    spec = replace(spec, earlier=_earlier_indexes(args, spec, reentry))
    options = _beam_options(extra, len(files))
    args.extract_processes = _extract_processes(args.extract_processes, options)
    if not dry_run:
        check_output(args.output, args.overwrite)
    log.info(
        "macrodata %s: %s recipe, %d input file(s)%s -> %s (config %s)%s",
        __version__,
        recipe,
        len(files),
        f" of part {args.part}" if part else "",
        args.output,
        config.digest(),
        " [dry run]" if dry_run else "",
    )
    return _execute(spec, args, reentry, options, dry_run)


def _run_path(path: str) -> str:
    """A local path made absolute (runs compare and record them), a URL as it is."""
    from pipeline.beam.io import is_local

    return os.path.abspath(path).rstrip("/") if is_local(path) else path.rstrip("/")


def _input_files(args, part: tuple[int, int] | None) -> tuple[list[str], RunInput | None]:
    """The files the run reads: WARC files (of its part), or the shards of run directories."""
    from apache_beam.io.filesystems import FileSystems

    from pipeline.beam.io import COMMONCRAWL_BASE, expand_inputs, is_run_directory, read_run_json

    runs = [_run_path(p) for p in args.input if is_run_directory(p)]
    if not runs:
        files = expand_inputs(args.input, args.cc_base_url or COMMONCRAWL_BASE)
        return (files_of_part(files, *part) if part else files), None
    if len(runs) < len(args.input):
        raise UsageError("--input: give either WARC files or run directories, not both")
    if part:
        raise UsageError("--part selects WARC files; give a part's run directories instead")
    reentry = run_input(
        {d: read_run_json(d, "manifest.json") for d in runs}, FileSystems.join, NAMES
    )
    if reentry.recipe != args.recipe:
        raise UsageError(
            f"--input {reentry.directories[0]}: a run of the {reentry.recipe} recipe; "
            f"continue it with --recipe {reentry.recipe}, not {args.recipe}"
        )
    return list(reentry.files), reentry


def _earlier_indexes(args, spec: RunSpec, reentry: RunInput | None) -> tuple[EarlierIndex, ...]:
    """The indexes of --dedup-against runs, checked against this run's settings."""
    from apache_beam.io.filesystems import FileSystems

    from pipeline.beam.io import read_run_json
    from pipeline.stages import index_settings

    names = [name for name, _ in funnel_plan(spec)]
    if args.dedup_against and not {"exact_dedup", "minhash", "url_dedup"} & set(names):
        raise UsageError("--dedup-against: this run skips every dedup stage that would use it")
    minhash = index_settings(spec.config).minhash if "minhash" in names else None
    indexes = []
    for given in dict.fromkeys(args.dedup_against):
        directory = _run_path(given)
        where = f"--dedup-against {given}"
        if directory == _run_path(args.output):
            raise UsageError(f"{where}: that is the --output of this run")
        if reentry and directory in reentry.directories:
            raise UsageError(f"{where}: that run is also an --input")
        manifest = read_run_json(directory, "manifest.json")
        if manifest is None:
            raise UsageError(f"{where}: no manifest.json there (not a finished macrodata run)")
        if recipe_of(manifest) != spec.recipe:
            raise UsageError(
                f"{where}: a run of the {recipe_of(manifest)} recipe; this run is "
                f"{spec.recipe} (their documents were cleaned differently)"
            )
        found = read_run_json(directory, HEADER)
        if found is None:
            raise UsageError(f"{where}: no {HEADER} there (made before runs wrote an index?)")
        check_header(found, where, minhash)
        indexes.append(earlier_index(directory, found, FileSystems.join))
    return tuple(indexes)


def _extract_processes(requested: int, options) -> int:
    """Extraction processes per worker: as asked, else one per core in an in-process local run."""
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    if requested:
        return requested
    local = str(options.view_as(StandardOptions).runner) == LOCAL_RUNNER
    in_process = options.view_as(DirectOptions).direct_running_mode != "multi_processing"
    if not (local and in_process):
        # Distributed runners (and Beam's multi_processing mode) already run a worker per
        # core: one extraction process each, or they would oversubscribe the machine.
        return 1
    # One per core: the worker waits on them much of the time (on two cores, two extraction
    # processes ended the full run 15% sooner than one, for the same CPU).
    return os.cpu_count() or 1


def _execute(spec: RunSpec, args, reentry: RunInput | None, options, dry_run: bool) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import StandardOptions

    from pipeline.beam.io import is_local, publish_run, staging_dir
    from pipeline.beam.run import build

    runner = options.view_as(StandardOptions).runner or LOCAL_RUNNER
    # Local runs write to a sibling staging directory that replaces --output only on success.
    staging = staging_dir(args.output) if is_local(args.output) and not dry_run else None
    run_info: RunEntry = {
        # The files read (of its part); the patterns they came from apart.
        "inputs": list(spec.files),
        "input_patterns": args.input,
        "files": len(spec.files),
        "recipe": spec.recipe,
        "runner": str(runner),
        "extract_processes": args.extract_processes,
        "started_unix": round(time.time(), 3),
    }
    if args.part is not None:
        run_info["part"] = args.part
    if reentry:
        run_info["input_runs"] = list(reentry.directories)
    if spec.earlier:
        run_info["dedup_against"] = [index.directory for index in spec.earlier]
    spec = replace(
        spec,
        output=staging or args.output,
        extract_processes=args.extract_processes,
        run_info=run_info,
    )
    started = time.monotonic()
    try:
        pipeline = beam.Pipeline(options=options)
        build(pipeline, spec)
        if dry_run and str(runner) != "DataflowRunner":
            # Only Dataflow's runner honours --dry_run; the others would run the job. The job
            # graph is still built and serialised, which checks it.
            pipeline.to_runner_api()
        else:
            result = pipeline.run()
            result.wait_until_finish()
        if staging:
            publish_run(staging, args.output)
            staging = None
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
    elapsed = time.monotonic() - started
    if dry_run:
        print(f"dry run: job built for {runner}, nothing submitted -> {args.output}")
        return 0
    if str(runner) == "DataflowRunner":
        return 0
    _print_summary(args.output, elapsed)
    return 0


def _print_summary(output: str, elapsed: float) -> None:
    from apache_beam.io.filesystems import FileSystems

    path = FileSystems.join(output, "stats.json")
    if not FileSystems.exists(path):
        return
    with FileSystems.open(path) as handle:
        stats = json.loads(handle.read())
    first = stats["stages"][0]["in"] or 1
    print(f"{'stage':<18}{'in':>10}{'out':>10}{'kept of read':>14}")
    for row in stats["stages"]:
        print(
            f"{row['name']:<18}{row['in']:>10,}{row['out']:>10,}{100 * row['out'] / first:>13.1f}%"
        )
    final = stats["final"]
    print(
        f"final: {final['documents']:,} documents, {final['tokens']:,} tokens "
        f"in {elapsed:.1f}s -> {output}"
    )


def command_export(args, extra: list[str]) -> int:
    """Export finished runs; every refusal comes before anything is written."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import TestOptions

    from pipeline.beam.export import check_export_output
    from pipeline.beam.io import read_run_json
    from pipeline.export import plan_export

    extra = _beam_arguments(extra)
    _check_known(extra, args.run_options)
    fraction = parse_fraction(args.validation_fraction)
    output = _run_path(args.output)
    runs = [_run_path(r) for r in args.runs]
    twice = next((r for i, r in enumerate(runs) if r in runs[:i]), None)
    if twice:
        raise UsageError(f"{twice}: given twice (its documents would be exported twice)")
    manifests = {r: read_run_json(r, "manifest.json") for r in runs}
    spec = plan_export(manifests, FileSystems.join, NAMES, args.format, output, fraction)
    options = _beam_options(extra, len(spec.shards))
    dry_run = bool(options.view_as(TestOptions).dry_run)
    if not dry_run:
        check_export_output(output, args.overwrite)
    log.info(
        "macrodata %s: export of %d run(s), %d shard(s) as %s -> %s%s",
        __version__,
        len(runs),
        len(spec.shards),
        spec.format,
        output,
        " [dry run]" if dry_run else "",
    )
    return _execute_export(spec, options, dry_run)


def _execute_export(spec, options, dry_run: bool) -> int:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import StandardOptions

    from pipeline.beam.export import build_export
    from pipeline.beam.io import is_local, publish_run, staging_dir

    runner = str(options.view_as(StandardOptions).runner or LOCAL_RUNNER)
    staging = staging_dir(spec.output) if is_local(spec.output) and not dry_run else None
    started = time.monotonic()
    try:
        pipeline = beam.Pipeline(options=options)
        build_export(pipeline, spec, staging or spec.output)
        if dry_run and runner != "DataflowRunner":
            pipeline.to_runner_api()  # only Dataflow honours --dry_run; this checks the graph
        else:
            pipeline.run().wait_until_finish()
        if staging:
            publish_run(staging, spec.output)
            staging = None
    except Exception as error:
        # A worker's ExportError (a shard contradicting itself) arrives wrapped by the runner.
        found = _export_error(error)
        if found is None:
            raise
        print(f"macrodata: error: {found}", file=sys.stderr)
        return 1
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
    if dry_run:
        print(f"dry run: job built for {runner}, nothing submitted -> {spec.output}")
        return 0
    if runner != "DataflowRunner":
        _print_export_summary(spec.output, time.monotonic() - started)
    return 0


def _export_error(error: BaseException) -> str | None:
    """The message of the ExportError behind `error` (raised on a worker), if there is one."""
    seen = error
    while seen is not None:
        if isinstance(seen, ExportError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    marker = f"{ExportError.__name__}: "
    for line in str(error).splitlines():
        if marker in line:
            return line.split(marker, 1)[1].split(" [while running", 1)[0].strip()
    return None


def _print_export_summary(output: str, elapsed: float) -> None:
    from pipeline.beam.io import read_run_json
    from pipeline.export import EXPORT_JSON

    summary = read_run_json(output, EXPORT_JSON)
    splits = ", ".join(
        f"{name}: {s['documents']:,} documents, {s['tokens']:,} tokens"
        for name, s in summary["splits"].items()
    )
    print(
        f"export ({summary['format']}): {summary['documents']:,} documents, "
        f"{summary['tokens']:,} tokens ({splits}), {len(summary['files'])} files "
        f"in {elapsed:.1f}s -> {output}"
    )


def command_report(args) -> int:
    from pipeline.report import rebuild_report

    path = rebuild_report(args.dirs, args.output)
    print(path)
    return 0


def command_config(args) -> int:
    recipe = get_recipe(args.recipe).name
    if args.config or recipe != DEFAULT_RECIPE:
        import yaml

        data = Config.load(args.config, recipe=recipe).data
        if recipe != DEFAULT_RECIPE:
            print(f"# macrodata configuration of the {recipe} recipe (docs/recipes.md)")
        print(yaml.safe_dump(data, sort_keys=False), end="")
    else:
        print(default_text(), end="")
    return 0


# glibc's M_MMAP_THRESHOLD: allocations at least this large are mapped on their own and go back
# to the system when freed. By default glibc raises the threshold each time such a block is
# freed, after which the runner's large shuffle buffers land in the heap and stay counted in
# its resident memory (on a 3,000-page file: 658 MB peak, 552 MB with the threshold fixed).
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024


def _release_large_blocks() -> None:
    """Fix glibc's mmap threshold for this process (a no-op where libc is not glibc)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `macrodata` console script."""
    _release_large_blocks()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(message)s", datefmt="%H:%M:%S"
    )
    # Beam warns on the root logger about optional Google Cloud libraries a local run never uses.
    for handler in logging.getLogger().handlers:
        handler.addFilter(lambda record: "apitools not found" not in record.getMessage())
    for noisy in (
        "apache_beam",
        "trafilatura",
        "htmldate",
        "courlan",
        "charset_normalizer",
        "warcio",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # warcio warns about each odd WARC-Target-URI; the reader reports those in stats and errors/.
    logging.getLogger("warcio").setLevel(logging.ERROR)
    # Imported only now: importing Beam logs, which before basicConfig would configure logging.
    from pipeline.beam.io import InputError

    args, extra = _parser().parse_known_args(argv)
    try:
        if args.command == "run":
            return command_run(args, extra)
        if args.command == "export":
            return command_export(args, extra)
        if extra:
            raise UsageError(f"unexpected argument(s): {' '.join(extra)}")
        if args.command == "report":
            return command_report(args)
        return command_config(args)
    except (
        UsageError,
        ConfigError,
        TokenizerError,
        InputError,
        FileNotFoundError,
        MergeError,
        PartError,
        ReentryError,
        UnusableIndex,
        ExportError,
        RecipeError,
    ) as error:
        print(f"macrodata: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
