"""Write a corpus of damaged and unusual archives, each damage between good records.

    python tests/hostile/make_corpus.py DIR [--huge]

Besides damaged WARC files it holds the other shapes crawlers write: ARC files (plain and one
gzip member per record), a WARC gzipped as one stream, lz4-compressed WARC, and records clipped
or with lying lengths whose pages a reader can still recover. `--huge` adds the 40 MB page and
the record that inflates to 1 GiB (both written streaming). `build(DIR)` returns a `Corpus`
naming every good record, every damage and the clean twins (`clean/clean.warc.gz` and
`clean/clean.arc`: the same good records, undamaged) that tests compare against.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

DATE = "2024-03-{day:02d}T{hour:02d}:{minute:02d}:00Z"
MIB = 1024 * 1024
# Read reasons of damaged records whose pages still come out.
TRUNCATED = "truncated_record"
MISMATCH = "content_length_mismatch"

# Paragraphs of ordinary prose; each good record takes a distinct combination of them.
PARAGRAPHS = (
    "The harbour town woke slowly on Tuesday morning. Fishing boats that had waited out the "
    "storm in the sheltered bay began to move again, and the smell of diesel and salt drifted "
    "over the market square where stall holders were setting out crates of mackerel and crab.",
    "Local historians say the old lighthouse was built in the eighteen sixties, after a winter "
    "in which three cargo ships were lost on the rocks below the cliffs. The keeper's cottage "
    "now houses a small museum with logbooks, lamps and a collection of brass instruments.",
    "Most visitors arrive by the coastal railway, which follows the river through a narrow "
    "valley of oak woods before it reaches the sea. The line was nearly closed twice, and it "
    "survives today because a group of volunteers raised money to repair two of its bridges.",
    "The council has promised to publish a plan for the empty warehouses along the quay before "
    "the end of the year. Residents want workshops and affordable flats rather than another "
    "hotel, and more than four hundred people signed a letter asking for a public meeting.",
    "Teachers at the primary school have started a garden project with the children, who grow "
    "beans, potatoes and sunflowers in raised beds behind the playground. Every Friday the "
    "pupils weigh what they have picked and write the numbers into a large shared notebook.",
    "A small bakery on the hill sells out of its rye bread by ten o'clock most days. The owner "
    "learned the recipe from her grandmother and still uses a starter that she says is older "
    "than her children, feeding it with flour and water every evening before she goes home.",
    "Walkers who follow the cliff path to the north are rewarded with views of seals resting "
    "on the sandbanks at low tide. Rangers ask people to keep their dogs on a lead during the "
    "spring, when the birds are nesting in the grass and among the stones near the edge.",
    "The annual regatta drew a larger crowd than expected this summer. Crews from eleven "
    "villages raced wooden rowing boats across the bay, and the winning team from the island "
    "celebrated with a long evening of music in the yard behind the old customs house.",
    "Doctors at the community clinic say that the new minibus service has made a real "
    "difference for older patients who live in the farms beyond the moor. Appointments that "
    "used to be missed because of the distance are now kept, and waiting lists are shorter.",
    "The library reopened in April after a year of building work. Its reading room has new "
    "windows that let in the afternoon light, and a corner of the ground floor has been set "
    "aside for a repair cafe where volunteers mend lamps, bicycles and broken chairs.",
    "Farmers in the valley are trying a different way of managing the hedges, cutting them "
    "only every third year so that they can flower and fruit. They hope the change will bring "
    "back some of the insects and birds that were common when their parents worked the land.",
    "An exhibition of photographs from the nineteen fifties has opened in the town hall. The "
    "pictures show women gutting herring on the pier, children playing on the slipway and "
    "the day the first television arrived in the pub, carried through the door by four men.",
)
TOWNS = ("Porthallow", "Kilbride", "Easthaven", "Mornington", "Caldbeck", "Westerby", "Ardmore")

# Legacy-encoded pages: text with characters each encoding can represent.
LEGACY_TEXT = (
    "Caf\u00e9 owners in the old quarter say the na\u00efve optimism of last spring has gone. "
    "At the cr\u00eaperie near the fa\u00e7ade of the cath\u00e9dral, the menu still lists "
    "cr\u00e8me br\u00fbl\u00e9e and a r\u00e9sum\u00e9 of the chef's career, and the "
    "M\u00fcller family who run it have kept their prices the same for three years running."
)
CP1252_EXTRA = (
    "The owner said \u201cwe will not raise the price of coffee\u201d \u2014 it still costs "
    "two \u20ac \u2013 and added that customers\u2019 loyalty was worth more than any margin."
)


@dataclass
class Damage:
    """One damaged record or file and the read reason the pipeline should report for it."""

    file: str
    kind: str
    expect: str  # a READ_REASONS value, a later stage's reason, or "file" for file-level errors
    # The record still comes out as a document, flagged truncated (its page is recoverable).
    kept: bool = False


@dataclass
class Corpus:
    """What `build` wrote."""

    directory: str
    files: list[str] = field(default_factory=list)
    good: dict[str, str] = field(default_factory=dict)  # record id -> its prose (plain text)
    legacy: dict[str, str] = field(default_factory=dict)  # record id -> expected readable text
    # Good records whose damaged copy holds only the first part of the page (clipped).
    partial: set[str] = field(default_factory=set)
    damages: list[Damage] = field(default_factory=list)
    clean: str = ""
    clean_arc: str = ""

    @property
    def clean_files(self) -> list[str]:
        """The clean twins: every good record once, undamaged."""
        return [self.clean, self.clean_arc]


def record_id(n: int) -> str:
    """A stable WARC-Record-ID for record `n`."""
    return f"<urn:uuid:{uuid.UUID(int=0x5EED0000 + n)}>"


def prose(n: int) -> list[str]:
    """The paragraphs of good record `n`: a distinct triple plus a sentence naming it."""
    count = len(PARAGRAPHS)
    first, second, third = n % count, (n // count + n + 1) % count, (n * 7 + 3) % count
    picks = list(dict.fromkeys([first, second, third]))
    extra = 0
    while len(picks) < 3:
        extra += 1
        picks = list(dict.fromkeys(picks + [(first + extra * 5) % count]))
    town = TOWNS[n % len(TOWNS)]
    opening = (
        f"This is report number {n} from {town}, written for the weekly newsletter that "
        f"neighbours have read for many years and still pass from house to house."
    )
    return [opening] + [PARAGRAPHS[i] for i in picks]


def html_page(title: str, paragraphs: Iterable[str], charset: str | None = "utf-8") -> str:
    """A small article page; `charset` goes into a <meta> tag when given."""
    meta = f'<meta charset="{charset}">' if charset else ""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{title}</title></head><body>"
        f'<nav><a href="/">Home</a> | <a href="/news">News</a></nav>'
        f"<article><h1>{title}</h1>\n{body}\n</article>"
        f"<footer>Copyright the newsletter</footer></body></html>"
    )


def warc_headers(
    n: int, block_length: int, uri: str | None = "", kind: str = "response", extra: str = ""
) -> bytes:
    """WARC headers of record `n` (uri None leaves WARC-Target-URI out)."""
    if uri == "":
        uri = f"http://news-{n % 5}.example.org/story/{n}"
    date = DATE.format(day=1 + n % 28, hour=n % 24, minute=n % 60)
    lines = [
        "WARC/1.0",
        f"WARC-Type: {kind}",
        f"WARC-Record-ID: {record_id(n)}",
        f"WARC-Date: {date}",
    ]
    if uri is not None:
        lines.append(f"WARC-Target-URI: {uri}")
    content_type = "application/http; msgtype=response" if kind == "response" else "text/plain"
    lines += [f"Content-Type: {content_type}", f"Content-Length: {block_length}"]
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("utf-8")


def http_head(content_type: str = "text/html; charset=utf-8", status: str = "200 OK") -> bytes:
    """HTTP response headers."""
    return f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n\r\n".encode("ascii")


def record(
    n: int,
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    uri: str | None = "",
    length_delta: int = 0,
) -> bytes:
    """One whole response record; `length_delta` makes its Content-Length lie."""
    block = http_head(content_type) + body
    return warc_headers(n, len(block) + length_delta, uri) + block + b"\r\n\r\n"


def warcinfo(n: int) -> bytes:
    """A warcinfo record, as files start with (a non-response record)."""
    block = b"software: make_corpus\r\nformat: WARC File Format 1.0\r\n"
    return warc_headers(n, len(block), None, kind="warcinfo") + block + b"\r\n\r\n"


def gz(data: bytes) -> bytes:
    """One gzip member."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def lz4_frame(data: bytes) -> bytes:
    """One lz4 frame (the `lz4` package is a test dependency)."""
    import lz4.frame

    return lz4.frame.compress(data)


def arc_date(n: int) -> str:
    """Record `n`'s capture time as an ARC header line writes it (14 digits)."""
    return "".join(
        ch for ch in DATE.format(day=1 + n % 28, hour=n % 24, minute=n % 60) if ch.isdigit()
    )


def arc_url(n: int) -> str:
    """Record `n`'s URL in an ARC file (distinct from the WARC records' URLs)."""
    return f"http://archive-{n % 3}.example.net/page/{n}.html"


def arc_filedesc(name: str, n: int) -> bytes:
    """The version-1 file header record an ARC file starts with."""
    block = b"1 0 make_corpus\nURL IP-address Archive-date Content-type Archive-length\n"
    line = f"filedesc://{name} 0.0.0.0 {arc_date(n)} text/plain {len(block)}\n"
    return line.encode("ascii") + block + b"\n"


def arc_record(
    n: int, body: bytes, content_type: str = "text/html", status: str = "200 OK", length_delta=0
) -> bytes:
    """One version-1 ARC record: URL, IP, date, type and length, then the HTTP response."""
    block = http_head(content_type, status).replace(b"HTTP/1.1", b"HTTP/1.0") + body
    mime = content_type.split(";")[0]
    line = f"{arc_url(n)} 192.0.2.{1 + n % 250} {arc_date(n)} {mime} {len(block) + length_delta}\n"
    return line.encode("ascii") + block + b"\n"


def chunked(body: bytes, pieces: int = 3) -> bytes:
    """`body` in HTTP/1.1 chunked transfer coding."""
    size = -(-len(body) // pieces)
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def chunked_record(n: int, body: bytes) -> bytes:
    """A response sent chunked whose Content-Length counts the de-chunked body (it lies)."""
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    block = head + chunked(body)
    return warc_headers(n, len(head) + len(body)) + block + b"\r\n\r\n"


def overclaimed_chunk_record(n: int, body: bytes, claimed: int = 6000) -> bytes:
    """A response sent chunked whose one chunk claims `claimed` more bytes than it holds, and
    whose Content-Length counts what the chunk size claims: the record (its gzip member) ends
    that far before its length says, right after the page."""
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    size = b"%x\r\n" % (len(body) + claimed)
    block = head + size + body
    declared = len(block) + claimed + len(b"\r\n0\r\n\r\n")
    return warc_headers(n, declared) + block + b"\r\n\r\n"


def warc_truncated_record(n: int, body: bytes, keep: int) -> bytes:
    """A record whose payload the crawler cut after `keep` bytes and said so (WARC-Truncated)."""
    block = http_head() + body[:keep]
    return warc_headers(n, len(block), extra="WARC-Truncated: length\r\n") + block + b"\r\n\r\n"


class Writer:
    """Numbers records and remembers which are good."""

    def __init__(self, corpus: Corpus, start: int):
        self.corpus = corpus
        self.n = start
        self.clean_records: list[bytes] = []
        self.clean_arc: list[bytes] = []

    def next_id(self) -> int:
        self.n += 1
        return self.n

    def good(self, count: int = 2) -> bytes:
        """`count` good records, gzipped member by member."""
        out = []
        for _ in range(count):
            n = self.next_id()
            paragraphs = prose(n)
            data = record(n, html_page(f"Newsletter {n}", paragraphs).encode("utf-8"))
            self.corpus.good[record_id(n)] = "\n".join(paragraphs)
            self.clean_records.append(data)
            out.append(gz(data))
        return b"".join(out)

    def good_plain(self, count: int = 2) -> bytes:
        """Good records, uncompressed."""
        return b"".join(gzip_member_text(self.good(1)) for _ in range(count))

    def good_records(self, count: int = 2) -> list[bytes]:
        """Good records, uncompressed, one item each (to compress as the caller chooses)."""
        return [gzip_member_text(self.good(1)) for _ in range(count)]

    def good_arc(self, count: int = 2) -> list[bytes]:
        """Good ARC records, uncompressed, one item each."""
        out = []
        for _ in range(count):
            n = self.next_id()
            paragraphs = prose(n)
            data = arc_record(n, html_page(f"Archive {n}", paragraphs).encode("utf-8"))
            self.corpus.good[f"arc:{n}"] = "\n".join(paragraphs)
            self.clean_arc.append(data)
            out.append(data)
        return out

    def recoverable_arc(self, make) -> bytes:
        """A good ARC record as `make(n, page)` damages it; its whole page can still be read."""
        n = self.next_id()
        paragraphs = prose(n)
        page = html_page(f"Archive {n}", paragraphs).encode("utf-8")
        self.corpus.good[f"arc:{n}"] = "\n".join(paragraphs)
        self.clean_arc.append(arc_record(n, page))
        return make(n, page)

    def recoverable(self, make, partial: bool) -> bytes:
        """A good record as `make(n, page)` damages it; its page can still be read."""
        n = self.next_id()
        paragraphs = prose(n)
        page = html_page(f"Newsletter {n}", paragraphs).encode("utf-8")
        self.corpus.good[record_id(n)] = "\n".join(paragraphs)
        self.clean_records.append(record(n, page))
        if partial:
            self.corpus.partial.add(record_id(n))
        return make(n, page)


def gzip_member_text(member: bytes) -> bytes:
    return zlib.decompress(member, 31)


def _write(corpus: Corpus, name: str, data: bytes | Iterable[bytes]) -> str:
    path = os.path.join(corpus.directory, name)
    with open(path, "wb") as handle:
        for chunk in [data] if isinstance(data, bytes) else data:
            handle.write(chunk)
    corpus.files.append(path)
    return path


def _streamed_member(head: bytes, body_chunks: Iterator[bytes], tail: bytes) -> Iterator[bytes]:
    """A gzip member compressed chunk by chunk, so huge records never sit in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield compressor.compress(head)
    for chunk in body_chunks:
        yield compressor.compress(chunk)
    yield compressor.compress(tail)
    yield compressor.flush()


def huge_record(n: int, size: int, unit: bytes, lead: bytes, end: bytes) -> Iterator[bytes]:
    """A gzipped record whose HTML payload is `size` bytes: lead, repeated units, end."""
    head = http_head()
    body_length = size
    filler = size - len(lead) - len(end)
    block = bytes(unit) * max(1, MIB // len(unit))

    def chunks():
        yield lead
        left = filler
        while left > 0:
            piece = block[:left]
            left -= len(piece)
            yield piece
        yield end

    headers = warc_headers(n, len(head) + body_length)
    return _streamed_member(headers + head, chunks(), b"\r\n\r\n")


def build(directory: str, huge: bool = False, seed: int = 8) -> Corpus:
    """Write the damaged corpus and its clean twin into `directory`."""
    os.makedirs(os.path.join(directory, "clean"), exist_ok=True)
    rng = random.Random(seed)
    corpus = Corpus(directory)
    w = Writer(corpus, 0)

    def damage(name: str, kind: str, expect: str, kept: bool = False) -> None:
        corpus.damages.append(Damage(os.path.join(directory, name), kind, expect, kept))

    # A gzip member cut in half, in the middle of a file and at its end (a cut download): the
    # part that is there still holds the HTTP headers and the start of the page.
    cut = w.recoverable(lambda n, page: gz(record(n, page))[:-200], partial=True)
    _write(corpus, "truncated_member.warc.gz", [w.good(), cut, w.good()])
    damage("truncated_member.warc.gz", "gzip member cut, more members after", TRUNCATED, True)
    tail = w.recoverable(lambda n, page: gz(record(n, page))[:-40], partial=True)
    _write(corpus, "truncated_tail.warc.gz", [gz(warcinfo(w.next_id())), w.good(), tail])
    damage("truncated_tail.warc.gz", "file cut inside its last member", TRUNCATED, True)

    # Garbage between records and after the last one.
    _write(corpus, "garbage_between.warc.gz", [w.good(), rng.randbytes(5000), w.good()])
    damage("garbage_between.warc.gz", "garbage between records", "unreadable_record")
    _write(corpus, "garbage_after.warc.gz", [w.good(3), rng.randbytes(20000)])
    damage("garbage_after.warc.gz", "garbage after valid records", "unreadable_record")
    zeros = [w.good(), b"\0" * 3000, w.good()]
    _write(corpus, "zeros_between.warc.gz", zeros)
    damage("zeros_between.warc.gz", "zero bytes between records", "unreadable_record")

    # Whole files that are not WARC at all, or empty.
    _write(corpus, "not_gzip.warc.gz", rng.randbytes(100_000))
    damage("not_gzip.warc.gz", "random bytes named .warc.gz", "file")
    _write(corpus, "html_file.warc.gz", html_page("Not a WARC", prose(902)).encode())
    damage("html_file.warc.gz", "an HTML page named .warc.gz", "file")
    _write(corpus, "empty.warc.gz", b"")
    damage("empty.warc.gz", "empty file", "file")

    # Uncompressed WARC, clean and with lying lengths.
    _write(corpus, "plain.warc", [warcinfo(w.next_id()), w.good_plain(3)])
    # Lying lengths: the page is whole, only the framing is wrong.
    short = w.recoverable(lambda n, page: record(n, page, length_delta=-300), partial=False)
    long = w.recoverable(lambda n, page: record(n, page, length_delta=+40), partial=False)
    _write(
        corpus, "plain_lying.warc", [w.good_plain(), short, w.good_plain(), long, w.good_plain()]
    )
    damage("plain_lying.warc", "Content-Length too short (plain)", MISMATCH, True)
    damage("plain_lying.warc", "Content-Length too long (plain)", MISMATCH, True)
    short = w.recoverable(lambda n, page: gz(record(n, page, length_delta=-300)), partial=False)
    long = w.recoverable(lambda n, page: gz(record(n, page, length_delta=+5000)), partial=False)
    _write(corpus, "lying.warc.gz", [w.good(), short, w.good(), long, w.good()])
    damage("lying.warc.gz", "Content-Length too short (gzip)", MISMATCH, True)
    damage("lying.warc.gz", "Content-Length too long (gzip)", MISMATCH, True)
    headerless = gz(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: x\r\n\r\nHTTP/1.1 200\r\n")
    _write(corpus, "bad_headers.warc.gz", [w.good(), headerless, w.good()])
    damage("bad_headers.warc.gz", "WARC headers that do not parse", "unreadable_record")

    # Pathological HTML: 200,000 nested <div>s.
    deep = "<html><body>" + "<div>" * 200_000 + "deep" + "</div>" * 200_000 + "</body></html>"
    _write(
        corpus, "deep_divs.warc.gz", [w.good(), gz(record(w.next_id(), deep.encode())), w.good()]
    )
    damage("deep_divs.warc.gz", "200,000 nested <div>s", "extract")

    # Binary bodies labelled text/html.
    png = b"\x89PNG\r\n\x1a\n" + rng.randbytes(30_000)
    zipped = b"PK\x03\x04" + rng.randbytes(20_000)
    _write(
        corpus,
        "binary.warc.gz",
        [
            w.good(),
            gz(record(w.next_id(), png)),
            gz(record(w.next_id(), zipped, "text/html")),
            w.good(),
        ],
    )
    damage("binary.warc.gz", "PNG bytes labelled text/html", "binary_payload")
    damage("binary.warc.gz", "zip bytes labelled text/html", "binary_payload")

    # Missing, empty and absurd target URIs.
    uris = {
        "missing WARC-Target-URI": None,
        "empty WARC-Target-URI": " ",
        "10,000-character URI": "http://example.org/" + "a" * 10_000,
        "URI with spaces and control characters": "http://exa mple.org/\x01\x7f",
        "URI without host": "http:///nothing-here",
    }
    members = [w.good()]
    for kind, uri in uris.items():
        n = w.next_id()
        members.append(gz(record(n, html_page(kind, prose(910 + n)).encode(), uri=uri)))
        damage("uris.warc.gz", kind, "bad_target_uri")
    members.append(w.good())
    _write(corpus, "uris.warc.gz", members)

    # Text encodings: invalid UTF-8, and legacy encodings with and without a declaration.
    n = w.next_id()
    paragraphs = prose(n)
    broken = (
        html_page(f"Newsletter {n}", paragraphs).encode().replace(b"harbour", b"harb\xff\xfeour")
    )
    broken = broken.replace(b" the ", b" the \xc3 ", 3)
    corpus.good[record_id(n)] = "\n".join(paragraphs)
    _write(corpus, "invalid_utf8.warc.gz", [w.good(), gz(record(n, broken)), w.good()])
    w.clean_records.append(record(n, html_page(f"Newsletter {n}", paragraphs).encode()))
    legacy = []
    variants = [
        ("latin-1", "text/html; charset=iso-8859-1", None, [LEGACY_TEXT]),
        ("latin-1", "text/html", "iso-8859-1", [LEGACY_TEXT]),
        ("latin-1", "text/html", None, [LEGACY_TEXT]),
        ("cp1252", "text/html; charset=windows-1252", None, [LEGACY_TEXT, CP1252_EXTRA]),
        ("cp1252", "text/html", "windows-1252", [LEGACY_TEXT, CP1252_EXTRA]),
        ("cp1252", "text/html", None, [LEGACY_TEXT, CP1252_EXTRA]),
        ("utf-16", "text/html; charset=utf-16", None, [LEGACY_TEXT, CP1252_EXTRA]),
        ("utf-16", "text/html", None, [LEGACY_TEXT, CP1252_EXTRA]),
        ("utf-16-le", "text/html", None, [LEGACY_TEXT, CP1252_EXTRA]),
    ]
    for encoding, content_type, meta, special in variants:
        n = w.next_id()
        paragraphs = prose(n)[:2] + special + prose(n)[2:]
        page = html_page(f"Newsletter {n}", paragraphs, meta)
        legacy.append(gz(record(n, page.encode(encoding), content_type)))
        corpus.good[record_id(n)] = "\n".join(paragraphs)
        corpus.legacy[record_id(n)] = "\n".join(special)
        w.clean_records.append(record(n, html_page(f"Newsletter {n}", paragraphs).encode()))
    _write(corpus, "encodings.warc.gz", [w.good(), *legacy, w.good()])

    # Added after the cases above, so their records keep their numbers.
    clipped = w.recoverable(lambda n, page: record(n, page)[:-500], partial=True)
    _write(corpus, "clipped.warc", [w.good_plain(), clipped])
    damage("clipped.warc", "plain file cut inside its last record", TRUNCATED, True)
    # Chunked bodies whose Content-Length counts the de-chunked bytes.
    lie = w.recoverable(chunked_record, partial=False)
    _write(corpus, "chunked_length.warc", [w.good_plain(), lie, w.good_plain()])
    damage("chunked_length.warc", "chunked body longer than Content-Length (plain)", MISMATCH, True)
    lie = w.recoverable(lambda n, page: gz(chunked_record(n, page)), partial=False)
    _write(corpus, "chunked_length.warc.gz", [w.good(), lie, w.good()])
    damage("chunked_length.warc.gz", "chunked body longer than Content-Length", MISMATCH, True)
    # The crawler cut the payload and said so (CommonCrawl does at 1 MiB).
    cut_by_crawler = w.recoverable(
        lambda n, page: gz(warc_truncated_record(n, page, len(page) * 2 // 3)), partial=True
    )
    _write(corpus, "warc_truncated.warc.gz", [w.good(), cut_by_crawler, w.good()])

    # Other archive shapes, found by content whatever the name says. ARC version 1, plain and
    # one gzip member per record, with a page that is not HTML and one that is not there.
    other = [
        arc_record(w.next_id(), b"\x89PNG\r\n", "image/png"),
        arc_record(w.next_id(), b"<p>gone</p>", status="404 Not Found"),
    ]
    arc = [arc_filedesc("arc_plain.arc", w.next_id()), *w.good_arc(), *other, *w.good_arc(1)]
    _write(corpus, "arc_plain.arc", arc)
    arc = [arc_filedesc("arc_members.arc.gz", w.next_id()), *w.good_arc(3)]
    _write(corpus, "arc_members.arc.gz", [gz(r) for r in arc])
    (clipped,) = w.good_arc(1)
    corpus.partial.add(f"arc:{w.n}")
    arc = [arc_filedesc("clipped.arc", w.next_id()), *w.good_arc(), clipped[:-400]]
    _write(corpus, "clipped.arc", arc)
    damage("clipped.arc", "ARC file cut inside its last record", TRUNCATED, True)
    # `gzip file.warc`: one gzip stream, not one member per record; here without the .gz name.
    stream = gzip.compress(warcinfo(w.next_id()) + b"".join(w.good_records(3)), mtime=0)
    _write(corpus, "gzip_stream.warc", stream)
    last = w.recoverable(lambda n, page: record(n, page), partial=True)
    stream = gzip.compress(b"".join(w.good_records(2)) + last, mtime=0)
    _write(corpus, "clipped_stream.warc.gz", stream[:-150])
    damage("clipped_stream.warc.gz", "gzip stream cut inside its last record", TRUNCATED, True)
    # lz4: one frame per record (as FastWARC writes), and one frame for the whole file.
    frames = [lz4_frame(warcinfo(w.next_id())), *map(lz4_frame, w.good_records(3))]
    _write(corpus, "frames.warc.lz4", frames)
    _write(corpus, "lz4_stream.warc.gz", lz4_frame(b"".join(w.good_records(2))))
    # A compression the reader does not read: one file error, not a crash.
    _write(corpus, "zstd.warc.zst", b"\x28\xb5\x2f\xfd" + rng.randbytes(2000))
    damage("zstd.warc.zst", "zstd-compressed file", "file")

    # Found in archives of other tools: an ARC file that ends a few bytes before its last
    # record's length (the HTTP headers and the page are all there), and a gzip member that
    # ends well before its record's Content-Length, which counts what a wrong chunk size claims.
    short_end = w.recoverable_arc(lambda n, page: arc_record(n, page, length_delta=+6))
    arc = [arc_filedesc("arc_short_end.arc", w.next_id()), *w.good_arc(), short_end]
    _write(corpus, "arc_short_end.arc", arc)
    damage("arc_short_end.arc", "ARC file ends a few bytes before its length", TRUNCATED, True)
    lie = w.recoverable(lambda n, page: gz(overclaimed_chunk_record(n, page)), partial=False)
    _write(corpus, "chunk_sizes.warc.gz", [w.good(), lie, w.good()])
    damage(
        "chunk_sizes.warc.gz", "gzip member ends before Content-Length (chunk size)", MISMATCH, True
    )

    if huge:
        n = w.next_id()
        lead = b"<html><body><article><h1>A very long page</h1>"
        unit = b"<p>" + " ".join(PARAGRAPHS[:3]).encode() + b"</p>\n"
        _write(
            corpus,
            "page_40mb.warc.gz",
            [
                w.good(),
                *huge_record(n, 40 * MIB, unit, lead, b"</article></body></html>"),
                w.good(),
            ],
        )
        damage("page_40mb.warc.gz", "40 MB page", "payload cut at the byte cap")
        n = w.next_id()
        lead = b"<html><body>"
        _write(
            corpus,
            "bomb.warc.gz",
            [
                w.good(),
                *huge_record(n, 1024 * MIB, b"<b>x</b>" * 64, lead, b"</body></html>"),
                w.good(),
            ],
        )
        damage("bomb.warc.gz", "record inflating to 1 GiB", "payload cut at the byte cap")

    clean = os.path.join(directory, "clean", "clean.warc.gz")
    with open(clean, "wb") as handle:
        for data in w.clean_records:
            handle.write(gz(data))
    corpus.clean = clean
    corpus.clean_arc = os.path.join(directory, "clean", "clean.arc")
    with open(corpus.clean_arc, "wb") as handle:
        handle.write(arc_filedesc("clean.arc", 0))
        for data in w.clean_arc:
            handle.write(data)
    return corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--huge", action="store_true", help="add the 40 MB page and 1 GiB bomb")
    args = parser.parse_args()
    corpus = build(args.directory, args.huge)
    print(
        f"{len(corpus.files)} files, {len(corpus.good)} good records, {len(corpus.damages)} damages"
    )
    for item in corpus.damages:
        kept = " (page kept)" if item.kept else ""
        print(f"  {os.path.basename(item.file):28} {item.kind:45} -> {item.expect}{kept}")


if __name__ == "__main__":
    main()
