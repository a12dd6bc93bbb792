"""Record-by-record reading of one WARC stream: HTML responses in, everything else counted."""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO
from urllib.parse import urlsplit

from charset_normalizer import from_bytes
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.recordloader import ArcWarcRecordLoader
from warcio.utils import BUFF_SIZE

from pipeline.document import Document, document_id

HTML_TYPES = ("text/html", "application/xhtml+xml")

# Why a record read from a WARC file does not become a document (stats keys).
NOT_RESPONSE = "not_response"
NOT_HTTP_200 = "http_status_not_200"
NOT_HTML = "not_html"
BAD_URI = "bad_target_uri"  # missing, empty, over-long, no host, or control characters
BINARY = "binary_payload"  # labelled HTML, but bytes that decode to no text
# Damage: each of these is also an errors/ entry with the file and offset.
UNREADABLE = "unreadable_record"  # bytes where a record should start are not one
CORRUPT_GZIP = "corrupt_gzip"  # a gzip member that fails to inflate part way
TRUNCATED = "truncated_record"  # the file or gzip member ends inside the record
LENGTH_MISMATCH = "content_length_mismatch"  # Content-Length disagrees with the framing
DAMAGE_REASONS = (UNREADABLE, CORRUPT_GZIP, TRUNCATED, LENGTH_MISMATCH)
READ_REASONS = (NOT_RESPONSE, NOT_HTTP_200, NOT_HTML, BAD_URI, BINARY, *DAMAGE_REASONS)
# Whole files with no record: one errors/ entry each, not records (nothing was read).
EMPTY_FILE = "empty_file"
NOT_WARC = "not_warc"

MAX_URI_CHARS = 4096  # choice: browsers and CommonCrawl's index cap URLs well below this
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"\nWARC/1\.[01]\r?\n")
_SCAN_BYTES = 1 << 20
_SCAN_OVERLAP = 64
_MAX_LINE = 1 << 20
# Share of control or undecodable characters above which an "HTML" body is binary.
_MAX_BINARY_FRACTION = 0.05
# Control characters but tab, newlines, vertical tab and form feed. Each is one byte in UTF-8,
# and no other character's UTF-8 holds a byte below 0x80, so bytes.translate can count them.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])

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
    # Where reading resumes (by resync) after this record; None: the next record follows.
    resume: int | None = None
    # The whole file failed (empty, or not a WARC): no record was read.
    file_level: bool = False


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


def uri_problem(url: str) -> str:
    """Why a WARC-Target-URI cannot name a page ('' when it can)."""
    if not url:
        return "missing or empty"
    if len(url) > MAX_URI_CHARS:
        return f"longer than {MAX_URI_CHARS} characters"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return "whitespace or control characters"
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return "" if host else "no host"


def binary_chars(text: str) -> int:
    """Control characters (see _CONTROL_BYTES) and U+FFFD (undecodable bytes) in `text`."""
    encoded = text.encode("utf-8", "surrogatepass")
    controls = len(encoded) - len(encoded.translate(None, _CONTROL_BYTES))
    return controls + text.count("\ufffd")


def decode_html(payload: bytes, content_type: str | None) -> str:
    """Decode with the HTTP charset, then the <meta> charset, then detection."""
    charset = declared_charset(content_type, payload)
    if charset == "iso8859-1":
        charset = "cp1252"  # as browsers do (WHATWG Encoding): the label means windows-1252
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
    """Every record of one WARC stream (gzipped or plain) as an Outcome, damage included.

    warcio reads the records; after a damaged record, or one cut at the payload cap, reading
    resumes at the next record start found in the raw bytes (`resync`). A stream with no
    record at all yields one file-level Outcome.
    """
    if not stream.read(1):
        yield Outcome(reason=EMPTY_FILE, detail="the file is empty", offset=0, file_level=True)
        return
    position: int | None = 0
    records_seen = 0
    while position is not None:
        resume = None
        for outcome in _read_from(stream, position, source, limits):
            if outcome.reason == UNREADABLE and records_seen == 0 and outcome.offset == 0:
                # The file does not start with a record: find the first one, if any.
                first = resync(stream, 1)
                if first is None:
                    yield Outcome(
                        reason=NOT_WARC,
                        detail=outcome.detail,
                        offset=0,
                        file_level=True,
                    )
                    return
                outcome = Outcome(
                    reason=UNREADABLE,
                    detail=f"{first} bytes before the first record",
                    offset=0,
                    resume=first,
                )
            records_seen += 1
            yield outcome
            resume = outcome.resume
        position = None if resume is None else resync(stream, resume)


def _read_from(stream: BinaryIO, position: int, source: str, limits: ReadLimits):
    """Records from `position` until the stream ends, or until one needs a resync."""
    stream.seek(position)
    records = _ArchiveIterator(stream, check_digests=False)
    iterator = iter(records)
    while True:
        start = records.offset
        try:
            record = next(iterator)
        except StopIteration:
            return
        except Exception as error:  # warcio raises many types on damaged input
            yield _damaged(start, _error_reason(error), error)
            return
        try:
            reason, detail = _check_header(record)
            if reason:
                yield _damaged(start, reason, detail)
                return
            outcome = _outcome(record, source, limits)
            declared = int(record.rec_headers.get_header("Content-Length"))
            if outcome.truncated or declared > limits.max_payload_bytes:
                # Never inflate the rest of an oversized record (it may be a bomb): skip it.
                yield replace(outcome, **_located(outcome, source, start), resume=start + 1)
                return
            errors = records.err_count
            records.read_to_end(record)
            reason, detail = _check_framing(records, record, errors)
        except Exception as error:
            yield _damaged(start, _error_reason(error), error)
            return
        if reason:
            yield _damaged(start, reason, detail)
            return
        yield replace(outcome, **_located(outcome, source, start))


def _located(outcome: Outcome, source: str, offset: int) -> dict:
    document = outcome.document
    if document is not None:
        document = document.replace(source=f"{source}@{offset}")
    return {"document": document, "offset": offset}


def _damaged(offset: int, reason: str, detail) -> Outcome:
    if isinstance(detail, BaseException):
        detail = f"{type(detail).__name__}: {detail}"
    return Outcome(reason=reason, detail=str(detail)[:500], offset=offset, resume=offset + 1)


def _error_reason(error: BaseException) -> str:
    if isinstance(error, zlib.error):
        return CORRUPT_GZIP
    return UNREADABLE


def _check_header(record) -> tuple[str, str]:
    length = (record.rec_headers.get_header("Content-Length") or "").strip()
    if not length.isdigit():
        return UNREADABLE, f"invalid Content-Length {length[:40]!r}"
    return "", ""


def _check_framing(records, record, errors_before: int) -> tuple[str, str]:
    """Why a fully read record's framing disagrees with its Content-Length ('' if it agrees)."""
    declared = record.rec_headers.get_header("Content-Length")
    missing = record.raw_stream.limit
    decompressor = records.reader.decompressor
    member_ended = decompressor is None or decompressor.eof
    if missing > 0:
        if member_ended and decompressor is not None:
            return LENGTH_MISMATCH, f"gzip member ends {missing} bytes before Content-Length"
        return TRUNCATED, f"stream ends {missing} bytes before Content-Length {declared}"
    if not member_ended:
        return TRUNCATED, "gzip member cut before its end"
    if records.err_count > errors_before:
        return LENGTH_MISMATCH, f"data follows the {declared} bytes of Content-Length"
    return "", ""


def resync(stream: BinaryIO, position: int) -> int | None:
    """Offset of the first record start at or after `position` (gzip member or WARC line)."""
    while True:
        stream.seek(position)
        data = stream.read(_SCAN_BYTES + _SCAN_OVERLAP)
        if not data:
            return None
        candidates = []
        index = data.find(_GZIP_MAGIC)
        while index != -1:
            if _is_gzip_record(stream, position + index):
                candidates.append(index)
                break
            index = data.find(_GZIP_MAGIC, index + 1)
        match = _WARC_LINE.search(data)
        if match is not None:
            candidates.append(match.start() + 1)
        if candidates:
            return position + min(candidates)
        if len(data) <= _SCAN_OVERLAP:
            return None
        position += len(data) - _SCAN_OVERLAP


def _is_gzip_record(stream: BinaryIO, offset: int) -> bool:
    """Whether a gzip member starts at `offset` and inflates to a WARC header."""
    stream.seek(offset)
    try:
        head = zlib.decompressobj(31).decompress(stream.read(65536), 16)
    except zlib.error:
        return False
    return _WARC_LINE.match(b"\n" + head) is not None


class _RecordLoader(ArcWarcRecordLoader):
    """warcio's loader, tolerant of a missing WARC-Target-URI (reported by iter_warc)."""

    def load_http_headers(self, rec_type, uri, stream, length):
        return super().load_http_headers(rec_type, uri or "", stream, length)


class _StrictReader(DecompressingBufferedReader):
    """warcio's reader, but a corrupt gzip member raises instead of reading on silently."""

    def _decompress(self, data):
        if self.decompressor is not None and data and self.num_block_read > 0:
            return self.decompressor.decompress(data)
        return super()._decompress(data)

    def readline(self, length=None):
        # A header "line" of a bomb could be a gigabyte long.
        return super().readline(_MAX_LINE if length is None else min(length, _MAX_LINE))


class _ArchiveIterator(ArchiveIterator):
    """ArchiveIterator that leaves damage to iter_warc instead of printing it."""

    def __init__(self, fileobj, **options):
        super().__init__(fileobj, **options)
        self.loader = _RecordLoader()
        self.reader = _StrictReader(self.fh, block_size=BUFF_SIZE)

    def _consume_blanklines(self):
        # A non-blank line where blank lines should follow a record means a lying length;
        # it is counted here and the iterator is abandoned, so one bounded line is enough.
        empty = 0
        first = True
        while True:
            line = self.reader.readline(_MAX_LINE)
            if not line:
                return None, empty
            if line.strip():
                if first:
                    self.err_count += 1
                return line, empty
            empty += len(line)
            first = False


def _outcome(record, source: str, limits: ReadLimits) -> Outcome:
    if record.rec_type != "response":
        return Outcome(reason=NOT_RESPONSE, detail=record.rec_type or "")
    headers = record.rec_headers
    url = (headers.get_header("WARC-Target-URI") or "").strip()
    problem = uri_problem(url)
    if problem:
        return Outcome(reason=BAD_URI, detail=f"{problem}: {url[:200]!r}")
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
    html = decode_html(payload, content_type)
    sample = html[:65536]
    if sample and binary_chars(sample) > _MAX_BINARY_FRACTION * len(sample):
        return Outcome(reason=BINARY, detail=f"{content_type[:60]}: {payload[:16]!r}")
    crawl_date = headers.get_header("WARC-Date") or ""
    record_id = headers.get_header("WARC-Record-ID") or f"{source}:{url}:{crawl_date}"
    document = Document(
        id=document_id(crawl_date, record_id),
        url=url,
        source=source,
        crawl_date=crawl_date,
        html=html,
    )
    return Outcome(document=document, truncated=truncated)
