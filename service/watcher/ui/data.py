"""The two data routes the pages need beyond the v2 and legacy API: which classes this instance
holds, and the class's code-size distribution over time. Both are under /api/, so the read
token guards them as every other read."""

from __future__ import annotations

from aiohttp import web
from marshmallow import Schema, fields

from watcher.analytics.distribution import moments, quartiles_over_time
from watcher.api import params, query
from watcher.api.query import Param, window_seconds
from watcher.api.state import DATABASE
from watcher.docs import docs, response_schema
from watcher.http.responses import json_response
from watcher.schemas import ValidationErrorOut
from watcher.store import classview
from watcher.timefmt import COMPACT, format_time, wall_seconds_to_iso
from watcher.timefmt import wall_seconds_to_naive as naive

DEFAULT_POINTS = 60
MAX_POINTS = 200
CODE_SIZE_QUERY = (
    Param("from", "date-time", "Start (ISO 8601; a naive time is KST); default: first activity"),
    Param("to", "date-time", "End (ISO 8601; a naive time is KST); default: last activity"),
    Param("points", "integer", "Moments from `from` to `to`, both included", DEFAULT_POINTS, 2,
          MAX_POINTS),
)  # fmt: skip


class ClassOut(Schema):
    class_div = fields.String(required=True)
    assignments = fields.Integer(required=True)
    students = fields.Integer(required=True)
    first_activity = fields.String(required=True)
    last_activity = fields.String(required=True)


class ClassesOut(Schema):
    classes = fields.List(fields.Nested(ClassOut), required=True)


class SizePointOut(Schema):
    time = fields.String(required=True)
    p25 = fields.Float(required=True)
    median = fields.Float(required=True)
    p75 = fields.Float(required=True)
    started = fields.Integer(required=True)


class CodeSizeOut(Schema):
    class_div = fields.String(required=True)
    hw_name = fields.String(required=True)
    from_ = fields.String(data_key="from", allow_none=True, required=True)
    to = fields.String(allow_none=True, required=True)
    students = fields.Integer(required=True)
    points = fields.List(fields.Nested(SizePointOut), required=True)


@docs(tags=["insights"], summary="The classes this instance holds data for")
@response_schema(ClassesOut, 200)
async def classes(request: web.Request) -> web.Response:
    errors = params.Errors()
    params.refuse_unknown_query(request, (), errors)
    errors.raise_if_any()
    async with request.app[DATABASE].read() as conn:
        rows = await classview.classes(conn)
    return json_response(
        {
            "classes": [
                {
                    "class_div": c.class_div,
                    "assignments": c.assignments,
                    "students": c.students,
                    "first_activity": wall_seconds_to_iso(c.first_at),
                    "last_activity": wall_seconds_to_iso(c.last_at),
                }
                for c in rows
            ]
        }
    )


@docs(
    tags=["insights"],
    summary="The class's code size over time: p25, median and p75 across students at evenly"
    " spaced moments",
    description="A student's code size at a moment is the sum of the latest sizes of their files"
    " (what /api/graph_data plots), 0 before their first save. `from`/`to` default to the"
    " assignment's first and last activity (ISO 8601; a naive time is KST); `points` (2-200,"
    " default 60) moments from `from` to `to`, both included.",
    parameters=query.docs(CODE_SIZE_QUERY),
    responses={422: {"schema": ValidationErrorOut, "description": "a query parameter is invalid"}},
)
@response_schema(CodeSizeOut, 200)
async def code_size(request: web.Request) -> web.Response:
    errors = params.Errors()
    values = query.read(request, CODE_SIZE_QUERY, errors)
    scope = params.scope(request, errors)
    start, end = window_seconds(request, values, errors)
    count = values["points"]
    errors.raise_if_any()

    async with request.app[DATABASE].read() as conn:
        span = await classview.activity_span(conn, scope)
        # An open end of the window is the assignment's first or last activity.
        low = start if start is not None else span[0] if span else None
        high = end if end is not None else span[1] if span else None
        if low is None or high is None:
            chosen: list[int] = []  # nothing to anchor an open window on
        else:
            chosen = moments(min(low, high), max(low, high), int(count))
        stamps = [format_time(naive(s), COMPACT) for s in chosen]
        sizes = await classview.code_sizes_at(conn, scope, stamps) if chosen else {}
    points = quartiles_over_time(list(sizes.values()), len(chosen)) if sizes else []
    return json_response(
        {
            "class_div": scope.class_div,
            "hw_name": scope.hw_name,
            "from": wall_seconds_to_iso(chosen[0]) if chosen else None,
            "to": wall_seconds_to_iso(chosen[-1]) if chosen else None,
            "students": len(sizes),
            "points": [
                {"time": wall_seconds_to_iso(at), **point}
                for at, point in zip(chosen, points, strict=False)
            ],
        }
    )
