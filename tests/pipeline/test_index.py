import os

import pytest

from core.document import Document
from dedup.exact_doc import text_key
from dedup.minhash import PRESETS, MinHashParams
from dedup.url import url_key
from pipeline.index import (
    INDEX_KEYS,
    IndexSettings,
    UnusableIndex,
    check_header,
    document_keys,
    earlier_index,
    header,
    schema,
)

FINEWEB = PRESETS["fineweb"]


def test_a_header_made_with_the_same_settings_is_accepted():
    made = header(IndexSettings(True, FINEWEB), 3, ["index/b.parquet", "index/a.parquet"])
    assert made["files"] == ["index/a.parquet", "index/b.parquet"]
    check_header(made, "run", FINEWEB)
    check_header(made, "run", None)  # a run without minhash does not use band keys
    index = earlier_index("/runs/p0", made, os.path.join)
    assert index.files == ("/runs/p0/index/a.parquet", "/runs/p0/index/b.parquet")
    assert (index.documents, index.band_keys) == (3, True)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"format": 99}, "index format 99"),
        ({"keys": {"url_key": "md5"}}, "index keys were made another way"),
    ],
)
def test_an_index_of_another_format_or_keys_is_refused(change, message):
    made = {**header(IndexSettings(False, FINEWEB), 0, []), **change}
    with pytest.raises(UnusableIndex, match=message):
        check_header(made, "run", FINEWEB)


@pytest.mark.parametrize(
    "params", [PRESETS["refinedweb"], MinHashParams(14, 8, 5, 2), MinHashParams(14, 8, 3, 1)]
)
def test_band_keys_of_other_minhash_settings_are_refused_in_one_line(params):
    made = header(IndexSettings(True, FINEWEB), 1, [])
    with pytest.raises(UnusableIndex) as error:
        check_header(made, "--dedup-against p0", params)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("--dedup-against p0: index band keys were made with MinHash")
    assert "bands=14 rows=8 ngram=5 seed=1" in message


def test_an_index_without_band_keys_fits_any_minhash_settings():
    check_header(header(IndexSettings(False, FINEWEB), 1, []), "run", PRESETS["refinedweb"])


def test_keys_are_the_recorded_ones_else_computed():
    doc = Document(id="20230101000000-" + "0" * 20, url="https://A.example/x", text="Hello!")
    assert document_keys(doc) == (url_key(doc.url), text_key(doc.text))
    recorded = doc.replace(meta={INDEX_KEYS: {"text_key": b"k" * 16}})
    assert document_keys(recorded) == (url_key(doc.url), b"k" * 16)


def test_schema_has_band_hashes_only_when_asked():
    assert schema(False).names == ["id", "url_key", "text_key"]
    assert schema(True).names == ["id", "url_key", "text_key", "band_hashes"]
