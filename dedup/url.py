"""Canonical URLs for URL dedup across crawls (RefinedWeb §3.3; the rule is ours, see below)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from core.document import Document
from dedup.earlier import EarlierRuns

DUPLICATE_URL = "duplicate_url"
# A run deduplicated against earlier ones (--dedup-against): one of them kept this URL.
URL_KEPT_BY_EARLIER_RUN = "url_kept_by_earlier_run"

DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21}
# choice: click and campaign trackers that never change the page (Google, Facebook, Microsoft,
# Mailchimp, HubSpot, Matomo, Instagram, Yandex).
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "_ga",
        "_gl",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")


def is_tracking(name: str) -> bool:
    """A query parameter that only tracks the visit."""
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port, fragment and trackers dropped, query sorted.

    Path case and the remaining query are kept: servers may treat them as different pages.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # malformed (bad port, bad IPv6): compare as given
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    netloc = f"{userinfo}@{host}" if userinfo else host
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_tracking(k)
    )
    path = parts.path or ("/" if host else "")
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def url_key(url: str) -> bytes:
    """16-byte digest of the canonical URL: what URL dedup groups by and the index keeps.

    A digest, not the URL: about 80 bytes less per document wherever keys wait or are stored.
    """
    canonical = canonical_url(url).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(canonical, digest_size=16).digest()


@dataclass(frozen=True)
class URLDedup(EarlierRuns):
    """Captures of one canonical URL: all but the smallest id (the earliest crawl) dropped.

    With earlier runs' index files (`--dedup-against`), every capture of a URL one of them kept
    is dropped under its own reason: earlier runs always win.
    """

    name: ClassVar[str] = "url_dedup"
    reasons: ClassVar[tuple[str, ...]] = (DUPLICATE_URL, URL_KEPT_BY_EARLIER_RUN)
    duplicate_reason: ClassVar[str] = DUPLICATE_URL
    earlier_reason: ClassVar[str] = URL_KEPT_BY_EARLIER_RUN
    # The column of the run index (pipeline/index.py) holding this key.
    index_column: ClassVar[str] = "url_key"

    def key(self, doc: Document) -> bytes:
        """What two captures of one page share."""
        return url_key(doc.url)
