import gzip
import shutil

import pytest

from pipeline.beam.io import InputError, expand_inputs, read_path_list


def test_commoncrawl_path_list_is_joined_to_the_base(tmp_path, sample_warc):
    relative = [
        "crawl-data/CC-MAIN-1/segments/1/warc/a.warc.gz",
        "crawl-data/CC-MAIN-1/segments/1/warc/b.warc.gz",
    ]
    for path in relative:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sample_warc, tmp_path / path)
    listing = tmp_path / "warc.paths.gz"
    listing.write_bytes(gzip.compress(("\n".join(relative) + "\n").encode()))
    files = expand_inputs([str(listing)], base_url=str(tmp_path))
    assert files == sorted(str(tmp_path / p) for p in relative)
    assert read_path_list(str(listing), "s3://commoncrawl") == [
        f"s3://commoncrawl/{p}" for p in relative
    ]


def test_globs_are_expanded_sorted_and_deduplicated(tmp_path, sample_warc):
    for name in ("b.warc.gz", "a.warc.gz"):
        shutil.copy(sample_warc, tmp_path / name)
    pattern = str(tmp_path / "*.warc.gz")
    assert expand_inputs([pattern, str(tmp_path / "a.warc.gz")]) == [
        str(tmp_path / "a.warc.gz"),
        str(tmp_path / "b.warc.gz"),
    ]


def test_a_pattern_matching_nothing_is_an_error(tmp_path):
    with pytest.raises(InputError, match="matches no file"):
        expand_inputs([str(tmp_path / "*.warc.gz")])
