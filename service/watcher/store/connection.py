"""Opening SQLite connections with the pragmas every connection needs."""

from __future__ import annotations

from pathlib import Path

import aiosqlite


async def open_connection(
    path: Path,
    *,
    busy_timeout_ms: int,
    synchronous: str,
    readonly: bool = False,
    wal_autocheckpoint: int = 1000,
) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a batch is exactly one transaction.
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not readonly:
            # WAL lets readers run beside the writer; NORMAL is durable across process crashes
            # in WAL mode (only an OS crash or power loss can drop the very last commits).
            await conn.execute("PRAGMA journal_mode = WAL")
            # Only a committing connection checkpoints. Under Litestream this is 0: it copies
            # the WAL before checkpointing it itself, and a checkpoint of ours in between could
            # make it miss frames (it then starts over from a full snapshot).
            await conn.execute(f"PRAGMA wal_autocheckpoint = {int(wal_autocheckpoint)}")
        await conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if readonly:
            await conn.execute("PRAGMA query_only = ON")
    except BaseException:
        await conn.close()
        raise
    return conn
