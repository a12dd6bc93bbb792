import gzip
import io
import zlib

import pytest
from lz4.frame import compress as lz4_frame

from pipeline import compressed

DATA = bytes(range(256)) * 4096  # 1 MiB
PIECES = [DATA[:300_000], DATA[300_000:700_000], DATA[700_000:]]


def inflated(data: bytes, kind: str = compressed.GZIP, window: int = 1 << 20):
    return compressed.Inflated(io.BytesIO(data), 0, kind, window)


@pytest.mark.parametrize(
    "head, kind",
    [
        (b"\x1f\x8b\x08\x00", compressed.GZIP),
        (b"\x04\x22\x4d\x18\x64", compressed.LZ4),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"\xfd7zXZ\x00\x00", "xz"),
        (b"BZh91AY", "bzip2"),
        (b"WARC/1.0\r\n", ""),
        (b"filedesc://x.arc", ""),
        (b"", ""),
    ],
)
def test_compression_is_told_by_the_first_bytes(head, kind):
    assert compressed.compression_of(head) == kind


@pytest.mark.parametrize(
    "data, kind",
    [
        pytest.param(gzip.compress(DATA), compressed.GZIP, id="gzip stream"),
        pytest.param(b"".join(map(gzip.compress, PIECES)), compressed.GZIP, id="gzip members"),
        pytest.param(lz4_frame(DATA), compressed.LZ4, id="lz4 frame"),
        pytest.param(b"".join(map(lz4_frame, PIECES)), compressed.LZ4, id="lz4 frames"),
    ],
)
def test_members_and_frames_read_as_one_stream(data, kind):
    stream = inflated(data, kind)
    assert stream.read(1000) == DATA[:1000]
    assert stream.read() == DATA[1000:]
    assert stream.read(10) == b"" and stream.tell() == len(DATA)
    assert not stream.error and not stream.clipped


def test_seeks_back_beyond_the_window_decompress_again():
    stream = inflated(gzip.compress(DATA), window=4096)
    assert stream.read(700_000) == DATA[:700_000]
    stream.seek(10)  # long dropped from memory: decompressed again from the start
    assert stream.read(100) == DATA[10:110] and stream.tell() == 110
    stream.seek(600_000)
    assert stream.read() == DATA[600_000:]
    stream.seek(-100, 1)
    assert stream.read() == DATA[-100:]


def test_a_clipped_stream_gives_what_is_there():
    stream = inflated(gzip.compress(DATA)[:-2000])
    data = stream.read()
    assert 0 < len(data) < len(DATA) and DATA.startswith(data)
    assert stream.clipped and not stream.error


def test_damage_stops_the_stream_after_what_came_before():
    packed = gzip.compress(DATA, compresslevel=1)
    corrupt = packed[:5000] + b"\xff" * 64 + packed[5064:]
    cases = [
        # Deflate inflates wrong bytes for a while after damage: only the start is known good.
        (corrupt, compressed.GZIP, compressed.CORRUPT, DATA[:1000]),
        (gzip.compress(DATA) + b"not gzip", compressed.GZIP, compressed.TRAILING, DATA),
        (lz4_frame(PIECES[0]) + b"\0" * 9, compressed.LZ4, compressed.TRAILING, PIECES[0]),
    ]
    for data, kind, error, good in cases:
        stream = inflated(data, kind)
        out = stream.read()
        assert stream.error == error and stream.detail and stream.error_at == len(out)
        assert out.startswith(good)


def test_inflate_member_stops_at_its_end_a_bound_or_a_limit():
    first, second = gzip.compress(PIECES[0]), gzip.compress(PIECES[1])
    raw = io.BytesIO(first + second)
    assert compressed.inflate_member(raw, 0, None, 1 << 30) == (PIECES[0], True)
    assert compressed.inflate_member(raw, len(first), None, 1 << 30) == (PIECES[1], True)
    cut, ended = compressed.inflate_member(raw, 0, len(first) // 2, 1 << 30)
    assert not ended and 0 < len(cut) < len(PIECES[0]) and PIECES[0].startswith(cut)
    assert compressed.inflate_member(raw, 0, None, 1000) == (PIECES[0][:1000], False)
    with pytest.raises(zlib.error):
        compressed.inflate_member(
            io.BytesIO(first[:20] + b"\xff" * 50 + first[70:]), 0, None, 1 << 30
        )
