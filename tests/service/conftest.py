"""Fixtures for the service: the real app on a real SQLite file, driven over real HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.service.helpers import snapshot_url
from watcher.app import create_app
from watcher.config import Settings

PostSnapshot = Callable[..., Awaitable[None]]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "watcher.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    return Settings(db_path=db_path)


@pytest.fixture
async def client(aiohttp_client, settings: Settings) -> TestClient:
    return await aiohttp_client(create_app(settings))


@pytest.fixture
def post_snapshot(client: TestClient) -> PostSnapshot:
    async def post(
        filename: str, utc_stamp: str, size: int, student: int | str = 202012345, **scope: str
    ) -> None:
        url = snapshot_url(
            scope.get("class_div", "os-1"), scope.get("hw", "hw1"), student, filename, utc_stamp
        )
        response = await client.post(url, json={"bytes": size})
        assert response.status == 200, await response.text()
        assert await response.json() == {"message": "Snapshot registered successfully"}

    return post


@pytest.fixture
async def contract_example(post_snapshot: PostSnapshot) -> None:
    """The data set behind CONTRACT §1's verified examples (collector UTC = KST - 9 h).

    Student 202012345: main.c 100, 150, 120 and src@util.c 40; student 202099999: a.c 10 then 30,
    b.c 5 last. Seven snapshots, sizes [5, 10, 30, 40, 100, 120, 150].
    """
    await post_snapshot("main.c", "20250310_060000", 100)
    await post_snapshot("main.c", "20250310_060130.c", 150)  # older filemon: name with suffix
    await post_snapshot("src@util.c", "20250310_060500", 40)
    await post_snapshot("main.c", "20250310_061200", 120)
    await post_snapshot("a.c", "20250310_070000", 10, student=202099999)
    await post_snapshot("a.c", "20250310_070100", 30, student=202099999)
    await post_snapshot("b.c", "20250310_070200", 5, student=202099999)
