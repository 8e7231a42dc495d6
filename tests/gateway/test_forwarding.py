"""Headers and bodies on their way through the gateway, checked at a probe upstream."""

from __future__ import annotations

import gzip
import hashlib
import json

import aiohttp

from tests.gateway.helpers import metric, pattern, raw_url

TARGET = "/api/echo-1/hw1/7/main.c/20250310_060000"


async def test_headers_pass_without_hop_by_hop_ones_plus_forwarding_headers(
    http, start_gateway, probes
):
    gateway = await start_gateway({"echo-1": probes["a"]})
    headers = {
        "User-Agent": "Python/3.12 aiohttp/3.12.15",
        "Content-Type": "application/json",
        "X-Custom": "kept",
        "Connection": "keep-alive, X-Private",
        "X-Private": "named by Connection: not forwarded",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "X-Forwarded-For": "10.1.2.3",
        "X-Request-ID": "req-42",
    }
    async with http.post(
        raw_url(gateway.url, TARGET + "?hop=1"), data=b'{"bytes": 1}', headers=headers
    ) as response:
        assert response.status == 200
        report = await response.json()
        received = {k.lower(): v for k, v in response.headers.items()}
        cookies = response.headers.getall("Set-Cookie")
    seen = {k.lower(): v for k, v in report["headers"]}
    assert seen["user-agent"] == "Python/3.12 aiohttp/3.12.15"
    assert seen["content-type"] == "application/json"
    assert seen["content-length"] == "12"
    assert seen["x-custom"] == "kept"
    assert seen["x-forwarded-for"] == "10.1.2.3, 127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    assert seen["x-forwarded-host"] == f"127.0.0.1:{gateway.url.port}"
    assert seen["x-request-id"] == "req-42"
    assert seen["host"] == f"127.0.0.1:{probes['a'].port}"
    for hop in ("x-private", "keep-alive", "te", "transfer-encoding"):
        assert hop not in seen
    # The answer: the instance's headers except the hop-by-hop ones it named.
    assert received["x-probe"] == "a"
    assert "x-hop" not in received
    assert cookies == ["a=1", "b=2"]


async def test_request_id_is_made_when_missing_and_shared_with_the_instance(
    http, start_gateway, probes
):
    gateway = await start_gateway({"echo-1": probes["a"]})
    bare = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")
    url = raw_url(gateway.url, TARGET)
    async with http.post(url, data=b"", skip_auto_headers=bare) as response:
        report = await response.json()
        answered_id = response.headers["X-Request-ID"]
    seen = {k.lower(): v for k, v in report["headers"]}
    assert len(seen["x-request-id"]) == 32
    assert answered_id == seen["x-request-id"]
    # Nothing the client did not send is invented: aiohttp's client defaults are not added.
    for name in bare:
        assert name.lower() not in seen


async def test_large_bodies_pass_whole_and_answers_stream(http, start_gateway, probes):
    gateway = await start_gateway({"echo-1": probes["a"]}, max_body_bytes=8 * 1024 * 1024)
    upload = pattern(3 * 1024 * 1024 + 17)

    async def chunks():  # no Content-Length from the client
        for offset in range(0, len(upload), 100_000):
            yield upload[offset : offset + 100_000]

    # The gateway reads a body whole before it takes an instance connection, so the instance
    # always gets it with a Content-Length, chunked by the client or not.
    for data in (upload, chunks()):
        async with http.post(raw_url(gateway.url, TARGET), data=data) as response:
            report = await response.json()
        seen = {k.lower(): v for k, v in report["headers"]}
        assert report["length"] == len(upload)
        assert report["sha256"] == hashlib.sha256(upload).hexdigest()
        assert "transfer-encoding" not in seen
        assert seen["content-length"] == str(len(upload))

    size = 5 * 1024 * 1024 + 3
    async with http.get(raw_url(gateway.url, f"/api/echo-1/hw1/7?download={size}")) as response:
        assert response.status == 200
        assert response.headers["X-Probe"] == "a"
        received = await response.read()
    assert received == pattern(size)


async def test_compressed_answers_pass_undecoded(start_gateway, probes):
    gateway = await start_gateway({"echo-1": probes["a"]})
    async with (
        aiohttp.ClientSession(auto_decompress=False) as raw,
        raw.post(raw_url(gateway.url, TARGET + "?gzip=1"), data=b"{}") as response,
    ):
        assert response.headers["Content-Encoding"] == "gzip"
        body = await response.read()
    assert json.loads(gzip.decompress(body))["name"] == "a"


async def test_bodies_over_the_limit_are_413_and_not_forwarded(http, start_gateway, probes):
    gateway = await start_gateway({"echo-1": probes["a"]}, max_body_bytes=1000)
    async with http.post(raw_url(gateway.url, TARGET), data=b"x" * 1001) as response:
        assert response.status == 413
        assert "1000" in (await response.json())["detail"]

    async def chunks():
        for _ in range(20):
            yield b"y" * 100

    async with http.post(raw_url(gateway.url, TARGET), data=chunks()) as response:
        assert response.status == 413
    async with http.post(raw_url(gateway.url, TARGET), data=b"x" * 1000) as response:
        assert (await response.json())["length"] == 1000
    text = await gateway.metrics(http)
    family = "/api/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}"
    assert metric(text, "watcher_gateway_requests_total", family=family, status="413") == 2
