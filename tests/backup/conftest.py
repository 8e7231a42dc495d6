"""Replicas for the backup tests: a directory (Litestream's file replica) and a bucket on a real
S3-compatible server on 127.0.0.1, each configured exactly as the operator renders it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backup.tools import Replica, file_replica, s3_replica, s3_server


@pytest.fixture(params=["file", "s3"])
def replica(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Replica]:
    if request.param == "file":
        yield file_replica(tmp_path / "replica")
    else:
        with s3_server(tmp_path / "s3") as server:
            yield s3_replica(server)
