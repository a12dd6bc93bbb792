"""The registry of stages: what a run does, in run order (no Beam here).

Each entry says the stage's name (as in stats.json), its drop reasons, whether `--skip` may
leave it out, how its plain-Python stage object is built from the configuration, and which
composite PTransform runs it. The CLI's `--skip`, the funnel plan, the job graph and the
README's stage table all come from `STAGES`; nothing else lists stages. A recipe
(pipeline/recipes.py) is a choice of these stages, in this order, and configuration values.

A stage is added with one entry here and one module: a `Filter` (run by the generic wrapper,
`FILTER`) or a plain stage object with its own composite under `pipeline/beam/`. A stage object
with a `transform` attribute names its own composite instead of the entry's: the read stage of
a run whose input is previous runs' shards (pipeline/reentry.py) reads Parquet, not WARC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from core.tokenizer import TokenizeSettings
from dedup.exact_doc import ExactDocumentDedup
from dedup.exact_substring import ExactSubstring
from dedup.minhash import MinHashSettings
from dedup.url import URLDedup
from filters.base import PROCESSING_ERROR
from filters.c4 import C4Quality
from filters.fineweb_quality import FineWebQuality
from filters.lines import LineCorrections
from filters.pii import PIIReplacement
from filters.quality import QualityFilter
from filters.repetition import RepetitionFilter
from filters.url import URLFilter
from pipeline.config import Config
from pipeline.extract import Extraction, ExtractSettings
from pipeline.index import EarlierIndex, IndexSettings
from pipeline.langid import LanguageID
from pipeline.recipes import DEFAULT_RECIPE, RECIPES, RecipeError, get_recipe
from pipeline.reentry import ShardInput
from pipeline.warc import READ_REASONS, ReadLimits


@dataclass(frozen=True)
class RunSpec:
    """What one run does: its input files, output directory, configuration and stage choice."""

    files: list[str]
    output: str
    config: Config
    tokenizer: str
    skip: frozenset[str] = frozenset()
    # Extraction processes per stage instance (pages are extracted that many at a time).
    extract_processes: int = 1
    run_info: dict = field(default_factory=dict)
    # Re-entry: the stages the input run directories applied (empty for WARC input), and the
    # signal columns of their shards. The run goes on after the last of those stages.
    applied: tuple[str, ...] = ()
    input_signals: tuple[str, ...] = ()
    # Earlier runs' indexes the dedup stages join against (--dedup-against).
    earlier: tuple[EarlierIndex, ...] = ()
    # The recipe (pipeline/recipes.py): which of the registry's stages the run does.
    recipe: str = DEFAULT_RECIPE


@dataclass(frozen=True)
class Stage:
    """One registry entry."""

    name: str
    reasons: tuple[str, ...]
    # The stage object (a Filter, or the plain settings of a corpus-level stage) for a run.
    build: Callable[[Config, RunSpec], Any]
    # "module:Class" of the composite PTransform that runs it, given the stage object. A path,
    # not the class: the CLI reads the registry before it imports Beam.
    transform: str
    skippable: bool = True


# The one generic wrapper: every Filter goes through it.
FILTER = "pipeline.beam.transforms:FilterStage"
# Reasons of stages that report a document they fail on instead of stopping the run.
FAILED = (PROCESSING_ERROR,)


def _section(cls) -> Callable[[Config, RunSpec], Any]:
    """A stage whose parameters are its config section, as they are: its own defaults when
    the configuration (another recipe's) has no such section."""
    return lambda config, run: cls(**config.section_or_empty(cls.name))


def _c4_quality(config: Config, run: RunSpec) -> C4Quality:
    params = config.section_or_empty("c4_quality")
    if "policy_phrases" in params:
        params["policy_phrases"] = tuple(params["policy_phrases"])
    return C4Quality(**params)


def _read(config: Config, run: RunSpec) -> ReadLimits | ShardInput:
    """WARC limits, or the shards of the run directories given as input."""
    if run.applied:
        return ShardInput(signals=run.input_signals)
    return ReadLimits(**config.section("read"))


def _earlier(run: RunSpec, band_keys: bool = False) -> dict[str, Any]:
    """The earlier-run fields of a dedup stage: index files (with band keys, if asked)."""
    indexes = [index for index in run.earlier if index.band_keys or not band_keys]
    return {
        "earlier_files": tuple(path for index in indexes for path in index.files),
        "earlier_documents": sum(index.documents for index in indexes),
    }


def _minhash(config: Config, run: RunSpec) -> MinHashSettings:
    settings = MinHashSettings.from_config(config.section("dedup"))
    return replace(settings, **_earlier(run, band_keys=True))


def _url_filter(config: Config, run: RunSpec) -> URLFilter:
    params = config.section("url_filter")
    params["blocklists"] = tuple(params["blocklists"])
    params["ut1_categories"] = tuple(params["ut1_categories"])
    return URLFilter(**params)


def _extract(config: Config, run: RunSpec) -> Extraction:
    params = config.section("extract")
    names = ExtractSettings.__dataclass_fields__
    settings = ExtractSettings(**{k: params.pop(k) for k in list(params) if k in names})
    return Extraction(settings=settings, processes=run.extract_processes, **params)


def _language(config: Config, run: RunSpec) -> LanguageID:
    params = config.section("language")
    params["languages"] = tuple(params["languages"])
    return LanguageID(**params)


def _exact_substring(config: Config, run: RunSpec) -> ExactSubstring:
    params = config.section("exact_substring")
    # A null tokenizer means the run's output tokenizer.
    stage = ExactSubstring(**{**params, "tokenizer": params["tokenizer"] or run.tokenizer})
    # Token ids are handed on only to a tokenize stage that would compute the same ones.
    return replace(
        stage, hand_on_ids="tokenize" not in run.skip and stage.tokenizer == run.tokenizer
    )


def _tokenize(config: Config, run: RunSpec) -> TokenizeSettings:
    return TokenizeSettings(run.tokenizer, config.section("tokenize")["append_eos"])


STAGES: tuple[Stage, ...] = (
    Stage(
        "read",
        READ_REASONS + ShardInput.reasons,
        _read,
        "pipeline.beam.transforms:ReadStage",
        skippable=False,
    ),
    Stage("url_filter", URLFilter.reasons + FAILED, _url_filter, FILTER),
    # Extraction and language ID cannot be left out: later stages need text and a language.
    Stage("extract", Extraction.reasons + FAILED, _extract, FILTER, skippable=False),
    Stage("language", LanguageID.reasons + FAILED, _language, FILTER, skippable=False),
    Stage("repetition", RepetitionFilter.reasons + FAILED, _section(RepetitionFilter), FILTER),
    Stage("quality", QualityFilter.reasons + FAILED, _section(QualityFilter), FILTER),
    Stage("line_corrections", LineCorrections.reasons + FAILED, _section(LineCorrections), FILTER),
    # FineWeb's line and document rules after the Gopher ones (FineWeb §3.3).
    Stage("c4_quality", C4Quality.reasons + FAILED, _c4_quality, FILTER),
    Stage(
        "fineweb_quality",
        FineWebQuality.reasons + FAILED,
        _section(FineWebQuality),
        FILTER,
    ),
    # Corpus-level dedup: exact copies first (cheap), then near copies, then repeated spans,
    # then one capture per URL (RefinedWeb §3.3: MinHash, exact substrings, URLs).
    Stage(
        "exact_dedup",
        ExactDocumentDedup.reasons,
        lambda config, run: ExactDocumentDedup(**_earlier(run)),
        "pipeline.beam.dedup:KeepEarliest",
    ),
    Stage(
        "minhash",
        MinHashSettings.reasons,
        _minhash,
        "pipeline.beam.dedup:MinHashStage",
    ),
    Stage(
        "exact_substring",
        ExactSubstring.reasons + FAILED,
        _exact_substring,
        "pipeline.beam.exact_substring:ExactSubstringStage",
    ),
    Stage(
        "url_dedup",
        URLDedup.reasons,
        lambda config, run: URLDedup(**_earlier(run)),
        "pipeline.beam.dedup:KeepEarliest",
    ),
    # FineWeb anonymised the deduplicated documents (FineWeb §3.5); it drops nothing.
    Stage("pii", PIIReplacement.reasons + FAILED, _section(PIIReplacement), FILTER),
    Stage("tokenize", (), _tokenize, "pipeline.beam.sink:TokenizeStage"),
)
BY_NAME = {stage.name: stage for stage in STAGES}
NAMES = [stage.name for stage in STAGES]
SKIPPABLE = tuple(stage.name for stage in STAGES if stage.skippable)

for _recipe in RECIPES.values():  # every recipe is a choice of the registry's stages, in order
    assert [n for n in NAMES if n in _recipe.stages] == list(_recipe.stages), _recipe.name


def recipe_stages(recipe: str) -> list[Stage]:
    """The registry entries of a recipe, in run order."""
    chosen = set(get_recipe(recipe).stages)
    return [stage for stage in STAGES if stage.name in chosen]


def recipe_skippable(recipe: str) -> tuple[str, ...]:
    """The stages of a recipe that --skip may leave out."""
    return tuple(stage.name for stage in recipe_stages(recipe) if stage.skippable)


def check_skip(skip: frozenset[str], recipe: str) -> None:
    """RecipeError unless every stage in `skip` is a stage of the recipe that may be skipped."""
    unknown = skip - set(NAMES)
    if unknown:
        raise RecipeError(
            f"--skip: unknown stage(s) {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(recipe_skippable(recipe))}"
        )
    foreign = skip - set(get_recipe(recipe).stages)
    if foreign:
        raise RecipeError(
            f"--skip: {', '.join(sorted(foreign))} not in the {recipe} recipe; "
            f"its stages that may be skipped: {', '.join(recipe_skippable(recipe))}"
        )
    required = skip - set(SKIPPABLE)
    if required:
        raise RecipeError(f"--skip: {', '.join(sorted(required))} cannot be skipped")


def _remaining(spec: RunSpec) -> list[Stage]:
    """Read, then the recipe's stages after the last one the input applied (all of them for
    WARC)."""
    stages = recipe_stages(spec.recipe)
    if not spec.applied:
        return stages
    last = max(NAMES.index(name) for name in spec.applied if name in BY_NAME)
    return [stages[0], *(s for s in stages[1:] if NAMES.index(s.name) > last)]


def planned(spec: RunSpec) -> list[tuple[Stage, Any]]:
    """(entry, stage object) of every stage the run does, in run order."""
    return [
        (stage, stage.build(spec.config, spec))
        for stage in _remaining(spec)
        if stage.name not in spec.skip
    ]


def funnel_plan(spec: RunSpec) -> list[tuple[str, tuple[str, ...]]]:
    """(stage name, known drop reasons) of the run's stages: the rows of stats.json."""
    return [
        (stage.name, stage.reasons) for stage in _remaining(spec) if stage.name not in spec.skip
    ]


def applied_stages(spec: RunSpec) -> list[str]:
    """The stages the run's output has been through, from the first run (the manifest's
    `applied_stages`, where re-entry starts again)."""
    names = [name for name, _ in funnel_plan(spec)]
    return [*spec.applied, *names[1:]] if spec.applied else names


def index_settings(config: Config) -> IndexSettings:
    """What the run's index holds (config section `index`)."""
    params = MinHashSettings.from_config(config.section("dedup")).params
    return IndexSettings(band_keys=config.section("index")["band_keys"], minhash=params)


def build_stage(name: str, config: Config, spec: RunSpec | None = None) -> Any:
    """One configured stage object (for tools and tests that run a stage alone)."""
    spec = spec or RunSpec([], "", config, config.section("tokenize")["tokenizer"])
    return BY_NAME[name].build(config, spec)


def filter_stages(config: Config, recipe: str = DEFAULT_RECIPE) -> list[Any]:
    """The per-document stages (Filters) of a recipe's run, in order, for running in-process
    (`config`: that recipe's, `Config.load(recipe=...)`)."""
    spec = RunSpec([], "", config, config.section("tokenize")["tokenizer"], recipe=recipe)
    return [stage for entry, stage in planned(spec) if entry.transform == FILTER]
