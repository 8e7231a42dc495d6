"""Liveness, readiness, metrics exposition and the original's /docs address."""

from __future__ import annotations

from aiohttp import web

from watcher.api.state import DATABASE, TELEMETRY
from watcher.docs import UI_URL, docs, response_schema
from watcher.http.metrics import metrics_response
from watcher.http.responses import json_response
from watcher.schemas import HealthOut
from watcher.store.migrations import LATEST_VERSION

# The classic text format, as the original served it (prometheus_client >= 0.22 would say 1.0.0).


@docs(tags=["operations"], summary="Liveness: the process answers")
@response_schema(HealthOut, 200)
async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


@docs(
    tags=["operations"],
    summary="Readiness: database open, schema current, writer running",
    responses={503: {"schema": HealthOut, "description": "not ready; checks say why"}},
)
@response_schema(HealthOut, 200)
async def readyz(request: web.Request) -> web.Response:
    database = request.app[DATABASE]
    checks: dict[str, object] = {
        "schema_version": database.schema_version,
        "schema_current": database.schema_version == LATEST_VERSION,
        "writer_running": database.writer.running,
    }
    try:
        async with database.read() as conn, conn.execute("SELECT 1") as cursor:
            checks["database"] = (await cursor.fetchone()) == (1,)
    except Exception as exc:
        checks["database"] = False
        checks["database_error"] = str(exc)
    ready = bool(checks["schema_current"] and checks["writer_running"] and checks["database"])
    return json_response(
        {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
    )


@docs(
    tags=["operations"],
    summary="Prometheus metrics (text exposition format)",
    produces=["text/plain"],
    responses={
        200: {"description": "the metrics, Prometheus text format 0.0.4"},
        401: {"description": "WATCHER_METRICS_TOKEN is set and the bearer token is missing"},
    },
)
async def metrics(request: web.Request) -> web.Response:
    return metrics_response(request.app[TELEMETRY])


async def docs_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(UI_URL)
