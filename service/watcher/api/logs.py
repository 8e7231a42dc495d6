"""A student's build and run logs, newest first, always fresh (the original cached them 10 min).

A list is bounded twice: by rows (`?limit=`, capped by WATCHER_LIST_LIMIT) and by bytes
(WATCHER_LIST_MAX_BYTES), so a student whose logs hold 8 KiB command lines cannot make one
response (or a few at once) take hundreds of MB. When rows remain, the response carries
`Link: <same path?limit=N&before=CURSOR>; rel="next"`; following it continues the list exactly
where it stopped, with no row repeated or skipped.
"""

from __future__ import annotations

import base64
import binascii
import json

from aiohttp import web

from watcher.api import params, query
from watcher.api.query import Param
from watcher.api.state import DATABASE, SETTINGS
from watcher.docs import docs, response_schema
from watcher.names import INT64_MAX
from watcher.schemas import BuildLogOut, RunLogOut
from watcher.store import queries
from watcher.timefmt import stored_log_time_to_iso

LOG_QUERY = (
    Param("limit", "integer", "Most items to return, newest first (at most WATCHER_LIST_LIMIT)",
          None, 1, INT64_MAX),
    Param("before", "string", "Continue after this position: the cursor of a previous response's"
          ' `Link: <...>; rel="next"` header, sent when rows remain beyond its limit or its'
          " WATCHER_LIST_MAX_BYTES budget."),
)  # fmt: skip


def encode_cursor(timestamp: str, row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{timestamp}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> tuple[str, int]:
    """The (stored timestamp, id) a `?before=` cursor names; ValueError if it names none."""
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor from a Link header") from None
    timestamp, _, row_id = text.rpartition("|")
    if not timestamp or not row_id.isascii() or not row_id.isdigit() or len(row_id) > 19:
        raise ValueError("not a cursor from a Link header")
    return timestamp, int(row_id)


async def _log_list(request: web.Request, table: str) -> web.Response:
    settings = request.app[SETTINGS]
    errors = params.Errors()
    values = query.read(request, LOG_QUERY, errors, strict=False)  # the portal adds its own
    scope = params.scope(request, errors)
    student_id = params.student_id(request, errors)
    before = None
    if values["before"] is not None:
        try:
            before = decode_cursor(values["before"])
        except ValueError as exc:
            errors.add("cursor", ["query", "before"], str(exc), values["before"])
    errors.raise_if_any()
    assert student_id is not None
    limit = min(values["limit"] or settings.list_limit, settings.list_limit)
    budget = settings.list_max_bytes - 2  # the brackets
    parts: list[bytes] = []
    size, last, more = 0, None, False
    async with request.app[DATABASE].read() as conn:
        entries = queries.logs(conn, table, scope, student_id, limit + 1, before)
        async for item, position in entries:
            if len(parts) == limit:
                more = True
                break
            item["timestamp"] = stored_log_time_to_iso(item["timestamp"])
            item["file_size"] = 0  # the original disabled this feature but kept the key
            encoded = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode()
            added = len(encoded) + (1 if parts else 0)
            if parts and size + added > budget:
                more = True
                break
            parts.append(encoded)
            size += added
            last = position
    response = web.Response(body=b"[" + b",".join(parts) + b"]", content_type="application/json")
    if more and last is not None:
        following = {**request.query, "limit": str(limit), "before": encode_cursor(*last)}
        response.headers["Link"] = f'<{request.rel_url.with_query(following)}>; rel="next"'
    return response


@docs(
    tags=["logs"],
    summary="Compiler runs of a student, newest first",
    parameters=query.docs(LOG_QUERY),
)
@response_schema(BuildLogOut(many=True), 200)
async def build_logs(request: web.Request) -> web.Response:
    return await _log_list(request, "buildlog")


@docs(
    tags=["logs"],
    summary="Program runs of a student, newest first",
    parameters=query.docs(LOG_QUERY),
)
@response_schema(RunLogOut(many=True), 200)
async def run_logs(request: web.Request) -> web.Response:
    return await _log_list(request, "runlog")
