"""How the service and the gateway serve the pages (headers, assets, caching) and the two data
routes the pages need, against the real apps on real SQLite files."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import statistics
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from watcher.app import create_app
from watcher.config import Settings
from watcher.gateway.app import create_gateway_app
from watcher.gateway.config import GatewaySettings
from watcher.ui.assets import STATIC_DIR
from watcher.ui.pages import PAGES

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
CODE_SIZE = "/api/v2/classes/os-1/assignments/hw1/code-size"
KST_BASE = datetime(2025, 3, 10, 9, 0, 0)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "w.db"


@pytest.fixture
async def client(aiohttp_client, db_path) -> TestClient:
    return await aiohttp_client(create_app(Settings(db_path=db_path)))


async def post_save(client, student: int, name: str, kst: datetime, size: int, hw="hw1"):
    utc = (kst - timedelta(hours=9)).strftime("%Y%m%d_%H%M%S")
    response = await client.post(f"/api/os-1/{hw}/{student}/{name}/{utc}", json={"bytes": size})
    assert response.status == 200


def concrete_pages() -> list[str]:
    values = {"class_div": "os-1", "hw_name": "hw1", "student_id": "202012345"}
    return [re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], t) for t in PAGES]


async def test_every_page_is_the_shell_with_a_strict_policy(client):
    for path in concrete_pages():
        response = await client.get(path)
        assert response.status == 200, path
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        page = await response.text()
        # Nothing from elsewhere: every address in the page is this origin's.
        assert not re.search(r"(src|href)=\"(https?:)?//", page)
    redirect = await client.get("/ui", allow_redirects=False)
    assert redirect.status == 308 and redirect.headers["Location"] == "/ui/"


async def test_assets_have_hashed_names_and_are_cached_for_good(client):
    page = await (await client.get("/ui/")).text()
    manifest = json.loads((STATIC_DIR / "manifest.json").read_text())
    linked = re.findall(r'(?:src|href)="(/ui/static/[^"]+)"', page)
    assert sorted(linked) == sorted(f"/ui/static/{name}" for name in manifest.values())
    for url in linked:
        response = await client.get(url)
        body = await response.read()
        assert response.status == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["Content-Security-Policy"] == CSP
        # The name carries the content: a new build can never be served under an old name.
        assert body == (STATIC_DIR / url.rsplit("/", 1)[1]).read_bytes()
        assert re.fullmatch(r"/ui/static/app-[A-Z0-9]{8}\.(js|css)", url)
    kinds = {u.rsplit(".", 1)[1]: (await client.get(u)).headers["Content-Type"] for u in linked}
    assert kinds == {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
    assert (await client.get("/ui/static/app-00000000.js")).status == 404
    assert (await client.get("/ui/static/manifest.json")).status == 404


async def test_the_read_token_guards_the_data_but_not_the_pages(aiohttp_client, db_path):
    client = await aiohttp_client(create_app(Settings(db_path=db_path, read_token="t0k")))
    assert (await client.get("/ui/classes/os-1/assignments/hw1")).status == 200
    for path in ("/api/v2/classes", CODE_SIZE):
        assert (await client.get(path)).status == 401
        assert (await client.get(path, headers={"Authorization": "Bearer t0k"})).status == 200


async def test_classes_are_those_with_any_event(client, db_path):
    assert await (await client.get("/api/v2/classes")).json() == {"classes": []}
    await post_save(client, 7, "a.c", KST_BASE, 10)
    await post_save(client, 8, "a.c", KST_BASE + timedelta(hours=1), 10, hw="hw2")
    answer = await (await client.get("/api/v2/classes")).json()
    assert answer == {
        "classes": [
            {
                "class_div": "os-1",
                "assignments": 2,
                "students": 2,
                "first_activity": "2025-03-10T09:00:00+09:00",
                "last_activity": "2025-03-10T10:00:00+09:00",
            }
        ]
    }


def _sizes_from_raw_rows(db_path: Path, moment: str) -> dict[int, int | None]:
    """Each student's code size at a KST stamp, from every raw row: the sum over files of the
    latest save at or before it (latest by time, then by arrival)."""
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT student_id, filename, timestamp, id, file_size FROM snapshot"
        " WHERE class_div = 'os-1' AND hw_name = 'hw1'"
    ).fetchall()
    conn.close()
    latest: dict[int, dict[str, tuple]] = {}
    for student, name, stamp, row_id, size in rows:
        files = latest.setdefault(student, {})
        if stamp <= moment and (name not in files or (stamp, row_id) > files[name][:2]):
            files[name] = (stamp, row_id, size)
    return {
        s: (sum(f[2] for f in files.values()) if files else None) for s, files in latest.items()
    }


def _quartiles(values: list[int]) -> list[float]:
    if len(values) == 1:
        return [float(values[0])] * 3
    return statistics.quantiles(values, n=4, method="inclusive")  # numpy's linear method


async def test_code_size_quartiles_equal_the_raw_rows(client, db_path):
    rng = random.Random(17)
    for _ in range(120):  # late arrivals included: rows are posted in random time order
        moment = KST_BASE + timedelta(seconds=rng.randrange(0, 4 * 3600))
        await post_save(
            client, rng.randrange(1, 9), f"f{rng.randrange(3)}.c", moment, rng.randrange(0, 900)
        )
    answer = await (await client.get(CODE_SIZE + "?points=13")).json()
    assert answer["students"] == len(_sizes_from_raw_rows(db_path, "99999999_999999"))
    assert len(answer["points"]) == 13
    for point in answer["points"]:
        stamp = datetime.fromisoformat(point["time"]).strftime("%Y%m%d_%H%M%S")
        sizes = _sizes_from_raw_rows(db_path, stamp)
        expected = _quartiles(sorted(s or 0 for s in sizes.values()))
        assert [point["p25"], point["median"], point["p75"]] == pytest.approx(expected, abs=0.006)
        assert point["started"] == sum(1 for s in sizes.values() if s is not None)


async def test_code_size_window_and_empty_assignment(client):
    empty = await (await client.get(CODE_SIZE)).json()
    assert empty == {"class_div": "os-1", "hw_name": "hw1", "from": None, "to": None,
                     "students": 0, "points": []}  # fmt: skip
    await post_save(client, 7, "a.c", KST_BASE, 100)
    await post_save(client, 7, "a.c", KST_BASE + timedelta(hours=2), 300)
    window = await (
        await client.get(CODE_SIZE + "?from=2025-03-10T10:00:00&to=2025-03-10T02:00:00Z&points=3")
    ).json()
    assert [p["time"] for p in window["points"]] == [
        "2025-03-10T10:00:00+09:00",
        "2025-03-10T10:30:00+09:00",
        "2025-03-10T11:00:00+09:00",
    ]
    assert [p["median"] for p in window["points"]] == [100.0, 100.0, 300.0]
    whole = await (await client.get(CODE_SIZE + "?points=2")).json()
    assert (whole["from"], whole["to"]) == (
        "2025-03-10T09:00:00+09:00",
        "2025-03-10T11:00:00+09:00",
    )


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("?from=2025-03-11&to=2025-03-10", ["query", "from"]),
        ("?points=1", ["query", "points"]),
        ("?points=201", ["query", "points"]),
        ("?points=x", ["query", "points"]),
        ("?from=yesterday", ["query", "from"]),
        ("?step=5", ["query", "step"]),
    ],
)
async def test_bad_code_size_queries_are_422_naming_the_parameter(client, query, loc):
    response = await client.get(CODE_SIZE + query)
    assert response.status == 422
    assert [e["loc"] for e in (await response.json())["detail"]] == [loc]


async def test_the_gateway_serves_the_pages_and_lists_its_table(aiohttp_client, tmp_path):
    table = tmp_path / "routes.json"
    table.write_text(json.dumps({"os-1": "http://127.0.0.1:9", "ds-2": "http://127.0.0.1:9"}))
    client = await aiohttp_client(create_gateway_app(GatewaySettings(routes_file=table)))
    for path in concrete_pages():  # served by the gateway itself, even with every class down
        response = await client.get(path)
        assert response.status == 200 and response.headers["Content-Security-Policy"] == CSP
    listed = await (await client.get("/api/v2/classes")).json()
    assert listed == {"classes": [{"class_div": "ds-2"}, {"class_div": "os-1"}]}
    shell = await (await client.get("/ui/")).text()
    script = re.search(r'src="(/ui/static/[^"]+)"', shell).group(1)
    assert (await client.get(script)).status == 200
