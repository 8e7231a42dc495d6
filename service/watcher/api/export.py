"""`GET /api/v2/classes/{class_div}/export/progsnap2`: a class's history as a ProgSnap2 zip.

The export writes into a spool file (export/spool.py) at full speed while the response sends what
is there at the client's pace: the database's read transaction ends when the archive is written,
however slowly the client reads, and a client that reads nothing for WATCHER_EXPORT_STALL_TIMEOUT_S
is disconnected. At most WATCHER_EXPORT_MAX_CONCURRENT exports (each one connection, one thread,
one spool file) run at once; beyond that the route answers 503 with Retry-After at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from aiohttp import web

from watcher.api import params, query
from watcher.api.query import Param
from watcher.api.state import CONTENT, DATABASE, EXPORT_SLOTS, SETTINGS
from watcher.docs import docs
from watcher.export import selection
from watcher.export.archive import Contact, write_progsnap2
from watcher.export.spool import Spool, SpoolFailed
from watcher.names import HW_NAME
from watcher.schemas import DetailOut, ValidationErrorOut
from watcher.store.export import Selection, export_connection
from watcher.timefmt import KST

log = logging.getLogger(__name__)

# An export takes seconds to minutes: a client told to come back sooner would only be refused again.
RETRY_AFTER_S = "10"

EXPORT_QUERY = (
    Param("assignment", "string", "Only this assignment (e.g. hw1); absent: every assignment of"
          " the class.", pattern=HW_NAME),
    Param("from", "date-time", "Events at or after this time; ISO 8601, offsets honoured, none ="
          " KST."),
    Param("to", "date-time", "Events before this time (exclusive); ISO 8601, none = KST."),
    Param("pseudonymize", "boolean", "SubjectID as an HMAC-SHA256 pseudonym (needs"
          " WATCHER_EXPORT_KEY).", False),
)  # fmt: skip


def selection_of(request: web.Request) -> tuple[Selection, bytes | None]:
    """The export's selection and pseudonymisation key, or a 422 naming every bad parameter:
    the rules of export/selection.py, which the command line shares."""
    errors = params.Errors()
    params.refuse_unknown_query(request, tuple(p.name for p in EXPORT_QUERY), errors)
    pseudonymize = params.query_bool(request, "pseudonymize", False, errors)
    try:
        chosen = selection.check(
            request.match_info["class_div"],
            request.query.get("assignment"),
            request.query.get("from"),
            request.query.get("to"),
            pseudonymize,
            request.app[SETTINGS].export_key,
        )
    except selection.SelectionError as exc:
        for p in exc.problems:
            where = "path" if p.field == "class_div" else "query"
            errors.add(p.kind, [where, p.field], p.message, p.value)
    errors.raise_if_any()
    return chosen


def archive_name(selection: Selection) -> str:
    """`progsnap2-os-1-hw1.zip`; names are pattern-checked, so safe in a header."""
    parts = ["progsnap2", selection.class_div]
    if selection.hw_name:
        parts.append(selection.hw_name)
    return "-".join(parts) + ".zip"


@docs(
    tags=["export"],
    summary="A ProgSnap2 v6 data set (zip) of the class's saves, builds and runs",
    description="README.txt, DatasetMetadata.csv, MainTable.csv, CodeStates/ (the students' code"
    " as a whole at each event) and LinkTables/CodeState.csv. Streamed: the archive is sent while"
    " it is written. Window: from <= time < to. At most WATCHER_EXPORT_MAX_CONCURRENT exports run"
    " at once; beyond that 503 with Retry-After.",
    parameters=query.docs(EXPORT_QUERY),
    produces=["application/zip", "application/json"],
    responses={
        200: {"description": "the zip archive (application/zip attachment)"},
        422: {"schema": ValidationErrorOut, "description": "a parameter is invalid"},
        503: {"schema": DetailOut, "description": "as many exports as allowed are running"},
    },
)
async def progsnap2(request: web.Request) -> web.StreamResponse:
    selection, key = selection_of(request)
    slots = request.app[EXPORT_SLOTS]
    if slots.locked():
        # Checked and taken with no await in between: no other request can slip in.
        raise web.HTTPServiceUnavailable(
            headers={"Retry-After": RETRY_AFTER_S},
            text=f"every export slot is in use ({request.app[SETTINGS].export_max_concurrent},"
            " WATCHER_EXPORT_MAX_CONCURRENT); retry later",
        )
    async with slots:
        return await _serve(request, selection, key)


async def _produce(request: web.Request, selection: Selection, key: bytes | None,
                   spool: Spool) -> None:  # fmt: skip
    """Write the whole archive into the spool inside one read transaction, at full speed."""
    settings = request.app[SETTINGS]
    try:
        async with export_connection(request.app[DATABASE].path, settings.busy_timeout_ms) as conn:
            await write_progsnap2(
                conn,
                selection,
                spool.write,
                created=datetime.now(KST),
                key=key,
                content=request.app.get(CONTENT),
                contact=Contact.of(settings),
            )
    except BaseException:
        spool.fail()
        raise
    spool.finish()


async def _serve(request: web.Request, selection: Selection, key: bytes | None
                 ) -> web.StreamResponse:  # fmt: skip
    settings = request.app[SETTINGS]
    spool = Spool(request.app[DATABASE].path.parent)
    producer = asyncio.create_task(_produce(request, selection, key, spool))
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="{archive_name(selection)}"',
        }
    )
    try:
        chunks = spool.chunks()
        try:
            first = await anext(chunks)  # an export that fails at once is a plain 500
        except SpoolFailed:
            await producer  # raises the export's error
            raise
        await response.prepare(request)
        await _send(response, first, settings.export_stall_timeout_s)
        async for chunk in chunks:
            await _send(response, chunk, settings.export_stall_timeout_s)
        await response.write_eof()
    except (ConnectionError, TimeoutError) as exc:
        why = "stopped reading" if isinstance(exc, TimeoutError) else "went away"
        log.info("export of %s abandoned: the client %s", selection.class_div, why)
        _cut(request)
    except SpoolFailed:
        # The 200 and part of the zip are gone: a JSON error cannot follow. Cutting the
        # connection makes the client see a failed transfer, never a complete-looking file.
        _cut(request)
        await producer  # raises the export's error for the error middleware to log
    finally:
        producer.cancel()
        with contextlib.suppress(BaseException):
            await producer
        spool.close()
    return response


async def _send(response: web.StreamResponse, chunk: bytes, stall_timeout_s: float) -> None:
    """One piece to the client; TimeoutError when it takes in nothing for the stall timeout."""
    async with asyncio.timeout(stall_timeout_s):
        await response.write(chunk)


def _cut(request: web.Request) -> None:
    """Drop the connection at once: a stalled client would never take what is still buffered."""
    if request.transport is not None:
        request.transport.abort()
