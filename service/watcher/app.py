"""The application factory: routes, middlewares, docs and the database's lifetime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.web_middlewares import normalize_path_middleware

from watcher.api.auth import auth_middleware
from watcher.api.cors import cors_middleware
from watcher.api.errors import error_middleware
from watcher.api.observe import observe_middleware
from watcher.api.routes import setup_routes
from watcher.api.state import CONTENT, DATABASE, EXPORT_SLOTS, SETTINGS, TELEMETRY
from watcher.config import Settings
from watcher.content import ContentReader
from watcher.docs import setup_docs
from watcher.store.database import database_context
from watcher.telemetry import Telemetry
from watcher.ui import setup_ui


def create_app(settings: Settings) -> web.Application:
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[
            observe_middleware,  # outermost: sees the final status of everything below
            cors_middleware,
            error_middleware,
            auth_middleware,
            # `/api/assignment/os-1/hw1/` -> 307 to the path without the slash, as Starlette did.
            normalize_path_middleware(
                remove_slash=True, append_slash=False, redirect_class=web.HTTPTemporaryRedirect
            ),
        ],
    )
    app[SETTINGS] = settings
    app[TELEMETRY] = Telemetry()
    app[CONTENT] = ContentReader.from_settings(settings)
    app[EXPORT_SLOTS] = asyncio.Semaphore(settings.export_max_concurrent)
    setup_routes(app)
    setup_ui(app)  # /ui pages and their data routes (issue 17)
    setup_docs(app)
    app.cleanup_ctx.append(_database)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    """Open (and migrate) the database at start; drain the writer and close it at shutdown.

    aiohttp runs cleanup only after in-flight requests finish, so every request that is waiting for
    its batch still gets its answer.
    """
    telemetry = app[TELEMETRY]
    async with database_context(app[SETTINGS], telemetry.on_commit) as database:
        app[DATABASE] = database
        telemetry.track_storage(lambda: database.writer.queue_depth, database.size_bytes)
        yield
