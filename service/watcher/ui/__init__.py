"""The instructor pages at /ui: an HTML shell, versioned static assets built from ui/ at the
repository root (`make ui`), and the two data routes only the pages need. The pages read every
other number from the v2 and legacy API routes, with the reader's token when one is set."""

from __future__ import annotations

from aiohttp import web

from watcher.ui import data, pages


def setup_ui(app: web.Application) -> None:
    """Register the pages and their data routes on a service instance."""
    pages.add_routes(app.router)
    app.router.add_get("/api/v2/classes", data.classes)
    app.router.add_get(
        "/api/v2/classes/{class_div}/assignments/{hw_name}/code-size", data.code_size
    )
