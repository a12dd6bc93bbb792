import dataclasses

import pytest
import yaml

from filters.lines import LineCorrections
from filters.quality import QualityFilter
from filters.repetition import RepetitionFilter
from pipeline.config import Config, ConfigError
from pipeline.stages import STAGES, build_stage


def test_defaults_load_and_hash_is_stable():
    assert Config.load().digest() == Config.load().digest()
    assert Config.load().section("language")["min_score"] == 0.65


def test_file_and_override_merge(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"quality": {"min_words": 30}}))
    config = Config.load(str(path), {"language.languages": ["de", "fr"]})
    assert config.section("quality")["min_words"] == 30
    assert config.section("quality")["max_words"] == 100_000  # untouched defaults stay
    assert config.section("language")["languages"] == ["de", "fr"]
    assert config.digest() != Config.load().digest()


@pytest.mark.parametrize(
    "override, message",
    [
        ({"quality.min_wrds": 3}, "unknown config key quality.min_wrds"),
        ({"nosuch.key": 1}, "unknown config key nosuch"),
        ({"quality.min_words": "many"}, "expected a number"),
        ({"extract.remove_urls": "yes"}, "expected true/false"),
    ],
)
def test_bad_keys_and_types_are_errors(override, message):
    with pytest.raises(ConfigError, match=message):
        Config.load(None, override)


def test_missing_file_is_a_clear_error():
    with pytest.raises(ConfigError, match="cannot read config"):
        Config.load("/nonexistent.yaml")


@pytest.mark.parametrize(
    "name, cls",
    [
        ("repetition", RepetitionFilter),
        ("quality", QualityFilter),
        ("line_corrections", LineCorrections),
    ],
)
def test_yaml_defaults_equal_the_filters_paper_defaults(name, cls):
    built = build_stage(name, Config.load())
    default = cls()
    for f in dataclasses.fields(cls):
        if f.init:
            assert getattr(built, f.name) == getattr(default, f.name), f.name


def test_every_stage_builds():
    for stage in STAGES:
        built = build_stage(stage.name, Config.load())
        assert getattr(built, "name", stage.name) == stage.name


@pytest.mark.parametrize("section", ["repetition", "quality"])
def test_reading_is_paper_or_fineweb(section):
    assert Config.load().section(section)["reading"] == "paper"
    assert Config.load(None, {f"{section}.reading": "fineweb"}).section(section)["reading"]
    with pytest.raises(ConfigError, match=f"{section}.reading: expected one of paper, fineweb"):
        Config.load(None, {f"{section}.reading": "FineWeb"})
