"""The service's outermost middleware: request id, one access line and the metrics of every
request, labelled by route template (watcher.http.observe)."""

from __future__ import annotations

import logging

from watcher.api.state import TELEMETRY
from watcher.http.metrics import route_template
from watcher.http.observe import observe_middleware as observe_middleware_for

observe_middleware = observe_middleware_for(
    TELEMETRY, logging.getLogger("watcher.access"), "route", route_template
)
