"""Write "dumps" of WARC files with re-crawls across files and dumps, for parts and dedup runs.

    python bench/make_dumps.py OUT --corpus ../shared/corpus [--dumps 3 --files 4 --seed 1]
    python bench/make_dumps.py OUT --synthetic 60

Pages come from the real-page corpus (`--corpus`: every response record of its WARC files) or
are written here (`--synthetic N`: N English articles of generated prose, each unlike the
others). Each page is first crawled in one dump, in one file; then, as CommonCrawl re-crawls:

- in later dumps, at a later date, the same URL with the same page or a slightly changed one
  (a few words of one passage changed), and now and then a new article at the same URL;
- in another file of the same dump, the same URL an hour later;
- on a mirror host (same page, another URL), and under a tracking-parameter URL.

Files are named like CommonCrawl's (`CC-MAIN-<start>-<end>-NNNNN.warc.gz`, unique across dumps)
under `OUT/CC-MAIN-2023-MM/`. `OUT/dumps.json` lists every record written (file, URL, date,
page, variant). `make_dumps(...)` returns the same list, for tests.
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import os
import random
import re
import uuid
from dataclasses import asdict, dataclass

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass
class Page:
    """One page to crawl: URL, HTTP status line and headers, body."""

    url: str
    status: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass
class Capture:
    """One record written."""

    file: str
    url: str
    date: str
    page: int
    variant: str  # first, same, changed, rewritten, same_file_recrawl, mirror, tracking


# --- page sources -----------------------------------------------------------------------------


def corpus_pages(directory: str) -> list[Page]:
    """Every response record of the corpus's WARC files, in file order."""
    pages = []
    for path in sorted(glob.glob(os.path.join(directory, "*.warc.gz"))):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                headers = [(k, v) for k, v in record.http_headers.headers]
                status = record.http_headers.statusline
                pages.append(Page(url, status, headers, record.raw_stream.read()))
    return pages


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


NOUNS = _words(
    "harbour river village garden library market bridge school council farmer teacher doctor "
    "museum railway station festival orchard meadow island lighthouse bakery workshop castle "
    "chapel valley forest mill quarry ferry tower cottage kitchen engine museum lantern "
    "painter sailor miller weaver carpenter shepherd fisherman student mayor nurse writer "
    "meeting letter report journey harvest winter summer evening morning storm season road"
)
ADJECTIVES = _words(
    "old new quiet busy small large narrow wide green grey bright dark warm cold early late "
    "local distant famous simple careful patient generous modest sudden gentle steady rough"
)
VERBS = _words(
    "repaired visited opened closed painted built carried followed described welcomed "
    "measured recorded planted collected finished started watched improved moved crossed "
    "explained remembered praised questioned organised delivered"
)
ADVERBS = _words("slowly quickly carefully quietly happily proudly early again finally together")
PLACES = _words(
    "Porthallow Kilbride Easthaven Mornington Caldbeck Westerby Ardmore Linton Ashby "
    "Thornbury Elmstead Riverton"
)
NAMES = _words("Anna Tom Maria Peter Sarah James Elena David Ruth Martin Clara Henry")
TEMPLATES = (
    "The {adj} {noun} in {place} {verb} the {noun2} {adv}.",
    "{name} said that the {noun} {verb} the {adj} {noun2} after the {noun3}.",
    "Many people from {place} {verb} the {noun} during the {adj} {noun2}.",
    "When the {noun} {verb} the {noun2}, the {adj} {noun3} was {adv} ready.",
    "In the {adj} {noun2} of {place}, {name} {verb} a {noun} for the {noun3}.",
    "It was the {noun} that {verb} the {adj} {noun2}, and {name} {verb2} it {adv}.",
)


def sentence(rng: random.Random) -> str:
    """One sentence of generated prose."""
    return rng.choice(TEMPLATES).format(
        adj=rng.choice(ADJECTIVES),
        noun=rng.choice(NOUNS),
        noun2=rng.choice(NOUNS),
        noun3=rng.choice(NOUNS),
        verb=rng.choice(VERBS),
        verb2=rng.choice(VERBS),
        adv=rng.choice(ADVERBS),
        place=rng.choice(PLACES),
        name=rng.choice(NAMES),
    )


def article(url: str, title: str, rng: random.Random) -> Page:
    """An English article page of generated prose (about 250 words) at `url`."""
    paragraphs = [" ".join(sentence(rng) for _ in range(4)) for _ in range(5)]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>\n{body}\n'
        "</article></body></html>"
    )
    headers = [("Content-Type", "text/html; charset=utf-8")]
    return Page(url, "200 OK", headers, html.encode())


def synthetic_pages(count: int, seed: int = 7) -> list[Page]:
    """`count` English article pages of generated prose, each unlike the others."""
    rng = random.Random(seed)
    return [
        article(f"https://news-{n % 7}.example.org/story/{n}", f"Notes, number {n}", rng)
        for n in range(count)
    ]


# --- re-crawls --------------------------------------------------------------------------------

_PASSAGE = re.compile(rb">([^<>]{60,})<")


def changed(page: Page, rng: random.Random) -> Page:
    """The page with a few words of one passage changed (a slightly changed re-crawl)."""
    encoded = any(k.lower() in ("content-encoding", "transfer-encoding") for k, _ in page.headers)
    passages = list(_PASSAGE.finditer(page.body))
    if encoded or not passages:
        return page
    match = rng.choice(passages)
    words = match.group(1).split(b" ")
    for i in rng.sample(range(len(words)), min(3, len(words))):
        words[i] = b"updated"
    body = page.body[: match.start(1)] + b" ".join(words) + page.body[match.end(1) :]
    return Page(page.url, page.status, page.headers, body)


def mirror_url(url: str) -> str:
    """The same path on a mirror host."""
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    return f"{scheme}://mirror.{host}/{path}"


def tracking_url(url: str) -> str:
    """The URL with a tracking parameter (the same canonical URL)."""
    return url + ("&" if "?" in url else "?") + "utm_source=newsletter"


def dump_name(dump: int) -> str:
    """The dump directory, like CommonCrawl's crawl names."""
    return f"CC-MAIN-2023-{dump + 1:02d}"


def file_name(dump: int, index: int) -> str:
    """A CommonCrawl-like WARC file name, unique across dumps."""
    stamp = f"2023{dump + 1:02d}01000000"
    return f"CC-MAIN-{stamp}-{stamp[:-4]}0300-{index:05d}.warc.gz"


def date(dump: int, day: int, hour: int) -> str:
    """A WARC-Date in the dump's month."""
    return f"2023-{dump + 1:02d}-{1 + day % 27:02d}T{hour % 24:02d}:{day % 60:02d}:00Z"


def plan(pages: list[Page], dumps: int, files: int, seed: int) -> list[tuple[Capture, Page]]:
    """Every capture to write, with its page (as crawled then)."""
    rng = random.Random(seed)
    captures: list[tuple[Capture, Page]] = []

    def add(dump, index, page, n, variant, day, hour=0, url=None):
        name = os.path.join(dump_name(dump), file_name(dump, index))
        crawled = Page(url or page.url, page.status, page.headers, page.body)
        captures.append((Capture(name, crawled.url, date(dump, day, hour), n, variant), crawled))

    for n, page in enumerate(pages):
        first = rng.randrange(dumps)
        index = rng.randrange(files)
        day = rng.randrange(20)
        add(first, index, page, n, "first", day)
        html = page.status.startswith("200")
        if html and rng.random() < 0.2 and files > 1:  # again in another file, an hour later
            add(first, (index + 1) % files, page, n, "same_file_recrawl", day, hour=1)
        for later in range(first + 1, dumps):  # later dumps re-crawl about half the pages
            if rng.random() < 0.5:
                is_changed = html and rng.random() < 0.5
                crawled = changed(page, rng) if is_changed else page
                variant = "changed" if is_changed else "same"
                add(later, rng.randrange(files), crawled, n, variant, rng.randrange(20))
            elif html and rng.random() < 0.2:  # the site put a new article at the same URL
                fresh = article(page.url, f"New at this address, {n}", rng)
                add(later, rng.randrange(files), fresh, n, "rewritten", rng.randrange(20))
        if html and rng.random() < 0.1:
            add(rng.randrange(dumps), rng.randrange(files), page, n, "mirror", day, 2,
                mirror_url(page.url))  # fmt: skip
        if html and rng.random() < 0.1:
            add(rng.randrange(dumps), rng.randrange(files), page, n, "tracking", day, 3,
                tracking_url(page.url))  # fmt: skip
    return captures


def write_warc(path: str, records: list[tuple[Capture, Page]]) -> None:
    """One gzipped WARC file: a warcinfo record, then a response record per capture."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    name = os.path.basename(path)
    info = writer.create_warcinfo_record(name, {"software": "macrodata bench/make_dumps.py"})
    writer.write_record(info)
    for capture, page in records:
        record_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{capture.file}|{capture.url}|{capture.date}")
        headers = StatusAndHeaders(page.status, page.headers, protocol="HTTP/1.1")
        record = writer.create_warc_record(
            page.url,
            "response",
            payload=io.BytesIO(page.body),
            http_headers=headers,
            warc_headers_dict={
                "WARC-Date": capture.date,
                "WARC-Record-ID": f"<urn:uuid:{record_id}>",
            },
        )
        writer.write_record(record)
    with open(path, "wb") as handle:
        handle.write(buffer.getvalue())


def make_dumps(
    out: str, pages: list[Page], dumps: int = 3, files: int = 4, seed: int = 1
) -> list[Capture]:
    """Write the dumps under `out`; every capture written, in file order."""
    captures = plan(pages, dumps, files, seed)
    by_file: dict[str, list[tuple[Capture, Page]]] = {}
    for capture, page in captures:
        by_file.setdefault(capture.file, []).append((capture, page))
    written = []
    for name, records in sorted(by_file.items()):
        records.sort(key=lambda item: item[0].date)
        os.makedirs(os.path.join(out, os.path.dirname(name)), exist_ok=True)
        write_warc(os.path.join(out, name), records)
        written += [capture for capture, _ in records]
    with open(os.path.join(out, "dumps.json"), "w", encoding="utf-8") as handle:
        json.dump([asdict(c) for c in written], handle, indent=1)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", metavar="DIR", help="WARC files of real pages")
    source.add_argument("--synthetic", type=int, metavar="N", help="N generated articles")
    parser.add_argument("--dumps", type=int, default=3)
    parser.add_argument("--files", type=int, default=4, help="WARC files per dump")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    pages = corpus_pages(args.corpus) if args.corpus else synthetic_pages(args.synthetic)
    written = make_dumps(args.out, pages, args.dumps, args.files, args.seed)
    files = len({c.file for c in written})
    print(f"{len(written)} captures of {len(pages)} pages in {files} files -> {args.out}")


if __name__ == "__main__":
    main()
