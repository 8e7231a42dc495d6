"""Issue 19, item 4: clients that request a ProgSnap2 export and do not read it.

Before: every such client kept an export running (a connection, a thread, a read transaction that
stopped SQLite from resetting the WAL) for as long as it stayed connected, without limit. Now at
most WATCHER_EXPORT_MAX_CONCURRENT exports run, the archive is written to a spool file at full speed
so the read transaction ends when the archive is written, and a client that takes in nothing for
WATCHER_EXPORT_STALL_TIMEOUT_S is disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import sqlite3
import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.service.test_export import CONTACT, EXPORT, checked
from watcher.app import create_app
from watcher.config import Settings
from watcher.store.writer import INSERTS

STUDENTS = 320
CONTENT_BYTES = 32 * 1024  # random, so the archive is about 10 MB: far beyond socket buffers


def seed_large_export(db_path: Path) -> None:
    """One save per student, each with incompressible posted content."""
    conn = sqlite3.connect(db_path)
    with conn:
        for i in range(STUDENTS):
            data = os.urandom(CONTENT_BYTES)
            digest = hashlib.sha256(data).hexdigest()
            cursor = conn.execute(
                INSERTS["snapshot"],
                ("os-1", "hw1", 202000000 + i, "big.c", "20250310_150000", len(data)),
            )
            conn.execute(
                "INSERT INTO content_blob (hash, size, text, data) VALUES (?, ?, 0, ?)",
                (digest, len(data), zlib.compress(data)),
            )
            conn.execute(
                "INSERT INTO snapshot_content (snapshot_id, hash) VALUES (?, ?)",
                (cursor.lastrowid, digest),
            )
    conn.close()


@contextlib.asynccontextmanager
async def stalled_export(client: TestClient) -> AsyncIterator[socket.socket]:
    """A client that sends the export request and then reads nothing (a tiny receive buffer, so
    the kernel cannot take the archive in on its behalf)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (client.host, client.port))
    await loop.sock_sendall(sock, f"GET {EXPORT} HTTP/1.1\r\nHost: test\r\n\r\n".encode())
    try:
        yield sock
    finally:
        sock.close()


def checkpoint(db_path: Path) -> tuple[int, int, int]:
    """(busy, WAL frames, frames checkpointed) of a TRUNCATE checkpoint: busy is 1 while any
    connection holds a read transaction on the WAL."""
    conn = sqlite3.connect(db_path, timeout=0.5)
    try:
        return conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 20.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.2)
    return False


@pytest.fixture(autouse=True)
def no_debug_records(caplog):
    """Memory is measured in-process: when an earlier test of the session has left logging at
    DEBUG, pytest would keep every aiosqlite debug record (with its parameters) in memory."""
    caplog.set_level(logging.INFO, logger="aiosqlite")


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(db_path=db_path, export_max_concurrent=2, **CONTACT)


async def test_stalled_clients_are_bounded_and_hold_no_transaction(client, db_path):
    seed_large_export(db_path)
    threads = threading.active_count()
    tracemalloc.start()
    try:
        async with stalled_export(client), stalled_export(client):
            await asyncio.sleep(0.5)  # both exports started
            # Beyond the limit: refused at once, with a hint when to retry.
            response = await client.get(EXPORT)
            assert response.status == 503
            assert response.headers["Retry-After"] == "10"
            assert "WATCHER_EXPORT_MAX_CONCURRENT" in (await response.json())["detail"]
            # The archives are written (to their spool files) although nobody reads them: their
            # connections and threads are gone, and nothing holds the WAL.
            assert await eventually(lambda: _now(threading.active_count() <= threads))
            post = await client.post(
                "/api/os-1/hw1/202012345/a.c/20250310_060000", json={"bytes": 1}
            )
            assert post.status == 200
            assert await eventually(lambda: _now(checkpoint(db_path)[0] == 0))
            current, _peak = tracemalloc.get_traced_memory()
            assert current < 4 * 1024 * 1024, current  # the 20 MB wait on disk
    finally:
        tracemalloc.stop()


async def test_a_client_that_reads_nothing_is_cut_and_frees_its_slot(aiohttp_client, db_path):
    client = await aiohttp_client(
        create_app(
            Settings(db_path=db_path, export_max_concurrent=1, export_stall_timeout_s=1, **CONTACT)
        )
    )
    seed_large_export(db_path)
    async with stalled_export(client) as sock:
        await asyncio.sleep(0.3)
        assert (await client.get(EXPORT)).status == 503  # the stalled one holds the only slot
        # After the stall timeout the server gives up on it and the next export is served.
        assert await eventually(lambda: _export_succeeds(client), within_s=30)
        with contextlib.suppress(OSError):
            sock.setblocking(True)
            sock.settimeout(5)
            while sock.recv(65536):  # what was in flight, then the end: the server hung up
                pass


async def _now(value: bool) -> bool:
    return value


async def _export_succeeds(client: TestClient) -> bool:
    response = await client.get(EXPORT)
    body = await response.read()
    if response.status == 200:
        checked(body)
    return response.status == 200
