"""Optional tokens, CORS, and the names the service accepts or refuses."""

from __future__ import annotations

import pytest

from tests.service.helpers import BUILD, STUDENT, db_rows, snapshot_url
from watcher.app import create_app
from watcher.config import Settings

INGEST = "ingest-secret-1"
READ = "read-secret-2"
METRICS = "metrics-secret-3"


@pytest.fixture
async def locked(aiohttp_client, db_path):
    settings = Settings(
        db_path=db_path, ingest_token=INGEST, read_token=READ, metrics_token=METRICS
    )
    return await aiohttp_client(create_app(settings))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_without_tokens_nothing_is_asked(client):
    url = snapshot_url("os-1", "hw1", "1", "a.c", "20250310_060000")
    assert (await client.post(url, json={"bytes": 1})).status == 200
    assert (await client.get("/api/os-1/hw1/1")).status == 200


@pytest.mark.parametrize("headers", [{}, bearer("wrong"), bearer(READ), {"Authorization": INGEST}])
async def test_ingest_needs_the_ingest_token(locked, db_path, headers):
    url = snapshot_url("os-1", "hw1", "1", "a.c", "20250310_060000")
    response = await locked.post(url, json={"bytes": 1}, headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "detail" in await response.json()
    response = await locked.post(STUDENT + "/logs/build", json=BUILD, headers=headers)
    assert response.status == 401
    for table in ("snapshot", "buildlog"):
        assert db_rows(db_path, f"SELECT COUNT(*) FROM {table}") == [(0,)]


async def test_right_tokens_are_accepted(locked, db_path):
    url = snapshot_url("os-1", "hw1", "1", "a.c", "20250310_060000")
    assert (await locked.post(url, json={"bytes": 1}, headers=bearer(INGEST))).status == 200
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(1,)]
    assert (await locked.get("/api/os-1/hw1/1")).status == 401
    assert (await locked.get("/api/os-1/hw1/1", headers=bearer(INGEST))).status == 401
    response = await locked.get("/api/os-1/hw1/1", headers=bearer(READ))
    assert (response.status, await response.json()) == (200, ["a.c"])


async def test_probes_stay_open_and_metrics_take_their_own_token(locked):
    assert (await locked.get("/healthz")).status == 200
    assert (await locked.get("/readyz")).status == 200
    assert (await locked.get("/metrics")).status == 401
    assert (await locked.get("/metrics", headers=bearer(METRICS))).status == 200


async def test_tokens_never_reach_logs_or_metrics(locked, caplog):
    caplog.set_level("DEBUG")
    url = snapshot_url("os-1", "hw1", "1", "a.c", "20250310_060000")
    await locked.post(url, json={"bytes": 1}, headers=bearer(INGEST))
    await locked.post(url, json={"bytes": 1}, headers=bearer("guess-" + READ))
    text = await (await locked.get("/metrics", headers=bearer(METRICS))).text()
    for secret in (INGEST, READ, METRICS):
        assert secret not in caplog.text
        assert secret not in text
    assert INGEST not in repr(Settings(ingest_token=INGEST))


async def test_cors_is_off_by_default(client):
    response = await client.get(STUDENT, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_cors_for_a_listed_origin_never_wildcards_credentials(aiohttp_client, db_path):
    portal = "https://portal.example"
    client = await aiohttp_client(create_app(Settings(db_path=db_path, cors_origins=(portal,))))
    response = await client.get(STUDENT, headers={"Origin": portal})
    assert response.headers["Access-Control-Allow-Origin"] == portal
    assert response.headers["Vary"] == "Origin"
    response = await client.get(STUDENT, headers={"Origin": "https://other.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = await client.options(
        STUDENT,
        headers={"Origin": portal, "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "Authorization"},
    )  # fmt: skip
    assert preflight.status == 200
    assert preflight.headers["Access-Control-Allow-Headers"] == "Authorization"
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    refused = await client.options(
        STUDENT, headers={"Origin": portal, "Access-Control-Request-Method": "DELETE"}
    )
    assert refused.status == 400


async def test_cors_wildcard_has_no_credentials(aiohttp_client, db_path):
    client = await aiohttp_client(create_app(Settings(db_path=db_path, cors_origins=("*",))))
    response = await client.get(STUDENT, headers={"Origin": "https://any.example", "Cookie": "a=b"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


# --- names ---------------------------------------------------------------------------------------

ACCEPTED_FILENAMES = ["main.c", "src@app@test.py", "과제.py", "my file.c", "nb.ipynb", "a{b}.c",
                      "(1).h", "x#y.cpp", "100%.c", "résumé.py", "a=b&c.c"]  # fmt: skip


@pytest.mark.parametrize("filename", ACCEPTED_FILENAMES)
async def test_every_name_collectors_send_is_accepted(client, db_path, filename):
    url = "/api/os-1/hw1/202012345/" + filename.replace("%", "%25").replace("#", "%23")
    response = await client.post(url + "/20250310_060000", json={"bytes": 1})
    assert response.status == 200, await response.text()
    assert db_rows(db_path, "SELECT filename FROM snapshot") == [(filename,)]
    assert await (await client.get(url)).json() == ["20250310_150000"]


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("/api/os-1/hw1/1/..@..@etc@passwd/20250310_060000", "filename"),
        ("/api/os-1/hw1/1/a%00b.c/20250310_060000", "filename"),
        ("/api/os-1/hw1/1/a%0Ab.c/20250310_060000", "filename"),
        ("/api/os-1/hw1/1/a%5Cb.c/20250310_060000", "filename"),
        ("/api/os-1/hw1/1/" + "x" * 600 + ".c/20250310_060000", "filename"),
        ("/api/os%0A1/hw1/1/a.c/20250310_060000", "class_div"),
        ("/api/os_1/hw1/1/a.c/20250310_060000", "class_div"),
        ("/api/os-1/..%2F/1/a.c/20250310_060000", "hw_name"),
        ("/api/os-1/hw%201/1/a.c/20250310_060000", "hw_name"),
        ("/api/os-1/hw1/-5/a.c/20250310_060000", "student_id"),
        ("/api/os-1/hw1/99999999999999999999/a.c/20250310_060000", "student_id"),
    ],
)
async def test_bad_names_are_refused_with_422(client, db_path, path, loc):
    response = await client.post(path, json={"bytes": 1})
    assert response.status == 422, await response.text()
    detail = (await response.json())["detail"]
    assert detail[0]["loc"] == ["path", loc]
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]


@pytest.mark.parametrize(
    ("field", "value"),
    [("exit_code", 2**70), ("cmdline", "gcc\x00main.c"), ("cwd", "x" * 20000)],
)
async def test_out_of_range_log_fields_are_422(client, db_path, field, value):
    response = await client.post(STUDENT + "/logs/build", json={**BUILD, field: value})
    assert response.status == 422
    assert (await response.json())["detail"][0]["loc"] == ["body", field]
    assert db_rows(db_path, "SELECT COUNT(*) FROM buildlog") == [(0,)]


async def test_huge_snapshot_size_is_422_not_500(client, db_path):
    url = snapshot_url("os-1", "hw1", "1", "a.c", "20250310_060000")
    response = await client.post(url, json={"bytes": 2**64})
    assert response.status == 422
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]


async def test_reads_validate_names_too(client):
    response = await client.get("/api/os-1/hw1/1/a%00b.c")
    assert response.status == 422
    response = await client.get("/api/assignment/bad%0Aclass/hw1")
    assert response.status == 422
