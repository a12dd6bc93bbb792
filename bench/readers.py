"""HTML pages delivered per archive by macrodata's reader, warcio and FastWARC.

    PYTHONPATH=. python bench/readers.py --peer-python PEER/bin/python [--work DIR]

Writes the hostile corpus (tests/hostile/make_corpus.py: damaged WARC files, ARC, gzip as one
stream, lz4, clipped records, lying lengths), then counts, for each file, the HTML pages each
reader delivers: response records with HTTP status 200, an HTML content type and a non-empty
payload. warcio and FastWARC run in the peer's own environment (bench/peer_readers.py; install
them there, never into the project's: `python -m venv PEER && PEER/bin/pip install warcio
fastwarc`). For macrodata a page is a document, or a record it read as an HTML page and then
dropped by its own rules (bad_target_uri, binary_payload), which the peers do not have.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from pipeline.warc import BAD_URI, BINARY, iter_warc
from tests.hostile import make_corpus

PEERS = ("warcio", "fastwarc", "fastwarc_quirks")


def macrodata_pages(path: str) -> tuple[int, int]:
    """(HTML pages read, of them kept despite damage) by macrodata's reader."""
    pages = kept = 0
    with open(path, "rb") as handle:
        for outcome in iter_warc(handle, path):
            if outcome.document is not None or outcome.reason in (BAD_URI, BINARY):
                pages += 1
            kept += bool(outcome.damage)
    return pages, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", required=True, help="Python with warcio and fastwarc")
    parser.add_argument("--work", default="/tmp/macrodata-readers")
    args = parser.parse_args()
    corpus = make_corpus.build(os.path.join(args.work, "corpus"))
    files = sorted(corpus.files)
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer_readers.py")
    result = subprocess.run(
        [args.peer_python, script, *files], check=True, capture_output=True, text=True
    )
    peers = json.loads(result.stdout)
    header = f"{'archive':26} {'warcio':>7} {'FastWARC':>9} {'quirks':>7} {'macrodata':>10}  kept"
    print(header)
    print("-" * len(header))
    behind = []
    for path in files:
        pages, kept = macrodata_pages(path)
        counts = peers[path]
        best = max(counts[p] for p in PEERS)
        name = os.path.basename(path)
        if pages < best:
            behind.append(name)
        mark = "" if pages >= best else "  < best peer"
        print(
            f"{name:26} {counts['warcio']:7} {counts['fastwarc']:9} {counts['fastwarc_quirks']:7}"
            f" {pages:10} {kept:5}{mark}"
        )
    print(
        f"\n{len(files)} archives; macrodata delivers fewer pages than the better peer on "
        f"{len(behind)}{': ' + ', '.join(behind) if behind else ''}"
    )
    print("quirks: FastWARC with quirks_mode=True; kept: pages macrodata kept despite damage")
    sys.exit(1 if behind else 0)


if __name__ == "__main__":
    main()
