"""Exact-document dedup key: a hash of the normalised text."""

from __future__ import annotations

import hashlib

from dedup.normalize import normalize


def text_key(text: str) -> bytes:
    """16-byte digest of the RefinedWeb-normalised text: equal for texts differing only in
    case, punctuation, accents or spacing."""
    return hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=16).digest()
