"""The codecs' byte-stream framing: round trip, and bad magic, version, truncation and corruption fail clearly."""
from __future__ import annotations

import pytest

from course_utils import bitstream
from course_utils.bitstream import StreamError


def test_stream_framing_detects_bad_magic_version_truncation_and_corruption():
    data = bitstream.pack_stream(b"TEST", 1, b"\x01\x02", b"payload bytes")
    assert bitstream.unpack_stream(data, b"TEST", 1, "test") == (b"\x01\x02", b"payload bytes")
    with pytest.raises(StreamError, match="magic"):
        bitstream.unpack_stream(b"XXXX" + data[4:], b"TEST", 1, "test")
    with pytest.raises(StreamError, match="version"):
        bitstream.unpack_stream(data[:4] + b"\x07" + data[5:], b"TEST", 1, "test")
    with pytest.raises(StreamError, match="truncated"):
        bitstream.unpack_stream(data[:5], b"TEST", 1, "test")
    corrupt = bytearray(data)
    corrupt[-3] ^= 0x40
    with pytest.raises(StreamError, match="CRC"):
        bitstream.unpack_stream(bytes(corrupt), b"TEST", 1, "test")
    with pytest.raises(TypeError):
        bitstream.unpack_stream("text", b"TEST", 1, "test")


def test_pack_stream_rejects_a_bad_magic_or_long_fields():
    with pytest.raises(ValueError, match="magic"):
        bitstream.pack_stream(b"TOOLONG", 1, b"", b"")
    with pytest.raises(ValueError, match="255"):
        bitstream.pack_stream(b"TEST", 1, bytes(256), b"")
    assert issubclass(StreamError, ValueError)
