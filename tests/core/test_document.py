"""Document ids: stable, earliest capture first, and packed into 16 bytes in the same order."""

from __future__ import annotations

import pytest

from core.document import HANDLE_BYTES, document_id, handle_id, id_handle

IDS = [
    document_id(date, record)
    for date in ("2013-05-18T05:48:54Z", "2023-06-01T00:00:00Z", "2023-06-01T00:00:01Z", "")
    for record in ("<urn:uuid:1>", "<urn:uuid:2>", "x" * 300)
]


def test_handles_invert_and_keep_the_order_of_ids():
    handles = [id_handle(i) for i in IDS]
    assert all(len(h) == HANDLE_BYTES for h in handles)
    assert [handle_id(h) for h in handles] == IDS
    assert sorted(handles) == [id_handle(i) for i in sorted(IDS)]


@pytest.mark.parametrize("bad", ["d01", "2023060100000-abc", "20230601000000-" + "g" * 20])
def test_a_string_that_is_no_document_id_has_no_handle(bad):
    with pytest.raises(ValueError, match="not a document id"):
        id_handle(bad)


def test_the_word_count_follows_the_text():
    import pickle

    from core.document import Document

    doc = Document(id="a", url="u", text="one two  three\nfour")
    assert doc.words == 4
    assert doc.replace(text="just two").words == 2
    assert doc.replace(language="en").words == 4
    assert doc.with_signals({"x": 1.0}).words == 4
    assert pickle.loads(pickle.dumps(doc)) == doc
    assert Document(id="b", url="u").words == 0


def test_a_copy_is_what_the_dataclass_would_build_and_leaves_the_original_alone():
    import dataclasses

    from core.document import Document

    def built(doc, **changes):  # through __init__, the word count reset with a new text
        if "text" in changes and "words" not in changes:
            changes["words"] = -1
        return dataclasses.replace(doc, **changes)

    doc = Document(id="a", url="u", text="one two", meta={"k": 1}, signals={"s": 0.5})
    for changes in (
        {"language": "de", "language_score": 0.9},
        {"text": "a b c", "html": None},
        {"text": "a b c", "words": 7},
        {"text": "one two"},
        {"text": ""},
        {"words": -1},
        {"signals": {}, "meta": {"k": 2}},
    ):
        expected = built(doc, **changes)
        copy = doc.replace(**changes)
        assert copy == expected and copy is not doc
        assert type(copy) is Document and vars(copy) == vars(expected)
    assert doc == Document(id="a", url="u", text="one two", meta={"k": 1}, signals={"s": 0.5})
    with pytest.raises(TypeError, match="no field colour"):
        doc.replace(colour="red")
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.replace(language="en").language = "fr"


def test_a_document_and_its_copies_come_back_from_pickling():
    import pickle

    from core.document import Document

    doc = Document(id="a", url="u", text="one two", meta={"k": 1})
    back = pickle.loads(pickle.dumps(doc))
    assert back == doc
    changed = back.replace(text="three four five", meta={"k": 2})
    again = pickle.loads(pickle.dumps(changed))
    assert again == changed and again.text == "three four five" and again.meta == {"k": 2}
    assert again.words == 3 and again != doc
    assert pickle.loads(pickle.dumps(back.with_signals({"s": 1.0}))).signals == {"s": 1.0}


def test_compressed_bytes_come_back_and_a_wrong_length_is_refused():
    from core.document import compress, decompress

    for data in (b"", b"x", bytes(range(256)) * 4000):
        packed = compress(data)
        assert decompress(packed) == data
    packed = compress(b"some bytes " * 100)
    with pytest.raises(ValueError):
        decompress((2000).to_bytes(8, "little") + packed[8:])
