import pytest

from pipeline.parts import PartError, base_name, files_of_part, parse_part, part_of


@pytest.mark.parametrize("value, expected", [("0/1", (0, 1)), ("3/100", (3, 100))])
def test_parse_part(value, expected):
    assert parse_part(value) == expected


@pytest.mark.parametrize("value", ["3/3", "-1/4", "1/0", "x/4", "2", "1/2/3", ""])
def test_a_bad_part_is_refused(value):
    with pytest.raises(PartError, match="K/N with 0 <= K < N"):
        parse_part(value)


def test_a_file_lands_in_the_same_part_whatever_holds_it():
    name = "CC-MAIN-20230601000000-20230601030000-00000.warc.gz"
    places = [name, f"/data/crawl/{name}", f"gs://bucket/x/{name}", f"s3://commoncrawl/a/{name}"]
    assert {base_name(p) for p in places} == {name}
    assert len({part_of(p, 100) for p in places}) == 1


def test_the_part_is_stable_across_processes():
    # blake2b of the base name, not Python's salted hash: a fixed value.
    assert part_of("CC-MAIN-20230601000000-20230601030000-00000.warc.gz", 100) == 72


def test_parts_split_the_files():
    files = [f"dir/file-{i:05d}.warc.gz" for i in range(500)]
    parts = [files_of_part(files, k, 7) for k in range(7)]
    assert sorted(f for part in parts for f in part) == files
    assert all(40 <= len(part) <= 105 for part in parts)
