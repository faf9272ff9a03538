"""The byte-stream framing of the course's codecs: magic, version, header fields, CRC-32, payload.

The codecs of notebook 02 (:mod:`course_utils.image_codec`, ``LIC1`` and ``LHP1``, and
:mod:`course_utils.speech_codec`, ``LSC1``) frame their entropy-coded data the same way, so that a
corrupt, truncated or foreign stream fails loudly (:class:`StreamError`) instead of decoding to
garbage::

    magic (4 bytes) | version (1) | len(fields) (1) | fields | CRC-32 of fields + payload (4) | payload

The bit rate a codec reports counts every byte of it, header included.
"""
from __future__ import annotations

import struct
import zlib


class StreamError(ValueError):
    """A compressed stream is not one this codec wrote: bad magic, unknown version, truncated or corrupt."""


def pack_stream(magic: bytes, version: int, fields: bytes, payload: bytes) -> bytes:
    """Frame a payload: ``magic | version | len(fields) | fields | crc32 | payload``.

    Parameters
    ----------
    magic : bytes
        4 bytes naming the format, e.g. ``b"LIC1"``.
    version : int
        Format version, 0–255.
    fields : bytes
        The codec's own header fields (shape, model id…), at most 255 bytes.
    payload : bytes
        The entropy-coded data.

    Returns
    -------
    bytes
        The stream; its length is what the bit rate counts (header included).

    Raises
    ------
    ValueError
        ``magic`` is not 4 bytes or ``fields`` is longer than 255 bytes.
    """
    if len(magic) != 4 or len(fields) > 255:
        raise ValueError("magic must be 4 bytes and the header fields at most 255 bytes")
    crc = zlib.crc32(fields + payload)
    return magic + struct.pack(">BB", version, len(fields)) + fields + struct.pack(">I", crc) + payload


def unpack_stream(data, magic: bytes, version: int, what: str) -> tuple[bytes, bytes]:
    """Check and split a stream written by :func:`pack_stream`.

    Parameters
    ----------
    data : bytes
    magic : bytes
        The expected 4-byte magic.
    version : int
        The expected version.
    what : str
        Name of the format, for error messages (e.g. ``"learned image codec"``).

    Returns
    -------
    fields, payload : bytes

    Raises
    ------
    TypeError
        ``data`` is not bytes.
    StreamError
        Wrong magic (not this format), other version, truncated, or CRC-32 mismatch (corrupt bytes).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"a {what} stream must be bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 10:
        raise StreamError(f"{what} stream truncated: {len(data)} bytes is shorter than the 10-byte header")
    if data[:4] != magic:
        raise StreamError(f"not a {what} stream: magic {data[:4]!r}, expected {magic!r}")
    got_version, n_fields = struct.unpack(">BB", data[4:6])
    if got_version != version:
        raise StreamError(f"{what} stream version {got_version} is not supported (this code reads {version})")
    if len(data) < 10 + n_fields:
        raise StreamError(f"{what} stream truncated inside its header ({len(data)} bytes)")
    fields = data[6:6 + n_fields]
    (crc,) = struct.unpack(">I", data[6 + n_fields:10 + n_fields])
    payload = data[10 + n_fields:]
    if zlib.crc32(fields + payload) != crc:
        raise StreamError(f"corrupt or truncated {what} stream: CRC-32 mismatch over {len(fields + payload)} bytes")
    return fields, payload
