"""Issue 15: content that matches every save, over the exact requests filemon sends, through the
content routes and the ProgSnap2 export alike."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from tests.service.test_content import V2, get_json, snapshot_root, write_snapshot
from tests.service.test_export import CONTACT, code_state, export, main_table, unknown_content
from watcher.config import Settings

__all__ = ["snapshot_root"]  # the fixture, shared with test_content


@pytest.fixture
def settings(db_path: Path, snapshot_root: Path) -> Settings:
    return Settings(db_path=db_path, snapshot_dir=snapshot_root, **CONTACT)


async def test_two_saves_in_one_second_the_last_owns_the_file(client, snapshot_root):
    """The editor saved twice in one second; filemon's second write replaced its first file."""
    write_snapshot(snapshot_root, "202012345", "twice.c", "20250310_060000", b"second save\n")
    for size in (len(b"first\n"), len(b"second save\n")):
        response = await client.post(
            "/api/os-1/hw1/202012345/twice.c/20250310_060000", json={"bytes": size}
        )
        assert response.status == 200
    body = await get_json(client, V2 + "twice.c/versions")
    assert [(v["bytes"], v["available"], v["source"]) for v in body["versions"]] == [
        (6, False, None),  # the earlier save has no content of its own
        (12, True, "volume"),
    ]
    response = await client.get(V2 + "twice.c/versions/20250310_150000/content")
    assert await response.read() == b"second save\n"
    archive, _ = await export(client)
    first, second = main_table(archive)
    assert code_state(archive, first["CodeStateID"]) == {}
    assert unknown_content(archive)[first["CodeStateID"]] == ["twice.c"]
    assert code_state(archive, second["CodeStateID"]) == {"twice.c": b"second save\n"}


async def test_two_saves_in_one_second_with_two_files_keep_their_order(client, snapshot_root):
    """filemon named the second save's file a second later: each save keeps its own."""
    write_snapshot(snapshot_root, "202012345", "two.c", "20250310_060000", b"one\n")
    write_snapshot(snapshot_root, "202012345", "two.c", "20250310_060001", b"two!\n")
    for size in (4, 5):
        response = await client.post(
            "/api/os-1/hw1/202012345/two.c/20250310_060000", json={"bytes": size}
        )
        assert response.status == 200
    body = await get_json(client, V2 + "two.c/replay?content=true")
    assert [v["text"] for v in body["versions"]] == ["one\n", "two!\n"]


async def test_a_percent_sequence_in_the_name_is_found_under_either_spelling(client, snapshot_root):
    """filemon wrote `ab%41.c` on the volume; its unencoded URL reached us decoded as `abA.c`."""
    write_snapshot(snapshot_root, "202012345", "ab%41.c", "20250310_060000", b"int a;\n")
    response = await client.post(
        "/api/os-1/hw1/202012345/ab%41.c/20250310_060000", json={"bytes": 7}
    )
    assert response.status == 200
    assert await get_json(client, "/api/os-1/hw1/202012345") == ["abA.c"]
    body = await get_json(client, V2 + "abA.c/versions")
    assert [(v["available"], v["source"]) for v in body["versions"]] == [(True, "volume")]
    response = await client.get(V2 + "abA.c/versions/20250310_150000/content")
    assert await response.read() == b"int a;\n"
    archive, _ = await export(client)
    [row] = main_table(archive)
    assert code_state(archive, row["CodeStateID"]) == {"abA.c": b"int a;\n"}


async def test_a_name_written_decomposed_on_the_volume_is_found(client, snapshot_root):
    """Names are stored in NFC; a file made where names are NFD has its directory named so."""
    composed = "과제.c"
    decomposed = unicodedata.normalize("NFD", composed)
    write_snapshot(snapshot_root, "202012345", decomposed, "20250310_060000", b"int k;\n")
    url = "/api/os-1/hw1/202012345/" + decomposed + "/20250310_060000"
    assert (await client.post(url, json={"bytes": 7})).status == 200
    assert await get_json(client, "/api/os-1/hw1/202012345") == [composed]
    body = await get_json(client, V2 + composed + "/versions")
    assert [(v["available"], v["source"]) for v in body["versions"]] == [(True, "volume")]


async def test_both_spellings_on_the_volume_are_one_file(client, snapshot_root):
    write_snapshot(snapshot_root, "202012345", "abA.c", "20250310_060000", b"plain\n")
    write_snapshot(snapshot_root, "202012345", "ab%41.c", "20250310_060100", b"encoded\n")
    for stamp, size in (("20250310_060000", 6), ("20250310_060100", 8)):
        response = await client.post(f"/api/os-1/hw1/202012345/abA.c/{stamp}", json={"bytes": size})
        assert response.status == 200
    body = await get_json(client, V2 + "abA.c/replay?content=true")
    assert [v["text"] for v in body["versions"]] == ["plain\n", "encoded\n"]
