"""OUTPUT/index/: what a later run deduplicates against (`--dedup-against`). No Beam here.

Every run writes, for each document it kept, the keys its dedup stages compare: the canonical
URL key (url_dedup), the normalised-text hash (exact_dedup) and, when `index.band_keys` asks,
the MinHash band hashes (minhash). RefinedWeb kept the URLs of every part it had processed and
removed them from later parts (§3.3); this keeps the other two keys too.

    index/_header.json                 format, key settings, documents, files (below)
    index/part-00000-of-000NN.parquet  id, url_key, text_key[, band_hashes], sorted by id

The header's leading underscore keeps Parquet readers of the directory (pyarrow datasets,
Spark) from taking it for data, as Hadoop's _SUCCESS.

Keys are of the text each stage compared: exact_dedup records the hash it grouped by on the
documents it keeps (exact_substring may cut their text later); band hashes, computed only for
the index, are of the text as delivered. A header whose settings differ from this run's is
refused, never used: keys made another way would silently match nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from core.document import Document
from dedup.exact_doc import text_key
from dedup.minhash import MinHashParams
from dedup.url import url_key

INDEX_DIR = "index"
HEADER = f"{INDEX_DIR}/_header.json"
# The layout of the files; a reader refuses any other.
FORMAT = 1
# How each key is made. Changing a definition (the URL canonicalisation, the normalisation, the
# digest) makes older indexes unusable: change its description too, and they are refused.
KEYS = {
    "url_key": "blake2b-128 of dedup.url.canonical_url, v1",
    "text_key": "blake2b-128 of dedup.normalize.normalize (RefinedWeb App. G.3.1), v1",
}
# Band hashes: `bands` little-endian uint64 values per document, of MinHasher.band_hashes.
BAND_HASHES = "band_hashes"
BAND_HASH_FUNCTION = "dedup.minhash.MinHasher band hashes, v1"
# doc.meta key: {index column: key} recorded by the dedup stage that compared it.
INDEX_KEYS = "index_keys"


class UnusableIndex(ValueError):
    """An earlier run's index that cannot be used by this run (missing, or other settings)."""


@dataclass(frozen=True)
class IndexSettings:
    """What this run's index holds: band keys or not, and the MinHash settings behind them."""

    band_keys: bool
    minhash: MinHashParams


@dataclass(frozen=True)
class EarlierIndex:
    """One earlier run's index, as a later run joins against it."""

    directory: str
    files: tuple[str, ...]  # its index Parquet files, full paths
    documents: int
    band_keys: bool


def schema(band_keys: bool) -> pa.Schema:
    """The index files' columns."""
    fields = [("id", pa.string()), ("url_key", pa.binary(16)), ("text_key", pa.binary(16))]
    if band_keys:
        fields.append((BAND_HASHES, pa.binary()))
    return pa.schema(fields)


def document_keys(doc: Document) -> tuple[bytes, bytes]:
    """(url_key, text_key) of a kept document: as its dedup stages compared them."""
    recorded = doc.meta.get(INDEX_KEYS, {})
    return (
        recorded.get("url_key") or url_key(doc.url),
        recorded.get("text_key") or text_key(doc.text),
    )


def band_settings(params: MinHashParams) -> dict:
    """The MinHash settings band keys depend on (they must match to compare)."""
    return {
        "bands": params.bands,
        "rows": params.rows,
        "ngram": params.ngram,
        "seed": params.seed,
        "hash": BAND_HASH_FUNCTION,
    }


def header(settings: IndexSettings, documents: int, files: list[str]) -> dict:
    """index/_header.json."""
    return {
        "format": FORMAT,
        "documents": documents,
        "keys": KEYS,
        "band_keys": band_settings(settings.minhash) if settings.band_keys else None,
        "files": sorted(files),
    }


def _describe(bands: dict) -> str:
    return " ".join(f"{k}={bands.get(k)}" for k in ("bands", "rows", "ngram", "seed"))


def check_header(found: dict, where: str, minhash: MinHashParams | None) -> None:
    """Raise UnusableIndex unless this run can use the index: same format and keys, and band
    keys made with this run's MinHash settings (`minhash`: None when the run has no minhash)."""
    if not isinstance(found, dict) or found.get("format") != FORMAT:
        version = found.get("format") if isinstance(found, dict) else None
        raise UnusableIndex(f"{where}: index format {version!r}, this macrodata reads {FORMAT}")
    if found.get("keys") != KEYS:
        raise UnusableIndex(
            f"{where}: index keys were made another way ({found.get('keys')}); "
            "rebuild it with this version"
        )
    bands = found.get("band_keys")
    if bands and minhash is not None and bands != band_settings(minhash):
        raise UnusableIndex(
            f"{where}: index band keys were made with MinHash {_describe(bands)}, this run "
            f"uses {_describe(band_settings(minhash))}; use the same dedup settings or "
            "--skip minhash"
        )


def earlier_index(directory: str, found: dict, join) -> EarlierIndex:
    """The EarlierIndex of a checked header; `join` joins paths on the run's filesystem."""
    files = found.get("files") or []
    return EarlierIndex(
        directory=directory,
        files=tuple(join(directory, path) for path in files),
        documents=int(found.get("documents") or 0),
        band_keys=bool(found.get("band_keys")),
    )
