"""Snapshot content posted by collectors: compressed blobs de-duplicated by SHA-256, and which
snapshot row holds which blob. The only SQL of the content feature (issue 9)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import aiosqlite

from watcher.records import Scope
from watcher.store.queries import fetch_all


@dataclass(frozen=True)
class ContentBlob:
    """One snapshot's content, ready to store: `data` is `size` bytes, zlib-compressed."""

    hash: str
    size: int
    text: bool
    data: bytes


# Run by the writer right after the snapshot row's INSERT, in the same transaction. The link comes
# first: `last_insert_rowid()` is still the snapshot's id then (content_blob has a rowid of its own,
# and an insert into it would change it).
ATTACH: tuple[str, ...] = (
    "INSERT INTO snapshot_content (snapshot_id, hash) VALUES (last_insert_rowid(), ?)",
    "INSERT OR IGNORE INTO content_blob (hash, size, text, data) VALUES (?, ?, ?, ?)",
)


def attach_params(blob: ContentBlob) -> tuple[tuple[str], tuple[str, int, int, bytes]]:
    """The parameters of the two ATTACH statements."""
    return (blob.hash,), (blob.hash, blob.size, int(blob.text), blob.data)


@dataclass(frozen=True)
class VersionRow:
    """A snapshot row of one file, with its stored content's metadata when there is any."""

    id: int
    timestamp: str  # KST YYYYMMDD_HHMMSS, as stored
    file_size: int
    hash: str | None
    stored_size: int | None
    stored_text: bool | None


async def file_versions(
    conn: aiosqlite.Connection, scope: Scope, student_id: int, filename: str
) -> list[VersionRow]:
    """Every snapshot of one file in time order (ties by id: insertion order). Served by the
    snapshot_by_student index and the two primary keys."""
    rows = await fetch_all(
        conn,
        "SELECT s.id, s.timestamp, s.file_size, c.hash, b.size, b.text FROM snapshot AS s"
        " LEFT JOIN snapshot_content AS c ON c.snapshot_id = s.id"
        " LEFT JOIN content_blob AS b ON b.hash = c.hash"
        " WHERE s.class_div = ? AND s.hw_name = ? AND s.student_id = ? AND s.filename = ?"
        " ORDER BY s.timestamp, s.id",
        (scope.class_div, scope.hw_name, student_id, filename),
    )
    return [
        VersionRow(r[0], r[1], r[2], r[3], r[4], None if r[5] is None else bool(r[5])) for r in rows
    ]


async def blob_data(conn: aiosqlite.Connection, hashes: Iterable[str]) -> dict[str, bytes]:
    """hash -> compressed data, for the given hashes (unknown ones are absent)."""
    wanted = sorted(set(hashes))
    found: dict[str, bytes] = {}
    # Chunks stay far below SQLite's limit on bound parameters.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT hash, data FROM content_blob WHERE hash IN ({marks})"
        for digest, data in await fetch_all(conn, sql, chunk):
            found[digest] = bytes(data)
    return found
