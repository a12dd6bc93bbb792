"""The record every stage passes along, and the stable document id."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

# doc.meta key: the limits a stage applied to this document (counted in stats.json "limits").
LIMITS_KEY = "limits"


@dataclass(frozen=True)
class Document:
    """One web page at one URL, from raw HTML to cleaned text.

    `html` holds the decoded page until extraction replaces it with `text`. `signals` collects
    every filter's scores (they become Parquet columns); `meta` holds crawl facts.
    """

    id: str
    url: str
    text: str = ""
    source: str = ""
    language: str = ""
    language_score: float = 0.0
    crawl_date: str = ""
    html: str | None = None
    # The page is incomplete: the file was cut or damaged, the crawler cut it (WARC-Truncated),
    # or the reader did (read.max_payload_bytes).
    truncated: bool = False
    # Token ids of `text` (EOS included), set by the tokenize stage.
    input_ids: list[int] | None = None
    signals: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> Document:
        """A copy with `changes` applied (documents are immutable)."""
        return dataclasses.replace(self, **changes)

    def with_signals(self, scores: dict[str, float]) -> Document:
        """A copy whose signals include `scores`."""
        if not scores:
            return self
        return dataclasses.replace(self, signals={**self.signals, **scores})


def document_id(crawl_date: str, record_id: str) -> str:
    """A stable id whose string order puts the earliest capture first.

    The WARC-Date (ISO 8601, so it sorts as a string) leads; a digest of the WARC-Record-ID
    follows so ids stay unique and fixed width. Dedup keeps the smallest id of a cluster, which
    is therefore the earliest crawl.
    """
    stamp = "".join(ch for ch in crawl_date if ch.isdigit())[:14].ljust(14, "0")
    digest = hashlib.blake2b(record_id.encode("utf-8", "replace"), digest_size=10).hexdigest()
    return f"{stamp}-{digest}"
