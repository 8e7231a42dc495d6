"""A student's build and run logs, newest first, always fresh (the original cached them 10 min)."""

from __future__ import annotations

from aiohttp import web

from watcher.api import params
from watcher.api.render import json_ok
from watcher.api.state import DATABASE, SETTINGS
from watcher.docs import docs, response_schema
from watcher.schemas import LIMIT_PARAMETER, BuildLogOut, RunLogOut
from watcher.store import queries
from watcher.timefmt import stored_log_time_to_iso


async def _log_list(request: web.Request, table: str, columns: tuple[str, ...]) -> web.Response:
    scope, student_id = params.student_path(request)
    limit = params.query_limit(request, request.app[SETTINGS].list_limit)
    async with request.app[DATABASE].read() as conn:
        rows = await queries.logs(conn, table, scope, student_id, limit)
    items = []
    for row in rows:
        item = dict(zip(columns, row, strict=True))
        item["timestamp"] = stored_log_time_to_iso(item["timestamp"])
        item["file_size"] = 0  # the original disabled this feature but kept the key
        items.append(item)
    return json_ok(items)


@docs(
    tags=["logs"], summary="Compiler runs of a student, newest first", parameters=[LIMIT_PARAMETER]
)
@response_schema(BuildLogOut(many=True), 200)
async def build_logs(request: web.Request) -> web.Response:
    return await _log_list(request, "buildlog", queries.BUILD_COLUMNS)


@docs(
    tags=["logs"], summary="Program runs of a student, newest first", parameters=[LIMIT_PARAMETER]
)
@response_schema(RunLogOut(many=True), 200)
async def run_logs(request: web.Request) -> web.Response:
    return await _log_list(request, "runlog", queries.RUN_COLUMNS)
