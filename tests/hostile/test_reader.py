"""The WARC reader on damaged input: every record counted, damage located, reading resumes."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.document import Document
from pipeline.warc import DAMAGE_REASONS, READ_REASONS, ReadLimits, iter_warc, resync
from tests.hostile import make_corpus

# Longer fuzzing: HOSTILE_EXAMPLES=5000 pytest tests/hostile (docs/robustness.md).
EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "60"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus.build(str(tmp_path_factory.mktemp("hostile")))


def outcomes(path: str, limits: ReadLimits | None = None):
    with open(path, "rb") as handle:
        return list(iter_warc(handle, path, limits or ReadLimits()))


def test_every_damage_is_reported_at_its_file(corpus):
    expected = Counter(
        (d.file, d.expect, d.kept)
        for d in corpus.damages
        if d.expect in READ_REASONS or d.expect == "file"
    )
    found = Counter()
    for path in corpus.files:
        for outcome in outcomes(path):
            if outcome.file_level:
                found[(path, "file", False)] += 1
            elif outcome.damage:
                found[(path, outcome.damage, True)] += 1
            elif outcome.reason in expected_reasons(corpus):
                found[(path, outcome.reason, False)] += 1
    assert found == expected


def expected_reasons(corpus) -> set[str]:
    return {d.expect for d in corpus.damages}


def clean_documents(corpus) -> dict[str, Document]:
    documents = {}
    for path in corpus.clean_files:
        with open(path, "rb") as handle:
            documents.update(
                {o.document.id: o.document for o in iter_warc(handle, path) if o.document}
            )
    return documents


def test_good_records_all_come_out_as_documents(corpus):
    found = {}
    for path in corpus.files:
        for outcome in outcomes(path):
            if outcome.document is not None:
                found[outcome.document.id] = outcome.document
    clean = clean_documents(corpus)
    assert len(clean) == len(corpus.good)
    assert set(clean) <= set(found)
    assert not any(doc.truncated for doc in clean.values())


def test_kept_damage_is_flagged_and_the_page_is_there(corpus):
    clean = clean_documents(corpus)
    kept = [o for path in corpus.files for o in outcomes(path) if o.document and o.damage]
    assert len(kept) == sum(d.kept for d in corpus.damages)
    for outcome in kept:
        page, whole = outcome.document.html, clean[outcome.document.id].html
        assert outcome.document.truncated and outcome.detail
        # A clipped page is the start of the whole one; a page behind a lying length is whole.
        assert page == whole or (whole.startswith(page) and len(page) > len(whole) // 3), page


def test_records_the_crawler_cut_are_flagged(corpus):
    path = os.path.join(corpus.directory, "warc_truncated.warc.gz")
    flagged = [o for o in outcomes(path) if o.warc_truncated]
    assert [o.warc_truncated for o in flagged] == ["length"]
    assert flagged[0].document.truncated and not flagged[0].damage


def test_offsets_point_at_the_damage(corpus):
    path = os.path.join(corpus.directory, "garbage_between.warc.gz")
    with open(path, "rb") as handle:
        data = handle.read()
    damaged = [o for o in outcomes(path) if o.reason in DAMAGE_REASONS]
    assert len(damaged) == 1
    assert data[damaged[0].offset : damaged[0].offset + 2] != b"\x1f\x8b"
    assert zlib.decompress(data[: damaged[0].offset], 31).startswith(b"WARC/1.0")


def test_whole_file_failures_are_one_entry(corpus):
    for name, reason in (("empty.warc.gz", "empty_file"), ("not_gzip.warc.gz", "not_warc")):
        (only,) = outcomes(os.path.join(corpus.directory, name))
        assert only.file_level and only.reason == reason


def test_payload_cap_cuts_without_reading_on(corpus):
    path = corpus.clean
    full = [o for o in outcomes(path) if o.document]
    capped = [o for o in outcomes(path, ReadLimits(max_payload_bytes=500)) if o.document]
    assert [o.document.id for o in capped] == [o.document.id for o in full]
    assert all(o.capped and o.document.truncated for o in capped)


def test_resync_skips_false_gzip_magic():
    record = make_corpus.gz(make_corpus.record(1, b"<p>one</p>"))
    data = b"\x1f\x8b\x08 not a member " + record
    assert resync(io.BytesIO(data), 0) == data.index(record)
    assert resync(io.BytesIO(b"garbage \x1f\x8b\x08 more"), 0) is None


def _stream(count: int) -> bytes:
    return b"".join(
        make_corpus.gz(make_corpus.record(n, make_corpus.html_page("t", ["p"]).encode()))
        for n in range(count)
    )


VALID = _stream(4)
VALID_PLAIN = b"".join(zlib.decompress(m, 31) for m in [_stream(1), _stream(1)])
_ARC = [make_corpus.arc_filedesc("f.arc", 0)] + [
    make_corpus.arc_record(n, make_corpus.html_page("t", ["p"]).encode()) for n in (1, 2)
]
# Files whose records sit in the raw bytes (offsets are file offsets), and files read as one
# decompressed stream (offsets go up to the decompressed size).
RAW = [VALID, VALID_PLAIN, b"".join(_ARC), b"".join(map(make_corpus.gz, _ARC))]
STREAMS = [
    gzip.compress(VALID_PLAIN, mtime=0),
    b"".join(make_corpus.lz4_frame(zlib.decompress(m, 31)) for m in [_stream(1), _stream(1)]),
]


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(RAW + STREAMS)))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            del data[at : at + draw(st.integers(1, 200))]
    return bytes(data)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_streams_never_raise_and_count_every_record(data):
    seen = list(iter_warc(io.BytesIO(data), "fuzz"))
    records = [o for o in seen if not o.file_level]
    assert len(seen) - len(records) <= 1
    # Records read through a decompressed stream are located by their position in it, at most
    # 1032 times (deflate's largest ratio; lz4's is lower) into the compressed data.
    streamed = b"\x1f\x8b" in data or b"\x04\x22\x4d\x18" in data
    end = max(len(data), 1) * (1032 if streamed else 1)
    for outcome in records:
        assert outcome.document is not None or outcome.reason in READ_REASONS
        assert 0 <= outcome.offset < end
        assert not outcome.damage or outcome.document.truncated
    # Each record is counted once: offsets strictly increase.
    offsets = [o.offset for o in records]
    assert offsets == sorted(set(offsets))


@pytest.mark.parametrize(
    "name, damage",
    [("arc_short_end.arc", "truncated_record"), ("chunk_sizes.warc.gz", "content_length_mismatch")],
)
def test_pages_other_tools_leave_short_of_their_length_are_kept_whole(corpus, name, damage):
    clean = clean_documents(corpus)
    found = outcomes(os.path.join(corpus.directory, name))
    (kept,) = [o for o in found if o.damage]
    assert kept.damage == damage and kept.document.truncated
    assert kept.document.html == clean[kept.document.id].html
    assert all(o.document is not None for o in found if o.reason != "not_response")
