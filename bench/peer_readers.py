"""HTML pages that warcio and FastWARC deliver from each archive, for bench/readers.py.

    PEER_PYTHON bench/peer_readers.py FILE...

Runs under a Python environment of its own with `warcio` and `fastwarc` installed (never the
project's). Prints one JSON object: {file: {reader: pages}}. A page is a response record with
HTTP status 200, an HTML content type and a non-empty payload; a reader that raises stops there
(what it delivered until then counts), as it would in a job that reads the file.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

HTML_TYPES = ("text/html", "application/xhtml+xml")


def is_html(content_type: str | None) -> bool:
    """Whether a Content-Type names an HTML page."""
    return (content_type or "").split(";")[0].strip().lower().startswith(HTML_TYPES)


def warcio_pages(path: str) -> int:
    """Pages warcio delivers, reading ARC too (arc2warc, as its own tools do)."""
    from warcio.archiveiterator import ArchiveIterator

    pages = 0
    # warcio prints a warning per damaged record; the count is what matters here.
    with open(path, "rb") as handle, contextlib.redirect_stderr(io.StringIO()):
        try:
            for record in ArchiveIterator(handle, arc2warc=True):
                http = record.http_headers
                if record.rec_type != "response" or http is None:
                    continue
                if http.get_statuscode() != "200" or not is_html(http.get_header("Content-Type")):
                    continue
                if record.content_stream().read():
                    pages += 1
        except Exception:
            pass
    return pages


def fastwarc_pages(path: str, quirks: bool) -> int:
    """Pages FastWARC delivers (compression detected from the content, its default)."""
    from fastwarc import ArchiveIterator, WarcRecordType

    pages = 0
    with open(path, "rb") as handle:
        try:
            for record in ArchiveIterator(handle, parse_http=True, quirks_mode=quirks):
                if record.record_type != WarcRecordType.response or not record.is_http:
                    continue
                if record.http_headers.status_code != 200:
                    continue
                if not is_html(record.http_content_type):
                    continue
                if record.reader.read():
                    pages += 1
        except Exception:
            pass
    return pages


def main() -> None:
    results = {}
    for path in sys.argv[1:]:
        results[path] = {
            "warcio": warcio_pages(path),
            "fastwarc": fastwarc_pages(path, quirks=False),
            "fastwarc_quirks": fastwarc_pages(path, quirks=True),
        }
    json.dump(results, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
