"""The portal's file picker and snapshot timeline."""

from __future__ import annotations

from aiohttp import web

from watcher.api import params
from watcher.api.state import DATABASE
from watcher.docs import docs, string_list
from watcher.http.responses import json_response
from watcher.store import queries


@docs(
    tags=["selection"],
    summary="Files with at least one snapshot, sorted by name",
    responses=string_list("file names, nested paths joined with @"),
)
async def list_files(request: web.Request) -> web.Response:
    scope, student_id = params.student_path(request)
    async with request.app[DATABASE].read() as conn:
        names = await queries.filenames(conn, scope, student_id)
    return json_response(names)


@docs(
    tags=["selection"],
    summary="Snapshot times of one file, oldest first",
    responses=string_list("KST YYYYMMDD_HHMMSS, one per snapshot"),
)
async def list_file_timestamps(request: web.Request) -> web.Response:
    scope, student_id, filename = params.student_file_path(request)
    async with request.app[DATABASE].read() as conn:
        stamps = await queries.file_timestamps(conn, scope, student_id, filename)
    return json_response(stamps)
