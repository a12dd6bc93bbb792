"""Re-entry: previous runs' output directories as the input of a run. No Beam here.

A run records in its manifest the stages it applied. Its shards carry what every later stage
needs (id, url, text, language, crawl date, source, truncated, the signal columns), so another
run can read them and go on from the first stage after the last one it applied: filter parts
now and deduplicate them together later, or re-run dedup or tokenization with other settings,
without extracting again (extraction is about half the CPU of a run).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from pipeline.recipes import DEFAULT_RECIPE, recipe_of

# A shard row the read stage cannot make a document of (no id, or no text).
INVALID_ROW = "invalid_row"
# The last column every shard has before the signal columns (pipeline.beam.sink).
LAST_BASE_COLUMN = "num_tokens"


class ReentryError(ValueError):
    """Run directories that cannot be an input (mixed kinds, nothing left to run)."""


@dataclass(frozen=True)
class ShardInput:
    """The read stage of a run whose input is previous runs' shards."""

    name: ClassVar[str] = "read"
    reasons: ClassVar[tuple[str, ...]] = (INVALID_ROW,)
    # The composite that reads them (the read stage's registry entry reads WARC files).
    transform: ClassVar[str] = "pipeline.beam.reentry:ReadShards"

    signals: tuple[str, ...] = ()  # signal columns of the shards, read back into doc.signals


@dataclass(frozen=True)
class RunInput:
    """What the run directories given as --input hold, together."""

    directories: tuple[str, ...]
    files: tuple[str, ...]  # their shards
    applied: tuple[str, ...]  # the stages they applied, in run order
    signals: tuple[str, ...]
    recipe: str = "refinedweb"  # the recipe they were made with (all the same)


def applied_stages(manifest: dict, names: list[str]) -> tuple[str, ...]:
    """The stages a run applied, in run order (`names`: the registry's order).

    Manifests written before `applied_stages` existed were WARC runs of every stage they did
    not skip.
    """
    if "applied_stages" in manifest:
        return tuple(manifest["applied_stages"])
    skipped = set(manifest.get("skipped_stages", []))
    return tuple(name for name in names if name not in skipped)


def signal_columns(manifest: dict) -> tuple[str, ...]:
    """The signal columns of a run's shards, in their order."""
    if "signals" in manifest:
        return tuple(manifest["signals"])
    columns = manifest.get("columns", [])
    if LAST_BASE_COLUMN not in columns:
        return ()
    return tuple(columns[columns.index(LAST_BASE_COLUMN) + 1 :])


def run_input(
    manifests: dict[str, dict], join: Callable[[str, str], str], names: list[str]
) -> RunInput:
    """The input of a run from its run directories' manifests (directory -> manifest)."""
    recipes: dict[str, str] = {}
    for directory, manifest in manifests.items():
        recipes.setdefault(recipe_of(manifest), directory)
    if len(recipes) > 1:
        (first, a), (second, b) = list(recipes.items())[:2]
        raise ReentryError(
            f"--input: run directories of different recipes ({a}: {first}; {b}: {second}); "
            "give runs of one recipe"
        )
    applied: dict[tuple[str, ...], str] = {}
    for directory, manifest in manifests.items():
        applied.setdefault(applied_stages(manifest, names), directory)
    if len(applied) > 1:
        (first, a), (second, b) = list(applied.items())[:2]
        raise ReentryError(
            f"--input: run directories applied different stages ({a}: {', '.join(first)}; "
            f"{b}: {', '.join(second)}); give runs that stopped at the same stage"
        )
    [stages] = applied
    last = max((names.index(s) for s in stages if s in names), default=-1)
    if last == len(names) - 1:
        raise ReentryError(
            f"--input {next(iter(manifests))}: that run applied every stage up to {names[-1]}, "
            "so nothing is left to run; re-enter a run made with --skip ...,tokenize"
        )
    signals: list[str] = []
    files: list[str] = []
    for directory, manifest in manifests.items():
        signals += [s for s in signal_columns(manifest) if s not in signals]
        files += [join(directory, shard["path"]) for shard in manifest.get("shards", [])]
    [recipe] = recipes or [DEFAULT_RECIPE]
    return RunInput(tuple(manifests), tuple(files), stages, tuple(signals), recipe)
