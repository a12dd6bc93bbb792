"""Input expansion (globs, Beam filesystem URLs, CommonCrawl path lists, run directories) and
output checks."""

from __future__ import annotations

import ctypes
import gzip
import json
import os
import shutil
import tempfile

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
    paths = [line.strip() for line in data.decode("utf-8").splitlines() if line.strip()]
    return [p if "://" in p or p.startswith("/") else base + p for p in paths]


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


def read_run_json(directory: str, relative: str) -> dict | None:
    """A JSON file of a run directory (local or any Beam filesystem); None if it is absent."""
    path = FileSystems.join(directory, relative)
    try:
        if not FileSystems.exists(path):
            return None
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
            return json.loads(handle.read().decode("utf-8"))
    except Exception as error:
        raise InputError(f"cannot read {path}: {error}") from error


def is_run_directory(pattern: str) -> bool:
    """Whether an --input names a finished run's output (a directory with manifest.json)."""
    try:
        return FileSystems.exists(FileSystems.join(pattern, "manifest.json"))
    except Exception:  # not a path this filesystem can hold a directory at
        return False


# What a finished run leaves in its output directory; manifest.json is written last.
RUN_FILES = ("manifest.json", "stats.json", "report.html", "data", "index", "dropped", "errors")
# Linux renameat2() flag: swap two paths in one atomic step.
_RENAME_EXCHANGE = 2


def is_local(path: str) -> bool:
    """A local filesystem path (not gs://, s3://, hdfs://, ...)."""
    return "://" not in path


def holds_run(output: str) -> bool:
    """Whether `output` holds (part of) a previous run."""
    return any(
        FileSystems.exists(FileSystems.join(output, name)) for name in ("manifest.json", "data")
    )


def check_output(output: str, overwrite: bool) -> None:
    """Refuse to replace a run without --overwrite; make sure the output can be written.

    Local outputs are written to a staging directory and swapped in at the end (publish_run), so
    an existing run is left alone here. Object stores have no atomic directory rename: with
    --overwrite the previous run is deleted before the new one starts, manifest.json first so a
    half-deleted run never looks complete.
    """
    if holds_run(output) and not overwrite:
        raise InputError(
            f"output {output} already holds a run; choose another directory or pass --overwrite"
        )
    if is_local(output):
        if os.path.exists(output) and not os.path.isdir(output):
            raise InputError(f"output {output} exists and is not a directory")
        if os.path.isdir(output) and os.listdir(output) and not holds_run(output):
            raise InputError(f"output {output} is not empty and holds no macrodata run")
        return
    previous = [FileSystems.join(output, n) for n in RUN_FILES]
    previous = [p for p in previous if FileSystems.exists(p)]
    if previous:
        FileSystems.delete(previous)
    probe = FileSystems.join(output, ".macrodata-write-test")
    try:
        with FileSystems.create(probe) as handle:
            handle.write(b"ok")
        FileSystems.delete([probe])
    except Exception as error:
        raise InputError(f"cannot write to output {output}: {error}") from error


def staging_dir(output: str) -> str:
    """A new empty directory next to local `output`, on the same filesystem, for one run."""
    parent, name = os.path.split(os.path.abspath(output))
    try:
        os.makedirs(parent, exist_ok=True)
        return tempfile.mkdtemp(prefix=f".{name}.staging-", dir=parent)
    except OSError as error:
        raise InputError(f"cannot write to output {output}: {error}") from error


def _exchange(a: str, b: str) -> bool:
    """Atomically swap two existing paths (Linux renameat2); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_cwd = -100
    result = renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def publish_run(staging: str, output: str) -> None:
    """Move a finished run from `staging` to local `output`, replacing any previous run whole.

    Readers of `output` see the old run or the new one, never a mix: one atomic exchange where
    the kernel offers it, else two renames with a moment where `output` is absent.
    """
    if not os.path.exists(output):
        os.rename(staging, output)
        return
    if not os.listdir(output):
        os.rmdir(output)
        os.rename(staging, output)
        return
    if _exchange(staging, output):
        shutil.rmtree(staging)  # now holds the previous run
        return
    retired = staging + ".previous"
    os.rename(output, retired)
    os.rename(staging, output)
    shutil.rmtree(retired)
