"""Record-by-record reading of one archive: HTML responses in, everything else counted.

Reads WARC and ARC (version 1) files, plain, gzipped (a member per record, or one stream) or
lz4-compressed, whatever their names say: the first bytes decide.
"""

from __future__ import annotations

import codecs
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import BinaryIO
from urllib.parse import urlsplit

from charset_normalizer import from_bytes
from isal import isal_zlib
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.recordloader import ARC2WARCHeadersParser, ArcWarcRecordLoader
from warcio.utils import BUFF_SIZE

from core.document import Document, document_id
from pipeline import compressed

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
CORRUPT_LZ4 = "corrupt_lz4"  # an lz4 frame that fails to decompress part way
TRUNCATED = "truncated_record"  # the file or gzip member ends inside the record
LENGTH_MISMATCH = "content_length_mismatch"  # the declared length disagrees with the framing
DAMAGE_REASONS = (UNREADABLE, CORRUPT_GZIP, CORRUPT_LZ4, TRUNCATED, LENGTH_MISMATCH)
READ_REASONS = (NOT_RESPONSE, NOT_HTTP_200, NOT_HTML, BAD_URI, BINARY, *DAMAGE_REASONS)
# Damage a record's page survives: the document is kept, flagged truncated, and reported.
KEPT_DAMAGE = (TRUNCATED, LENGTH_MISMATCH)
# Whole files with no record: one errors/ entry each, not records (nothing was read).
EMPTY_FILE = "empty_file"
NOT_WARC = "not_warc"
UNSUPPORTED = "unsupported_compression"  # zstd, xz, bzip2; lz4 without the lz4 package

WARC = "warc"
ARC = "arc"
# Whitespace (re's \s is str.isspace) and the C0 controls and DEL.
_BAD_URI_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")
MAX_URI_CHARS = 4096  # choice: browsers and CommonCrawl's index cap URLs well below this
_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_LINE = re.compile(rb"\nWARC/1\.[01]\r?\n")
# An ARC version 1 header line: URL, IP address, date (12 or 14 digits), type, length.
_ARC_LINE = re.compile(
    rb"\n[A-Za-z][A-Za-z0-9+.-]{0,31}:\S{1,8192} \S{1,64} \d{12,14} \S{1,256} \d{1,12}\r?\n"
)
_SCAN_BYTES = 1 << 20
_SCAN_OVERLAP = 64
_MAX_LINE = 1 << 20
_SNIFF_BYTES = 1 << 16
# Bytes of WARC and HTTP headers a record may have on top of its capped payload.
_HEADROOM = 1 << 20
# A header warcio never sees in a file: the content type an ARC header line gives.
ARC_CONTENT_TYPE = "X-ARC-Content-Type"
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
    """One record's fate: a document, or a reason it is not one."""

    document: Document | None = None
    reason: str = ""
    detail: str = ""
    # Where the record starts: in the file, or, for records read through a decompressed stream
    # (a gzip member holding several records, lz4), that member's offset plus the position in
    # its decompressed data.
    offset: int = -1
    # The reader cut the payload at read.max_payload_bytes.
    capped: bool = False
    # The document was kept despite this damage (a KEPT_DAMAGE reason; `detail` says how).
    damage: str = ""
    # The record's WARC-Truncated value: the crawler cut the payload.
    warc_truncated: str = ""
    # Where reading resumes (by resync) after this record; None: the next record follows.
    resume: int | None = None
    # The whole file failed (empty, not an archive, unsupported compression): no record read.
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
    if _BAD_URI_CHAR.search(url):
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
    return _decode_html(payload, content_type)[0]


def _decode_html(payload: bytes, content_type: str | None) -> tuple[str, bool]:
    """(decode_html's text, whether `payload` is exactly that text in UTF-8)."""
    charset = declared_charset(content_type, payload)
    if charset == "iso8859-1":
        charset = "cp1252"  # as browsers do (WHATWG Encoding): the label means windows-1252
    if charset is not None:
        try:
            text = payload.decode(charset)
            return text, codecs.lookup(charset).name == "utf-8"
        except (UnicodeDecodeError, LookupError):
            pass  # the declaration lied: fall through to detection
    try:
        return payload.decode("utf-8"), True
    except UnicodeDecodeError:
        pass
    return payload.decode(detect_charset(payload[:65536]), errors="replace"), False


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
    """Every record of one archive file as an Outcome, damage included.

    The first bytes say what the file is (gzip, lz4, plain; WARC or ARC). warcio parses the
    records; after a damaged record, or one cut at the payload cap, reading resumes at the next
    record start found in the bytes (`resync`), and a damaged record whose HTTP headers and
    some HTML are there still yields its page, flagged (`_salvage`). A file with no record at
    all yields one file-level Outcome.
    """
    head = stream.read(_SNIFF_BYTES)
    if not head:
        yield Outcome(reason=EMPTY_FILE, detail="the file is empty", offset=0, file_level=True)
        return
    kind = compressed.compression_of(head)
    lz4 = kind == compressed.LZ4
    if kind not in ("", compressed.GZIP, compressed.LZ4) or (
        lz4 and not compressed.lz4_available()
    ):
        detail = f"{kind}-compressed" + (": needs macrodata[lz4] installed" if lz4 else "")
        yield Outcome(reason=UNSUPPORTED, detail=detail, offset=0, file_level=True)
        return
    archive = _Archive(stream, source, limits)
    if lz4:
        archive = archive.inflated_from(0, compressed.LZ4)
    elif kind == compressed.GZIP:
        first = _inflate_head(head, _SNIFF_BYTES)
        archive.fmt = _format_of(first)
        if _record_start(archive.fmt).search(first):
            # The first member holds more than one record (`gzip file.warc`): one stream.
            archive = archive.inflated_from(0, compressed.GZIP)
    else:
        archive.fmt = _format_of(head)
    for outcome in _records(archive):
        yield _located(outcome, source)


@dataclass
class _Archive:
    """One file being read: its stream (raw, or decompressed), record format and offsets."""

    stream: BinaryIO
    source: str
    limits: ReadLimits
    fmt: str | None = None  # WARC or ARC; None until known (either is looked for)
    # Added to positions in `stream` to give offsets in the file (see Outcome.offset).
    base: int = 0
    inflated: compressed.Inflated | None = field(default=None, repr=False)

    def inflated_from(self, start: int, kind: str) -> _Archive:
        """The rest of the file, from `start`, read as one decompressed stream."""
        # Seeks back stay within the record being read: its capped payload plus its headers.
        window = self.limits.max_payload_bytes + 4 * _HEADROOM
        stream = compressed.Inflated(self.stream, start, kind, window)
        fmt = self.fmt or _format_of(stream.read(4096))
        return _Archive(stream, self.source, self.limits, fmt, self.base + start, stream)


def _records(archive: _Archive) -> Iterator[Outcome]:
    """The records of one stream, with offsets in the file."""
    stream = archive.stream
    inflated = archive.inflated
    members = inflated is None  # raw bytes: a record may start as a gzip member
    position: int | None = 0
    first = True
    stream_failure_reported = False
    while position is not None:
        resume = None
        for outcome in _read_from(archive, position):
            if outcome.reason == _ONE_STREAM:
                # A gzip member holds several records (`gzip file.warc`): read the rest of the
                # file as one stream. Nothing of this member has been yielded yet.
                yield from _records(archive.inflated_from(outcome.offset, compressed.GZIP))
                return
            if inflated is not None and inflated.error and outcome.reason == TRUNCATED:
                # The record runs into data that does not decompress: no salvage, the bytes
                # just before a decompression error may already be wrong.
                outcome = _stream_failure(inflated, outcome.offset)
                stream_failure_reported = True
            elif outcome.reason in DAMAGE_REASONS:
                outcome = _after_damage(archive, outcome, first)
                if outcome.reason == _ONE_STREAM:
                    yield from _records(archive.inflated_from(outcome.offset, compressed.GZIP))
                    return
                if outcome.file_level:
                    yield outcome
                    return
            first = False
            yield replace(outcome, offset=archive.base + outcome.offset)
            resume = outcome.resume
        position = None if resume is None else resync(stream, resume, archive.fmt, members)
    if inflated is not None and inflated.error and not stream_failure_reported:
        # Decompression stopped between records: what follows cannot be read (one record).
        failure = _stream_failure(inflated, inflated.error_at)
        yield replace(failure, offset=archive.base + failure.offset)


def _stream_failure(inflated: compressed.Inflated, offset: int) -> Outcome:
    if inflated.error == compressed.TRAILING:
        reason = UNREADABLE
    else:
        reason = CORRUPT_GZIP if inflated.kind == compressed.GZIP else CORRUPT_LZ4
    return Outcome(reason=reason, detail=inflated.detail, offset=offset)


def _after_damage(archive: _Archive, outcome: Outcome, first: bool) -> Outcome:
    """A damaged record's page when it can be saved; else the damage, or a file-level error."""
    stream = archive.stream
    members = archive.inflated is None
    if _starts_record(stream, outcome.offset, archive.fmt, members):
        saved = _salvage(archive, outcome)
        return outcome if saved is None else saved
    if first and archive.base == 0 and outcome.offset == 0 and outcome.reason == UNREADABLE:
        # The file does not start with a record: find the first one, if any.
        found = resync(stream, 1, archive.fmt, members)
        if found is None:
            return Outcome(reason=NOT_WARC, detail=outcome.detail, offset=0, file_level=True)
        archive.fmt = archive.fmt or _format_at(stream, found, members)
        return Outcome(
            reason=UNREADABLE,
            detail=f"{found} bytes before the first record",
            offset=0,
            resume=found,
        )
    return outcome


def _located(outcome: Outcome, source: str) -> Outcome:
    document = outcome.document
    if document is None:
        return outcome
    return replace(outcome, document=document.replace(source=f"{source}@{outcome.offset}"))


def _read_from(archive: _Archive, position: int) -> Iterator[Outcome]:
    """Records from `position` until the stream ends, or until one needs a resync."""
    stream, limits = archive.stream, archive.limits
    stream.seek(position)
    records = _ArchiveIterator(stream, archive.fmt)
    iterator = iter(records)
    while True:
        start = records.offset
        try:
            record = next(iterator)
        except StopIteration:
            # warcio also ends quietly when the data stops inside a record's headers.
            members = archive.inflated is None
            if _starts_record(stream, records.offset, archive.fmt, members):
                yield _damaged(records.offset, TRUNCATED, "the data ends inside the headers")
            return
        except Exception as error:  # warcio raises many types on damaged input
            yield _damaged(start, _error_reason(error), error)
            return
        try:
            reason, detail = _check_header(record)
            if reason:
                yield _damaged(start, reason, detail)
                return
            outcome = _outcome(record, archive.source, limits)
            declared = int(record.rec_headers.get_header("Content-Length"))
            if outcome.capped or declared > limits.max_payload_bytes:
                # Never inflate the rest of an oversized record (it may be a bomb): skip it.
                resume = start + 1
                if records.reader.decompressor is not None:
                    resume = resync(stream, start + 1, archive.fmt)
                    if resume is None and not _last_member_holds_only(stream, record, declared):
                        # The last member may hold more records: the file is one gzip stream.
                        yield Outcome(reason=_ONE_STREAM, offset=start)
                        return
                yield replace(outcome, offset=start, resume=resume)
                return
            errors = records.err_count
            records.read_to_end(record)
            reason, detail = _check_framing(records, record, errors, archive.fmt)
        except Exception as error:
            yield _damaged(start, _error_reason(error), error)
            return
        if reason:
            yield _damaged(start, reason, detail)
            return
        yield replace(outcome, offset=start)


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


# Not a reason: a gzip member holds more than one record, so the file is one gzip stream.
_ONE_STREAM = "one_stream"


def _check_framing(records, record, errors_before: int, fmt: str | None) -> tuple[str, str]:
    """Why a fully read record's framing disagrees with its length ('' if it agrees)."""
    declared = record.rec_headers.get_header("Content-Length")
    missing = record.raw_stream.limit
    decompressor = records.reader.decompressor
    if missing > 0:
        if decompressor is not None and decompressor.eof:
            return LENGTH_MISMATCH, f"gzip member ends {missing} bytes before Content-Length"
        return TRUNCATED, f"stream ends {missing} bytes before Content-Length {declared}"
    if decompressor is not None and records.next_line:
        # The member goes on after this record: with another record, or with its own rest.
        if _record_start(fmt).match(b"\n" + records.next_line):
            return _ONE_STREAM, ""
        return (
            LENGTH_MISMATCH,
            f"the gzip member goes on after the {declared} bytes of Content-Length",
        )
    if decompressor is not None and not decompressor.eof:
        return TRUNCATED, "gzip member cut before its end"
    if records.err_count > errors_before:
        return LENGTH_MISMATCH, f"data follows the {declared} bytes of Content-Length"
    return "", ""


def _last_member_holds_only(stream: BinaryIO, record, declared: int) -> bool:
    """Whether the file's last gzip member holds just this record, by its size field."""
    size = record.rec_headers.total_len + declared + 4  # headers, block, blank lines
    try:
        stream.seek(-4, io.SEEK_END)
        return int.from_bytes(stream.read(4), "little") == size % (1 << 32)
    except (OSError, ValueError):
        return False


def _salvage(archive: _Archive, outcome: Outcome) -> Outcome | None:
    """The page of a damaged record whose HTTP headers and some HTML are there, else None.

    The record's true end comes from the framing instead of its length: the end of its gzip
    member, the next record start, or the end of the file. The record is parsed again with its
    length corrected, so its page is read exactly as an undamaged one would be.
    """
    stream, start = archive.stream, outcome.offset
    bound = archive.limits.max_payload_bytes + _HEADROOM
    stream.seek(start)
    member = archive.inflated is None and stream.read(len(_GZIP_MAGIC)) == _GZIP_MAGIC
    if member:
        resume = resync(stream, start + 1, archive.fmt, True)
        try:
            data, framed = compressed.inflate_member(stream, start, resume, bound)
        except zlib.error:
            return None  # corrupt: what inflates before the error may already be wrong
        if _record_start(archive.fmt).search(data) is not None:
            return Outcome(reason=_ONE_STREAM, offset=start)
    else:
        stream.seek(start)
        data = stream.read(bound)
        found = _record_start(archive.fmt).search(data)
        framed = found is not None
        if framed:
            data, resume = data[: found.start() + 1], start + found.start() + 1
        elif len(data) < bound:
            resume = None  # the end of the file
        else:
            resume = start + len(data) - _SCAN_OVERLAP  # longer than the bound: resync on
    fixed = _with_true_length(data)
    if fixed is None:
        return None
    record_bytes, declared, actual = fixed
    try:
        records = _ArchiveIterator(io.BytesIO(record_bytes), archive.fmt)
        saved = _outcome(next(iter(records)), archive.source, archive.limits)
    except Exception:
        return None
    if saved.document is None or not saved.document.html.strip():
        return None
    if framed:
        # The member's end or the next record shows where the record really ends.
        reason = LENGTH_MISMATCH
    elif member or declared is None or actual < declared:
        reason = TRUNCATED  # the data stops before the record's end
    else:
        reason = LENGTH_MISMATCH  # the record runs on to the end of the file
    if actual == declared:
        reason = outcome.reason  # the length was right: some other damage
    detail = f"{outcome.detail}; the page is kept from the {actual} bytes there"
    return replace(
        saved,
        document=saved.document.replace(truncated=True),
        offset=start,
        damage=reason,
        detail=detail[:500],
        resume=resume,
    )


_WARC_HEADER_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*([^\r\n]*)")


def _with_true_length(data: bytes) -> tuple[bytes, int | None, int] | None:
    """The record in `data` with its length set to the block it holds, the length it
    declared, and the block's; None when `data` does not hold a whole header."""
    warc = data.startswith(b"WARC/")
    if warc:
        end = _WARC_HEADER_END.search(data, 0, _HEADROOM)
        split = -1 if end is None else end.end()
        separator = b"\r\n\r\n"
    else:  # ARC: one header line; the file header record has no page to save
        newline = data.find(b"\n", 0, _HEADROOM)
        split = -1 if newline < 0 or data.startswith(b"filedesc:") else newline + 1
        separator = b"\n"
    if split < 0:
        return None
    header, block = data[:split], data[split:].removesuffix(separator)
    if warc:
        length = _CONTENT_LENGTH.search(header)
        if length is None:
            return None
        declared = length.group(1).strip()
        header = header[: length.start(1)] + b"%d" % len(block) + header[length.end(1) :]
    else:
        parts = header.rstrip().rsplit(b" ", 1)
        if len(parts) != 2:
            return None
        declared = parts[1]
        header = parts[0] + b" %d\n" % len(block)
    return header + block, int(declared) if declared.isdigit() else None, len(block)


def _format_of(head: bytes) -> str | None:
    """WARC or ARC from a file's first (decompressed) bytes; None when they are neither."""
    if head.startswith(b"WARC/"):
        return WARC
    if _ARC_LINE.match(b"\n" + head):
        return ARC
    return None


def _inflate_head(head: bytes, size: int = 4096) -> bytes:
    """The first `size` bytes a gzip member inflates to, or as many as inflate before an error
    (a cut member runs into the next one)."""
    inflater = zlib.decompressobj(31)
    out = bytearray()
    # Small steps: zlib drops the output of the step in which it fails.
    for at in range(0, len(head), 64):
        try:
            out += inflater.decompress(head[at : at + 64], size - len(out))
        except zlib.error:
            break
        if len(out) >= size or inflater.eof:
            break
    return bytes(out)


def _format_at(stream: BinaryIO, position: int, members: bool) -> str | None:
    stream.seek(position)
    head = stream.read(_SNIFF_BYTES)
    if members and head.startswith(_GZIP_MAGIC):
        head = _inflate_head(head)
    return _format_of(head)


_ANY_LINE = re.compile(_WARC_LINE.pattern + b"|" + _ARC_LINE.pattern)


def _record_start(fmt: str | None) -> re.Pattern:
    """The line a record of this format starts with, after a newline."""
    return {WARC: _WARC_LINE, ARC: _ARC_LINE}.get(fmt, _ANY_LINE)


def _starts_record(stream: BinaryIO, position: int, fmt: str | None, members: bool) -> bool:
    """Whether a record (or a gzip member holding one) starts at `position`."""
    stream.seek(position)
    head = stream.read(_SNIFF_BYTES)
    if members and head.startswith(_GZIP_MAGIC):
        head = _inflate_head(head)
    return _record_start(fmt).match(b"\n" + head) is not None


def resync(
    stream: BinaryIO, position: int, fmt: str | None = WARC, members: bool = True
) -> int | None:
    """Offset of the first record start at or after `position` (gzip member or header line)."""
    pattern = _record_start(fmt)
    # A record may start right at `position`: the first read scans as if a newline came first.
    lead = b"\n"
    while True:
        stream.seek(position)
        data = stream.read(_SCAN_BYTES + _SCAN_OVERLAP)
        if not data:
            return None
        candidates = []
        index = data.find(_GZIP_MAGIC) if members else -1
        while index != -1:
            if _is_gzip_record(stream, position + index, pattern):
                candidates.append(index)
                break
            index = data.find(_GZIP_MAGIC, index + 1)
        match = pattern.search(lead + data)
        if match is not None:
            candidates.append(match.start() + 1 - len(lead))
        if candidates:
            return position + min(candidates)
        if len(data) <= _SCAN_OVERLAP:
            return None
        position += len(data) - _SCAN_OVERLAP
        lead = b""


def _is_gzip_record(stream: BinaryIO, offset: int, pattern: re.Pattern = _WARC_LINE) -> bool:
    """Whether a gzip member starts at `offset` and inflates to a record's first line."""
    stream.seek(offset)
    try:
        head = zlib.decompressobj(31).decompress(stream.read(65536), 8192)
    except zlib.error:
        return False
    return pattern.match(b"\n" + head) is not None


class _ArcHeaders(ARC2WARCHeadersParser):
    """warcio's ARC-to-WARC header parser, with ids as stable as WARC-Record-IDs.

    warcio gives ARC records random ids; here the id comes from the header line's URL, IP
    address, date and content type (the length is left out: it is what damage changes), so a
    record has one id in every copy of its file. The line's content type is kept too.
    """

    def _get_protocol_and_headers(self, headerline, parts):
        identity = "arc:" + " ".join(parts[:-1])
        content_type = parts[3]
        protocol, headers = super()._get_protocol_and_headers(headerline, parts)
        headers = [
            (name, identity if name == "WARC-Record-ID" else value) for name, value in headers
        ]
        return protocol, [*headers, (ARC_CONTENT_TYPE, content_type)]


class _RecordLoader(ArcWarcRecordLoader):
    """warcio's loader, reading ARC as WARC and tolerant of a missing WARC-Target-URI."""

    def __init__(self):
        super().__init__(verify_http=False, arc2warc=True)
        self.arc_parser = _ArcHeaders()

    def load_http_headers(self, rec_type, uri, stream, length):
        if rec_type == "request":  # a third of the records; only responses become documents
            return None
        return super().load_http_headers(rec_type, uri or "", stream, length)


def _isal_gzip_decompressor():
    return isal_zlib.decompressobj(16 + isal_zlib.MAX_WBITS)


class _StrictReader(DecompressingBufferedReader):
    """warcio's reader, but a corrupt gzip member raises instead of reading on silently.

    Members inflate with ISA-L (isal), about 2.4x faster than zlib on WARC payloads (the same
    bytes out); its errors are raised as zlib's, which the damage handling knows.
    """

    DECOMPRESSORS = {**DecompressingBufferedReader.DECOMPRESSORS, "gzip": _isal_gzip_decompressor}

    def _decompress(self, data):
        if self.decompressor is not None and data and self.num_block_read > 0:
            try:
                return self.decompressor.decompress(data)
            except isal_zlib.error as error:
                raise zlib.error(str(error)) from error
        return super()._decompress(data)

    def readline(self, length=None):
        # A header "line" of a bomb could be a gigabyte long.
        return super().readline(_MAX_LINE if length is None else min(length, _MAX_LINE))


class _ArchiveIterator(ArchiveIterator):
    """ArchiveIterator for one format, leaving damage to iter_warc instead of printing it."""

    def __init__(self, fileobj, fmt: str | None):
        # arc2warc (ARC records come out as WARC ones) also keeps warcio from switching the
        # format after the first record; the format is set here, once per file.
        super().__init__(fileobj, check_digests=False, arc2warc=True)
        self.known_format = fmt
        self.fmt = fmt
        self.loader = _RecordLoader()
        self.reader = _StrictReader(self.fh, block_size=BUFF_SIZE)

    def _consume_blanklines(self):
        # A non-blank line where blank lines should follow a record means a lying length,
        # unless it starts the next record (ARC files may leave the blank line out); it is
        # counted here and the iterator is abandoned, so one bounded line is enough.
        empty = 0
        first = True
        while True:
            line = self.reader.readline(_MAX_LINE)
            if not line:
                return None, empty
            if line.strip():
                if first and not _record_start(self.fmt).match(b"\n" + line):
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
    content_type = http.get_header("Content-Type") or headers.get_header(ARC_CONTENT_TYPE) or ""
    if not content_type.split(";")[0].strip().lower().startswith(HTML_TYPES):
        return Outcome(reason=NOT_HTML, detail=content_type[:100])
    payload = record.content_stream().read(limits.max_payload_bytes + 1)
    capped = len(payload) > limits.max_payload_bytes
    payload = payload[: limits.max_payload_bytes]
    html, payload_is_utf8 = _decode_html(payload, content_type)
    sample = html[:65536]
    if sample and binary_chars(sample) > _MAX_BINARY_FRACTION * len(sample):
        return Outcome(reason=BINARY, detail=f"{content_type[:60]}: {payload[:16]!r}")
    crawl_date = headers.get_header("WARC-Date") or ""
    record_id = headers.get_header("WARC-Record-ID") or f"{source}:{url}:{crawl_date}"
    # CommonCrawl cuts payloads at 1 MiB and says so; an empty value still means cut.
    cut = headers.get_header("WARC-Truncated")
    cut = "" if cut is None else (cut.strip() or "unspecified")
    document = Document(
        id=document_id(crawl_date, record_id),
        url=url,
        source=source,
        crawl_date=crawl_date,
        html=html,
        # Extraction ships the page to its process as UTF-8: for a UTF-8 page, the payload.
        html_utf8=payload if payload_is_utf8 else None,
        truncated=capped or bool(cut),
    )
    return Outcome(document=document, capped=capped, warc_truncated=cut)
