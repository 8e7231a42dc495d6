"""A zip archive written front to back into an async byte sink (a spool file, an output file).

Each member is a local header, its deflated bytes and a data descriptor carrying its CRC and sizes,
so nothing already written is ever revisited and the archive never has to exist as a whole. The
central directory, which a zip ends with, grows with the number of members (a code state is a
directory of files, and there can be millions): its records go to a temporary file as members are
finished and are copied out at the end, so memory does not grow with the archive.

Members carry a zip64 extra field in their local header (sizes unknown when it is written, possibly
over 4 GiB) and 8-byte sizes in their descriptor, as Python's own zipfile writes a streamed member;
the central directory uses zip64 fields only where a value needs them. Names are UTF-8 (flag 11).
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from collections.abc import Awaitable, Callable
from datetime import datetime

DRAIN_BYTES = 256 * 1024
COPY_BYTES = 1 << 20

Sink = Callable[[bytes], Awaitable[object]]

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_DESCRIPTOR = struct.Struct("<IIQQ")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")
_END = struct.Struct("<IHHHHIIH")
_LIMIT32 = 0xFFFFFFFF
_LIMIT16 = 0xFFFF
_UTF8_AND_DESCRIPTOR = 0x0800 | 0x0008
_UTF8 = 0x0800
_DEFLATED = 8
_STORED = 0
_ZIP64_VERSION = 45
_MADE_BY_UNIX = (3 << 8) | 45
_FILE_MODE = 0o100644 << 16  # rw-r--r-- when unpacked
_DIRECTORY_MODE = (0o40755 << 16) | 0x10


def _dos_time(moment: datetime) -> tuple[int, int]:
    year = min(max(moment.year, 1980), 2107)
    date = ((year - 1980) << 9) | (moment.month << 5) | moment.day
    time = (moment.hour << 11) | (moment.minute << 5) | (moment.second // 2)
    return time, date


def _zip64_extra(*values: int) -> bytes:
    return struct.pack("<HH", 0x0001, 8 * len(values)) + b"".join(
        struct.pack("<Q", v) for v in values
    )


class ZipStream:
    """Members are written one at a time: `open_member`, writes, `close_member` (or `add`)."""

    def __init__(self, sink: Sink, created: datetime) -> None:
        self._sink = sink
        self._time, self._date = _dos_time(created)
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._offset = 0  # bytes of the archive produced so far
        # Central directory records, until `close` copies them out (or `discard`).
        self._directory = tempfile.TemporaryFile()  # noqa: SIM115
        self._directory_size = 0
        self._entries = 0
        self._member: _Member | None = None

    def _emit(self, data: bytes) -> None:
        self._pending.append(data)
        self._pending_size += len(data)
        self._offset += len(data)

    async def drain(self, force: bool = False) -> None:
        """Hand what has been written so far to the sink (always when `force`)."""
        if self._pending_size and (force or self._pending_size >= DRAIN_BYTES):
            data = b"".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
            await self._sink(data)

    def open_member(self, name: str) -> None:
        assert self._member is None, "one member at a time"
        encoded = name.encode("utf-8")
        extra = _zip64_extra(0, 0)
        header = _LOCAL.pack(0x04034B50, _ZIP64_VERSION, _UTF8_AND_DESCRIPTOR, _DEFLATED,
                             self._time, self._date, 0, _LIMIT32, _LIMIT32, len(encoded),
                             len(extra))  # fmt: skip
        self._member = _Member(encoded, self._offset)
        self._emit(header + encoded + extra)

    def write(self, data: bytes) -> None:
        assert self._member is not None
        compressed = self._member.feed(data)
        if compressed:
            self._emit(compressed)

    async def close_member(self) -> None:
        member = self._member
        assert member is not None
        self._member = None
        tail = member.finish()
        self._emit(tail + _DESCRIPTOR.pack(0x08074B50, member.crc, member.compressed, member.size))
        self._record(member.name, _DEFLATED, _UTF8_AND_DESCRIPTOR, member.crc, member.compressed,
                     member.size, member.offset, _FILE_MODE)  # fmt: skip
        await self.drain()

    async def add(self, name: str, data: bytes) -> None:
        """A whole small member at once."""
        self.open_member(name)
        self.write(data)
        await self.close_member()

    async def add_directory(self, name: str) -> None:
        """An empty directory (`name` ends with `/`)."""
        assert self._member is None and name.endswith("/")
        encoded = name.encode("utf-8")
        offset = self._offset
        header = _LOCAL.pack(0x04034B50, 20, _UTF8, _STORED, self._time, self._date, 0, 0, 0,
                             len(encoded), 0)  # fmt: skip
        self._emit(header + encoded)
        self._record(encoded, _STORED, _UTF8, 0, 0, 0, offset, _DIRECTORY_MODE)
        await self.drain()

    def _record(self, name: bytes, method: int, flags: int, crc: int, compressed: int,
                size: int, offset: int, mode: int) -> None:  # fmt: skip
        """The member's central directory record, to the temporary file."""
        big = [v for v in (size, compressed, offset) if v >= _LIMIT32]
        extra = _zip64_extra(*big) if big else b""

        def field(value: int) -> int:
            return _LIMIT32 if value >= _LIMIT32 else value

        record = _CENTRAL.pack(0x02014B50, _MADE_BY_UNIX, _ZIP64_VERSION if big else 20, flags,
                               method, self._time, self._date, crc, field(compressed),
                               field(size), len(name), len(extra), 0, 0, 0, mode,
                               field(offset))  # fmt: skip
        self._directory.write(record + name + extra)
        self._directory_size += len(record) + len(name) + len(extra)
        self._entries += 1

    async def close(self) -> None:
        """Copy the central directory out, end the archive and drain everything."""
        assert self._member is None
        await self.drain(force=True)
        start = self._offset
        self._directory.seek(0)
        while chunk := self._directory.read(COPY_BYTES):
            self._offset += len(chunk)
            await self._sink(chunk)
        self._directory.close()
        size, entries = self._directory_size, self._entries
        if entries >= _LIMIT16 or size >= _LIMIT32 or start >= _LIMIT32:
            end64 = self._offset
            self._emit(_END64.pack(0x06064B50, 44, _MADE_BY_UNIX, _ZIP64_VERSION, 0, 0, entries,
                                   entries, size, start))  # fmt: skip
            self._emit(_LOCATOR64.pack(0x07064B50, 0, end64, 1))
        self._emit(_END.pack(0x06054B50, 0, 0, min(entries, _LIMIT16), min(entries, _LIMIT16),
                             min(size, _LIMIT32), min(start, _LIMIT32), 0))  # fmt: skip
        await self.drain(force=True)

    def discard(self) -> None:
        """Drop the temporary central directory of an archive that will not be finished."""
        self._directory.close()


class _Member:
    """The deflate state, CRC and sizes of the member being written."""

    def __init__(self, name: bytes, offset: int) -> None:
        self.name = name
        self.offset = offset
        self.crc = 0
        self.size = 0
        self.compressed = 0
        self._deflate = zlib.compressobj(6, zlib.DEFLATED, -15)

    def feed(self, data: bytes) -> bytes:
        self.crc = zlib.crc32(data, self.crc)
        self.size += len(data)
        out = self._deflate.compress(data)
        self.compressed += len(out)
        return out

    def finish(self) -> bytes:
        out = self._deflate.flush()
        self.compressed += len(out)
        return out
