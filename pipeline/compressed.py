"""Compressed archive files read as their decompressed bytes: gzip streams and lz4 frames."""

from __future__ import annotations

import zlib
from typing import BinaryIO

GZIP = "gzip"
LZ4 = "lz4"
# Compressions a file's first bytes can announce; only gzip and lz4 are read.
_MAGIC = (
    (b"\x1f\x8b", GZIP),
    (b"\x04\x22\x4d\x18", LZ4),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
)
_RAW_CHUNK = 1 << 16
_OUT_CHUNK = 1 << 20  # decompressed bytes per step: a bomb inflates a step at a time

# Why an Inflated stream stopped before its compressed data ended.
CORRUPT = "corrupt"  # the decompressor failed
TRAILING = "trailing"  # bytes after the last member or frame are not another one


def compression_of(head: bytes) -> str:
    """The compression a file's first bytes announce ('' for none)."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return ""


def lz4_available() -> bool:
    """Whether the optional lz4 package (extra `macrodata[lz4]`) is installed."""
    try:
        import lz4.frame  # noqa: F401
    except ImportError:
        return False
    return True


class _Gzip:
    """zlib's gzip decompressor behind the interface of lz4's frame decompressor."""

    def __init__(self):
        self._inflater = zlib.decompressobj(31)
        self._tail = b""
        self._failed: zlib.error | None = None

    @property
    def needs_input(self) -> bool:
        # After a failure, the next call must be made (and raise) even without more input.
        return not self._tail and self._failed is None

    @property
    def eof(self) -> bool:
        return self._inflater.eof

    @property
    def unused_data(self) -> bytes:
        return self._inflater.unused_data

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._failed is not None:
            raise self._failed
        data = self._tail + data
        before = self._inflater.copy()
        try:
            out = self._inflater.decompress(data, max_length)
        except zlib.error as error:
            # zlib drops the output of a call that fails: inflate up to the damage again in
            # small steps, so what comes before it is read; the next call fails.
            self._failed = error
            self._inflater = before
            return self._up_to_damage(data, max_length)
        self._tail = self._inflater.unconsumed_tail
        return out

    def _up_to_damage(self, data: bytes, max_length: int) -> bytes:
        out = bytearray()
        for at in range(0, len(data), 256):
            try:
                out += self._inflater.decompress(data[at : at + 256], max_length - len(out))
            except zlib.error:
                break
            if len(out) >= max_length or self._inflater.eof:
                break
        return bytes(out)


def inflate_member(raw: BinaryIO, start: int, end: int | None, limit: int) -> tuple[bytes, bool]:
    """Up to `limit` bytes of the gzip member at `start`, reading no compressed byte from `end`
    on; and whether the member ended. Raises zlib.error when it does not inflate."""
    raw.seek(start)
    decoder = _Gzip()
    out = bytearray()
    left = None if end is None else end - start
    while len(out) < limit and not decoder.eof:
        data = b""
        if decoder.needs_input:
            size = _RAW_CHUNK if left is None else min(_RAW_CHUNK, left)
            data = raw.read(size) if size > 0 else b""
            if not data:
                break
            if left is not None:
                left -= len(data)
        out += decoder.decompress(data, limit - len(out))
    return bytes(out), decoder.eof


def _decompressor(kind: str):
    if kind == GZIP:
        return _Gzip()
    import lz4.frame

    return lz4.frame.LZ4FrameDecompressor()


class Inflated:
    """The decompressed bytes of the members (or frames) from `start` on, as one stream.

    Reads go forward; a seek back stays in memory when it is within `window` bytes of the
    furthest point read, and otherwise decompresses again from `start` (rare: the reader only
    seeks back to the record it is reading). Decompression stops, never raises, at the end of
    the data: `clipped` when a member was cut, `error` (CORRUPT or TRAILING, with `detail` and
    the position `error_at`) when the data stops being this compression.
    """

    def __init__(self, raw: BinaryIO, start: int, kind: str, window: int):
        self.raw = raw
        self.start = start
        self.kind = kind
        self.window = window
        self._magic = next(magic for magic, name in _MAGIC if name == kind)
        self._rewind()

    def _rewind(self) -> None:
        self.raw.seek(self.start)
        self._decoder = None
        self._pending = b""
        self._buffer = bytearray()
        self._buffer_start = 0  # stream position of _buffer[0]
        self._position = 0
        self._done = False
        self.clipped = False
        self.error = ""
        self.detail = ""
        self.error_at = -1

    def tell(self) -> int:
        """The current position in the decompressed stream."""
        return self._position

    def seek(self, position: int, whence: int = 0) -> int:
        """Move to a decompressed position (from the start, or from here with whence=1)."""
        if whence == 1:
            position += self._position
        elif whence != 0:
            raise OSError("a decompressed stream cannot seek from its end")
        if position < self._buffer_start:
            self._rewind()
        self._position = position
        return position

    def read(self, size: int = -1) -> bytes:
        """Up to `size` decompressed bytes from the current position (all with -1)."""
        if size is None or size < 0:
            chunks = []
            while chunk := self.read(_OUT_CHUNK):
                chunks.append(chunk)
            return b"".join(chunks)
        end = self._position + size
        while self._buffer_start + len(self._buffer) < end and not self._done:
            self._buffer += self._inflate()
            self._trim()
        offset = self._position - self._buffer_start
        if offset >= len(self._buffer):
            return b""
        data = bytes(self._buffer[offset : offset + size])
        self._position += len(data)
        return data

    def _trim(self) -> None:
        # Keep `window` bytes behind the read position (or behind what is decompressed, while a
        # seek forward skips ahead); drop in large steps so the buffer is not moved per chunk.
        keep_from = min(self._position, self._buffer_start + len(self._buffer)) - self.window
        excess = keep_from - self._buffer_start
        if excess > self.window:
            del self._buffer[:excess]
            self._buffer_start += excess

    def _inflate(self) -> bytes:
        """The next decompressed piece; b'' once the data ends (whole, clipped or broken)."""
        while not self._done:
            if self._decoder is None and not self._next_member():
                return b""
            data = b""
            if self._decoder.needs_input:
                data, self._pending = self._pending or self.raw.read(_RAW_CHUNK), b""
                if not data:
                    self.clipped = True
                    self._done = True
                    return b""
            try:
                out = self._decoder.decompress(data, _OUT_CHUNK)
            except Exception as error:  # zlib.error; lz4 raises RuntimeError
                self._stop(CORRUPT, f"{self.kind}: {type(error).__name__}: {error}")
                return b""
            if self._decoder.eof:
                self._pending = self._decoder.unused_data or b""
                self._decoder = None
            if out:
                return out
        return b""

    def _next_member(self) -> bool:
        """Start the next member or frame; False at the end of the data or on other bytes."""
        while len(self._pending) < len(self._magic):
            more = self.raw.read(_RAW_CHUNK)
            if not more:
                break
            self._pending += more
        if not self._pending:
            self._done = True
            return False
        if not self._pending.startswith(self._magic):
            self._stop(TRAILING, f"bytes after the last {self.kind} member are not {self.kind}")
            return False
        self._decoder = _decompressor(self.kind)
        return True

    def _stop(self, error: str, detail: str) -> None:
        self.error = error
        self.detail = detail[:500]
        self.error_at = self._buffer_start + len(self._buffer)
        self._done = True
