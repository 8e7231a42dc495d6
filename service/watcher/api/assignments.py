"""Whole-class analytics of one assignment."""

from __future__ import annotations

from aiohttp import web

from watcher.analytics.churn import churn_by_student
from watcher.analytics.numbers import locate
from watcher.analytics.summary import assignment_summary, average_per_student, percentile_indexes
from watcher.api import params
from watcher.api.state import DATABASE
from watcher.docs import docs, response_schema
from watcher.http.responses import json_response
from watcher.schemas import AssignmentOut, AvgCountOut, ChurnOut, ValidationErrorOut
from watcher.store import queries
from watcher.timefmt import window_bound


@docs(tags=["assignments"], summary="Class size percentiles, averages and the 7 latest students")
@response_schema(AssignmentOut, 200)
async def assignment(request: web.Request) -> web.Response:
    scope = params.scope_of(request)
    async with request.app[DATABASE].read() as conn:
        students = await queries.student_totals(conn, scope)
        positions = percentile_indexes(sum(s.snapshots for s in students)) if students else ()
        # Each position's bucket from the histogram, then one seek inside that bucket.
        buckets = await queries.size_buckets(conn, scope) if positions else []
        sizes = {}
        for index in positions:
            sizes[index] = await queries.size_in_bucket(conn, scope, *locate(buckets, index))
    return json_response(assignment_summary(students, sizes))


@docs(
    tags=["assignments"],
    summary="Per-student churn (sum of |size change|) with start <= time <= end (KST wall clock)",
    responses={422: {"schema": ValidationErrorOut, "description": "start/end not a date-time"}},
)
@response_schema(ChurnOut, 200)
async def total_graph_data(request: web.Request) -> web.Response:
    errors = params.Errors()
    scope = params.scope(request, errors)
    start = params.path_datetime(request, "start", errors)
    end = params.path_datetime(request, "end", errors)
    errors.raise_if_any()
    assert start is not None and end is not None
    async with request.app[DATABASE].read() as conn:
        files = await queries.window_churn(conn, scope, window_bound(start), window_bound(end))
    return json_response({"results": churn_by_student(files)})


async def _average(request: web.Request, table: str) -> web.Response:
    scope = params.scope_of(request)
    async with request.app[DATABASE].read() as conn:
        rows, students = await queries.log_counts(conn, table, scope)
    return json_response(average_per_student(rows, students))


@docs(tags=["assignments"], summary="Builds per student who built at least once")
@response_schema(AvgCountOut, 200)
async def build_avg(request: web.Request) -> web.Response:
    return await _average(request, "buildlog")


@docs(tags=["assignments"], summary="Runs per student who ran at least once")
@response_schema(AvgCountOut, 200)
async def run_avg(request: web.Request) -> web.Response:
    return await _average(request, "runlog")
