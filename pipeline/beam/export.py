"""The export graph: runs' shards -> Megatron indexed datasets or MDS shards, then export.json.

Each input shard is exported on its own (spread over workers), its documents streamed to one
part per split; a last step assembles what needs every part (MDS: each split's index.json and
documents.parquet) and writes export.json, which marks a complete export.
"""

from __future__ import annotations

import json
import logging
import os

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from pipeline import __version__
from pipeline.beam.io import InputError, is_local
from pipeline.beam.stage import Progress
from pipeline.export import (
    EXPORT_FILES,
    EXPORT_JSON,
    ExportError,
    ExportSpec,
    file_entry,
    mds,
    megatron,
    part_name,
    read_documents,
    split_batches,
)

log = logging.getLogger("macrodata")


def holds_export(output: str) -> bool:
    """Whether `output` holds (part of) an export."""
    return any(FileSystems.exists(FileSystems.join(output, name)) for name in EXPORT_FILES)


def check_export_output(output: str, overwrite: bool) -> None:
    """Refuse to replace an export without --overwrite, or to write over anything else.

    Local exports are staged and swapped in at the end (as runs are); on object stores a
    previous export is deleted first, export.json first, so a half-deleted one never looks
    complete.
    """
    if holds_export(output) and not overwrite:
        raise InputError(
            f"output {output} already holds an export; choose another directory or pass --overwrite"
        )
    if is_local(output):
        if os.path.exists(output) and not os.path.isdir(output):
            raise InputError(f"output {output} exists and is not a directory")
        if os.path.isdir(output) and os.listdir(output) and not holds_export(output):
            raise InputError(f"output {output} is not empty and holds no macrodata export")
        return
    previous = [FileSystems.join(output, name) for name in EXPORT_FILES]
    previous = [path for path in previous if FileSystems.exists(path)]
    if previous:
        FileSystems.delete(previous)


def _create(path: str):
    return FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED)


def _open(path: str):
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


class ExportShard(beam.DoFn):
    """(index, shard path) -> one result per split: the part of the export that shard wrote."""

    def __init__(self, spec: ExportSpec, output: str):
        self.spec = spec
        self.output = output

    def setup(self):
        self.progress = Progress("export: documents written")

    def process(self, item):
        index, path = item
        spec, count = self.spec, len(self.spec.shards)
        vocab_size = spec.tokenizer["vocab_size"]
        parts = {split: self._part(split, part_name(index, count)) for split in spec.splits}
        with _open(path) as handle:
            for split, batch in split_batches(
                read_documents(handle, path, vocab_size), spec.validation_fraction
            ):
                parts[split].add(batch)
                self.progress.tick(len(batch.ids))
        for split, part in parts.items():
            result = part.close()
            if spec.format == "megatron":
                result = {"files": result}
            yield {"split": split, "index": index, **result}

    def _part(self, split: str, name: str):
        directory = FileSystems.join(self.output, split)
        if self.spec.format == "megatron":
            dtype = megatron.token_dtype(self.spec.tokenizer["vocab_size"])
            prefix = FileSystems.join(directory, name)
            return megatron.MegatronPart(_create, prefix, f"{split}/{name}", split, dtype)
        dtype = mds.token_dtype(self.spec.tokenizer["vocab_size"])
        return mds.MdsPart(_create, directory, split, name, split, dtype)


class FinalizeExport(beam.DoFn):
    """Runs once after every shard: each split's MDS index and provenance, then export.json."""

    def __init__(self, spec: ExportSpec, output: str):
        self.spec = spec
        self.output = output

    def process(self, _, results):
        spec = self.spec
        results = sorted(results, key=lambda r: (spec.splits.index(r["split"]), r["index"]))
        files: list[dict] = []
        splits = {}
        for split in spec.splits:
            parts = [r for r in results if r["split"] == split]
            if spec.format == "megatron":
                documents = sum(r["files"][0]["documents"] for r in parts if r["files"])
                tokens = sum(r["files"][0]["tokens"] for r in parts if r["files"])
            else:
                documents = sum(r["documents"] for r in parts)
                tokens = sum(r["tokens"] for r in parts)
            files += [f for r in parts for f in r["files"]]
            if spec.format == "mds":
                files += self._finish_mds_split(split, parts, documents, tokens)
            splits[split] = {"documents": documents, "tokens": tokens}
        documents = sum(s["documents"] for s in splits.values())
        tokens = sum(s["tokens"] for s in splits.values())
        expected = sum(s.documents for s in spec.sources), sum(s.tokens for s in spec.sources)
        if (documents, tokens) != expected:
            raise ExportError(
                f"exported {documents} documents, {tokens} tokens, but the runs' manifests "
                f"count {expected[0]} documents, {expected[1]} tokens"
            )
        summary = {
            "version": __version__,
            "format": spec.format,
            "tokenizer": spec.tokenizer,
            "dtype": self._dtype().name,
            "validation_fraction": spec.validation_fraction,
            "documents": documents,
            "tokens": tokens,
            "splits": splits,
            "files": files,
            "sources": [
                {
                    "directory": s.directory,
                    "config_hash": s.config_hash,
                    "documents": s.documents,
                    "tokens": s.tokens,
                    "shards": len(s.shards),
                }
                for s in spec.sources
            ],
        }
        if spec.format == "megatron":
            # Megatron's --data-path: a weight before each prefix; tokens weigh as one epoch.
            summary["data_path"] = {
                split: [
                    str(x)
                    for f in files
                    if f["split"] == split and f["path"].endswith(".bin")
                    for x in (f["tokens"], f["path"].removesuffix(".bin"))
                ]
                for split in spec.splits
            }
        # Last: export.json marks a complete export.
        with _create(FileSystems.join(self.output, EXPORT_JSON)) as handle:
            handle.write(json.dumps(summary, indent=2).encode("utf-8"))
        log.info("export: %d documents, %d tokens written", documents, tokens)
        yield summary

    def _dtype(self):
        module = megatron if self.spec.format == "megatron" else mds
        return module.token_dtype(self.spec.tokenizer["vocab_size"])

    def _finish_mds_split(self, split: str, parts: list[dict], documents: int, tokens: int):
        """A split's index.json and documents.parquet; its parts' temporary files removed."""
        directory = FileSystems.join(self.output, split)
        provenance, offset = [], 0
        for part in parts:
            if part["provenance"]:
                provenance.append((part["provenance"], offset))
            offset += part["tokens"]
        with _create(FileSystems.join(directory, mds.DOCUMENTS)) as handle:
            mds.merge_provenance(provenance, _open, handle)
        with _create(FileSystems.join(directory, mds.INDEX)) as handle:
            handle.write(mds.index_json([s for part in parts for s in part["shards"]]))
        temporary = [p for p, _ in provenance if FileSystems.exists(p)]
        if temporary:
            FileSystems.delete(temporary)
        return [
            file_entry(f"{split}/{name}", split, documents, tokens)
            for name in (mds.INDEX, mds.DOCUMENTS)
        ]


def build_export(pipeline: beam.Pipeline, spec: ExportSpec, output: str) -> None:
    """Add the export of `spec` into `output` (the final directory, or its staging copy)."""
    results = (
        pipeline
        | "Input shards" >> beam.Create(list(enumerate(spec.shards)))
        | "Spread shards" >> beam.Reshuffle()
        | "Export shards" >> beam.ParDo(ExportShard(spec, output))
    )
    _ = (
        pipeline
        | "Finalize trigger" >> beam.Create([None])
        | "Finalize" >> beam.ParDo(FinalizeExport(spec, output), beam.pvalue.AsList(results))
    )
