"""The per-document stages of a run, built from the configuration (no Beam here)."""

from __future__ import annotations

from filters.base import Filter
from filters.lines import LineCorrections
from filters.quality import QualityFilter
from filters.repetition import RepetitionFilter
from filters.url import URLFilter
from pipeline.config import Config
from pipeline.extract import Extraction, ExtractSettings
from pipeline.langid import LanguageID

# Stage names in run order; `macrodata run --skip` and stats.json use these names.
DOCUMENT_STAGES = ("url_filter", "extract", "language", "repetition", "quality", "line_corrections")
# Corpus-level dedup stages in run order, after the document stages (pipeline/beam/dedup.py).
DEDUP_STAGES = ("exact_dedup", "minhash", "url_dedup")
# Stages that cannot be skipped: later stages need their output.
REQUIRED_STAGES = ("extract", "language")

_EXTRACT_SETTINGS = {f for f in ExtractSettings.__dataclass_fields__}


def build_stage(name: str, config: Config) -> Filter:
    """One configured per-document stage."""
    params = config.section(name)
    if name == "url_filter":
        params["blocklists"] = tuple(params["blocklists"])
        params["ut1_categories"] = tuple(params["ut1_categories"])
        return URLFilter(**params)
    if name == "extract":
        settings = ExtractSettings(
            **{k: params.pop(k) for k in list(params) if k in _EXTRACT_SETTINGS}
        )
        return Extraction(settings=settings, **params)
    if name == "language":
        params["languages"] = tuple(params["languages"])
        return LanguageID(**params)
    if name == "repetition":
        return RepetitionFilter(**params)
    if name == "quality":
        return QualityFilter(**params)
    if name == "line_corrections":
        return LineCorrections(**params)
    raise KeyError(name)


def build_stages(config: Config, skip: frozenset[str] = frozenset()) -> list[Filter]:
    """The per-document stages in run order, minus those skipped."""
    return [build_stage(name, config) for name in DOCUMENT_STAGES if name not in skip]
