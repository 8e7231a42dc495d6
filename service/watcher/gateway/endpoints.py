"""The gateway's own routes: liveness, readiness, metrics and a page linking each class's docs."""

from __future__ import annotations

import html
import time

from aiohttp import web

from watcher.gateway.state import SETTINGS, TABLE, TELEMETRY
from watcher.http.metrics import metrics_response
from watcher.http.responses import json_error, json_response
from watcher.tokens import CHALLENGE, token_problem

DOCS_URL = "/api/docs"


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready once a routing table has been loaded (an empty one counts: it is the operator's).

    kubelet's probe sends no token, so the status is always answered; the details (the routes
    file, how many classes) only with the read token when one is set.
    """
    table = request.app[TABLE]
    ready = table.loaded
    body: dict[str, object] = {"status": "ready" if ready else "not ready"}
    if token_problem(request.headers, request.app[SETTINGS].read_token) is None:
        body["checks"] = _readiness_checks(request.app)
    return json_response(body, 200 if ready else 503)


def _readiness_checks(app: web.Application) -> dict[str, object]:
    table = app[TABLE]
    checks: dict[str, object] = {
        "routes_file": str(table.path),
        "routes_loaded": table.loaded,
        "classes": len(table.routes or {}),
    }
    if table.loaded_at is not None:
        checks["loaded_seconds_ago"] = round(time.time() - table.loaded_at, 3)
    return checks


async def metrics(request: web.Request) -> web.Response:
    return metrics_response(request.app[TELEMETRY])


async def docs_index(request: web.Request) -> web.Response:
    """Each class's Swagger UI, as JSON (Accept: application/json) or a small HTML page.

    The links are the instances' own addresses: reachable from inside the cluster or through a
    port-forward to the class's Service. They are internal, so the read token guards the page.
    """
    problem = token_problem(request.headers, request.app[SETTINGS].read_token)
    if problem:
        return json_error(401, problem, {"WWW-Authenticate": CHALLENGE})
    table = request.app[TABLE]
    fallback = request.app[SETTINGS].fallback_url
    classes = {
        class_div: {"upstream": str(url), "docs": str(url) + DOCS_URL}
        for class_div, url in sorted((table.routes or {}).items())
    }
    data = {
        "classes": classes,
        "fallback": None if fallback is None else str(fallback) + DOCS_URL,
    }
    accept = request.headers.get("Accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return json_response(data)
    rows = "\n".join(
        f'<li><a href="{html.escape(entry["docs"])}">{html.escape(class_div)}</a>'
        f" — {html.escape(entry['upstream'])}</li>"
        for class_div, entry in classes.items()
    )
    if fallback is not None:
        link = html.escape(str(fallback) + DOCS_URL)
        rows += f'\n<li><a href="{link}">other classes (fallback instance)</a></li>'
    page = (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        "<title>JCode Watcher gateway</title></head><body>\n"
        "<h1>JCode Watcher: API documentation per class</h1>\n"
        "<p>Every class is served by its own instance; this gateway forwards each request to "
        "the instance of the class named in its path. Each instance documents the same API.</p>\n"
        f"<ul>\n{rows or '<li>no classes in the routing table</li>'}\n</ul>\n"
        "</body></html>\n"
    )
    return web.Response(text=page, content_type="text/html")


async def docs_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(DOCS_URL)
