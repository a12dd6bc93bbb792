import io
import re

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.warc import (
    NOT_HTML,
    NOT_HTTP_200,
    NOT_RESPONSE,
    ReadLimits,
    binary_chars,
    decode_html,
    iter_warc,
)


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
    assert outcome.truncated and len(outcome.document.html) == 1000


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
