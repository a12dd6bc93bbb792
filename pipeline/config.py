"""One YAML file of every stage's parameters, RefinedWeb values by default."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from filters.reading import READINGS

# Keys whose value is one of a few names: anything else is refused before a run starts.
CHOICES: dict[str, tuple[str, ...]] = {
    "repetition.reading": tuple(READINGS),
    "quality.reading": tuple(READINGS),
}


class ConfigError(ValueError):
    """A configuration file or override that does not fit the defaults' shape."""


def default_text() -> str:
    """The commented default configuration, as shipped."""
    return (resources.files("pipeline") / "default_config.yaml").read_text(encoding="utf-8")


def recipe_text(recipe: str) -> str | None:
    """The commented configuration a recipe sets over the defaults (None: it sets nothing)."""
    from pipeline.recipes import get_recipe

    name = get_recipe(recipe).config_file
    if name is None:
        return None
    return (resources.files("pipeline") / name).read_text(encoding="utf-8")


def _recipe_data(recipe: str | None) -> dict[str, Any]:
    """The defaults with a recipe's values over them. A recipe may add sections (the
    configuration of its own stages); keys of the defaults' sections are checked as usual."""
    data = yaml.safe_load(default_text())
    text = recipe_text(recipe) if recipe else None
    if text is None:
        return data
    values = yaml.safe_load(text) or {}
    added = {key: value for key, value in values.items() if key not in data}
    data = _check("", data, {k: v for k, v in values.items() if k not in added})
    data.update(copy.deepcopy(added))
    return data


def _check(path: str, default: Any, value: Any) -> Any:
    """`value` checked against the shape of `default`; dicts merge key by key."""
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {value!r}")
        if all(isinstance(k, int) for k in default):  # free-form {n: threshold} tables
            return {int(k): float(v) for k, v in value.items()}
        merged = copy.deepcopy(default)
        for key, item in value.items():
            if key not in default:
                known = ", ".join(sorted(map(str, default)))
                where = f"{path}.{key}".lstrip(".")
                raise ConfigError(f"unknown config key {where} (known: {known})")
            merged[key] = _check(f"{path}.{key}", default[key], item)
        return merged
    if default is None or value is None:
        return value
    if isinstance(default, bool) != isinstance(value, bool):
        raise ConfigError(f"{path}: expected true/false, got {value!r}")
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        if not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: expected a number, got {value!r}")
        return type(default)(value) if isinstance(default, float) else value
    if isinstance(default, list):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {value!r}")
        return value
    if isinstance(default, str) and not isinstance(value, str):
        raise ConfigError(f"{path}: expected a string, got {value!r}")
    return value


def _check_choices(data: dict[str, Any]) -> None:
    for dotted, choices in CHOICES.items():
        section, _, key = dotted.partition(".")
        value = data.get(section, {}).get(key)
        if value not in choices:
            raise ConfigError(f"{dotted}: expected one of {', '.join(choices)}, got {value!r}")


@dataclass(frozen=True)
class Config:
    """The resolved configuration: defaults, then a file, then command-line overrides."""

    data: dict[str, Any]

    @classmethod
    def load(
        cls,
        path: str | None = None,
        overrides: dict[str, Any] | None = None,
        recipe: str | None = None,
    ) -> Config:
        """Defaults (with `recipe`'s values over them), merged with the YAML at `path`, then
        with `overrides` (dotted keys)."""
        data = _recipe_data(recipe)
        if path:
            try:
                with open(path, encoding="utf-8") as handle:
                    user = yaml.safe_load(handle) or {}
            except OSError as error:
                raise ConfigError(f"cannot read config {path}: {error.strerror}") from error
            except yaml.YAMLError as error:
                raise ConfigError(f"config {path} is not valid YAML: {error}") from error
            data = _check("", data, user)
        for dotted, value in (overrides or {}).items():
            section, _, key = dotted.partition(".")
            data = _check("", data, {section: {key: value}})
        _check_choices(data)
        return cls(data)

    def section(self, name: str) -> dict[str, Any]:
        """A copy of one section's parameters."""
        return copy.deepcopy(self.data[name])

    def section_or_empty(self, name: str) -> dict[str, Any]:
        """A copy of one section's parameters, {} when the configuration has none (a stage of
        another recipe then takes its own defaults)."""
        return copy.deepcopy(self.data.get(name, {}))

    def to_json(self) -> str:
        """Canonical JSON (sorted keys), the input of `digest`."""
        return json.dumps(self.data, sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """A short stable hash identifying this configuration."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]
