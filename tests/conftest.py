"""Shared fixtures and helpers: sample WARC, real-page corpus, a suffix-array reference."""

from __future__ import annotations

import glob
import json
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE_WARC = os.path.join(ROOT, "sample_data", "sample.warc.gz")
CORPUS_DIR = os.path.join(ROOT, "..", "shared", "corpus")
CORPUS_GLOBS = [
    SAMPLE_WARC,
    os.path.join(os.environ.get("MACRODATA_CORPUS", CORPUS_DIR), "*.warc.gz"),
]


@pytest.fixture(scope="session")
def sample_warc() -> str:
    """The sample WARC shipped in sample_data/."""
    return SAMPLE_WARC


def corpus_path() -> str:
    """Where the real-page corpus is looked for: $MACRODATA_CORPUS, else ../shared/corpus."""
    return os.path.abspath(os.environ.get("MACRODATA_CORPUS", CORPUS_DIR))


@pytest.fixture(scope="session")
def corpus_dir() -> str:
    """The real-page corpus beside the project; tests using it skip when it is absent."""
    path = corpus_path()
    if not os.path.isdir(path) or not any(f.endswith(".warc.gz") for f in os.listdir(path)):
        pytest.skip(f"corpus not found at {path}")
    return os.path.abspath(path)


def load_json(path: str):
    """The parsed JSON file at `path`."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def suffix_array_repeats(
    docs: list[np.ndarray], length: int, keep_first: bool = False
) -> list[set[int]]:
    """Per document, the token positions inside a `length`-token window seen twice or more.

    Lee et al.'s method: concatenate with a unique separator per document, build the suffix
    array, and take runs of neighbours sharing >= `length` tokens. With `keep_first` the
    earliest occurrence of each repeated window (lowest document, then position) is spared.
    """
    from pydivsufsort import divsufsort, kasai

    top = max((int(d.max()) for d in docs if len(d)), default=0) + 1
    pieces, owner, offset = [], [], []
    for index, ids in enumerate(docs):
        offset.append(sum(len(p) for p in pieces))
        pieces.append(np.append(ids.astype(np.int64), top + index))
        owner.extend([index] * (len(ids) + 1))
    text = np.concatenate(pieces).astype(np.uint32) if pieces else np.zeros(0, np.uint32)
    removed: list[set[int]] = [set() for _ in docs]
    if len(text) == 0:
        return removed
    sa = divsufsort(text)
    lcp = kasai(text, sa)  # lcp[i]: common prefix of suffixes sa[i] and sa[i + 1]
    i = 0
    while i < len(sa):
        j = i
        while j + 1 < len(sa) and lcp[j] >= length:
            j += 1
        if j > i:
            group = sorted(int(p) for p in sa[i : j + 1])
            for start in group[1:] if keep_first else group:
                doc = owner[start]
                local = start - offset[doc]
                removed[doc].update(range(local, local + length))
        i = j + 1
    return removed


@pytest.fixture
def sa_reference():
    """The suffix-array reference function."""
    return suffix_array_repeats


def corpus_texts(limit: int) -> list[tuple[str, str]]:
    """(doc id, extracted text) of up to `limit` pages of sample_data/ or the shared corpus."""
    from pipeline.extract import ExtractSettings, extract_main_text
    from pipeline.warc import iter_warc

    files = next((sorted(glob.glob(g)) for g in CORPUS_GLOBS if glob.glob(g)), [])
    if not files:
        pytest.skip("no sample_data/ WARC and no corpus")
    settings = ExtractSettings(extractor="resiliparse")
    texts = []
    for path in files:
        with open(path, "rb") as handle:
            for outcome in iter_warc(handle, path):
                doc = outcome.document
                if doc is None or not doc.html:
                    continue
                text = extract_main_text(doc.html, settings)
                if text.strip():
                    texts.append((doc.id, text))
                if len(texts) >= limit:
                    return sorted(texts)
    return sorted(texts)
