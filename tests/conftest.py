"""Shared fixtures: the project's sample WARC and the real-page corpus (when present)."""

from __future__ import annotations

import json
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_WARC = os.path.join(ROOT, "sample_data", "sample.warc.gz")
CORPUS_DIR = os.path.join(ROOT, "..", "shared", "corpus")


@pytest.fixture(scope="session")
def sample_warc() -> str:
    """The sample WARC shipped in sample_data/."""
    return SAMPLE_WARC


@pytest.fixture(scope="session")
def corpus_dir() -> str:
    """The real-page corpus beside the project; tests using it skip when it is absent."""
    path = os.environ.get("MACRODATA_CORPUS", CORPUS_DIR)
    if not os.path.isdir(path) or not any(f.endswith(".warc.gz") for f in os.listdir(path)):
        pytest.skip(f"corpus not found at {path}")
    return os.path.abspath(path)


def load_json(path: str):
    """The parsed JSON file at `path`."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
