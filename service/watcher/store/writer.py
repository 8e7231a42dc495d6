"""The single writer: concurrent writes are grouped into one transaction (group commit).

Every POST hands its row to `Writer.submit` and waits. The writer takes everything queued (up to
`batch_max`), inserts it in one transaction, commits, and only then answers each waiting request, so
a 200 always means the row is on disk. While one batch commits the next one fills up, which is where
the speed comes from: one fsync serves hundreds of requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import aiosqlite

from watcher.store.content import ATTACH, ContentBlob, attach_params
from watcher.store.sqltime import compact_seconds, log_seconds

log = logging.getLogger(__name__)


# The rows the writer inserts: each field is a column of its table, in the INSERT's order.
# Tuples, so they bind to the statement as they are.
class SnapshotRow(NamedTuple):
    class_div: str
    hw_name: str
    student_id: int
    filename: str
    timestamp: str  # KST YYYYMMDD_HHMMSS
    file_size: int


class BuildLogRow(NamedTuple):
    class_div: str
    hw_name: str
    student_id: int
    cwd: str
    binary_path: str
    cmdline: str
    exit_code: int
    target_path: str
    timestamp: str  # stored log time, YYYY-MM-DD HH:MM:SS.ffffff


class RunLogRow(NamedTuple):
    class_div: str
    hw_name: str
    student_id: int
    cmdline: str
    exit_code: int
    cwd: str
    target_path: str
    process_type: str
    timestamp: str  # stored log time, YYYY-MM-DD HH:MM:SS.ffffff


Row = SnapshotRow | BuildLogRow | RunLogRow


def _insert(table: str, row: type[Row], seconds_of: Callable[[str], str]) -> str:
    """The INSERT of a row type's fields. Each row also gets `at`, its time in seconds, computed
    once here: the aggregate triggers read it several times, and SQLite's date parsing is the
    costliest thing they would otherwise repeat."""
    marks = [f"?{n}" for n in range(1, len(row._fields) + 1)]
    at = seconds_of(marks[row._fields.index("timestamp")])
    return f"INSERT INTO {table} ({', '.join(row._fields)}, at) VALUES ({', '.join(marks)}, {at})"


INSERTS: Mapping[str, str] = {
    "snapshot": _insert("snapshot", SnapshotRow, compact_seconds),
    "buildlog": _insert("buildlog", BuildLogRow, log_seconds),
    "runlog": _insert("runlog", RunLogRow, log_seconds),
}


class WriterBusyError(Exception):
    """The queue is full: the caller should answer 503 and let the client retry."""


class WriterClosedError(Exception):
    """The writer is shutting down and takes no more writes."""


@dataclass(frozen=True)
class _Pending:
    table: str
    values: Row
    done: asyncio.Future[None]
    content: ContentBlob | None = None


BatchObserver = Callable[[Mapping[str, int]], None]


class Writer:
    def __init__(
        self,
        conn: aiosqlite.Connection,
        *,
        batch_max: int,
        batch_delay_s: float,
        queue_max: int,
        on_commit: BatchObserver | None = None,
    ) -> None:
        self._conn = conn
        self._batch_max = batch_max
        self._batch_delay_s = batch_delay_s
        self._queue_max = queue_max
        self._on_commit = on_commit
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._accepting = False

    @property
    def running(self) -> bool:
        return self._accepting and self._task is not None and not self._task.done()

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def start(self) -> None:
        self._accepting = True
        self._task = asyncio.create_task(self._run(), name="watcher-writer")

    async def submit(self, table: str, values: Row, content: ContentBlob | None = None) -> None:
        """Queue one row and return once the transaction holding it has committed.

        `content` (snapshots only) is stored in the same transaction as the row, so an
        acknowledged snapshot never lacks the content it was posted with.
        """
        if table not in INSERTS:
            raise KeyError(table)
        if content is not None and table != "snapshot":
            raise ValueError("only snapshots carry content")
        if not self.running:
            raise WriterClosedError("the writer is not running")
        if self._queue.qsize() >= self._queue_max:
            raise WriterBusyError(f"{self._queue_max} writes are already waiting")
        done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(table, values, done, content))
        await done

    async def close(self) -> None:
        """Stop taking writes, commit everything already queued, then stop."""
        if self._task is None:
            return
        self._accepting = False
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            if self._batch_delay_s:
                await asyncio.sleep(self._batch_delay_s)
            batch = [first]
            while len(batch) < self._batch_max and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending]) -> None:
        rows: dict[str, list[Row]] = defaultdict(list)
        items: dict[str, list[_Pending]] = defaultdict(list)
        for item in batch:
            rows[item.table].append(item.values)
            items[item.table].append(item)
        try:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                for table, pending in items.items():
                    await self._insert(table, pending)
                await self._conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    await self._conn.execute("ROLLBACK")
                raise
        except Exception as exc:
            log.exception("write batch of %d failed", len(batch))
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(exc)
            return
        for item in batch:
            if not item.done.done():
                item.done.set_result(None)
        if self._on_commit is not None:
            self._on_commit({table: len(values) for table, values in rows.items()})

    async def _insert(self, table: str, pending: list[_Pending]) -> None:
        """Insert rows in arrival order: plain runs with one executemany, a row with content on its
        own, followed by its content statements (they refer to the row by last_insert_rowid())."""
        run: list[Row] = []
        for item in pending:
            if item.content is None:
                run.append(item.values)
                continue
            if run:
                await self._conn.executemany(INSERTS[table], run)
                run = []
            await self._conn.execute(INSERTS[table], item.values)
            for sql, params in zip(ATTACH, attach_params(item.content), strict=True):
                await self._conn.execute(sql, params)
        if run:
            await self._conn.executemany(INSERTS[table], run)
