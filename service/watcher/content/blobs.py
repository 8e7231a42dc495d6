"""Posted content as it is stored: zlib-compressed, keyed by the SHA-256 of the original bytes."""

from __future__ import annotations

import hashlib
import zlib

from watcher.store.content import ContentBlob


def is_text(data: bytes) -> bool:
    """UTF-8 without NUL bytes: what the content routes serve and diff as text."""
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def pack(data: bytes) -> ContentBlob:
    return ContentBlob(
        hashlib.sha256(data).hexdigest(), len(data), is_text(data), zlib.compress(data)
    )


def unpack(compressed: bytes, size: int) -> bytes:
    """The original bytes; `size` (stored beside the blob) bounds the work, whatever the data."""
    inflater = zlib.decompressobj()
    data = inflater.decompress(compressed, size + 1)
    if len(data) != size:
        raise ValueError(f"stored content has {len(data)} bytes, expected {size}")
    return data
