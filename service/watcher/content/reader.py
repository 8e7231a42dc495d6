"""Snapshot content: what each snapshot row of a file contained, from wherever it is kept.

Two sources: content a collector posted with the snapshot (stored in the database) and the filemon
volume (`WATCHER_SNAPSHOT_DIR`). Stored content wins where both exist: it was taken with the row.
"""

from __future__ import annotations

import asyncio
import calendar
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiosqlite

from watcher.config import Settings
from watcher.content.blobs import unpack
from watcher.content.matching import match_snapshots
from watcher.content.volume import SnapshotVolume, VolumeFile
from watcher.records import Scope
from watcher.store import content as store
from watcher.timefmt import parse_compact

_KST_OFFSET_S = int(timedelta(hours=9).total_seconds())

STORED = "stored"
VOLUME = "volume"


@dataclass(frozen=True)
class Version:
    """One snapshot row of a file and where its content is, if anywhere."""

    id: int
    stamp: str  # KST YYYYMMDD_HHMMSS, as stored and as the legacy timeline shows it
    size: int  # the size the collector reported
    source: str | None  # STORED, VOLUME or None (no content known)
    content_size: int | None  # bytes of the content found (None without content)
    text: bool | None  # UTF-8 text? None when not known without reading the content
    hash: str | None = None
    file: VolumeFile | None = None

    @property
    def available(self) -> bool:
        return self.source is not None


def utc_seconds_of_stamp(stamp: str) -> int:
    """A stored KST stamp as Unix seconds (the row's collector UTC time)."""
    return calendar.timegm(parse_compact(stamp).timetuple()) - _KST_OFFSET_S


class ContentReader:
    """Reads snapshot content for the API and the ProgSnap2 export (one per application)."""

    def __init__(
        self, volume: SnapshotVolume | None, *, tolerance_s: int = 3, max_bytes: int = 1 << 20
    ) -> None:
        self.volume = volume
        self.tolerance_s = tolerance_s
        self.max_bytes = max_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> ContentReader:
        root: Path | None = settings.snapshot_dir
        return cls(
            SnapshotVolume(root) if root is not None else None,
            tolerance_s=settings.snapshot_tolerance_s,
            max_bytes=settings.content_max_bytes,
        )

    @property
    def volume_configured(self) -> bool:
        return self.volume is not None

    async def versions(
        self,
        conn: aiosqlite.Connection,
        class_div: str,
        hw_name: str,
        student_id: int,
        filename: str,
    ) -> list[Version]:
        """Every snapshot row of the file in time order, each with where its content is."""
        rows = await store.file_versions(conn, Scope(class_div, hw_name), student_id, filename)
        files: list[VolumeFile] = []
        if self.volume is not None and any(r.hash is None for r in rows):
            files = await asyncio.to_thread(
                self.volume.snapshot_files, class_div, hw_name, student_id, filename
            )
        # Rows with stored content take no file: the file they would claim may be another row's.
        needing = [(r.id, utc_seconds_of_stamp(r.timestamp)) for r in rows if r.hash is None]
        pairs = match_snapshots(
            needing, [(i, f.utc_seconds) for i, f in enumerate(files)], self.tolerance_s
        )
        versions = []
        for r in rows:
            if r.hash is not None:
                size, text = r.stored_size, r.stored_text
                versions.append(Version(r.id, r.timestamp, r.file_size, STORED, size, text, r.hash))
            elif r.id in pairs:
                file = files[pairs[r.id]]
                versions.append(
                    Version(r.id, r.timestamp, r.file_size, VOLUME, file.size, None, file=file)
                )
            else:
                versions.append(Version(r.id, r.timestamp, r.file_size, None, None, None))
        return versions

    def too_large(self, version: Version) -> bool:
        return version.content_size is not None and version.content_size > self.max_bytes

    async def read(
        self, conn: aiosqlite.Connection, versions: list[Version]
    ) -> dict[int, bytes | None]:
        """Version id -> content bytes; None where there is none or it is over the size limit."""
        contents: dict[int, bytes | None] = {v.id: None for v in versions}
        wanted = [v for v in versions if v.available and not self.too_large(v)]
        stored = [v for v in wanted if v.source == STORED]
        if stored:
            blobs = await store.blob_data(conn, (v.hash for v in stored if v.hash))
            for v in stored:
                if v.hash in blobs and v.content_size is not None:
                    contents[v.id] = unpack(blobs[v.hash], v.content_size)
        on_volume = [v for v in wanted if v.source == VOLUME]
        if on_volume:
            contents.update(await asyncio.to_thread(self._read_files, on_volume))
        return contents

    def _read_files(self, versions: list[Version]) -> dict[int, bytes | None]:
        assert self.volume is not None
        return {v.id: self.volume.read(v.file, self.max_bytes) for v in versions if v.file}

    async def file_contents(
        self,
        conn: aiosqlite.Connection,
        class_div: str,
        hw_name: str,
        student_id: int,
        filename: str,
    ) -> dict[int, bytes | None]:
        """Snapshot row id -> its content (stored, else the matched volume file), for every row of
        the file; None where no content is known or it is over WATCHER_CONTENT_MAX_BYTES."""
        versions = await self.versions(conn, class_div, hw_name, student_id, filename)
        return await self.read(conn, versions)
