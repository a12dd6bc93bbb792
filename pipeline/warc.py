"""Record-by-record reading of one WARC stream: HTML responses in, everything else counted."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from charset_normalizer import from_bytes
from warcio.archiveiterator import ArchiveIterator

from pipeline.document import Document, document_id

HTML_TYPES = ("text/html", "application/xhtml+xml")

# Why a record read from a WARC file does not become a document (stats keys).
NOT_RESPONSE = "not_response"
NOT_HTTP_200 = "http_status_not_200"
NOT_HTML = "not_html"
UNREADABLE = "unreadable_record"
READ_REASONS = (NOT_RESPONSE, NOT_HTTP_200, NOT_HTML, UNREADABLE)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]+)", re.I)


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what one record may cost."""

    # CommonCrawl itself truncates payloads at 1 MiB; pages beyond this are cut here.
    max_payload_bytes: int = 2_000_000


@dataclass(frozen=True)
class Outcome:
    """One WARC record's fate: a document, or a reason it is not one."""

    document: Document | None = None
    reason: str = ""
    detail: str = ""
    offset: int = -1
    truncated: bool = False


def declared_charset(content_type: str | None, head: bytes) -> str | None:
    """The charset the HTTP header declares, else the one a <meta> tag declares."""
    for match in (
        _HEADER_CHARSET.search(content_type or ""),
        _META_CHARSET.search(head[:4096]),
    ):
        if match is None:
            continue
        name = match.group(1)
        name = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        try:
            return codecs.lookup(name.strip().lower()).name
        except LookupError:
            continue
    return None


def decode_html(payload: bytes, content_type: str | None) -> str:
    """Decode with the HTTP charset, then the <meta> charset, then detection."""
    charset = declared_charset(content_type, payload)
    if charset is not None:
        try:
            return payload.decode(charset)
        except (UnicodeDecodeError, LookupError):
            pass  # the declaration lied: fall through to detection
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return payload.decode(detect_charset(payload[:65536]), errors="replace")


def detect_charset(sample: bytes) -> str:
    """The detected encoding of undeclared, non-UTF-8 bytes.

    Detectors often tie between single-byte Latin code pages that decode the bytes equally
    well; among tied candidates windows-1252, by far the most common legacy charset on the web,
    wins, so a French or German page is not decoded as Central European.
    """
    matches = list(from_bytes(sample))
    if not matches:
        return "utf-8"
    best = matches[0]
    for match in matches:
        tied = match.chaos == best.chaos and match.coherence == best.coherence
        if tied and "cp1252" in match.could_be_from_charset:
            return "cp1252"
    return best.encoding


def iter_warc(
    stream: BinaryIO, source: str, limits: ReadLimits = ReadLimits()
) -> Iterator[Outcome]:
    """Every record of one WARC stream (gzipped or plain) as an Outcome."""
    records = ArchiveIterator(stream, check_digests=False)
    iterator = iter(records)
    while True:
        try:
            record = next(iterator)
        except StopIteration:
            return
        except Exception as error:  # warcio raises several types on damaged input
            yield Outcome(reason=UNREADABLE, detail=f"{type(error).__name__}: {error}")
            return
        try:
            outcome = _outcome(record, source, limits)
            # The offset is known only once the record has been read to its end.
            records.read_to_end(record)
            offset = records.get_record_offset()
        except Exception as error:
            yield Outcome(reason=UNREADABLE, detail=f"{type(error).__name__}: {error}")
            return
        yield Outcome(
            document=None
            if outcome.document is None
            else outcome.document.replace(source=f"{source}@{offset}"),
            reason=outcome.reason,
            detail=outcome.detail,
            offset=offset,
            truncated=outcome.truncated,
        )


def _outcome(record, source: str, limits: ReadLimits) -> Outcome:
    if record.rec_type != "response":
        return Outcome(reason=NOT_RESPONSE, detail=record.rec_type or "")
    http = record.http_headers
    if http is None:
        return Outcome(reason=NOT_HTML, detail="no HTTP headers")
    status = (http.get_statuscode() or "").strip()
    if status != "200":
        return Outcome(reason=NOT_HTTP_200, detail=status)
    content_type = http.get_header("Content-Type") or ""
    if not content_type.split(";")[0].strip().lower().startswith(HTML_TYPES):
        return Outcome(reason=NOT_HTML, detail=content_type[:100])
    payload = record.content_stream().read(limits.max_payload_bytes + 1)
    truncated = len(payload) > limits.max_payload_bytes
    payload = payload[: limits.max_payload_bytes]
    headers = record.rec_headers
    url = (headers.get_header("WARC-Target-URI") or "").strip()
    crawl_date = headers.get_header("WARC-Date") or ""
    record_id = headers.get_header("WARC-Record-ID") or f"{source}:{url}:{crawl_date}"
    document = Document(
        id=document_id(crawl_date, record_id),
        url=url,
        source=source,
        crawl_date=crawl_date,
        html=decode_html(payload, content_type),
    )
    return Outcome(document=document, truncated=truncated)
