"""Forwarding one request to its class's instance, streaming the body both ways.

What reaches the instance is what the client sent: the method, the request target exactly as it
arrived (percent-encoding untouched, never re-encoded), the query, the headers except hop-by-hop
ones, and the body. The gateway adds `X-Forwarded-For` (appended), `X-Forwarded-Proto` and
`X-Forwarded-Host` (unless a proxy in front already set them) and `X-Request-ID` (the client's when
it is a sane token, else a new one), so the gateway's and the instance's log lines share an id.
The instance's status, headers (again without hop-by-hop ones) and body come back as they are;
bodies are relayed chunk by chunk, never decompressed.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from watcher.gateway.routing import match_route
from watcher.gateway.state import CLASS_DIV, FAMILY, SESSION, SETTINGS, TABLE, TELEMETRY
from watcher.gateway.telemetry import FALLBACK
from watcher.http.metrics import UNMATCHED
from watcher.http.observe import HEADER as REQUEST_ID_HEADER
from watcher.http.observe import REQUEST_ID
from watcher.http.responses import json_error, json_response

log = logging.getLogger("watcher.gateway.proxy")

# RFC 9110 §7.6.1, plus the non-standard Proxy-Connection; `Connection` may name more.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# Headers aiohttp's client would invent; the instance should see only what the client sent.
SKIP_AUTO_HEADERS = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


async def proxy(request: web.Request) -> web.StreamResponse:
    """Every request that is not the gateway's own: route by class, then forward."""
    found = match_route(request.method, request.rel_url.raw_path)
    if found is None:
        request[FAMILY] = UNMATCHED
        return json_error(404, "Not Found")
    request[FAMILY] = found.family
    request[CLASS_DIV] = class_div = found.class_div
    chosen = _choose_upstream(request.app, class_div)
    if isinstance(chosen, web.Response):
        return chosen
    upstream, label = chosen
    body = await _read_body(request)
    if isinstance(body, web.Response):
        return body

    target = request.raw_path if request.raw_path.startswith("/") else request.rel_url.raw_path_qs
    started = time.perf_counter()
    try:
        upstream_response = await request.app[SESSION].request(
            request.method,
            URL(str(upstream) + target, encoded=True),  # encoded: sent exactly as received
            headers=_forwarded_headers(request),
            data=body,
            allow_redirects=False,
            skip_auto_headers=SKIP_AUTO_HEADERS,
        )
    except Exception as exc:
        return _failed(request, class_div, upstream, label, exc)
    request.app[TELEMETRY].upstream_latency.labels(label).observe(time.perf_counter() - started)
    async with upstream_response:
        if _answered_whole(request, upstream_response):
            try:
                body = await upstream_response.read()
            except Exception as exc:  # nothing has been sent yet: answer as for any failure
                return _failed(request, class_div, upstream, label, exc)
            return _whole(request, upstream_response, body)
        return await _relay(request, upstream_response, label)


def _choose_upstream(app: web.Application, class_div: str) -> tuple[URL, str] | web.Response:
    """The class's instance (and its metrics label), or the answer when there is none."""
    settings, table, telemetry = app[SETTINGS], app[TABLE], app[TELEMETRY]
    # Looked up once: a table swapped while this request runs does not affect it.
    upstream = table.lookup(class_div)
    if upstream is not None:
        return upstream, class_div
    if settings.fallback_url is not None:
        telemetry.fallback.labels(telemetry.class_label(class_div)).inc()
        return settings.fallback_url, FALLBACK
    if not table.loaded:  # not a 404: the class may well exist
        return _unavailable(app, "the routing table has not been loaded yet")
    telemetry.unroutable.labels(telemetry.class_label(class_div)).inc()
    detail = f"no WatcherInstance serves class '{class_div}'"
    return json_response({"detail": detail, "class_div": class_div}, 404)


async def _read_body(request: web.Request) -> bytes | web.Response | None:
    """The whole request body (None if there is none), or the answer when it is too large or too
    slow. Read before an instance connection is taken: a client trickling its body holds only its
    own connection to the gateway, never one to an instance (collectors' bodies are tiny)."""
    settings = request.app[SETTINGS]
    length = request.content_length
    if length is not None and length > settings.max_body_bytes:
        return _too_large(request)
    if not request.body_exists:
        return None
    try:
        async with asyncio.timeout(settings.body_timeout_s):
            return await request.read()  # the app's client_max_size is max_body_bytes
    except TimeoutError:
        detail = f"request body not received within {settings.body_timeout_s:g} s"
        response = json_error(408, detail)
        response.force_close()  # the rest of the body may still come: never read it as a request
        return response
    except web.HTTPRequestEntityTooLarge:  # a chunked body that grew past the limit
        return _too_large(request)


# Answers up to this size (nearly all: the legacy routes answer a few hundred bytes) are read
# whole and sent in one write with their headers; larger ones, and those of unknown length, are
# relayed chunk by chunk.
WHOLE_MAX_BYTES = 64 * 1024


def _answered_whole(request: web.Request, upstream: aiohttp.ClientResponse) -> bool:
    length = upstream.content_length
    return request.method != "HEAD" and length is not None and length <= WHOLE_MAX_BYTES


def _whole(request: web.Request, upstream: aiohttp.ClientResponse, body: bytes) -> web.Response:
    headers = _end_to_end(upstream.headers)
    headers.popall("Content-Length", None)  # the response counts its own body
    headers.setdefault(REQUEST_ID_HEADER, request[REQUEST_ID])  # the service sets it
    return web.Response(status=upstream.status, reason=upstream.reason, body=body, headers=headers)


async def _relay(
    request: web.Request, upstream: aiohttp.ClientResponse, label: str
) -> web.StreamResponse:
    response = web.StreamResponse(status=upstream.status, reason=upstream.reason)
    response.headers.extend(_end_to_end(upstream.headers))
    response.headers.setdefault(REQUEST_ID_HEADER, request[REQUEST_ID])  # the service sets it
    await response.prepare(request)
    while True:
        try:
            chunk = await upstream.content.readany()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The status line is out already: the only honest signal left is a broken
            # connection, so the client sees a truncated body, never a short one that looks
            # complete.
            request.app[TELEMETRY].upstream_errors.labels(label, "aborted").inc()
            log.warning("relaying a response from %s failed: %r", upstream.url.origin(), exc)
            response.force_close()
            if request.transport is not None:
                request.transport.close()
            return response
        if not chunk:
            return response
        try:
            await response.write(chunk)
        except ConnectionError:  # the client went away; nothing left to tell it
            return response


def _too_large(request: web.Request) -> web.Response:
    limit = request.app[SETTINGS].max_body_bytes
    return json_error(413, f"body larger than {limit} bytes")


def _unavailable(app: web.Application, detail: str) -> web.Response:
    retry_after = str(app[SETTINGS].retry_after_s)
    return json_error(503, detail, {"Retry-After": retry_after})


def _failed(
    request: web.Request, class_div: str, upstream: URL, label: str, exc: Exception
) -> web.Response:
    """The answer when the exchange with the instance failed before its response began."""
    reason = _failure_reason(exc)
    if reason is None:
        raise exc
    request.app[TELEMETRY].upstream_errors.labels(label, reason).inc()
    log.warning(
        "forwarding to the instance for class %r at %s failed (%s): %r",
        class_div,
        upstream,
        reason,
        exc,
        extra={"class_div": class_div, "upstream": str(upstream), "reason": reason},
    )
    if reason == "protocol":
        detail = f"the instance serving class '{class_div}' sent an invalid response"
        return json_error(502, detail)
    return _unavailable(request.app, f"the instance serving class '{class_div}' is unavailable")


def _failure_reason(exc: BaseException) -> str | None:
    """The metric reason for a failed exchange; None for an error that is not the instance's."""
    if isinstance(exc, TimeoutError):  # aiohttp's timeouts subclass it
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return "connect"  # refused, unresolvable, unreachable
    if isinstance(exc, aiohttp.ClientConnectionError):
        return "disconnected"  # closed or reset before a response arrived
    if isinstance(exc, aiohttp.ClientError):
        return "protocol"  # an answer that is not valid HTTP
    return None


def _hop_by_hop(headers: CIMultiDictProxy[str]) -> set[str]:
    names = set(HOP_BY_HOP)
    for value in headers.getall("Connection", ()):
        names.update(token.strip().lower() for token in value.split(","))
    return names


def _end_to_end(headers: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    drop = _hop_by_hop(headers)
    return CIMultiDict((name, value) for name, value in headers.items() if name.lower() not in drop)


def _forwarded_headers(request: web.Request) -> CIMultiDict[str]:
    headers = _end_to_end(request.headers)
    headers.popall("Host", None)  # the client sets the instance's host
    headers.popall("Expect", None)  # 100-continue was the gateway's business with the client
    peer = request.remote
    if peer:
        prior = headers.popall("X-Forwarded-For", [])
        headers["X-Forwarded-For"] = ", ".join([*prior, peer])
    headers.setdefault("X-Forwarded-Proto", request.scheme)
    if request.host:
        headers.setdefault("X-Forwarded-Host", request.host)
    headers[REQUEST_ID_HEADER] = request[REQUEST_ID]
    return headers
