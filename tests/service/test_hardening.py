"""What an adversarial pass found (issue 19), each replayed as the request that showed it."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import unicodedata

import aiohttp
import pytest
from yarl import URL

from tests.service.helpers import BUILD, STUDENT, db_rows, service_process, snapshot_url
from watcher.app import create_app
from watcher.config import Settings

SNAPSHOT = snapshot_url("os-1", "hw1", "8", "x.c", "20250310_060001")
INT64_MAX = 2**63 - 1
MAX_FILE_BYTES = 64 * 1024 * 1024  # the documented limit of a snapshot's size

# Every read route of the class and student the overflow tests write to.
READS = [
    "/api/assignment/os-1/hw1",
    "/api/os-1/hw1/8",
    "/api/os-1/hw1/8/x.c",
    "/api/snapshot_avg/os-1/hw1/8/x.c",
    "/api/assignments/snapshot_avg/os-1/hw1/8",
    "/api/graph_data/os-1/hw1/8/1",
    "/api/total_graph_data/os-1/hw1/2025-03-10T00:00:00/2025-03-11T00:00:00",
    "/api/v2/classes/os-1/assignments/hw1/dashboard",
    "/api/v2/classes/os-1/assignments/hw1/dashboard?format=csv",
    "/api/v2/classes/os-1/assignments/hw1/students/8/timeline",
    "/api/v2/classes/os-1/assignments",
]


def _detail(body: dict) -> list[dict]:
    assert isinstance(body["detail"], list), body
    return body["detail"]


# --- 1. one POST must not break a class -------------------------------------------------------


@pytest.mark.parametrize("size", [INT64_MAX, MAX_FILE_BYTES + 1, 2**40])
async def test_sizes_beyond_a_plausible_file_are_refused(client, db_path, size):
    response = await client.post(SNAPSHOT, json={"bytes": size})
    assert response.status == 422
    (entry,) = _detail(await response.json())
    assert (entry["loc"], entry["ctx"]) == (["body", "bytes"], {"le": MAX_FILE_BYTES})
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]
    for path in READS:
        assert (await client.get(path)).status == 200, path


async def test_the_largest_sizes_keep_every_route_answering(client):
    """Saves at the limit, growing and shrinking: every maintained total stays exact."""
    sizes = [MAX_FILE_BYTES, 0, MAX_FILE_BYTES, 1, MAX_FILE_BYTES]
    for second, size in enumerate(sizes):
        url = snapshot_url("os-1", "hw1", "8", "x.c", f"20250310_0600{second:02d}")
        assert (await client.post(url, json={"bytes": size})).status == 200
    for path in READS:
        response = await client.get(path)
        assert response.status == 200, (path, await response.text())
    summary = await (await client.get("/api/snapshot_avg/os-1/hw1/8/x.c")).json()
    assert summary == {"snapshot_avg": 5, "snapshot_size_avg": round(sum(sizes) / 5, 2)}
    dashboard = await (await client.get(READS[7])).json()
    (row,) = dashboard["students"]
    churn = sum(abs(b - a) for a, b in itertools.pairwise(sizes))
    assert (row["churn_bytes"], row["net_bytes"]) == (churn, MAX_FILE_BYTES)


async def test_the_api_document_states_the_size_limit(tmp_path):
    # A process of its own: aiohttp-apispec keeps schema definitions per process, and the
    # document a deployment serves comes from a process with exactly one app.
    async with (
        service_process(tmp_path / "w.db") as (_, base),
        aiohttp.ClientSession() as session,
        session.get(base + "/api/docs/swagger.json") as response,
    ):
        spec = await response.json()
    post = spec["paths"]["/api/{class_div}/{hw_name}/{student_id}/{filename}/{timestamp}"]["post"]
    (schema,) = [p["schema"] for p in post["parameters"] if p["in"] == "body"]
    body = spec["definitions"][schema["$ref"].rsplit("/", 1)[1]]["properties"]["bytes"]
    assert (body["minimum"], body["maximum"]) == (0, MAX_FILE_BYTES)


# --- 2. the documentation's exemption is its routes, not a path prefix ------------------------


@pytest.fixture
async def locked(aiohttp_client, db_path):
    settings = Settings(db_path=db_path, ingest_token="in-1", read_token="rd-2")
    return await aiohttp_client(create_app(settings))


async def test_a_class_named_docs_needs_the_tokens(locked, db_path):
    url = snapshot_url("docs-1", "hw1", "202012345", "main.c", "20250310_060130")
    assert (await locked.post(url, json={"bytes": 5})).status == 401
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]
    for path in ("/api/docs-1/hw1/202012345", "/api/docs/hw1/7", "/api/docsx/hw1/7/logs/build"):
        response = await locked.get(path)
        assert response.status == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # The documentation itself stays open: the UI, its JSON document and its static files.
    for path in ("/api/docs", "/api/docs/swagger.json"):
        assert (await locked.get(path)).status == 200, path
    page = await (await locked.get("/api/docs")).text()
    static = next(part.split('"')[0] for part in page.split('src="')[1:] if "static" in part)
    assert (await locked.get(static)).status == 200


# --- 4. a log list is bounded by bytes as well as rows -----------------------------------------


async def _post_builds(client, count: int, text: str = "x") -> None:
    async def post(i: int) -> None:
        second = f"{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        body = {**BUILD, "timestamp": f"2025-03-10T{second}", "cmdline": text, "cwd": f"/w{i}"}
        response = await client.post(STUDENT + "/logs/build", json=body)
        assert response.status == 200

    for start in range(0, count, 100):
        await asyncio.gather(*(post(i) for i in range(start, min(start + 100, count))))


async def _follow(client, path: str) -> tuple[list[dict], list[int]]:
    """Every item of a list through its Link headers, and each page's body size."""
    items: list[dict] = []
    sizes: list[int] = []
    while path:
        response = await client.get(path)
        assert response.status == 200
        body = await response.read()
        sizes.append(len(body))
        items.extend(await response.json())
        link = response.headers.get("Link")
        path = link[1 : link.index(">")] if link else ""
        if link:
            assert link.endswith('>; rel="next"')
    return items, sizes


async def test_big_log_lists_are_cut_by_bytes_and_continue_by_cursor(aiohttp_client, db_path):
    client = await aiohttp_client(create_app(Settings(db_path=db_path, list_max_bytes=200_000)))
    await _post_builds(client, 60, text="g" * 8192)
    first = await client.get(STUDENT + "/logs/build?limit=1000")
    assert len(await first.read()) <= 200_000
    assert "before=" in first.headers["Link"]
    items, sizes = await _follow(client, STUDENT + "/logs/build?limit=1000")
    assert max(sizes) <= 200_000 and len(sizes) > 1
    cwds = [item["cwd"] for item in items]
    assert cwds == [f"/w{i}" for i in reversed(range(60))]  # newest first, none lost or repeated


async def test_the_portals_limit_still_returns_its_thousand_rows(client):
    await _post_builds(client, 1001)
    response = await client.get(STUDENT + "/logs/build?limit=1000")
    rows = await response.json()
    assert len(rows) == 1000 and rows[0]["cwd"] == "/w1000"
    rest, _ = await _follow(client, response.headers["Link"][1:].split(">")[0])
    assert [item["cwd"] for item in rest] == ["/w0"]
    # A list that fits has no Link.
    assert "Link" not in (await client.get(STUDENT + "/logs/build?limit=5000")).headers


@pytest.mark.parametrize("cursor", ["x", "!!!", "MjAyNXw", "YWJj"])
async def test_a_bad_cursor_is_422(client, cursor):
    response = await client.get(STUDENT + f"/logs/run?before={cursor}")
    assert response.status == 422
    assert _detail(await response.json())[0]["loc"] == ["query", "before"]


# --- 5. hostile JSON and numbers are 4xx in the one error shape -------------------------------

HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ("[" * 200_000 + "]" * 200_000, ["body", 0]),
        ('{"bytes": ' + "[" * 40 + "]" * 40 + "}", ["body", 0]),
        ('{"bytes": ' + HUGE + "}", ["body", "bytes"]),
        ('{"bytes": -' + HUGE + "}", ["body", "bytes"]),
        ('{"bytes": NaN}', ["body", 0]),
        ('{"bytes": Infinity}', ["body", 0]),
        ('{"bytes": -Infinity}', ["body", 0]),
        ('{"bytes": 1e999}', ["body", 0]),
    ],
)
async def test_hostile_bodies_are_422(client, db_path, caplog, body, loc):
    caplog.set_level(logging.ERROR)
    response = await client.post(SNAPSHOT, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 422
    assert response.content_type == "application/json"
    assert _detail(await response.json())[0]["loc"] == loc
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]
    assert not caplog.records  # no traceback logged


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        (f"/api/os-1/hw1/{HUGE}", ["path", "student_id"]),
        (f"/api/os-1/hw1/{HUGE}/logs/build?limit=1", ["path", "student_id"]),
        (f"{STUDENT}/logs/build?limit={HUGE}", ["query", "limit"]),
        (f"/api/graph_data/os-1/hw1/8/{HUGE}", ["path", "interval"]),
        (f"/api/graph_data/os-1/hw1/8/-{HUGE}", ["path", "interval"]),
        (f"/api/v2/classes/os-1/assignments/hw1/dashboard?limit={HUGE}", ["query", "limit"]),
        (f"/api/v2/classes/os-1/assignments/hw1/dashboard?idle={HUGE}", ["query", "idle"]),
    ],
)
async def test_hostile_numbers_in_paths_and_queries_are_422(client, caplog, path, loc):
    caplog.set_level(logging.ERROR)
    response = await client.get(path)
    assert response.status == 422, await response.text()
    entry = _detail(await response.json())[0]
    assert entry["loc"] == loc
    assert len(str(entry["input"])) < 100  # the 5,000 digits are not echoed back
    assert not caplog.records


async def test_a_huge_student_id_in_a_post_is_422(client):
    url = snapshot_url("os-1", "hw1", HUGE, "a.c", "20250310_060000")
    response = await client.post(url, json={"bytes": 1})
    assert response.status == 422
    assert _detail(await response.json())[0]["loc"] == ["path", "student_id"]


# --- 6. one spelling per student, size and file ------------------------------------------------


@pytest.mark.parametrize("student", ["٣", "+3", " 3", "3 ", "３", "0x3", "3_0"])
async def test_student_ids_are_ascii_digits(client, db_path, student):
    url = snapshot_url("os-1", "hw1", str(URL.build(path=student)), "a.c", "20250310_060000")
    response = await client.post(url, json={"bytes": 1})
    assert response.status == 422
    assert _detail(await response.json())[0]["loc"] == ["path", "student_id"]
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]


@pytest.mark.parametrize("size", ["٣", "+3", " 3", "3 ", "３", "1e3"])
async def test_sizes_are_ascii_digits(client, size):
    response = await client.post(SNAPSHOT, json={"bytes": size})
    assert response.status == 422
    assert _detail(await response.json())[0]["loc"] == ["body", "bytes"]


async def test_what_the_collectors_send_is_still_taken(client, db_path):
    """Leading zeros (the original's lax int), sizes as strings, names in any script."""
    url = snapshot_url("os-1", "hw1", "0123", "과제 1@main.c", "20250310_060000.c")
    assert (await client.post(url, json={"bytes": "150"})).status == 200
    rows = db_rows(db_path, "SELECT student_id, filename, file_size FROM snapshot")
    assert rows == [(123, "과제 1@main.c", 150)]


@pytest.mark.parametrize(
    "name",
    ["a\u0085b.c", "evil\u202ec.exe", "x\u2066y.c", "line\u2028.c", "a\x9bb.c", "rlm\u200f.c"],
)
async def test_control_and_bidi_characters_in_names_are_refused(client, db_path, name):
    response = await client.post(
        snapshot_url("os-1", "hw1", "7", name, "20250310_060000"), json={"bytes": 1}
    )
    assert response.status == 422
    assert _detail(await response.json())[0]["loc"] == ["path", "filename"]
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]


async def test_both_unicode_forms_of_a_name_are_one_file(client, db_path):
    composed = "한글.c"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    for second, name in enumerate((composed, decomposed)):
        url = snapshot_url("os-1", "hw1", "7", name, f"20250310_06000{second}")
        assert (await client.post(url, json={"bytes": 10 + second})).status == 200
    assert await (await client.get("/api/os-1/hw1/7")).json() == [composed]
    for name in (composed, decomposed):
        stamps = await (await client.get(f"/api/os-1/hw1/7/{name}")).json()
        assert stamps == ["20250310_150000", "20250310_150001"]
    assert db_rows(db_path, "SELECT DISTINCT filename FROM snapshot") == [(composed,)]


# --- 6. log forging, and 4. the header deadline: the real process ------------------------------


async def test_a_path_cannot_forge_a_log_line(tmp_path):
    db_path = tmp_path / "watcher.db"
    forged = "2026-12-06 05:00:00,000 INFO watcher.access: POST /api/os-1/hw1/7/a.c/x 200"
    async with service_process(db_path, WATCHER_LOG_FORMAT="text") as (_, base):
        reader, writer = await asyncio.open_connection("127.0.0.1", URL(base).port)
        target = "/api/os-1/hw1/7%0A" + forged.replace(" ", "%20") + "%C2%85%E2%80%A8x"
        writer.write(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 404")
        await reader.read()
        writer.close()
        await asyncio.sleep(0.2)  # the access line is written after the response
    lines = (tmp_path / "watcher.db.log").read_text().splitlines()
    assert not any(line.startswith(forged[:23]) for line in lines), lines
    (access,) = [line for line in lines if "GET /api/os-1/hw1/7" in line]
    assert "7\\x0a2026-12-06" in access and "\\x85\\u2028x" in access


async def _held_open_for(port: int, within_s: float) -> float:
    """Send a request head one byte at a time; how long until the server hangs up."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
    try:
        for byte in head:
            writer.write(bytes([byte]))
            await writer.drain()
            if time.monotonic() - started > within_s:
                return within_s
            try:
                if await asyncio.wait_for(reader.read(1), 0.1) == b"":
                    break
            except TimeoutError:
                continue
    except ConnectionError:
        pass
    finally:
        writer.close()
    return time.monotonic() - started


async def test_a_request_head_must_arrive_before_the_header_deadline(tmp_path):
    async with service_process(tmp_path / "w.db", WATCHER_HEADER_TIMEOUT_S="1") as (_, base):
        port = URL(base).port
        assert await _held_open_for(port, within_s=8) < 4
        # An idle connection that never sends a byte is closed too.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
