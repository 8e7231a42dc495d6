"""Snapshot content over real HTTP: a snapshot directory laid out as filemon writes it, next to rows
ingested through the legacy POST; and content posted with the snapshot itself."""

from __future__ import annotations

import asyncio
import base64
import json
from itertools import pairwise
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.service.helpers import db_rows, snapshot_url
from watcher import schemas
from watcher.api.state import CONTENT, DATABASE
from watcher.app import create_app
from watcher.config import Settings

V2 = "/api/v2/classes/os-1/assignments/hw1/students/202012345/files/"

MAIN_1 = b"int main() {\n}\n"
MAIN_2 = b'#include <stdio.h>\nint main() {\n  printf("hi\\n");\n}\n'
MAIN_3 = b'#include <stdio.h>\nint main() {\n  printf("hello\\n");\n  return 0;\n}\n'
KOREAN = "# 한글 주석\nprint('안녕')\n".encode()
NOTEBOOK = json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()
BINARY = b"\x7fELF\x00\xff\xfe"


def write_snapshot(root: Path, student: str, filename: str, utc_stamp: str, data: bytes) -> Path:
    """A snapshot file exactly where filemon puts it: UTC name plus the source file's suffix."""
    suffix = Path(filename.rsplit("@", 1)[-1]).suffix
    directory = root / "os-1" / "hw1" / student / filename
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / (utc_stamp + suffix)
    path.write_bytes(data)
    return path


@pytest.fixture
def snapshot_root(tmp_path: Path) -> Path:
    root = tmp_path / "snapshots"
    root.mkdir()
    return root


@pytest.fixture
def settings(db_path: Path, snapshot_root: Path) -> Settings:
    return Settings(db_path=db_path, snapshot_dir=snapshot_root)


async def post(client: TestClient, filename: str, utc_stamp: str, data: bytes, **extra) -> None:
    body = {"bytes": len(data), **extra}
    response = await client.post(
        snapshot_url("os-1", "hw1", extra.pop("student", "202012345"), filename, utc_stamp),
        json=body,
    )
    assert response.status == 200, await response.text()


@pytest.fixture
async def history(client: TestClient, snapshot_root: Path) -> None:
    """What filemon leaves: the URL stamp and the file name may differ by a second either way."""
    saves = [
        ("main.c", "20250310_060000", "20250310_060000", MAIN_1),
        ("main.c", "20250310_060130", "20250310_060131", MAIN_2),  # file named 1 s later
        ("main.c", "20250310_061200", "20250310_061159", MAIN_3),  # and 1 s earlier
        ("main.c", "20250310_062000", "20250310_062000", b""),  # deleted: an empty file
        ("src@util@한글.py", "20250310_060500", "20250310_060501", KOREAN),
        ("notebook.ipynb", "20250310_060600", "20250310_060600", NOTEBOOK),
        ("blob.c", "20250310_060700", "20250310_060700", BINARY),
    ]
    for filename, url_stamp, file_stamp, data in saves:
        write_snapshot(snapshot_root, "202012345", filename, file_stamp, data)
        await post(client, filename, url_stamp, data)


async def get_json(client: TestClient, url: str, status: int = 200, **kwargs) -> dict:
    response = await client.get(url, **kwargs)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def test_versions_list_every_snapshot_with_offset_times(client, history):
    body = await get_json(client, V2 + "main.c/versions")
    assert body["content_configured"] is True
    assert (body["class_div"], body["hw_name"], body["student_id"], body["filename"]) == (
        "os-1", "hw1", 202012345, "main.c",
    )  # fmt: skip
    versions = body["versions"]
    assert [v["timestamp"] for v in versions] == [
        "2025-03-10T15:00:00+09:00",
        "2025-03-10T15:01:30+09:00",
        "2025-03-10T15:12:00+09:00",
        "2025-03-10T15:20:00+09:00",
    ]
    assert [v["stamp"] for v in versions] == [
        "20250310_150000", "20250310_150130", "20250310_151200", "20250310_152000",
    ]  # fmt: skip
    sizes = [len(MAIN_1), len(MAIN_2), len(MAIN_3), 0]
    assert [v["bytes"] for v in versions] == sizes
    assert [v["delta"] for v in versions] == [sizes[0]] + [b - a for a, b in pairwise(sizes)]
    assert [v["deleted"] for v in versions] == [False, False, False, True]
    assert all(v["available"] and v["source"] == "volume" for v in versions)
    assert [v["content_bytes"] for v in versions] == sizes
    assert not any(v["too_large"] for v in versions)
    # The legacy timeline lists the same stamps.
    legacy = await get_json(client, "/api/os-1/hw1/202012345/main.c")
    assert legacy == [v["stamp"] for v in versions]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("20250310_150000", MAIN_1),
        ("20250310_150130", MAIN_2),  # its file is named a second later
        ("2025-03-10T15:12:00+09:00", MAIN_3),  # ISO with offset; its file a second earlier
        ("2025-03-10T06:12:00Z", MAIN_3),
        ("20250310_152000", b""),  # the deletion
    ],
)
async def test_content_is_the_file_as_it_was(client, history, ref, expected):
    response = await client.get(V2 + f"main.c/versions/{ref}/content")
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert await response.read() == expected


async def test_korean_nested_name_and_notebook_and_binary(client, history):
    response = await client.get(V2 + "src@util@한글.py/versions/20250310_150500/content")
    assert response.status == 200, await response.text()
    assert await response.read() == KOREAN
    response = await client.get(V2 + "notebook.ipynb/versions/20250310_150600/content")
    assert response.content_type == "application/json"
    assert await response.json() == json.loads(NOTEBOOK)
    response = await client.get(V2 + "blob.c/versions/20250310_150700/content")
    assert response.content_type == "application/octet-stream"
    assert await response.read() == BINARY


async def test_diff_defaults_to_latest_against_previous(client, history):
    response = await client.get(V2 + "main.c/diff?to=20250310_151200")
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/x-diff; charset=utf-8"
    text = await response.text()
    assert text.splitlines()[:2] == [
        "--- main.c\t2025-03-10T15:01:30+09:00",
        "+++ main.c\t2025-03-10T15:12:00+09:00",
    ]
    assert '-  printf("hi\\n");' in text.splitlines()
    assert '+  printf("hello\\n");' in text.splitlines()
    assert "+  return 0;" in text.splitlines()
    # No `to`: the latest version (the deletion), against the one before it.
    latest = await (await client.get(V2 + "main.c/diff")).text()
    assert latest.splitlines()[1] == "+++ main.c\t2025-03-10T15:20:00+09:00"
    assert sum(line.startswith("-") for line in latest.splitlines()[2:]) == 5


async def test_diff_as_json_hunks(client, history):
    body = await get_json(
        client,
        V2 + "main.c/diff?from=20250310_150000&to=2025-03-10T15:12:00%2B09:00",
        headers={"Accept": "application/json"},
    )
    assert body["from"]["stamp"] == "20250310_150000"
    assert body["to"]["stamp"] == "20250310_151200"
    assert (body["added"], body["removed"]) == (3, 0)
    assert [h["header"] for h in body["hunks"]] == ["@@ -1,2 +1,5 @@"]
    # The first version has no previous one: it is compared with an empty file.
    first = await get_json(
        client, V2 + "main.c/diff?to=20250310_150000", headers={"Accept": "application/json"}
    )
    assert first["from"] is None and (first["added"], first["removed"]) == (2, 0)


async def test_replay_has_line_stats_and_optional_text(client, history):
    body = await get_json(client, V2 + "main.c/replay")
    stats = [(v["lines"], v["added"], v["removed"]) for v in body["versions"]]
    assert stats == [(2, 2, 0), (4, 2, 0), (5, 2, 1), (0, 0, 5)]
    assert all("text" not in v for v in body["versions"])
    with_text = await get_json(client, V2 + "main.c/replay?content=true")
    texts = [v["text"] for v in with_text["versions"]]
    assert texts == [d.decode() for d in (MAIN_1, MAIN_2, MAIN_3, b"")]
    binary = await get_json(client, V2 + "blob.c/replay?content=1")
    assert binary["versions"][0]["binary"] is True
    assert binary["versions"][0]["text"] is None and binary["versions"][0]["added"] is None


async def test_bad_and_unknown_references(client, history):
    missing = await get_json(client, V2 + "main.c/versions/20250310_150001/content", 404)
    assert "no version of main.c at 2025-03-10T15:00:01+09:00" in missing["detail"]
    bad = await get_json(client, V2 + "main.c/versions/yesterday/content", 422)
    assert bad["detail"][0]["loc"] == ["path", "version"]
    bad_from = await get_json(client, V2 + "main.c/diff?from=soon", 422)
    assert bad_from["detail"][0]["loc"] == ["query", "from"]
    bad_flag = await get_json(client, V2 + "main.c/replay?content=maybe", 422)
    assert bad_flag["detail"][0]["loc"] == ["query", "content"]
    unknown = await get_json(client, V2 + "nothing.c/versions", 404)
    assert "no snapshots of nothing.c" in unknown["detail"]
    binary = await get_json(client, V2 + "blob.c/diff", 422)
    assert "not UTF-8 text" in binary["detail"][0]["msg"]


async def test_a_row_without_a_file_within_the_tolerance_has_no_content(client, snapshot_root):
    write_snapshot(snapshot_root, "202012345", "far.c", "20250310_060004", b"x\n")
    await post(client, "far.c", "20250310_060000", b"x\n")
    body = await get_json(client, V2 + "far.c/versions")
    assert body["versions"][0]["available"] is False
    detail = await get_json(client, V2 + "far.c/versions/20250310_150000/content", 404)
    assert "within 3 s" in detail["detail"]


async def test_student_directory_with_leading_zeros(client, snapshot_root):
    write_snapshot(snapshot_root, "0123", "a.py", "20250310_060000", b"print(1)\n")
    await post(client, "a.py", "20250310_060000", b"print(1)\n", student="0123")
    url = "/api/v2/classes/os-1/assignments/hw1/students/123/files/a.py/versions/20250310_150000"
    response = await client.get(url + "/content")
    assert response.status == 200, await response.text()
    assert await response.read() == b"print(1)\n"


@pytest.mark.parametrize(
    "path",
    [
        "..%2F..%2Fetc/versions",
        "%2e%2e/versions",
        "..@passwd/versions",
        "%2Fetc%2Fpasswd/versions",
        "a%00b.c/versions",
    ],
)
async def test_traversal_in_the_file_name_is_refused(client, history, path):
    response = await client.get(V2 + path)
    assert 400 <= response.status < 500
    assert "detail" in await response.json()


async def test_traversal_in_class_or_assignment_is_refused(client, history):
    for url in (
        "/api/v2/classes/%2e%2e/assignments/hw1/students/1/files/a.c/versions",
        "/api/v2/classes/os-1/assignments/%2e%2e/students/1/files/a.c/versions",
    ):
        response = await client.get(url)
        assert 400 <= response.status < 500, url


async def test_symlinks_out_of_the_root_are_not_followed(client, snapshot_root, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "20250310_060000.c").write_bytes(b"secret\n")
    # A file's directory that is a symlink to elsewhere...
    student = snapshot_root / "os-1" / "hw1" / "202012345"
    student.mkdir(parents=True)
    (student / "leak.c").symlink_to(outside, target_is_directory=True)
    await post(client, "leak.c", "20250310_060000", b"secret\n")
    # ...and a snapshot file that is a symlink to a file elsewhere.
    (student / "link.c").mkdir()
    (student / "link.c" / "20250310_060000.c").symlink_to(outside / "20250310_060000.c")
    await post(client, "link.c", "20250310_060000", b"secret\n")
    for name in ("leak.c", "link.c"):
        response = await client.get(V2 + name + "/versions/20250310_150000/content")
        assert response.status == 404
        assert b"secret" not in await response.read()


async def test_symlinks_inside_the_root_are_fine(client, snapshot_root):
    real = write_snapshot(snapshot_root, "202012345", "real.c", "20250310_060000", b"ok\n")
    (real.parent.parent / "alias.c").symlink_to(real.parent, target_is_directory=True)
    await post(client, "alias.c", "20250310_060000", b"ok\n")
    response = await client.get(V2 + "alias.c/versions/20250310_150000/content")
    assert await response.read() == b"ok\n"


# --- content posted with the snapshot ----------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_posted_content_round_trips_and_is_deduplicated(client, db_path):
    await post(client, "p.c", "20250310_060000", MAIN_1, content_b64=b64(MAIN_1))
    await post(client, "p.c", "20250310_060100", MAIN_2, content_b64=b64(MAIN_2))
    await post(client, "p.c", "20250310_060200", MAIN_1, content_b64=b64(MAIN_1))  # undone
    assert db_rows(db_path, "SELECT COUNT(*) FROM content_blob") == [(2,)]
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot_content") == [(3,)]
    body = await get_json(client, V2 + "p.c/versions")
    assert [v["source"] for v in body["versions"]] == ["stored"] * 3
    assert [v["binary"] for v in body["versions"]] == [False] * 3
    for stamp, data in (("20250310_150000", MAIN_1), ("20250310_150100", MAIN_2)):
        response = await client.get(V2 + f"p.c/versions/{stamp}/content")
        assert await response.read() == data
    replay = await get_json(client, V2 + "p.c/replay")
    assert [(v["added"], v["removed"]) for v in replay["versions"]] == [(2, 0), (2, 0), (0, 2)]


async def test_stored_content_wins_over_the_volume(client, snapshot_root):
    write_snapshot(snapshot_root, "202012345", "both.c", "20250310_060000", b"volume\n")
    await post(client, "both.c", "20250310_060000", b"posted\n", content_b64=b64(b"posted\n"))
    response = await client.get(V2 + "both.c/versions/20250310_150000/content")
    assert await response.read() == b"posted\n"


async def test_same_second_versions_address_the_last(client):
    await post(client, "d.c", "20250310_060000", b"first\n", content_b64=b64(b"first\n"))
    await post(client, "d.c", "20250310_060000", b"second\n", content_b64=b64(b"second\n"))
    response = await client.get(V2 + "d.c/versions/20250310_150000/content")
    assert await response.read() == b"second\n"
    body = await get_json(client, V2 + "d.c/versions")
    assert len(body["versions"]) == 2


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b64(b"four"), "content_length"),  # decodes to 4 bytes, `bytes` says 5
        ("not base64!", "base64_decode"),
        ("QUJ", "base64_decode"),
        (12345, "string_type"),
    ],
)
async def test_bad_posted_content_is_a_422_naming_the_field(client, db_path, content, kind):
    url = snapshot_url("os-1", "hw1", "202012345", "x.c", "20250310_060000")
    response = await client.post(url, json={"bytes": 5, "content_b64": content})
    assert response.status == 422
    detail = (await response.json())["detail"]
    assert [(e["type"], e["loc"]) for e in detail] == [(kind, ["body", "content_b64"])]
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(0,)]


async def test_legacy_body_still_stores_no_content(client, db_path):
    await post(client, "l.c", "20250310_060000", b"abc")
    await post(client, "l.c", "20250310_060100", b"abc", content_b64=None)
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot") == [(2,)]
    assert db_rows(db_path, "SELECT COUNT(*) FROM snapshot_content") == [(0,)]


async def test_too_large_content_is_reported_not_served(aiohttp_client, db_path, snapshot_root):
    client = await aiohttp_client(
        create_app(Settings(db_path=db_path, snapshot_dir=snapshot_root, content_max_bytes=8))
    )
    write_snapshot(snapshot_root, "202012345", "big.c", "20250310_060000", b"0123456789\n")
    await post(client, "big.c", "20250310_060000", b"0123456789\n")
    body = await get_json(client, V2 + "big.c/versions")
    assert body["versions"][0]["too_large"] is True
    assert body["versions"][0]["available"] is False
    detail = await get_json(client, V2 + "big.c/versions/20250310_150000/content", 404)
    assert "WATCHER_CONTENT_MAX_BYTES" in detail["detail"]


# --- without a snapshot directory ----------------------------------------------------------------


async def test_without_snapshot_dir_content_routes_say_not_configured(aiohttp_client, db_path):
    client = await aiohttp_client(create_app(Settings(db_path=db_path)))
    await post(client, "main.c", "20250310_060000", MAIN_1)
    versions = await get_json(client, V2 + "main.c/versions")
    assert versions["content_configured"] is False
    assert versions["versions"][0]["available"] is False
    for route in ("versions/20250310_150000/content", "diff", "replay"):
        body = await get_json(client, V2 + "main.c/" + route, 404)
        assert "not configured" in body["detail"], route
    # Posted content is served all the same.
    await post(client, "s.c", "20250310_060000", MAIN_1, content_b64=b64(MAIN_1))
    response = await client.get(V2 + "s.c/versions/20250310_150000/content")
    assert await response.read() == MAIN_1


async def test_content_reader_interface(client, history):
    """A file's versions, then their content: every row id of a file -> its bytes or None."""
    app = client.server.app
    reader = app[CONTENT]
    async with app[DATABASE].read() as conn:
        versions = await reader.versions(conn, "os-1", "hw1", 202012345, "main.c")
        contents = await reader.read(conn, versions)
    ids = [r[0] for r in db_rows(app[DATABASE].path, "SELECT id FROM snapshot"
                                 " WHERE filename = 'main.c' ORDER BY id")]  # fmt: skip
    assert list(contents) == ids
    assert list(contents.values()) == [MAIN_1, MAIN_2, MAIN_3, b""]


async def test_routes_are_documented(client):
    spec = await get_json(client, "/api/docs/swagger.json")
    prefix = "/api/v2/classes/{class_div}/assignments/{hw_name}/students/{student_id}"
    for tail in ("versions", "versions/{version}/content", "diff", "replay"):
        assert prefix + "/files/{filename}/" + tail in spec["paths"], tail


async def test_responses_fit_their_documented_schemas(client, history):
    checks = [
        ("main.c/versions", {}, schemas.ContentVersionsOut()),
        ("main.c/replay?content=true", {}, schemas.ReplayOut()),
        ("main.c/diff", {"Accept": "application/json"}, schemas.DiffOut()),
        ("main.c/diff?to=20250310_150000", {"Accept": "application/json"}, schemas.DiffOut()),
    ]
    for route, headers, schema in checks:
        body = await get_json(client, V2 + route, headers=headers)
        assert schema.validate(body) == {}, route


async def test_concurrent_posts_link_each_content_to_its_own_row(client, db_path):
    """Posts arriving together share one group-commit batch; each row keeps its own content."""

    async def one(i: int) -> None:
        data = f"version {i}\n".encode()
        extra = {"content_b64": b64(data)} if i % 3 else {}
        await post(client, "many.c", f"20250310_06{i // 60:02d}{i % 60:02d}", data, **extra)

    await asyncio.gather(*(one(i) for i in range(60)))
    rows = db_rows(
        db_path,
        "SELECT s.timestamp, b.size FROM snapshot AS s JOIN snapshot_content AS c"
        " ON c.snapshot_id = s.id JOIN content_blob AS b ON b.hash = c.hash",
    )
    assert len(rows) == 40
    for stamp, _size in rows:
        i = int(stamp[-4:-2]) * 60 + int(stamp[-2:])
        response = await client.get(V2 + f"many.c/versions/{stamp}/content")
        assert await response.read() == f"version {i}\n".encode()
