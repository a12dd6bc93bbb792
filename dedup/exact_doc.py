"""Exact-document dedup: one document per normalised text, the earliest capture kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

from dedup.normalize import normalize
from pipeline.document import Document

EXACT_DUPLICATE = "exact_duplicate"


def text_key(text: str) -> bytes:
    """16-byte digest of the RefinedWeb-normalised text: equal for texts differing only in
    case, punctuation, accents or spacing."""
    return hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=16).digest()


@dataclass(frozen=True)
class ExactDocumentDedup:
    """Documents with the same normalised text: all but the smallest id are dropped."""

    name: ClassVar[str] = "exact_dedup"
    reasons: ClassVar[tuple[str, ...]] = (EXACT_DUPLICATE,)

    def key(self, doc: Document) -> bytes:
        """What two copies share."""
        return text_key(doc.text)
