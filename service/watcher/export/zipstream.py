"""A zip archive written front to back into an async byte sink (an HTTP response, a file).

`zipfile` writes to a stream it cannot seek by putting each member's sizes and CRC in a data
descriptor after the member's bytes, so nothing before the current member is ever revisited and
the archive never has to exist as a whole. zipfile's writes are synchronous: they land in a small
buffer that `drain()` hands to the async sink, which applies the sink's back-pressure (a slow HTTP
client slows the export instead of filling memory).
"""

from __future__ import annotations

import zipfile
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import IO

DRAIN_BYTES = 256 * 1024

Sink = Callable[[bytes], Awaitable[object]]


class _Buffer:
    """A write-only file object: no `tell`/`seek`, which makes zipfile stream."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        self.size = 0
        return data


class ZipStream:
    """Members are written one at a time: `open_member` then writes then `close_member`."""

    def __init__(self, sink: Sink, created: datetime) -> None:
        self._sink = sink
        self._buffer = _Buffer()
        self._zip = zipfile.ZipFile(self._buffer, "w", compression=zipfile.ZIP_DEFLATED)
        self._date_time = (created.year, created.month, created.day, created.hour,
                           created.minute, created.second)  # fmt: skip
        self._member: IO[bytes] | None = None

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self._date_time)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16  # rw-r--r-- when unpacked
        return info

    def open_member(self, name: str, large: bool = False) -> None:
        """Start a member. `large`: it may exceed 4 GiB (zip64 sizes; its size is not known yet)."""
        assert self._member is None, "one member at a time"
        self._member = self._zip.open(self._info(name), "w", force_zip64=large)

    def write(self, data: bytes) -> None:
        assert self._member is not None
        self._member.write(data)

    async def drain(self, force: bool = False) -> None:
        """Hand what zipfile has written so far to the sink (always when `force`)."""
        if self._buffer.size and (force or self._buffer.size >= DRAIN_BYTES):
            await self._sink(self._buffer.take())

    async def close_member(self) -> None:
        assert self._member is not None
        self._member.close()
        self._member = None
        await self.drain()

    async def add(self, name: str, data: bytes) -> None:
        """A whole small member at once."""
        self.open_member(name)
        self.write(data)
        await self.close_member()

    async def close(self) -> None:
        """Write the central directory and drain everything."""
        self._zip.close()
        await self.drain(force=True)
