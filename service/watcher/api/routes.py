"""Every route, registered in the original's order (CONTRACT §1.6).

The order is part of the contract: paths overlap (`/api/assignment/os-1/hw1` also fits
`/api/{class_div}/{hw_name}/{student_id}`) and the first registered shape wins. Parameters match any
segment; a value that does not parse (a non-numeric student id) is a 422, never a fall-through to a
later route — exactly as FastAPI behaved.
"""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.typedefs import Handler

from watcher.api import (
    assignments,
    content,
    export,
    health,
    ingest,
    insights,
    logs,
    selection,
    students,
)
from watcher.api.state import SETTINGS

STUDENT = "/api/{class_div}/{hw_name}/{student_id}"
V2_CLASS = "/api/v2/classes/{class_div}"
V2_ASSIGNMENT = V2_CLASS + "/assignments/{hw_name}"
V2_FILE = "/api/v2/classes/{class_div}/assignments/{hw_name}/students/{student_id}/files/{filename}"


def _any_segment(template: str) -> str:
    """`{name}` -> `{name:[^/]+}`: aiohttp's default refuses `{` and `}` inside a segment, the
    original did not (a file `a{b}.c` is legal); the handlers' patterns decide validity."""
    return re.sub(r"\{(\w+)\}", r"{\1:[^/]+}", template)


def setup_routes(app: web.Application) -> None:
    def add(method: str, template: str, handler: Handler) -> None:
        app.router.add_route(method, _any_segment(template), handler)

    # v2 routes are new (not in the original) and registered first: `/api/v2/classes/...` would
    # otherwise fit a legacy shape (class `v2`, assignment `classes`) and answer 422.
    # -- v2 insights (issue 8)
    add("GET", V2_ASSIGNMENT + "/dashboard", insights.dashboard)
    add("GET", V2_ASSIGNMENT + "/students/{student_id}/timeline", insights.timeline)
    add("GET", V2_CLASS + "/assignments", insights.assignments)
    # -- v2 snapshot content (issue 9)
    add("GET", V2_FILE + "/versions", content.versions)
    add("GET", V2_FILE + "/versions/{version}/content", content.version_content)
    add("GET", V2_FILE + "/diff", content.diff)
    add("GET", V2_FILE + "/replay", content.replay)
    # -- v2 export (issue 9)
    add("GET", V2_CLASS + "/export/progsnap2", export.progsnap2)
    # Legacy routes, in the original's order.
    add("POST", STUDENT + "/logs/build", ingest.post_build_log)
    add("POST", STUDENT + "/logs/run", ingest.post_run_log)
    add("GET", "/api/snapshot_avg/{class_div}/{hw_name}/{student_id}/{filename}",
        students.file_snapshot_avg)  # fmt: skip
    add("GET", "/api/assignments/snapshot_avg/{class_div}/{hw_name}/{student_id}",
        students.assignment_snapshot_avg)  # fmt: skip
    add("GET", "/api/graph_data/{class_div}/{hw_name}/{student_id}/{interval}", students.graph_data)
    add("GET", STUDENT + "/logs/build", logs.build_logs)
    add("GET", STUDENT + "/logs/run", logs.run_logs)
    add("GET", "/api/assignment/{class_div}/{hw_name}", assignments.assignment)
    add("GET", "/api/total_graph_data/{class_div}/{hw_name}/{start}/{end}",
        assignments.total_graph_data)  # fmt: skip
    add("GET", "/api/build_avg/{class_div}/{hw_name}", assignments.build_avg)
    add("GET", "/api/run_avg/{class_div}/{hw_name}", assignments.run_avg)
    add("POST", STUDENT + "/{filename}/{timestamp}", ingest.post_snapshot)
    add("GET", STUDENT, selection.list_files)
    add("GET", STUDENT + "/{filename}", selection.list_file_timestamps)
    add("GET", "/metrics", health.metrics)
    # Not in the original: operations endpoints and the docs' old address.
    add("GET", "/healthz", health.healthz)
    add("GET", "/readyz", health.readyz)
    add("GET", "/docs", health.docs_redirect)
    if app[SETTINGS].bench_routes:
        add("POST", "/_bench/noop/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}",
            ingest.noop_snapshot)  # fmt: skip
