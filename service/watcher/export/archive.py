"""The ProgSnap2 archive, written as a stream: the one implementation behind the HTTP route and
`python -m watcher export progsnap2`.

Archive layout (a ProgSnap2 data set at the zip's root):

- `DatasetMetadata.csv`: `Property,Value` rows (progsnap2.METADATA).
- `CodeStates/<CodeStateID>/<path>`: when snapshot content is known (posted with the snapshot or on
  the filemon volume). A code state is one saved file as it was: a directory holding that one
  file at its path below the assignment. Its id is a hash of the path and the bytes, so identical
  saves (re-saves, reverts, the same starter file in every student's folder) share one directory.
- `MainTable.csv`: one row per snapshot, build and run, in time order (progsnap2.COLUMNS).

Memory stays flat in the size of the export: events are read in chunks and written as they come,
content is read a few versions at a time, and the snapshot -> code state map waits in a TEMP table
on disk. What grows is the set of code-state ids already written (about 80 bytes per distinct
code state) and the pseudonym cache (one entry per student).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Callable
from datetime import datetime

import aiosqlite

from watcher.content import ContentReader, Version
from watcher.export import progsnap2
from watcher.export.pseudonym import pseudonym, scrub_bytes, scrub_text
from watcher.export.zipstream import Sink, ZipStream
from watcher.store import export as store
from watcher.store.export import Selection

CODE_STATE_HEX_DIGITS = 24
CONTENT_BATCH = 32  # versions read at once: at most this many files' bytes in memory
ROWS_PER_WRITE = 500

Progress = Callable[[int], None]


class _Subjects:
    """SubjectID (and file-name scrubbing) for each student: the id, or its pseudonym."""

    def __init__(self, key: bytes | None) -> None:
        self._key = key
        self._cache: dict[int, str] = {}

    def subject(self, student_id: int) -> str:
        if self._key is None:
            return str(student_id)
        found = self._cache.get(student_id)
        if found is None:
            found = self._cache[student_id] = pseudonym(self._key, student_id)
        return found

    def section(self, student_id: int, filename: str) -> str:
        path = progsnap2.section_path(filename)
        return path if self._key is None else scrub_text(path, student_id, self.subject(student_id))

    def content(self, student_id: int, data: bytes) -> bytes:
        return (
            data if self._key is None else scrub_bytes(data, student_id, self.subject(student_id))
        )


def code_state_id(section: str, data: bytes) -> str:
    """The id of a code state: a hash of its path and its bytes."""
    digest = hashlib.sha256(section.encode() + b"\x00" + data).hexdigest()
    return digest[:CODE_STATE_HEX_DIGITS]


async def _write_code_states(
    conn: aiosqlite.Connection,
    selection: Selection,
    archive: ZipStream,
    reader: ContentReader,
    subjects: _Subjects,
) -> int:
    """Write `CodeStates/` file by file and remember each snapshot's CodeStateID; returns how
    many code states were written."""
    written: set[str] = set()
    # The file list (one short tuple per student file) is read first, so no cursor stays open
    # across the content reads and TEMP-table writes below.
    files = [f async for f in store.snapshot_files(conn, selection)]
    for hw_name, student_id, filename in files:
        versions = await reader.versions(conn, selection.class_div, hw_name, student_id, filename)
        wanted: list[Version] = [
            v for v in versions
            if v.available and v.size > 0 and store.stamp_in_selection(v.stamp, selection)
        ]  # fmt: skip
        section = subjects.section(student_id, filename)
        pairs: list[tuple[int, str]] = []
        for start in range(0, len(wanted), CONTENT_BATCH):
            contents = await reader.read(conn, wanted[start : start + CONTENT_BATCH])
            for row_id, data in contents.items():
                if data is None:
                    continue
                data = subjects.content(student_id, data)
                state = code_state_id(section, data)
                pairs.append((row_id, state))
                if state not in written:
                    written.add(state)
                    await archive.add(progsnap2.code_state_path(state, section), data)
        if pairs:
            await store.record_code_states(conn, pairs)
    return len(written)


async def _content_known(conn: aiosqlite.Connection, reader: ContentReader) -> bool:
    """Whether any snapshot can have content: posted content stored, or the volume configured."""
    if not await store.has_content_tables(conn):
        return False
    return reader.volume_configured or await store.has_stored_content(conn)


async def write_progsnap2(
    conn: aiosqlite.Connection,
    selection: Selection,
    sink: Sink,
    *,
    created: datetime,
    key: bytes | None = None,
    content: ContentReader | None = None,
    progress: Progress | None = None,
) -> Counter[str]:
    """Write the archive of `selection` into `sink`; returns the rows written per EventType.

    `conn` comes from store.export.export_connection (one read transaction). `key` set:
    SubjectIDs are pseudonyms and the student's id is scrubbed from paths and content.
    `content` None, or a database without content tables: no CodeStates, empty CodeStateIDs.
    `progress` is called with the number of MainTable rows written so far.
    """
    archive = ZipStream(sink, created)
    subjects = _Subjects(key)
    course = progsnap2.course_ids(selection.class_div)
    metadata = io.StringIO()
    csv.writer(metadata, lineterminator="\n").writerows(
        [("Property", "Value"), *progsnap2.METADATA]
    )
    await archive.add("DatasetMetadata.csv", metadata.getvalue().encode())

    if content is not None and await _content_known(conn, content):
        await _write_code_states(conn, selection, archive, content, subjects)

    counts: Counter[str] = Counter()
    archive.open_member("MainTable.csv", large=True)
    text = io.StringIO()
    table = csv.writer(text, lineterminator="\n")
    table.writerow(progsnap2.COLUMNS)
    order = 0
    async for event in store.events(conn, selection):
        order += 1
        section = None
        if event.kind == store.SNAPSHOT and event.filename is not None:
            section = subjects.section(event.student_id, event.filename)
        row = progsnap2.main_table_row(
            event, order, subjects.subject(event.student_id), course, section
        )
        counts[row[0]] += 1
        table.writerow(row)
        if order % ROWS_PER_WRITE == 0:
            archive.write(text.getvalue().encode())
            text.seek(0)
            text.truncate()
            await archive.drain()
            if progress is not None:
                progress(order)
    archive.write(text.getvalue().encode())
    await archive.close_member()
    if progress is not None:
        progress(order)
    await archive.close()
    return counts
