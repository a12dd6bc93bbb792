"""Exports of finished runs for trainers' own loaders (no Beam here).

`macrodata export` reads the token ids of one or more runs' shards and writes them in a format a
training framework reads natively: Megatron's indexed datasets (`megatron.py`: Megatron-LM,
NeMo, GPT-NeoX) or MosaicML's MDS shards (`mds.py`: LLM Foundry, Composer). Both are written
from their specifications, without torch. Every exported file has a provenance table beside it
(`id`, `url`, `source`, `token_start`, `token_count`, in the order of the file's documents), so a
token range a trainer reads leads back to its WARC record.

The parallel unit is one input shard: its documents stream a batch of rows at a time, in shard
order, each to the split a stable hash of its id picks.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.reentry import applied_stages

FORMATS = ("megatron", "mds")
TRAIN, VALIDATION = "train", "validation"
# Written last: an output with it holds a complete export.
EXPORT_JSON = "export.json"
# What an export leaves in its output directory.
EXPORT_FILES = (EXPORT_JSON, TRAIN, VALIDATION)
# Shard columns an export reads.
COLUMNS = ("id", "url", "source", "input_ids", "num_tokens")
# Rows of a shard read at a time: large enough for numpy to pay, small enough to stream.
BATCH_ROWS = 4096
# The split hash is keyed, so it is independent of the hash that placed documents in shards.
_SPLIT_KEY = b"macrodata-split"

PROVENANCE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("url", pa.string()),
        ("source", pa.string()),
        ("token_start", pa.int64()),
        ("token_count", pa.int64()),
    ]
)

Create = Callable[[str], BinaryIO]  # a path -> a new file open for writing (a Beam filesystem's)


class ExportError(ValueError):
    """Runs that cannot be exported together, or a shard that contradicts itself."""


@dataclass(frozen=True)
class Source:
    """One run given to the export."""

    directory: str
    config_hash: str
    documents: int
    tokens: int
    shards: tuple[str, ...]  # full paths, in manifest order


@dataclass(frozen=True)
class ExportSpec:
    """What one export does: its runs, format, output and validation share."""

    format: str
    output: str
    validation_fraction: float
    tokenizer: dict  # as in the runs' manifests
    sources: tuple[Source, ...]

    @property
    def shards(self) -> list[str]:
        """Every input shard, run by run in manifest order; a shard's index numbers its parts."""
        return [path for source in self.sources for path in source.shards]

    @property
    def splits(self) -> tuple[str, ...]:
        return (TRAIN, VALIDATION) if self.validation_fraction > 0 else (TRAIN,)


def parse_fraction(text: str) -> float:
    """--validation-fraction: a number in [0, 1)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < 1:  # NaN fails too
        raise ExportError(f"--validation-fraction must be a number in [0, 1), got {text!r}")
    return value


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def plan_export(
    manifests: dict[str, dict | None],
    join: Callable[[str, str], str],
    stage_names: list[str],
    export_format: str,
    output: str,
    validation_fraction: float,
) -> ExportSpec:
    """The export of runs (directory -> manifest, None where there is none), or why not."""
    if export_format not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, got {export_format!r}")
    sources, tokenizers = [], {}
    for directory, manifest in manifests.items():
        if _inside(output, directory) or _inside(directory, output):
            raise ExportError(
                f"--output {output}: it is, or holds, or is inside the input {directory}"
            )
        if manifest is None:
            raise ExportError(f"{directory}: no manifest.json there (not a finished macrodata run)")
        if not manifest.get("tokenizer") or "tokenize" not in applied_stages(manifest, stage_names):
            raise ExportError(
                f"{directory}: that run skipped the tokenize stage, so it has no token ids; "
                "re-enter it with `macrodata run --input` to tokenize it"
            )
        tokenizer = manifest["tokenizer"]
        key = (tokenizer["spec"], tokenizer["vocab_size"], tokenizer["eos_id"])
        tokenizers.setdefault((key, tokenizer["append_eos"]), (directory, tokenizer))
        sources.append(
            Source(
                directory=directory,
                config_hash=manifest.get("config_hash", ""),
                documents=manifest["documents"],
                tokens=manifest["tokens"],
                shards=tuple(join(directory, shard["path"]) for shard in manifest["shards"]),
            )
        )
    if len(tokenizers) > 1:
        (a, first), (b, second) = list(tokenizers.values())[:2]
        raise ExportError(
            f"runs with different tokenizers or EOS settings cannot be exported together: "
            f"{a}: {_describe(first)}; {b}: {_describe(second)}"
        )
    [(_, tokenizer)] = tokenizers.values()
    return ExportSpec(export_format, output, validation_fraction, tokenizer, tuple(sources))


def _describe(tokenizer: dict) -> str:
    eos = "EOS appended" if tokenizer["append_eos"] else "no EOS"
    return f"{tokenizer['spec']} ({tokenizer['vocab_size']} tokens, {eos})"


def validation_share(doc_id: str) -> float:
    """A stable number in [0, 1) for a document id: the same on every run, runner and machine."""
    digest = hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8, person=_SPLIT_KEY).digest()
    return int.from_bytes(digest, "big") / 2**64


def part_name(index: int, count: int) -> str:
    """`part-00000-of-00004`: the part of the export that input shard `index` of `count` wrote."""
    return f"part-{index:05d}-of-{count:05d}"


class DocumentBatch(NamedTuple):
    """Consecutive documents of a shard: their ids, provenance and token ids, flat."""

    ids: list[str]
    urls: list[str]
    sources: list[str]
    lengths: np.ndarray  # int64 tokens per document
    tokens: np.ndarray  # uint32, every document's ids one after the other

    def select(self, keep: np.ndarray) -> DocumentBatch:
        """The documents where boolean `keep` is true, in order."""
        chosen = np.flatnonzero(keep)
        return DocumentBatch(
            [self.ids[i] for i in chosen],
            [self.urls[i] for i in chosen],
            [self.sources[i] for i in chosen],
            self.lengths[keep],
            self.tokens[np.repeat(keep, self.lengths)],
        )

    def provenance(self, token_start: int) -> pa.Table:
        """The provenance rows of these documents, their tokens starting at `token_start`."""
        starts = token_start + np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        return pa.Table.from_arrays(
            [
                pa.array(self.ids, pa.string()),
                pa.array(self.urls, pa.string()),
                pa.array(self.sources, pa.string()),
                pa.array(starts[: len(self.ids)], pa.int64()),
                pa.array(self.lengths, pa.int64()),
            ],
            schema=PROVENANCE_SCHEMA,
        )


def read_documents(handle: BinaryIO, path: str, vocab_size: int) -> Iterator[DocumentBatch]:
    """The documents of one shard, a batch of rows at a time, checked against themselves.

    A row without token ids, whose token count is not its `num_tokens`, or with an id outside
    the vocabulary stops the export with the file and row named: exporting it would hand a
    trainer other tokens than the run counted.
    """
    shard = pq.ParquetFile(handle)
    missing = [c for c in COLUMNS if c not in shard.schema_arrow.names]
    if missing:
        raise ExportError(f"{path}: no column {', '.join(missing)} (not a tokenized shard)")
    row = 0
    for batch in shard.iter_batches(batch_size=BATCH_ROWS, columns=list(COLUMNS)):
        ids_column = batch.column("input_ids")
        if ids_column.null_count:
            bad = row + int(np.flatnonzero(ids_column.is_null().to_numpy(zero_copy_only=False))[0])
            raise ExportError(f"{path} row {bad}: no input_ids")
        offsets = ids_column.offsets.to_numpy()
        lengths = np.diff(offsets).astype(np.int64)
        counted = batch.column("num_tokens").fill_null(-1).to_numpy(zero_copy_only=False)
        wrong = np.flatnonzero(lengths != counted)
        if len(wrong):
            i = int(wrong[0])
            raise ExportError(
                f"{path} row {row + i}: input_ids holds {lengths[i]} tokens but num_tokens "
                f"says {counted[i]}"
            )
        tokens = ids_column.values.to_numpy()[offsets[0] : offsets[-1]].astype(np.uint32)
        if len(tokens) and int(tokens.max()) >= vocab_size:
            position = int(np.flatnonzero(tokens >= vocab_size)[0])
            i = int(np.searchsorted(np.cumsum(lengths), position, side="right"))
            raise ExportError(
                f"{path} row {row + i}: token id {int(tokens[position])} is outside the "
                f"vocabulary of {vocab_size}"
            )
        yield DocumentBatch(
            batch.column("id").to_pylist(),
            [u or "" for u in batch.column("url").to_pylist()],
            [s or "" for s in batch.column("source").to_pylist()],
            lengths,
            tokens,
        )
        row += batch.num_rows


def split_batches(
    batches: Iterator[DocumentBatch], validation_fraction: float
) -> Iterator[tuple[str, DocumentBatch]]:
    """(split, documents of that split) for each batch, in order; empty selections left out."""
    for batch in batches:
        if validation_fraction <= 0:
            if batch.ids:
                yield TRAIN, batch
            continue
        held_out = np.array([validation_share(i) < validation_fraction for i in batch.ids], bool)
        for split, keep in ((TRAIN, ~held_out), (VALIDATION, held_out)):
            if keep.any():
                yield split, batch.select(keep)


class ProvenanceWriter:
    """A provenance Parquet file, written a batch at a time; opened on the first batch."""

    def __init__(self, create: Create, path: str):
        self.create = create
        self.path = path
        self.handle = self.writer = None

    def write(self, table: pa.Table) -> None:
        if self.writer is None:
            self.handle = self.create(self.path)
            self.writer = pq.ParquetWriter(self.handle, PROVENANCE_SCHEMA, compression="zstd")
        self.writer.write_table(table)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.handle.close()


def file_entry(path: str, split: str, documents: int, tokens: int) -> dict:
    """One file of export.json's `files`."""
    return {"path": path, "split": split, "documents": documents, "tokens": tokens}
