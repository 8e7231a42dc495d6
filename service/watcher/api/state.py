"""Typed application state shared by the handlers."""

from __future__ import annotations

import asyncio

from aiohttp import web

from watcher.config import Settings
from watcher.content import ContentReader
from watcher.store.database import Database
from watcher.telemetry import Telemetry

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
TELEMETRY = web.AppKey("telemetry", Telemetry)
CONTENT = web.AppKey("content", ContentReader)
EXPORT_SLOTS = web.AppKey("export_slots", asyncio.Semaphore)  # ProgSnap2 exports at once
