"""Exact-document dedup: one document per normalised text, the earliest capture kept."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import ClassVar

from core.document import Document
from dedup.earlier import EarlierRuns
from dedup.normalize import normalize

EXACT_DUPLICATE = "exact_duplicate"
# A run deduplicated against earlier ones (--dedup-against): one of them kept this text.
TEXT_KEPT_BY_EARLIER_RUN = "text_kept_by_earlier_run"


def text_key(text: str) -> bytes:
    """16-byte digest of the RefinedWeb-normalised text: equal for texts differing only in
    case, punctuation, accents or spacing."""
    return hashlib.blake2b(normalize(text).encode("utf-8"), digest_size=16).digest()


@dataclass(frozen=True)
class ExactDocumentDedup(EarlierRuns):
    """Documents with the same normalised text: all but the smallest id are dropped.

    With earlier runs' index files (`--dedup-against`), every copy of a text one of them kept
    is dropped under its own reason: earlier runs always win.
    """

    name: ClassVar[str] = "exact_dedup"
    reasons: ClassVar[tuple[str, ...]] = (EXACT_DUPLICATE, TEXT_KEPT_BY_EARLIER_RUN)
    duplicate_reason: ClassVar[str] = EXACT_DUPLICATE
    earlier_reason: ClassVar[str] = TEXT_KEPT_BY_EARLIER_RUN
    # The column of the run index (pipeline/index.py) holding this key.
    index_column: ClassVar[str] = "text_key"

    def key(self, doc: Document) -> bytes:
        """What two copies share."""
        return text_key(doc.text)
