"""Per-student analytics: snapshot statistics and the code-size graph."""

from __future__ import annotations

from aiohttp import web

from watcher.analytics.activity import assignment_activity, file_snapshot_stats
from watcher.analytics.trends import trends_from_buckets
from watcher.api import params
from watcher.api.state import DATABASE
from watcher.docs import docs, response_schema
from watcher.http.responses import json_response
from watcher.schemas import DetailOut, GraphOut, MonitoringOut, SnapshotAvgOut
from watcher.store import queries


@docs(tags=["students"], summary="Snapshot count and mean size of one file")
@response_schema(SnapshotAvgOut, 200)
async def file_snapshot_avg(request: web.Request) -> web.Response:
    scope, student_id, filename = params.student_file_path(request)
    async with request.app[DATABASE].read() as conn:
        count, total = await queries.file_size_totals(conn, scope, student_id, filename)
    return json_response(file_snapshot_stats(count, total))


@docs(tags=["students"], summary="A student's activity in an assignment, over all files")
@response_schema(MonitoringOut, 200)
async def assignment_snapshot_avg(request: web.Request) -> web.Response:
    scope, student_id = params.student_path(request)
    async with request.app[DATABASE].read() as conn:
        snapshots = await queries.student_snapshots(conn, scope, student_id)
    return json_response(assignment_activity(snapshots))


@docs(
    tags=["students"],
    summary="Total code size over time, in buckets of {interval} minutes from the first snapshot",
    responses={400: {"schema": DetailOut, "description": "interval <= 0"}},
)
@response_schema(GraphOut, 200)
async def graph_data(request: web.Request) -> web.Response:
    scope, student_id = params.student_path(request)
    interval = params.positive_interval(request)
    async with request.app[DATABASE].read() as conn:
        first, buckets = await queries.code_size_buckets(conn, scope, student_id, interval)
    trends = trends_from_buckets(first, interval, buckets) if first else []
    return json_response({"trends": trends})
