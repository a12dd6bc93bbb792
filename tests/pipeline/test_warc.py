import gzip
import io
import re
import tracemalloc
import zlib

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline import compressed
from pipeline.warc import (
    CORRUPT_GZIP,
    CORRUPT_LZ4,
    LENGTH_MISMATCH,
    NOT_HTML,
    NOT_HTTP_200,
    NOT_RESPONSE,
    NOT_WARC,
    TRUNCATED,
    UNREADABLE,
    UNSUPPORTED,
    ReadLimits,
    binary_chars,
    decode_html,
    iter_warc,
)
from tests.hostile import make_corpus as mc


def warc(records, gzip=True) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=gzip)
    for url, status, content_type, body in records:
        headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
        writer.write_record(
            writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": "2024-01-02T03:04:05Z"},
            )
        )
    return buffer.getvalue()


PAGE = "<html><body><p>Grüße aus Köln</p></body></html>"


def test_reads_html_200_and_counts_the_rest():
    data = warc(
        [
            ("https://a.example/", "200 OK", "text/html; charset=utf-8", PAGE.encode()),
            ("https://a.example/x", "404 Not Found", "text/html", b"missing"),
            ("https://a.example/i.png", "200 OK", "image/png", b"\x89PNG"),
        ]
    )
    outcomes = list(iter_warc(io.BytesIO(data), "f.warc.gz"))
    assert [o.reason for o in outcomes] == ["", NOT_HTTP_200, NOT_HTML]
    doc = outcomes[0].document
    assert doc.url == "https://a.example/" and "Grüße" in doc.html
    assert doc.crawl_date == "2024-01-02T03:04:05Z"
    assert doc.id.startswith("20240102030405-")
    assert doc.source == f"f.warc.gz@{outcomes[0].offset}" and outcomes[0].offset == 0
    assert outcomes[1].offset > 0


@pytest.mark.parametrize(
    "content_type, body, utf8",
    [
        ("text/html; charset=utf-8", PAGE.encode(), True),
        ("text/html", PAGE.encode(), True),  # undeclared, valid UTF-8
        ("text/html; charset=windows-1252", PAGE.encode("cp1252"), False),
        ("text/html", PAGE.encode("cp1252"), False),  # detected: decoded with replacement
    ],
)
def test_the_reader_hands_on_the_payload_of_a_utf8_page(content_type, body, utf8):
    data = warc([("https://a.example/", "200 OK", content_type, body)])
    doc = next(iter_warc(io.BytesIO(data), "f.warc.gz")).document
    assert (doc.html_utf8 is not None) == utf8
    if utf8:
        assert doc.html_utf8 == doc.html.encode("utf-8")


def test_plain_uncompressed_warc():
    data = warc([("https://a.example/", "200 OK", "text/html", PAGE.encode())], gzip=False)
    assert list(iter_warc(io.BytesIO(data), "f.warc"))[0].document is not None


def test_non_response_records_are_counted():
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    writer.write_record(writer.create_warcinfo_record("f", {"software": "t"}))
    outcomes = list(iter_warc(io.BytesIO(buffer.getvalue()), "f"))
    assert [o.reason for o in outcomes] == [NOT_RESPONSE]


def test_payload_cap():
    data = warc([("https://a.example/", "200 OK", "text/html", b"<p>" + b"x" * 5000 + b"</p>")])
    outcome = next(iter_warc(io.BytesIO(data), "f", ReadLimits(max_payload_bytes=1000)))
    assert outcome.capped and len(outcome.document.html) == 1000
    assert outcome.document.truncated


def test_decoding_order():
    latin = "<html><head><meta charset='iso-8859-1'></head><body>Größe</body></html>"
    # The HTTP header wins over the meta tag.
    assert "Größe" in decode_html(latin.encode("latin-1"), "text/html; charset=iso-8859-1")
    # The meta tag is used when the header says nothing.
    assert "Größe" in decode_html(latin.encode("latin-1"), "text/html")
    # Detection when nothing is declared.
    french = "<p>" + "Le festival célèbre sa vingtième édition à l'été. " * 5 + "</p>"
    assert "célèbre" in decode_html(french.encode("cp1252"), "text/html")
    # A lying declaration falls back instead of failing.
    assert "Größe" in decode_html("Größe".encode(), "text/html; charset=ascii")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain <b>html</b>\n\ttab\r\n",
        "a\x00b\x7f\ufffd\x1f\x0e\x0b\x0c\x08€",
        "é\x01" * 50,
        "\ud800\x02",
    ],
)
def test_binary_chars_counts_what_the_character_class_matches(text):
    reference = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")
    assert binary_chars(text) == len(reference.findall(text))


# Archives of every shape the reader takes, written here (tests/hostile/make_corpus.py).
def _page(n: int) -> bytes:
    return mc.html_page(f"Page {n}", mc.prose(n)).encode()


RECORDS = [mc.record(n, _page(n)) for n in (1, 2, 3)]
PLAIN = mc.warcinfo(0) + b"".join(RECORDS)
ARC_RECORDS = [mc.arc_record(n, _page(n)) for n in (1, 2, 3)]
ARC_FILE = mc.arc_filedesc("t.arc", 0) + b"".join(ARC_RECORDS)


def read(data: bytes, limits: ReadLimits | None = None) -> list:
    return list(iter_warc(io.BytesIO(data), "f", limits or ReadLimits()))


def pages(outcomes) -> list[str]:
    return [o.document.url for o in outcomes if o.document is not None]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PLAIN, id="plain WARC"),
        pytest.param(b"".join(map(mc.gz, [mc.warcinfo(0), *RECORDS])), id="gzip per record"),
        pytest.param(gzip.compress(PLAIN), id="gzip one stream"),
        pytest.param(gzip.compress(PLAIN[:2000]) + gzip.compress(PLAIN[2000:]), id="gzip halves"),
        pytest.param(mc.gz(mc.warcinfo(0)) + gzip.compress(b"".join(RECORDS)), id="gzip mixed"),
        pytest.param(b"".join(map(mc.lz4_frame, [mc.warcinfo(0), *RECORDS])), id="lz4 frames"),
        pytest.param(mc.lz4_frame(PLAIN), id="lz4 one frame"),
    ],
)
def test_every_container_gives_the_same_documents(data):
    outcomes = read(data)
    assert [o.reason for o in outcomes] == [NOT_RESPONSE, "", "", ""]
    docs = [o.document for o in outcomes[1:]]
    assert [d.url for d in docs] == [f"http://news-{n}.example.org/story/{n}" for n in (1, 2, 3)]
    plain_ids = [o.document.id for o in read(PLAIN)[1:]]
    assert [d.id for d in docs] == plain_ids and not any(d.truncated for d in docs)
    offsets = [o.offset for o in outcomes]
    assert offsets == sorted(set(offsets))
    assert all(d.source == f"f@{o.offset}" for d, o in zip(docs, outcomes[1:], strict=True))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ARC_FILE, id="plain"),
        pytest.param(b"".join(map(mc.gz, [mc.arc_filedesc("t.arc", 0), *ARC_RECORDS])), id="gz"),
        pytest.param(gzip.compress(ARC_FILE), id="gzip one stream"),
        pytest.param(mc.lz4_frame(ARC_FILE), id="lz4"),
        pytest.param(b"".join(ARC_RECORDS), id="no file header"),
    ],
)
def test_arc_records_become_documents(data):
    docs = [o.document for o in read(data) if o.document is not None]
    assert [d.url for d in docs] == [mc.arc_url(n) for n in (1, 2, 3)]
    assert docs[0].crawl_date == "2024-03-02T01:01:00Z"
    assert docs[0].id.startswith("20240302010100-")
    assert "Page 1" in docs[0].html
    # Ids depend on the record, not on the file or its container.
    assert [d.id for d in docs] == [o.document.id for o in read(ARC_FILE) if o.document]


def test_arc_fields_come_from_the_header_line_and_http_headers():
    latin = "<html><body><p>Größe</p></body></html>".encode("latin-1")
    block = b"HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n" + latin
    typed = b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\n<p>typed by the ARC line</p>"
    lines = [
        b"http://a.example/x 192.0.2.1 20080102030405 text/html %d\n" % len(block) + block,
        b"http://a.example/y 192.0.2.1 20080102030406 text/html %d\n" % len(typed) + typed,
        b"http://a.example/z 192.0.2.1 20080102030407 image/png %d\n" % len(typed) + typed,
    ]
    outcomes = read(b"\n".join(lines) + b"\n")
    first, second, third = outcomes
    assert "Größe" in first.document.html  # the HTTP charset decodes the page
    assert first.document.crawl_date == "2008-01-02T03:04:05Z"
    assert "typed by the ARC line" in second.document.html
    assert third.reason == NOT_HTML


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\x28\xb5\x2f\xfd" + b"\0" * 100, UNSUPPORTED),
        (b"\xfd7zXZ\x00" + b"\0" * 100, UNSUPPORTED),
        (b"BZh91AY&SY" + b"\0" * 100, UNSUPPORTED),
        (gzip.compress(b"<html>not an archive</html>" * 20), NOT_WARC),
        (mc.lz4_frame(b"<html>not an archive</html>" * 20), NOT_WARC),
    ],
)
def test_files_that_are_not_archives_are_one_file_error(data, reason):
    (only,) = read(data)
    assert only.file_level and only.reason == reason and only.detail


def test_lz4_without_its_package_is_a_file_error(monkeypatch):
    monkeypatch.setattr(compressed, "lz4_available", lambda: False)
    (only,) = read(mc.lz4_frame(PLAIN))
    assert only.file_level and only.reason == UNSUPPORTED and "macrodata[lz4]" in only.detail


CLIPPED = RECORDS[0] + RECORDS[1][:-400]
SHORT_PARTS = [RECORDS[0], mc.record(2, _page(2), length_delta=-300), RECORDS[2]]
CHUNKED_PARTS = [RECORDS[0], mc.chunked_record(2, _page(2)), RECORDS[2]]
SHORT = b"".join(SHORT_PARTS)
LONG = RECORDS[0] + mc.record(2, _page(2), length_delta=+40) + RECORDS[2]
NOT_A_NUMBER = [
    RECORDS[0],
    RECORDS[1].replace(b"Content-Length: ", b"Content-Length: x"),
    RECORDS[2],
]
CHUNKED = b"".join(CHUNKED_PARTS)


@pytest.mark.parametrize(
    "data, damage, whole, count",
    [
        pytest.param(CLIPPED, TRUNCATED, False, 2, id="plain clipped"),
        pytest.param(
            mc.gz(RECORDS[0]) + mc.gz(RECORDS[1])[:-150], TRUNCATED, False, 2, id="gz clipped"
        ),
        pytest.param(
            gzip.compress(RECORDS[0] + RECORDS[1])[:-150], TRUNCATED, False, 2, id="stream clipped"
        ),
        pytest.param(
            mc.gz(RECORDS[0]) + mc.gz(RECORDS[1])[:-150] + mc.gz(RECORDS[2]),
            TRUNCATED,
            False,
            3,
            id="gz member cut, more after",
        ),
        pytest.param(SHORT, LENGTH_MISMATCH, True, 3, id="plain too short"),
        pytest.param(LONG, LENGTH_MISMATCH, True, 3, id="plain too long"),
        pytest.param(CHUNKED, LENGTH_MISMATCH, True, 3, id="plain chunked"),
        pytest.param(
            b"".join(map(mc.gz, SHORT_PARTS)), LENGTH_MISMATCH, True, 3, id="gz too short"
        ),
        pytest.param(
            b"".join(map(mc.gz, CHUNKED_PARTS)), LENGTH_MISMATCH, True, 3, id="gz chunked"
        ),
        pytest.param(b"".join(NOT_A_NUMBER), LENGTH_MISMATCH, True, 3, id="plain length x"),
        pytest.param(
            b"".join(map(mc.gz, NOT_A_NUMBER)), LENGTH_MISMATCH, True, 3, id="gz length x"
        ),
        pytest.param(gzip.compress(SHORT), LENGTH_MISMATCH, True, 3, id="stream too short"),
        pytest.param(gzip.compress(LONG), LENGTH_MISMATCH, True, 3, id="stream too long"),
        pytest.param(mc.lz4_frame(CHUNKED), LENGTH_MISMATCH, True, 3, id="lz4 chunked"),
        pytest.param(
            mc.arc_filedesc("t.arc", 0) + ARC_RECORDS[0] + ARC_RECORDS[1][:-300],
            TRUNCATED,
            False,
            2,
            id="ARC clipped",
        ),
        pytest.param(
            ARC_RECORDS[0] + mc.arc_record(2, _page(2), length_delta=-200) + ARC_RECORDS[2],
            LENGTH_MISMATCH,
            True,
            3,
            id="ARC too short",
        ),
    ],
)
def test_damaged_records_keep_their_page_flagged(data, damage, whole, count):
    outcomes = read(data)
    kept = [o for o in outcomes if o.damage]
    assert len(kept) == 1 and kept[0].damage == damage and kept[0].detail
    doc = kept[0].document
    assert doc.truncated and "Page 2" in doc.html
    assert doc.html.endswith("</html>") == whole
    # The same record undamaged has the same id; the records after it are still read.
    undamaged = {o.document.id: o.document for o in read(PLAIN) + read(ARC_FILE) if o.document}
    assert doc.id in undamaged and undamaged[doc.id].html.startswith(doc.html)
    assert {o.reason for o in outcomes} <= {"", NOT_RESPONSE}
    assert len(pages(outcomes)) == count


WHOLE = mc.record(2, _page(2))


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(RECORDS[0] + WHOLE[:200], id="cut inside the WARC headers"),
        pytest.param(
            RECORDS[0] + WHOLE[: WHOLE.index(b"Content-Type: text/html")],
            id="cut inside the HTTP headers",
        ),
        pytest.param(RECORDS[0] + WHOLE[: WHOLE.index(b"<!DOCTYPE")], id="no HTML"),
        pytest.param(RECORDS[0] + mc.record(2, _page(2), "image/png")[:-200], id="not HTML"),
        pytest.param(mc.gz(RECORDS[0]) + mc.gz(WHOLE[:200]), id="gz cut inside the WARC headers"),
    ],
)
def test_damaged_records_without_a_page_are_dropped(data):
    outcomes = read(data)
    assert [o.reason for o in outcomes] == ["", TRUNCATED]
    assert not outcomes[1].damage and outcomes[1].document is None


def test_records_the_crawler_cut_are_kept_and_flagged():
    page = _page(2)
    cut = mc.warc_truncated_record(2, page, 500)
    empty = cut.replace(b"WARC-Truncated: length", b"WARC-Truncated: ")
    for data, value in ((cut, "length"), (empty, "unspecified")):
        (outcome,) = read(mc.gz(data))
        assert outcome.warc_truncated == value and not outcome.damage
        assert outcome.document.truncated and len(outcome.document.html) == 500


def test_a_stream_that_stops_decompressing_is_one_damaged_record():
    stream = gzip.compress(PLAIN)
    corrupt = stream[:-200] + bytes(b ^ 0x55 for b in stream[-200:-100]) + stream[-100:]
    trailing = stream + b"\0garbage after the stream" * 10
    frames = [mc.lz4_frame(r) for r in (mc.warcinfo(0), *RECORDS)]
    broken = frames[2][:20] + bytes(b ^ 0x55 for b in frames[2][20:60]) + frames[2][60:]
    cases = [
        (corrupt, CORRUPT_GZIP, 2),
        (trailing, UNREADABLE, 3),
        (b"".join([*frames[:2], broken, frames[3]]), CORRUPT_LZ4, 1),
    ]
    for data, reason, kept in cases:
        outcomes = read(data)
        assert outcomes[-1].reason == reason and outcomes[-1].detail
        assert len(pages(outcomes)) == kept and not any(o.damage for o in outcomes)
        offsets = [o.offset for o in outcomes]
        assert offsets == sorted(set(offsets))


def test_a_bomb_in_a_gzip_stream_is_capped_in_bounded_memory():
    # A 160 MiB page inside a whole-stream gzip cannot be skipped without inflating it: it is
    # inflated a step at a time, never held. (The first, per-member attempt inflates one
    # 16 KiB block of it at once, as for any gzip member: docs/robustness.md.)
    size = 160 * mc.MIB
    head = mc.warc_headers(9, size) + mc.http_head()
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(head + b"<p>")]
    left = size - len(mc.http_head()) - 3
    block = b"x" * mc.MIB
    while left > 0:
        parts.append(compressor.compress(block[:left]))
        left -= len(block)
    parts += [compressor.compress(b"\r\n\r\n" + RECORDS[0]), compressor.flush()]
    data = b"".join(parts)
    tracemalloc.start()
    outcomes = read(data, ReadLimits(max_payload_bytes=100_000))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert [o.capped for o in outcomes] == [True, False]
    assert len(outcomes[0].document.html) == 100_000 and outcomes[1].document is not None
    assert peak < 64 * mc.MIB


def test_a_target_uri_character_is_refused_exactly_when_it_is_whitespace_or_a_control():
    import sys

    from pipeline.warc import _BAD_URI_CHAR

    for char in map(chr, range(sys.maxunicode + 1)):
        control = char.isspace() or ord(char) < 32 or ord(char) == 127
        assert bool(_BAD_URI_CHAR.search(char)) == control, hex(ord(char))
