"""The export streams: Python memory during an export does not grow with the number of rows or of
code states (zip members), and the archive reaches the client in many pieces, not as one body
built at the end."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import sqlite3
import tracemalloc
import zipfile
import zlib
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.service.helpers import service_process
from tests.service.test_export import CONTACT as CONTACT_SETTINGS
from tests.service.test_export import checked
from watcher.config import Settings
from watcher.content import ContentReader
from watcher.export.archive import Contact, write_progsnap2
from watcher.store.database import open_database
from watcher.store.export import Selection, export_connection
from watcher.store.writer import INSERTS
from watcher.timefmt import KST

CONTACT = Contact(name="Kim TA", email="ta@example.edu")


@pytest.fixture(autouse=True)
def no_debug_records(caplog):
    """Memory is measured in-process: when an earlier test of the session has left logging at
    DEBUG, pytest would keep every aiosqlite debug record (with its parameters) in memory."""
    caplog.set_level(logging.INFO, logger="aiosqlite")


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(db_path=db_path, **CONTACT_SETTINGS)


EXPORT = "/api/v2/classes/os-1/export/progsnap2"
START = datetime(2025, 3, 10, 9, 0, 0)


def add_builds(db_path: Path, start: int, count: int) -> None:
    """`count` build rows straight into the (migrated) database, one a second in time order:
    ingesting tens of thousands through HTTP would only slow the test down."""
    conn = sqlite3.connect(db_path)
    with conn:
        conn.executemany(
            "INSERT INTO buildlog (class_div, hw_name, student_id, cwd, binary_path, cmdline,"
            " exit_code, target_path, timestamp) VALUES ('os-1', 'hw1', ?, '/w', '/b', 'gcc',"
            " ?, '/t', ?)",
            [
                (202000000 + i % 50, i % 3, str(START + timedelta(seconds=i, microseconds=i % 997)))
                for i in range(start, start + count)
            ],
        )
    conn.close()


def add_saves(db_path: Path, start: int, count: int) -> None:
    """`count` saves with posted content, each its own student's: a code state (a zip member and
    a LinkTables row) per save."""
    conn = sqlite3.connect(db_path)
    with conn:
        for i in range(start, start + count):
            data = f"int main() {{ return {i}; }}\n".encode()
            digest = hashlib.sha256(data).hexdigest()
            row = conn.execute(INSERTS["snapshot"], ("os-1", "hw1", 202000000 + i, "main.c",
                                                     "20250310_150000", len(data)))  # fmt: skip
            conn.execute("INSERT INTO content_blob VALUES (?, ?, 1, ?)",
                         (digest, len(data), zlib.compress(data)))  # fmt: skip
            conn.execute("INSERT INTO snapshot_content VALUES (?, ?)", (row.lastrowid, digest))
    conn.close()


async def export_into(db_path: Path, sink, content: ContentReader | None = None) -> None:
    async with export_connection(db_path, 5000) as conn:
        await write_progsnap2(conn, Selection("os-1"), sink, created=datetime.now(KST),
                              content=content, contact=CONTACT)  # fmt: skip


async def peak_bytes_of_export(
    db_path: Path, content: ContentReader | None = None
) -> tuple[int, int]:
    """(peak traced Python memory, archive bytes) of one export into a sink that keeps nothing;
    the same export is then written to memory and validated."""
    written = 0

    async def sink(data: bytes) -> None:
        nonlocal written
        written += len(data)

    tracemalloc.start()
    try:
        await export_into(db_path, sink, content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    whole = bytearray()

    async def keep(data: bytes) -> None:
        whole.extend(data)

    await export_into(db_path, keep, content)
    checked(bytes(whole))
    return peak, written


async def test_memory_stays_flat_as_the_export_grows(client, db_path):
    add_builds(db_path, 0, 3_000)
    small_peak, small_size = await peak_bytes_of_export(db_path)
    add_builds(db_path, 3_000, 33_000)
    large_peak, large_size = await peak_bytes_of_export(db_path)
    assert large_size > 8 * small_size  # twelve times the rows, compressed
    # The peak is the chunks and buffers, not the data.
    print(f"peak Python memory: {small_peak:,} B for 3,000 rows, {large_peak:,} B for 36,000")
    assert large_peak < 1.5 * small_peak + 256 * 1024, (small_peak, large_peak)


async def test_memory_stays_flat_as_code_states_grow(client, db_path):
    reader = ContentReader(None)
    add_saves(db_path, 0, 300)
    small_peak, small_size = await peak_bytes_of_export(db_path, reader)
    add_saves(db_path, 300, 2_700)
    large_peak, large_size = await peak_bytes_of_export(db_path, reader)
    assert large_size > 7 * small_size
    # What grows is the set of code-state ids already written (about 100 bytes each).
    print(f"peak Python memory: {small_peak:,} B for 300 code states, {large_peak:,} B for 3,000")
    assert large_peak < 1.5 * small_peak + 2_700 * 120 + 256 * 1024, (small_peak, large_peak)


async def test_the_response_arrives_in_pieces(client, db_path):
    add_builds(db_path, 0, 20_000)
    response = await client.get(EXPORT)
    assert response.status == 200
    assert "Content-Length" not in response.headers  # streamed (chunked), not pre-built
    pieces, body = 0, bytearray()
    async for chunk in response.content.iter_any():
        pieces += 1
        body += chunk
    assert pieces > 1
    table = checked(bytes(body)).read("MainTable.csv")
    assert table.count(b"\r\n") == 20_001


async def test_the_zip_writer_switches_to_zip64_past_65535_members():
    from watcher.export.zipstream import ZipStream

    out = bytearray()

    async def sink(data: bytes) -> None:
        out.extend(data)

    archive = ZipStream(sink, datetime(2025, 3, 10, 15, 0, 0))
    for i in range(70_000):
        await archive.add_directory(f"d/{i}/")
    await archive.add("한글/파일.c", b"int main() {}\n" * 1000)
    await archive.close()
    read = zipfile.ZipFile(io.BytesIO(bytes(out)))
    assert read.testzip() is None
    names = read.namelist()
    assert len(names) == 70_001 and names[-1] == "한글/파일.c"
    assert read.read("한글/파일.c") == b"int main() {}\n" * 1000
    assert read.getinfo("d/5/").is_dir()
    assert read.getinfo("한글/파일.c").date_time == (2025, 3, 10, 15, 0, 0)


async def test_a_client_leaving_midway_leaves_a_clean_log(tmp_path):
    """The real server: a client takes a little of an export that runs for seconds and leaves.
    The export stops, its cursors close before its connection does (before, Python finalised
    them later and logged `Connection closed` errors), and the next export is served."""
    db_path = tmp_path / "watcher.db"
    database = await open_database(Settings(db_path=db_path))
    await database.close()
    add_saves(db_path, 0, 3_000)
    add_builds(db_path, 0, 30_000)
    env = {"WATCHER_EXPORT_CONTACT_NAME": "Kim TA", "WATCHER_EXPORT_CONTACT_EMAIL": "t@x.org"}
    async with service_process(db_path, **env) as (_process, base), aiohttp.ClientSession() as s:
        async with s.get(base + EXPORT) as response:
            assert response.status == 200
            await response.content.readexactly(1000)
        # The server notices at its next write; the export is cut and the slot is free again.
        await asyncio.sleep(3)
        async with s.get(base + EXPORT + "?assignment=hw9") as response:
            assert response.status == 200
            checked(await response.read())
    log = await asyncio.to_thread(Path(str(db_path) + ".log").read_text)
    assert '"level": "error"' not in log and "Traceback" not in log, log[-3000:]
