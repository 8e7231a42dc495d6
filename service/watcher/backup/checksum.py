"""SHA-256 checksums kept beside a backup as `FILE.sha256`, in the format `sha256sum` writes and
`sha256sum -c` checks: `<hex digest>  <file name>`."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path

CHUNK = 1024 * 1024
_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


class ChecksumError(ValueError):
    """The checksum file is missing, malformed, or does not match; the message says which."""


def checksum_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".sha256")


def file_sha256(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """The hex SHA-256 of a file, read in 1 MiB chunks; `progress` gets the bytes read so far."""
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done)
    return digest.hexdigest()


def write_checksum(backup: Path, digest: str) -> Path:
    """Write `FILE.sha256` atomically (a reader never sees half a line)."""
    target = checksum_path(backup)
    partial = target.with_name(target.name + ".part")
    partial.write_text(f"{digest}  {backup.name}\n", encoding="utf-8")
    os.replace(partial, target)
    return target


def expected_checksum(backup: Path) -> str:
    """The digest recorded for `backup`; ChecksumError if there is none for it."""
    path = checksum_path(backup)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ChecksumError(f"{path} is missing: it is written beside every backup") from None
    for line in text.splitlines():
        found = _LINE.match(line.strip())
        if found and found.group(2) == backup.name:
            return found.group(1)
    raise ChecksumError(f"{path} has no sha256 line for {backup.name}")


def verify(backup: Path, progress: Callable[[int], None] | None = None) -> str:
    """Check `backup` against `FILE.sha256`; return the digest, or raise ChecksumError."""
    wanted = expected_checksum(backup)
    found = file_sha256(backup, progress)
    if found != wanted:
        raise ChecksumError(
            f"{backup}: sha256 is {found}, but {checksum_path(backup).name} says {wanted}: "
            "the file is damaged or is not the backup the checksum was written for"
        )
    return found
