"""Canonical URLs for URL dedup across crawls (RefinedWeb §3.3; the rule is ours, see below)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipeline.document import Document

DUPLICATE_URL = "duplicate_url"

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


@dataclass(frozen=True)
class URLDedup:
    """Captures of one canonical URL: all but the smallest id (the earliest crawl) dropped."""

    name: ClassVar[str] = "url_dedup"
    reasons: ClassVar[tuple[str, ...]] = (DUPLICATE_URL,)

    def key(self, doc: Document) -> str:
        """What two captures of one page share."""
        return canonical_url(doc.url)
