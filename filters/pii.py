"""E-mail and public IP addresses replaced (stage `pii`, the `fineweb` recipe; never a drop).

FineWeb (Penedo et al. 2024, §3.5) anonymised e-mail addresses and public IP addresses with
datatrove's `PIIFormatter`. As it does (docs/recipes.md):

- e-mail addresses are matched with the RFC 5322-style pattern below and replaced, in turn,
  by "email@example.com" and "firstname.lastname@example.org";
- IPv4 addresses in dotted-quad form are matched (no word boundaries: "1234.5.6.7" holds
  "234.5.6.7"), and replaced, in turn, by six addresses that answered no ping when datatrove
  picked them, if the address is public: a valid address (no octet with a leading zero) in
  none of the non-global ranges of Python 3.11's `ipaddress` (`PRIVATE_IPV4`, and
  100.64.0.0/10). Other matches stay as they are.

The turn taking starts afresh in every document, so a document's output does not depend on
which documents a worker saw before it (datatrove's replacer turns on across a worker's
documents).
"""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass
from typing import ClassVar

from core.document import Document
from filters.base import FIGURES_KEY, KEEP, Filter, Verdict

EMAIL_REPLACEMENTS = ("email@example.com", "firstname.lastname@example.org")
IP_REPLACEMENTS = (
    "22.214.171.124",
    "126.96.36.199",
    "188.8.131.52",
    "184.108.40.206",
    "220.127.116.11",
    "18.104.22.168",
)

# One octet, 0-255, longest alternative first (as the match is made, "256" matches "25").
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)"
_IPV4 = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# local part: dot-separated atoms; domain: dot-separated labels, or an address literal
# "[1.2.3.4]" (its last part may also be a tag ending in ":").
_EMAIL = re.compile(
    rf"\b{_ATOM}(?:\.{_ATOM})*@"
    rf"(?:(?:{_LABEL}\.)+{_LABEL}"
    rf"|\[(?:{_OCTET}\.){{3}}(?:{_OCTET}|[A-Za-z0-9-]*[A-Za-z0-9]:)\])"
)
_IP = re.compile(_IPV4)
_AT = re.compile("@")
# What may follow the "@" of an address, and the characters of a local part ("." included).
_DOMAIN = re.compile(
    rf"(?:{_LABEL}\.)+{_LABEL}|\[(?:{_OCTET}\.){{3}}(?:{_OCTET}|[A-Za-z0-9-]*[A-Za-z0-9]:)\]"
)
_LOCAL_CHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-.")

# IPv4 ranges that are not global (Python 3.11.7's ipaddress: is_private, plus shared address
# space). Multicast (224.0.0.0/4) is not among them: such addresses count as public.
PRIVATE_IPV4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/29",
        "192.0.0.170/31",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "255.255.255.255/32",
    )
)


def replace_emails(text: str, replace) -> str:
    """`_EMAIL.sub(replace, text)`, in time linear in the text.

    The pattern alone, scanned over the text, retries every start in a long run of local-part
    characters (a base64 blob, "a-a-a-...") before an "@" that ends no address: quadratic, an
    hour for one such page. Every match holds exactly one "@", so each "@" is tried once, in
    the window where a match holding it can lie: not before the previous match's end, nor
    before the run of local-part characters in front of it, nor before a ".." in that run (a
    local part holds none), and only if an address domain follows it. Found from the window's
    start, the match is the one the plain scan finds.
    """
    pieces: list[str] = []
    done = 0  # text before this is handled
    for found in _AT.finditer(text):
        at = found.start()
        if at < done:
            continue
        domain = _DOMAIN.match(text, at + 1)
        if domain is None:
            continue
        start = at
        while start > done and text[start - 1] in _LOCAL_CHARS:
            start -= 1
        cut = text.rfind("..", start, at)
        if cut >= 0:
            start = cut + 1
        match = _EMAIL.search(text, start, domain.end())
        if match is None:
            continue
        pieces += [text[done : match.start()], replace(match)]
        done = match.end()
    return "".join(pieces) + text[done:] if pieces else text


def is_public_ip(text: str) -> bool:
    """Whether a dotted quad is a valid IPv4 address outside the non-global ranges."""
    parts = text.split(".")
    if any(len(p) > 1 and p[0] == "0" for p in parts):
        return False  # a leading zero: not an address to ipaddress (it could mean octal)
    address = ipaddress.IPv4Address(text)
    return not any(address in net for net in PRIVATE_IPV4)


class _Turns:
    """Replacements taken in turn (a fresh one per document)."""

    def __init__(self, replacements: tuple[str, ...], valid=None):
        self.replacements = replacements
        self.valid = valid
        self.next = 0
        self.made = 0  # replacements made

    def __call__(self, match: re.Match) -> str:
        if self.valid is not None and not self.valid(match.group(0)):
            return match.group(0)
        replacement = self.replacements[self.next]
        self.next = (self.next + 1) % len(self.replacements)
        self.made += 1
        return replacement


@dataclass(frozen=True)
class PIIReplacement(Filter):
    """Replace e-mail and public IP addresses; count documents changed and replacements."""

    name: ClassVar[str] = "pii"
    reasons: ClassVar[tuple[str, ...]] = ()

    emails: bool = True
    ips: bool = True
    only_public_ips: bool = True
    email_replacements: tuple[str, ...] = EMAIL_REPLACEMENTS
    ip_replacements: tuple[str, ...] = IP_REPLACEMENTS

    def __post_init__(self) -> None:
        for name in ("email_replacements", "ip_replacements"):
            values = tuple(getattr(self, name))
            if not values:
                raise ValueError(f"pii.{name}: give at least one replacement")
            object.__setattr__(self, name, values)

    def replace(self, text: str) -> tuple[str, int, int]:
        """(text with the addresses replaced, e-mails replaced, IP addresses replaced)."""
        emails = ips = 0
        if self.emails and "@" in text:
            turns = _Turns(self.email_replacements)
            text = replace_emails(text, turns)
            emails = turns.made
        if self.ips and "." in text:
            turns = _Turns(self.ip_replacements, is_public_ip if self.only_public_ips else None)
            text = _IP.sub(turns, text)
            ips = turns.made  # matches left as they were are no replacement
        return text, emails, ips

    def apply(self, doc: Document) -> tuple[Document, Verdict]:
        text, emails, ips = self.replace(doc.text)
        if not (emails or ips):
            return doc, KEEP
        figures = {"documents_changed": 1, "emails_replaced": emails, "ips_replaced": ips}
        return doc.replace(text=text, meta={**doc.meta, FIGURES_KEY: figures}), KEEP
