"""Recipes: which of the registry's stages a run does, and with which configuration.

A recipe is a choice of stages from the one registry (pipeline/stages.py `STAGES`, whose order
is every recipe's run order) and a set of configuration values over the defaults. It is not a
pipeline of its own: the stages, the wrapper that runs them, the stats and the outputs are the
same for every recipe. docs/recipes.md gives each recipe's stages and settings with sources.

- `refinedweb` (the default): RefinedWeb's Macrodata Refinement (Penedo et al. 2023), the
  configuration in pipeline/default_config.yaml as it is.
- `fineweb`: FineWeb's pipeline (Penedo et al. 2024) as datatrove's examples/fineweb.py ran it:
  the defaults with pipeline/recipe_fineweb.yaml over them.

No Beam here.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_RECIPE = "refinedweb"


class RecipeError(ValueError):
    """An unknown recipe name, or runs of different recipes where one is needed."""


@dataclass(frozen=True)
class Recipe:
    name: str
    stages: tuple[str, ...]  # in run order (the registry's order)
    # Configuration file (package data of `pipeline`) merged over the defaults, or None.
    config_file: str | None
    title: str


RECIPES: dict[str, Recipe] = {
    "refinedweb": Recipe(
        "refinedweb",
        (
            "read",
            "url_filter",
            "extract",
            "language",
            "repetition",
            "quality",
            "line_corrections",
            "exact_dedup",
            "minhash",
            "exact_substring",
            "url_dedup",
            "tokenize",
        ),
        None,
        "RefinedWeb (Macrodata Refinement)",
    ),
    "fineweb": Recipe(
        "fineweb",
        (
            "read",
            "url_filter",
            "extract",
            "language",
            "repetition",
            "quality",
            "c4_quality",
            "fineweb_quality",
            "minhash",
            "pii",
            "tokenize",
        ),
        "recipe_fineweb.yaml",
        "FineWeb",
    ),
}


def get_recipe(name: str | None) -> Recipe:
    """The recipe called `name` (the default for None); RecipeError for an unknown name."""
    name = DEFAULT_RECIPE if name is None else name
    if name not in RECIPES:
        raise RecipeError(f"--recipe: unknown recipe {name!r}; choose from {', '.join(RECIPES)}")
    return RECIPES[name]


def recipe_of(record: dict | None) -> str:
    """The recipe a run's manifest (or stats.json `run`) records; runs made before recipes
    record none: they were refinedweb runs."""
    return (record or {}).get("recipe", DEFAULT_RECIPE)
