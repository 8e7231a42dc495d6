"""Typed application state of the gateway app."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from watcher.gateway.config import GatewaySettings
from watcher.gateway.table import RoutingTable
from watcher.gateway.telemetry import GatewayTelemetry

SETTINGS = web.AppKey("gateway_settings", GatewaySettings)
TABLE = web.AppKey("gateway_table", RoutingTable)
TELEMETRY = web.AppKey("gateway_telemetry", GatewayTelemetry)
SESSION = web.AppKey("gateway_session", aiohttp.ClientSession)

# Request keys: the route family (metrics label) and class chosen by the proxy, for the log line.
FAMILY = web.RequestKey("gateway_family", str)
CLASS_DIV = web.RequestKey("gateway_class_div", str)
