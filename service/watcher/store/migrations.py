"""Bringing a database to the current schema: the numbered migrations of store/schema/, each in
its own transaction, tracked in `PRAGMA user_version`.

Version 0 is an empty file *or* a database written by the original backend: migration 1 creates the
original's tables only if missing, so pointing the service at an existing `database.db` adopts it
in place, rows and all.
"""

from __future__ import annotations

import aiosqlite

from watcher.store.schema import LATEST_VERSION, MIGRATIONS

__all__ = ["LATEST_VERSION", "SchemaTooNewError", "migrate", "schema_version"]


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer release; refuse rather than corrupt it."""


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection) -> tuple[int, int]:
    """Apply every pending migration, each in its own transaction. Returns (from, to)."""
    start = await schema_version(conn)
    if start > LATEST_VERSION:
        raise SchemaTooNewError(
            f"database schema version {start} is newer than this release's {LATEST_VERSION}"
        )
    for version in range(start + 1, LATEST_VERSION + 1):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[version - 1]:
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {version}")
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
    return start, LATEST_VERSION
