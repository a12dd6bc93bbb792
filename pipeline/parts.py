"""Parts of a crawl: which input files the run of part K of N reads (RefinedWeb §1.10).

RefinedWeb split CommonCrawl into 100 parts, each holding a hundredth of every dump, and
deduplicated within each part. A file's part is a hash of its base name alone: CommonCrawl
names every WARC file uniquely (timestamp, segment, number), so the same file lands in the same
part whatever bucket, mirror or prefix holds it, and part K of every dump goes together. The
hash is blake2b, not Python's `hash`, which differs between processes. No Beam here.
"""

from __future__ import annotations

import hashlib


class PartError(ValueError):
    """A --part value that is not K/N with 0 <= K < N."""


def parse_part(value: str) -> tuple[int, int]:
    """(K, N) of "K/N"."""
    k, sep, n = value.partition("/")
    try:
        index, count = int(k), int(n)
    except ValueError:
        index, count = -1, 0
    if not sep or count < 1 or not 0 <= index < count:
        raise PartError(f"--part expects K/N with 0 <= K < N, got {value!r}")
    return index, count


def base_name(path: str) -> str:
    """The file name without its directory, bucket or scheme."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def part_of(path: str, parts: int) -> int:
    """The part (0 <= part < `parts`) a file belongs to, from its base name only."""
    digest = hashlib.blake2b(base_name(path).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % parts


def files_of_part(files: list[str], index: int, parts: int) -> list[str]:
    """The files of part `index` of `parts`, in their given order."""
    return [path for path in files if part_of(path, parts) == index]
