"""The instructor pages through the gateway. The pages' shells and assets are the gateway's own
(the same package as the instances'), so a page loads and shows an error state when its class's
instance is down; everything a page shows comes from the API, which the gateway routes by class
as any request, to the class's instance. Only the class list is the gateway's: its routing
table."""

from __future__ import annotations

from aiohttp import web

from watcher.gateway.state import SETTINGS, TABLE
from watcher.http.responses import json_error, json_response
from watcher.tokens import CHALLENGE, token_problem
from watcher.ui import pages


async def classes(request: web.Request) -> web.Response:
    """The classes of the routing table, in the shape of an instance's `/api/v2/classes` (whose
    counts only the instances know: the page asks each class for its assignments)."""
    problem = token_problem(request.headers, request.app[SETTINGS].read_token)
    if problem:  # the class names are the routing table's: as private as /api/docs
        return json_error(401, problem, {"WWW-Authenticate": CHALLENGE})
    routes = request.app[TABLE].routes or {}
    return json_response({"classes": [{"class_div": c} for c in sorted(routes)]})


def add_routes(router: web.UrlDispatcher) -> None:
    pages.add_routes(router)
    router.add_get("/api/v2/classes", classes)
