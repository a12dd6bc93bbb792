"""Input expansion (globs, Beam filesystem URLs, CommonCrawl path lists) and output checks."""

from __future__ import annotations

import gzip
import io

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

# CommonCrawl's bucket, for the relative paths listed in warc.paths.gz files.
COMMONCRAWL_BASE = "s3://commoncrawl/"


class InputError(ValueError):
    """An --input that matches nothing or cannot be listed."""


def is_path_list(pattern: str) -> bool:
    """CommonCrawl path lists: `warc.paths.gz` (or any `*.paths[.gz]`)."""
    return pattern.endswith((".paths.gz", ".paths"))


def read_path_list(path: str, base_url: str) -> list[str]:
    """Relative paths of a CommonCrawl path list, joined to `base_url`."""
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    base = base_url if base_url.endswith("/") else base_url + "/"
    lines = io.StringIO(data.decode("utf-8")).read().split("\n")
    return [
        line.strip() if "://" in line else base + line.strip().lstrip("/")
        for line in lines
        if line.strip()
    ]


def expand_inputs(patterns: list[str], base_url: str = COMMONCRAWL_BASE) -> list[str]:
    """Every file the patterns name, sorted and de-duplicated; an error if one matches nothing."""
    files: set[str] = set()
    for pattern in patterns:
        try:
            matched = [m.path for r in FileSystems.match([pattern]) for m in r.metadata_list]
        except Exception as error:
            raise InputError(f"cannot list input {pattern}: {error}") from error
        if not matched:
            raise InputError(f"input matches no file: {pattern}")
        for path in matched:
            if is_path_list(path):
                files.update(read_path_list(path, base_url))
            else:
                files.add(path)
    return sorted(files)


def check_output(output: str, overwrite: bool) -> None:
    """Refuse to mix two runs in one directory; make sure it can be written."""
    marker = FileSystems.join(output, "manifest.json")
    data = FileSystems.join(output, "data")
    if FileSystems.exists(marker) or FileSystems.exists(data):
        if not overwrite:
            raise InputError(
                f"output {output} already holds a run; choose another directory or pass --overwrite"
            )
        FileSystems.delete([p for p in (marker, data) if FileSystems.exists(p)])
        for leftover in ("stats.json", "report.html", "dropped", "errors"):
            path = FileSystems.join(output, leftover)
            if FileSystems.exists(path):
                FileSystems.delete([path])
    probe = FileSystems.join(output, ".macrodata-write-test")
    try:
        with FileSystems.create(probe) as handle:
            handle.write(b"ok")
        FileSystems.delete([probe])
    except Exception as error:
        raise InputError(f"cannot write to output {output}: {error}") from error
