"""Collector writes: snapshots (filemon), build and run logs (procmon, the Jupyter hook)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from watcher.api import params
from watcher.api.state import DATABASE
from watcher.content.blobs import pack
from watcher.docs import docs, request_schema, response_schema
from watcher.http.responses import constant_json
from watcher.names import MAX_FILE_BYTES
from watcher.schemas import BuildLogIn, MessageOut, RunLogIn, SnapshotIn, ValidationErrorOut
from watcher.store.writer import BuildLogRow, RunLogRow, SnapshotRow
from watcher.timefmt import store_log_time

SNAPSHOT_REGISTERED = constant_json({"message": "Snapshot registered successfully"})
_ERRORS = {422: {"schema": ValidationErrorOut, "description": "Invalid path or body"}}


@docs(tags=["ingest"], summary="Register a code snapshot (filemon)", responses=_ERRORS)
@request_schema(SnapshotIn)
@response_schema(MessageOut, 200)
async def post_snapshot(request: web.Request) -> web.Response:
    errors = params.Errors()
    scope = params.scope(request, errors)
    student_id = params.student_id(request, errors)
    filename = params.filename(request, errors)
    timestamp = params.snapshot_timestamp(request.match_info["timestamp"], errors)
    body = await params.json_object(request)
    size = params.body_int(body, "bytes", errors, minimum=0, maximum=MAX_FILE_BYTES)
    content = _posted_content(body, size, errors)
    errors.raise_if_any()
    assert student_id is not None and timestamp is not None and size is not None
    row = SnapshotRow(scope.class_div, scope.hw_name, student_id, filename, timestamp, size)
    blob = pack(content) if content is not None else None
    await request.app[DATABASE].writer.submit("snapshot", row, blob)
    return SNAPSHOT_REGISTERED()


def _posted_content(
    body: Mapping[str, Any], size: int | None, errors: params.Errors
) -> bytes | None:
    """The optional `content_b64` (issue 9): the file's bytes in standard base64, exactly `bytes`
    long. Absent or null means a legacy body: the snapshot is stored without content."""
    raw = body.get("content_b64")
    if raw is None:
        return None
    loc: list[str | int] = ["body", "content_b64"]
    if not isinstance(raw, str):
        errors.add("string_type", loc, "Input should be a valid base64 string", raw)
        return None
    try:
        content = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        errors.add("base64_decode", loc, f"Input should be valid base64: {exc}", raw[:64])
        return None
    if size is not None and len(content) != size:
        msg = f"Decoded content has {len(content)} bytes but bytes is {size}"
        errors.add("content_length", loc, msg, raw[:64], {"bytes": size})
        return None
    return content


async def noop_snapshot(request: web.Request) -> web.Response:
    """The benchmark's reference: an ingest request parsed the same way, with no database write."""
    errors = params.Errors()
    params.scope(request, errors)
    params.student_id(request, errors)
    params.filename(request, errors)
    params.snapshot_timestamp(request.match_info["timestamp"], errors)
    params.body_int(
        await params.json_object(request), "bytes", errors, minimum=0, maximum=MAX_FILE_BYTES
    )
    errors.raise_if_any()
    return SNAPSHOT_REGISTERED()


# Per log kind: the body's text fields in the collectors' (and pydantic's error) order, and the
# row the writer inserts (store/writer.py): the path's fields, then every body field by name.
_LOG_TEXTS = {
    "buildlog": ("cmdline", "cwd", "binary_path", "target_path"),
    "runlog": ("cmdline", "cwd", "target_path", "process_type"),
}
_LOG_ROWS: dict[str, type[BuildLogRow | RunLogRow]] = {"buildlog": BuildLogRow, "runlog": RunLogRow}
_LOG_REGISTERED = {
    "buildlog": constant_json({"message": "Build log registered successfully"}),
    "runlog": constant_json({"message": "Run log registered successfully"}),
}


async def _post_log(request: web.Request, table: str) -> web.Response:
    errors = params.Errors()
    scope = params.scope(request, errors)
    student_id = params.student_id(request, errors)
    body = await params.json_object(request)
    fields = _log_fields(body, errors, _LOG_TEXTS[table])
    errors.raise_if_any()
    assert student_id is not None
    row = _LOG_ROWS[table](
        class_div=scope.class_div, hw_name=scope.hw_name, student_id=student_id, **fields
    )
    await request.app[DATABASE].writer.submit(table, row)
    return _LOG_REGISTERED[table]()


@docs(tags=["ingest"], summary="Register a compiler run (procmon)", responses=_ERRORS)
@request_schema(BuildLogIn)
@response_schema(MessageOut, 200)
async def post_build_log(request: web.Request) -> web.Response:
    return await _post_log(request, "buildlog")


@docs(tags=["ingest"], summary="Register a program run (procmon, Jupyter hook)", responses=_ERRORS)
@request_schema(RunLogIn)
@response_schema(MessageOut, 200)
async def post_run_log(request: web.Request) -> web.Response:
    return await _post_log(request, "runlog")


def _log_fields(
    body: Mapping[str, Any], errors: params.Errors, text_fields: tuple[str, ...]
) -> dict[str, Any]:
    """The body's fields of a log row (valid when `errors` has none), checked in the order
    pydantic would report their errors."""
    fields: dict[str, Any] = {"timestamp": None}
    moment = params.body_datetime(body, "timestamp", errors)
    if moment is not None:
        try:
            fields["timestamp"] = store_log_time(moment)
        except ValueError as exc:
            errors.add("datetime_parsing", ["body", "timestamp"], str(exc), body["timestamp"])
    fields["exit_code"] = params.body_int(body, "exit_code", errors)
    for name in text_fields:
        fields[name] = params.body_str(body, name, errors)
    return fields
