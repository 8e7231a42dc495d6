"""The database as the rest of the service sees it: one writer, a few readers, one file."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from pathlib import Path

import aiosqlite

from watcher.config import Settings
from watcher.store.connection import open_connection
from watcher.store.migrations import migrate
from watcher.store.readers import ReaderPool
from watcher.store.writer import BatchObserver, Writer

log = logging.getLogger(__name__)


class Database:
    def __init__(
        self, path: Path, writer: Writer, readers: ReaderPool, write_conn: aiosqlite.Connection
    ) -> None:
        self.path = path
        self.writer = writer
        self._readers = readers
        self._write_conn = write_conn
        self.schema_version = 0

    def read(self) -> AbstractAsyncContextManager[aiosqlite.Connection]:
        return self._readers.connection()

    def size_bytes(self) -> int:
        """The database and its WAL on disk."""
        total = 0
        for suffix in ("", "-wal"):
            with suppress(FileNotFoundError):
                total += Path(str(self.path) + suffix).stat().st_size
        return total

    async def close(self) -> None:
        await self.writer.close()
        await self._readers.close()
        await self._write_conn.close()


async def open_database(settings: Settings, on_commit: BatchObserver | None = None) -> Database:
    path = settings.db_path
    path.parent.mkdir(parents=True, exist_ok=True)
    timeout, synchronous = settings.busy_timeout_ms, settings.synchronous
    write_conn = await open_connection(
        path,
        busy_timeout_ms=timeout,
        synchronous=synchronous,
        wal_autocheckpoint=settings.wal_autocheckpoint,
    )
    readers: list[aiosqlite.Connection] = []
    try:
        before, after = await migrate(write_conn)
        if before != after:
            log.info("database %s migrated from schema %d to %d", path, before, after)
        for _ in range(settings.read_connections):
            readers.append(
                await open_connection(
                    path, busy_timeout_ms=timeout, synchronous=synchronous, readonly=True
                )
            )
    except BaseException:
        for conn in readers:
            await conn.close()
        await write_conn.close()
        raise
    writer = Writer(
        write_conn,
        batch_max=settings.batch_max,
        batch_delay_s=settings.batch_delay_ms / 1000,
        queue_max=settings.queue_max,
        on_commit=on_commit,
    )
    writer.start()
    database = Database(path, writer, ReaderPool(readers), write_conn)
    database.schema_version = after
    return database


@asynccontextmanager
async def database_context(
    settings: Settings, on_commit: BatchObserver | None = None
) -> AsyncIterator[Database]:
    database = await open_database(settings, on_commit)
    try:
        yield database
    finally:
        await database.close()
