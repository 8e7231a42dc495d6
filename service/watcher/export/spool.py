"""The archive between the export that writes it and the HTTP client that reads it.

The export writes at its own pace into an unlinked temporary file; the response reads the file
back at the client's pace, starting as soon as the first bytes are there. So the export's read
transaction lasts as long as the export takes to write, never as long as a slow client takes to
read (a transaction held open keeps SQLite from resetting the WAL), and what a slow client has not
read yet waits on disk, not in memory.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

READ_BYTES = 256 * 1024


class SpoolFailed(Exception):
    """The writer stopped before the archive was complete."""


class Spool:
    """One writer (`write`, then `finish` or `fail`), one reader (`chunks`)."""

    def __init__(self, directory: Path | None = None) -> None:
        # Kept open for the spool's life (closed by `close`); unlinked at once, so never left over.
        self._file = tempfile.TemporaryFile(prefix="watcher-export-", dir=directory)  # noqa: SIM115
        self._fd = self._file.fileno()
        self._size = 0
        self._finished = False
        self._failed = False
        self._grown = asyncio.Event()

    @property
    def size(self) -> int:
        return self._size

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        self._size += len(data)
        self._grown.set()
        await asyncio.sleep(0)  # let the reader and other requests run between pieces

    def finish(self) -> None:
        self._finished = True
        self._grown.set()

    def fail(self) -> None:
        self._failed = True
        self._grown.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        """The archive's bytes as they become available; SpoolFailed if the writer failed."""
        offset = 0
        while True:
            if offset < self._size:
                data = os.pread(self._fd, min(READ_BYTES, self._size - offset), offset)
                offset += len(data)
                yield data
            elif self._failed:
                raise SpoolFailed
            elif self._finished:
                return
            else:
                self._grown.clear()
                await self._grown.wait()

    def close(self) -> None:
        self._file.close()
