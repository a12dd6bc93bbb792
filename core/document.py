"""The record every stage passes along, and the stable document id."""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import zstandard

if TYPE_CHECKING:
    import numpy as np

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
    # `html` in UTF-8 when the reader already has those bytes (the payload of a UTF-8 page),
    # so extraction need not encode the page again; dropped with `html`.
    html_utf8: bytes | None = None
    # The page is incomplete: the file was cut or damaged, the crawler cut it (WARC-Truncated),
    # or the reader did (read.max_payload_bytes).
    truncated: bool = False
    # The output: token ids of `text` (uint32), EOS included, set by the tokenize stage only.
    # numpy, not a list: a list of Python ints costs 9x the memory wherever documents wait.
    input_ids: np.ndarray | None = None
    # Token ids of `text` (uint32) without EOS, handed on by a stage that already computed
    # them with the output tokenizer (exact_substring), so tokenize need not encode again.
    text_ids: np.ndarray | None = None
    signals: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    # Whitespace-separated words of `text`, counted once per text (every stage's funnel row
    # counts them); kept in step with `text` by __post_init__ and `replace`.
    words: int = -1

    def __post_init__(self):
        if self.words < 0:
            object.__setattr__(self, "words", len(self.text.split()) if self.text else 0)

    def __reduce__(self):
        # Pickled compressed: a document waiting in a shuffle or between the runner's stages
        # (the local runner holds several copies of what crosses) takes about half the bytes.
        fields = tuple(getattr(self, name) for name in _FIELDS)
        return _unpickle_document, (compress(pickle.dumps(fields, pickle.HIGHEST_PROTOCOL)),)

    def replace(self, **changes: Any) -> Document:
        """A copy with `changes` applied (documents are immutable).

        What `dataclasses.replace` does for this class (an unknown field is a TypeError, the
        word count follows a new text), at under half its cost: every stage copies each
        document, and `dataclasses.replace` builds the keyword arguments of every field and
        runs `__init__` again.
        """
        if not changes.keys() <= _FIELD_SET:
            unknown = ", ".join(sorted(changes.keys() - _FIELD_SET))
            raise TypeError(f"Document has no field {unknown}")
        copy = object.__new__(Document)
        state = copy.__dict__
        state.update(self.__dict__)
        state.update(changes)
        if "text" in changes and "words" not in changes:
            text = state["text"]
            if text != self.text:  # counted again for a new text (the same text: as it was)
                state["words"] = len(text.split()) if text else 0
        elif state["words"] < 0:
            state["words"] = len(state["text"].split()) if state["text"] else 0
        return copy

    def with_signals(self, scores: dict[str, float]) -> Document:
        """A copy whose signals include `scores`."""
        if not scores:
            return self
        return self.replace(signals={**self.signals, **scores})


_FIELDS = tuple(f.name for f in dataclasses.fields(Document))
_FIELD_SET = frozenset(_FIELDS)


def _unpickle_document(data: bytes) -> Document:
    return Document(*pickle.loads(decompress(data)))


# zstd at its fastest level: text and token ids shrink to about half. Through `zstandard`
# with a compressor and a decompressor kept per thread (they are not thread-safe): pyarrow's
# Codec makes a new context on each call, which cost more than compressing a document (40 and
# 30 us for a 5.5 kB one, against 26-33 and 17 here). The frames are zstd's either way.
_CONTEXTS = threading.local()


def _contexts() -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    try:
        return _CONTEXTS.pair
    except AttributeError:
        _CONTEXTS.pair = zstandard.ZstdCompressor(level=1), zstandard.ZstdDecompressor()
        return _CONTEXTS.pair


def compress(data: bytes) -> bytes:
    """`data` compressed, its length first (what `decompress` needs to size its output)."""
    return len(data).to_bytes(8, "little") + _contexts()[0].compress(data)


def decompress(data: bytes) -> bytes:
    """The bytes `compress` was given."""
    size = int.from_bytes(data[:8], "little")
    out = _contexts()[1].decompress(memoryview(data)[8:], max_output_size=size)
    if len(out) != size:
        raise ValueError(f"a compressed document of {size} bytes gave {len(out)}")
    return out


def document_id(crawl_date: str, record_id: str) -> str:
    """A stable id whose string order puts the earliest capture first.

    The WARC-Date (ISO 8601, so it sorts as a string) leads; a digest of the WARC-Record-ID
    follows so ids stay unique and fixed width. Dedup keeps the smallest id of a cluster, which
    is therefore the earliest crawl.
    """
    stamp = "".join(ch for ch in crawl_date if ch.isdigit())[:14].ljust(14, "0")
    digest = hashlib.blake2b(record_id.encode("utf-8", "replace"), digest_size=10).hexdigest()
    return f"{stamp}-{digest}"


# An id is 14 digits of crawl time, a dash and 20 hex digits: 16 bytes packed.
HANDLE_BYTES = 16


def id_handle(doc_id: str) -> bytes:
    """The id as 16 bytes whose byte order is the ids' order (how dedup shuffles an id).

    The crawl time takes 6 bytes (10^14 < 2^48) and the digest 10; a 35-character id as a
    Python string costs about 84 bytes, and dedup ships one per LSH band.
    """
    stamp, dash, digest = doc_id.partition("-")
    try:
        if dash and len(stamp) == 14 and stamp.isdigit() and len(digest) == 20:
            return int(stamp).to_bytes(6, "big") + bytes.fromhex(digest)
    except ValueError:  # not hexadecimal
        pass
    raise ValueError(f"not a document id: {doc_id!r}")


def handle_id(handle: bytes) -> str:
    """The document id `id_handle` packed."""
    return f"{int.from_bytes(handle[:6], 'big'):014d}-{handle[6:].hex()}"
