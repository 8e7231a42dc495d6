"""The ProgSnap2 archive, written as a stream: the one implementation behind the HTTP route and
`python -m watcher export progsnap2`.

Archive layout (a ProgSnap2 v6 data set at the zip's root):

- `README.txt`: the description, the contact and what the data set holds (progsnap2.readme).
- `DatasetMetadata.csv`: `Property,Value` rows (progsnap2.METADATA).
- `CodeStates/<CodeStateID>/<path>`: every distinct code state, the student's code in one
  assignment as a whole (export/codestates.py); an empty one is an empty directory.
- `LinkTables/CodeState.csv`: each code state's number of files and the files whose content is
  unknown.
- `MainTable.csv`: one row per snapshot, build and run, in time order (progsnap2.COLUMNS).

Two passes over one read transaction. The first walks each student's assignment in time order,
keeps the code as it stands and writes each new code state, remembering every event's CodeStateID
in a TEMP table on disk. The second writes MainTable in the global time order, joined with that map.

Memory stays flat in the size of the export: events are read in chunks and written as they come,
content is read a few versions at a time, maps and the zip's central directory wait on disk. What
grows is the set of code-state ids already written (under 200 bytes per distinct code state), the
pseudonym cache (one entry per student) and one student's current code.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from watcher.config import Settings
from watcher.content import ContentReader, Version
from watcher.export import codestates, progsnap2
from watcher.export.codestates import CodeState, FileState
from watcher.export.csvcells import Writer
from watcher.export.pseudonym import pseudonym, scrub_bytes, scrub_text
from watcher.export.zipstream import Sink, ZipStream
from watcher.store import export as store
from watcher.store.export import BUILD, SNAPSHOT, Baseline, Event, Selection

CONTENT_BATCH = 16  # versions of one file read at once
ROWS_PER_WRITE = 500
DEFAULT_DESCRIPTION = (
    "Programming activity of the students of one class, collected by JCode Watcher: every file"
    " save (filemon), compiler run and program run (procmon), and notebook cell run (Jupyter"
    " hook) in the students' workspaces."
)

# Called with the pass ("code states" or "rows") and the events done so far in it.
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class Contact:
    """Who answers questions about the data set (README.txt)."""

    description: str = DEFAULT_DESCRIPTION
    name: str = ""
    email: str = ""

    @classmethod
    def of(cls, settings: Settings) -> Contact:
        """WATCHER_EXPORT_DESCRIPTION, _CONTACT_NAME and _CONTACT_EMAIL."""
        description = settings.export_description.strip() or DEFAULT_DESCRIPTION
        return cls(description, settings.export_contact_name.strip(), settings.export_contact_email)


class _Subjects:
    """SubjectID, and the student's paths and content as exported: the id, or its pseudonym with
    the id scrubbed from everything the student wrote."""

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

    def _text(self, student_id: int, text: str) -> str:
        return text if self._key is None else scrub_text(text, student_id, self.subject(student_id))

    def section(self, student_id: int, filename: str) -> str:
        """A saved file's CodeStateSection (and its path inside a code state)."""
        return codestates.archive_path(self._text(student_id, progsnap2.section_path(filename)))

    def compiled(self, event: Event) -> str:
        path = progsnap2.compiled_path(event.target_path, event.hw_name)
        return codestates.archive_path(self._text(event.student_id, path))

    def content(self, student_id: int, data: bytes) -> bytes:
        return (
            data if self._key is None else scrub_bytes(data, student_id, self.subject(student_id))
        )


class _Contents:
    """The content of one student's saves, read a few versions of a file at a time."""

    def __init__(self, conn: aiosqlite.Connection, reader: ContentReader | None,
                 selection: Selection, hw_name: str, student_id: int) -> None:  # fmt: skip
        self._conn = conn
        self._reader = reader
        self._selection = selection
        self._hw_name = hw_name
        self._student_id = student_id
        self._versions: dict[str, dict[int, Version]] = {}
        self._wanted: dict[str, list[Version]] = {}
        self._cache: dict[int, bytes | None] = {}

    async def _file(self, filename: str, baseline: int | None = None) -> dict[int, Version]:
        found = self._versions.get(filename)
        if found is None:
            assert self._reader is not None
            versions = await self._reader.versions(
                self._conn, self._selection.class_div, self._hw_name, self._student_id, filename
            )
            found = self._versions[filename] = {v.id: v for v in versions}
            self._wanted[filename] = [
                v for v in versions
                if v.available and not self._reader.too_large(v)
                and (v.id == baseline or store.stamp_in_selection(v.stamp, self._selection))
            ]  # fmt: skip
        return found

    async def of(self, filename: str, row_id: int, baseline: bool = False) -> bytes | None:
        """The content of one save, None when unknown."""
        if self._reader is None:
            return None
        version = (await self._file(filename, row_id if baseline else None)).get(row_id)
        if version is None or not version.available or self._reader.too_large(version):
            return None
        if row_id not in self._cache:
            wanted = self._wanted[filename]
            index = next((i for i, v in enumerate(wanted) if v.id == row_id), None)
            batch = [version] if index is None else wanted[index : index + CONTENT_BATCH]
            self._cache.update(await self._reader.read(self._conn, batch))
        return self._cache.pop(row_id, None)


class _Peekable:
    """An async iterator whose next item can be looked at first."""

    def __init__(self, items: AsyncIterator[Baseline]) -> None:
        self._items = items
        self._head: Baseline | None = None
        self._done = False

    async def take_while(self, key: tuple[str, int]) -> list[Baseline]:
        """The items of group `key`, skipping earlier groups' (the groups come in key order)."""
        taken = []
        while not self._done:
            if self._head is None:
                self._head = await anext(self._items, None)
                if self._head is None:
                    self._done = True
                    break
            head_key = (self._head.hw_name, self._head.student_id)
            if head_key > key:
                break
            if head_key == key:
                taken.append(self._head)
            self._head = None
        return taken


class _CodeStatePass:
    """The first pass: every event's code state, each new one written to the archive."""

    def __init__(self, conn: aiosqlite.Connection, selection: Selection, archive: ZipStream,
                 reader: ContentReader | None, subjects: _Subjects) -> None:  # fmt: skip
        self.conn = conn
        self.selection = selection
        self.archive = archive
        self.reader = reader
        self.subjects = subjects
        self.written: set[str] = set()
        self._pairs: list[tuple[str, int, str]] = []
        self._links: list[tuple[str, int, str]] = []

    async def _file_state(
        self, contents: _Contents, student_id: int, filename: str, row_id: int, baseline: bool
    ) -> FileState:
        data = await contents.of(filename, row_id, baseline)
        if data is None:
            return FileState.unknown(f"{SNAPSHOT}-{row_id}")
        return FileState.known(self.subjects.content(student_id, data))

    async def _start(self, key: tuple[str, int], baselines: list[Baseline]
                     ) -> tuple[CodeState, _Contents]:  # fmt: skip
        student_id = key[1]
        code, contents = CodeState(), _Contents(self.conn, self.reader, self.selection, *key)
        for b in baselines:
            if b.file_size != 0:
                state = await self._file_state(contents, student_id, b.filename, b.row_id, True)
                code.save(self.subjects.section(student_id, b.filename), state)
        return code, contents

    async def _write(self, code: CodeState) -> str:
        """The code state's id, writing it the first time it is seen."""
        state = code.id
        if state in self.written:
            return state
        self.written.add(state)
        files = code.known_files()
        for path, data in files:
            await self.archive.add(codestates.member_name(state, path), data)
        if not files:
            await self.archive.add_directory(codestates.directory_name(state))
        self._links.append(code.link_row())
        return state

    async def _flush(self, force: bool = False) -> None:
        if force or len(self._pairs) >= ROWS_PER_WRITE:
            await store.record_code_states(self.conn, self._pairs)
            await store.record_link_rows(self.conn, self._links)
            self._pairs.clear()
            self._links.clear()

    async def run(self, progress: Progress | None) -> None:
        async with (
            aclosing(store.baselines(self.conn, self.selection)) as baselines,
            aclosing(store.student_events(self.conn, self.selection)) as events,
        ):
            done = await self._walk(_Peekable(baselines), events, progress)
        await self._flush(force=True)
        if progress is not None:
            progress("code states", done)

    async def _walk(
        self, baselines: _Peekable, events: AsyncIterator[Event], progress: Progress | None
    ) -> int:
        """Every event's code state, student after student; returns how many events."""
        key: tuple[str, int] | None = None
        code, contents = CodeState(), _Contents(self.conn, None, self.selection, "", 0)
        done = 0
        async for event in events:
            if (event.hw_name, event.student_id) != key:
                key = (event.hw_name, event.student_id)
                code, contents = await self._start(key, await baselines.take_while(key))
            if event.kind == SNAPSHOT and event.filename is not None:
                section = self.subjects.section(event.student_id, event.filename)
                if event.file_size == 0:
                    code.delete(section)
                else:
                    state = await self._file_state(
                        contents, event.student_id, event.filename, event.row_id, False
                    )
                    code.save(section, state)
            self._pairs.append((event.kind, event.row_id, await self._write(code)))
            await self._flush()
            done += 1
            if progress is not None and done % ROWS_PER_WRITE == 0:
                progress("code states", done)
        return done


async def _content_reader(
    conn: aiosqlite.Connection, reader: ContentReader | None
) -> ContentReader | None:
    """The reader, when any snapshot can have content: posted content stored, or the volume."""
    if reader is None or not await store.has_content_tables(conn):
        return None
    if reader.volume_configured or await store.has_stored_content(conn):
        return reader
    return None


def _csv_bytes(rows: Iterable[Iterable[object]], verbatim: tuple[int, ...] = ()) -> bytes:
    text = io.StringIO()
    Writer(text, verbatim).rows(rows)
    return text.getvalue().encode()


async def _write_link_table(conn: aiosqlite.Connection, archive: ZipStream) -> None:
    archive.open_member(codestates.LINK_TABLE)
    archive.write(_csv_bytes([codestates.LINK_COLUMNS]))
    batch: list[tuple[str, int, str]] = []
    async with aclosing(store.link_rows(conn)) as rows:
        async for row in rows:
            batch.append(row)
            if len(batch) >= ROWS_PER_WRITE:
                archive.write(_csv_bytes(batch))
                batch.clear()
                await archive.drain()
    archive.write(_csv_bytes(batch))
    await archive.close_member()


def _main_table_row(
    event: Event, order: int, subjects: _Subjects, course: tuple[str, str]
) -> progsnap2.MainTableRow:
    section = ""
    if event.kind == SNAPSHOT:
        section = subjects.section(event.student_id, event.filename or "")
    elif event.kind == BUILD:
        section = subjects.compiled(event)
    assert event.code_state_id, f"{event.event_id} has no code state"
    subject = subjects.subject(event.student_id)
    return progsnap2.main_table_row(event, order, subject, course, section, event.code_state_id)


async def _write_main_table(
    conn: aiosqlite.Connection,
    selection: Selection,
    archive: ZipStream,
    subjects: _Subjects,
    progress: Progress | None,
) -> Counter[str]:
    counts: Counter[str] = Counter()
    course = progsnap2.course_ids(selection.class_div)
    archive.open_member("MainTable.csv")
    archive.write(_csv_bytes([progsnap2.COLUMNS]))
    rows: list[progsnap2.MainTableRow] = []
    order = 0
    async with aclosing(store.events(conn, selection)) as events:
        async for event in events:
            order += 1
            row = _main_table_row(event, order, subjects, course)
            counts[row.event_type] += 1
            rows.append(row)
            if order % ROWS_PER_WRITE == 0:
                archive.write(_csv_bytes(rows, progsnap2.VERBATIM))
                rows.clear()
                await archive.drain()
                if progress is not None:
                    progress("rows", order)
    archive.write(_csv_bytes(rows, progsnap2.VERBATIM))
    await archive.close_member()
    if progress is not None:
        progress("rows", order)
    return counts


async def write_progsnap2(
    conn: aiosqlite.Connection,
    selection: Selection,
    sink: Sink,
    *,
    created: datetime,
    key: bytes | None = None,
    content: ContentReader | None = None,
    contact: Contact | None = None,
    progress: Progress | None = None,
) -> Counter[str]:
    """Write the archive of `selection` into `sink`; returns the rows written per EventType.

    `conn` comes from store.export.export_connection (one read transaction). `key` set:
    SubjectIDs are pseudonyms and the student's id is scrubbed from paths and content.
    `content` None, or a database without content tables: every save's content is unknown.
    `progress` is called with the pass and the number of events done in it.
    """
    archive = ZipStream(sink, created)
    try:
        contact = contact or Contact()
        about = progsnap2.About(contact.description, contact.name, contact.email,
                                selection.class_div, selection.hw_name, selection.start,
                                selection.end, created, key is not None)  # fmt: skip
        await archive.add("README.txt", progsnap2.readme(about).encode())
        await archive.add("DatasetMetadata.csv",
                          _csv_bytes([("Property", "Value"), *progsnap2.METADATA]))  # fmt: skip
        subjects = _Subjects(key)
        reader = await _content_reader(conn, content)
        await _CodeStatePass(conn, selection, archive, reader, subjects).run(progress)
        await _write_link_table(conn, archive)
        counts = await _write_main_table(conn, selection, archive, subjects, progress)
        await archive.close()
    except BaseException:
        archive.discard()
        raise
    return counts
