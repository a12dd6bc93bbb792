"""URL filtering, RefinedWeb §3.1 and App. G.1 / spec §1.2: domain blocklist, URL words,
and the excluded high-quality sources."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import ClassVar
from urllib.parse import urlsplit

from core.document import Document
from filters.base import KEEP, Filter, Verdict, drop

# RefinedWeb's UT1 categories (App. G.1.1, Table 13).
UT1_CATEGORIES = (
    "adult",
    "phishing",
    "dating",
    "gambling",
    "filehosting",
    "ddos",
    "agressif",
    "chat",
    "mixed_adult",
    "arjel",
)
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def read_list(path: str) -> list[str]:
    """Entries of a one-per-line list: lower-cased, comments and blanks skipped."""
    if path.startswith("package:"):
        return read_list(str(resources.files("filters") / "data" / path.removeprefix("package:")))
    with open(path, encoding="utf-8", errors="replace") as handle:
        return [
            line.strip().lower()
            for line in handle
            if line.strip() and not line.lstrip().startswith("#")
        ]


def load_blocklist(paths: list[str], categories: tuple[str, ...]) -> tuple[set[str], set[str]]:
    """(blocked domains, blocked URLs) from plain files or UT1 directories.

    A directory is read as a UT1 tree: `<category>/domains` and `<category>/urls` for each of
    `categories` that exists there.
    """
    domains: set[str] = set()
    urls: set[str] = set()
    for path in paths:
        if path.startswith("package:") or os.path.isfile(path):
            domains.update(read_list(path))
            continue
        if not os.path.isdir(path):
            raise FileNotFoundError(f"blocklist not found: {path}")
        for category in categories:
            for kind, target in (("domains", domains), ("urls", urls)):
                listed = os.path.join(path, category, kind)
                if os.path.isfile(listed):
                    target.update(read_list(listed))
    return {d.removeprefix("www.") for d in domains}, {_url_key(u) for u in urls}


def _url_key(url: str) -> str:
    """A URL without scheme and `www.`, as UT1 `urls` files write them."""
    url = url.lower().split("://", 1)[-1]
    return url.removeprefix("www.").rstrip("/")


def url_host(url: str) -> str:
    """The host of a URL, lower case, without trailing dot or leading "www."; '' if none."""
    try:
        host = (urlsplit(url or "").hostname or "").rstrip(".")
    except ValueError:
        return ""
    return host.removeprefix("www.")


def host_suffixes(host: str) -> list[str]:
    """`a.b.example.com` -> [a.b.example.com, b.example.com, example.com]."""
    parts = host.split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)] or [host]


@dataclass(frozen=True)
class URLFilter(Filter):
    """Drop pages whose URL is blocklisted, carries banned words, or is a curated source."""

    name: ClassVar[str] = "url_filter"
    signals: ClassVar[tuple[str, ...]] = ()
    reasons: ClassVar[tuple[str, ...]] = (
        "invalid_url",
        "blocklisted_domain",
        "blocklisted_url",
        "strict_word",
        "hard_word",
        "soft_words",
        "high_quality_source",
    )

    # Files, or UT1 directories, of blocked domains; "package:" names files shipped here.
    blocklists: tuple[str, ...] = ("package:blocklist_domains.txt",)
    ut1_categories: tuple[str, ...] = UT1_CATEGORIES
    strict_words: str = "package:url_words_strict.txt"
    hard_words: str = "package:url_words_hard.txt"
    soft_words: str = "package:url_words_soft.txt"
    # App. G.1.2: soft words ban a URL only in combination.
    soft_word_threshold: int = 2
    # App. G.1.3: RefinedWeb excluded these so it can be mixed with curated corpora.
    exclude_high_quality_domains: bool = True
    high_quality_domains: str = "package:high_quality_domains.txt"
    _lists: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def setup(self) -> None:
        if self._lists:
            return
        domains, urls = load_blocklist(list(self.blocklists), tuple(self.ut1_categories))
        strict = read_list(self.strict_words)
        self._lists.update(
            domains=domains,
            urls=urls,
            strict=re.compile("|".join(map(re.escape, strict))) if strict else None,
            hard=frozenset(read_list(self.hard_words)),
            soft=frozenset(read_list(self.soft_words)),
            quality=frozenset(read_list(self.high_quality_domains))
            if self.exclude_high_quality_domains
            else frozenset(),
        )

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_lists"] = {}  # rebuilt by setup() on the worker, not shipped
        return state

    def verdict(self, url: str) -> Verdict:
        """The decision for one URL."""
        self.setup()
        lists = self._lists
        host = url_host(url)
        if not host:
            return drop("invalid_url")
        suffixes = host_suffixes(host)
        if any(s in lists["quality"] for s in suffixes):
            return drop("high_quality_source")
        if any(s in lists["domains"] for s in suffixes):
            return drop("blocklisted_domain")
        if lists["urls"] and _url_key(url) in lists["urls"]:
            return drop("blocklisted_url")
        lowered = url.lower()
        if lists["strict"] is not None and lists["strict"].search(_NON_ALNUM.sub("", lowered)):
            return drop("strict_word")
        words = set(_NON_ALNUM.split(lowered))
        if words & lists["hard"]:
            return drop("hard_word")
        if len(words & lists["soft"]) >= self.soft_word_threshold:
            return drop("soft_words")
        return KEEP

    def apply(self, doc: Document) -> tuple[Document, Verdict]:
        return doc, self.verdict(doc.url)
