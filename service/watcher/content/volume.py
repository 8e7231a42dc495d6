"""The filemon snapshot volume, read-only: finding a file's snapshots without ever leaving it.

Layout (CONTRACT §4.1): `<root>/<class_div>/<hw_name>/<student_id>/<filename with @>/<UTC
YYYYmmdd_HHMMSS><suffix>`. filemon names a file's directory as the file is named on disk, but the
name reaches the database percent-decoded (filemon does not encode its URL, so its HTTP client
decodes a valid `%XX` in it: `ab%41.c` is stored as `abA.c`), so a stored name is looked up under
every spelling that decodes to it (and in either Unicode normalisation form). Every name taken
from a request is checked to be one plain path component, and every path is resolved (symlinks
followed) and must still lie inside the resolved root: a symlink pointing elsewhere is treated as
absent, never followed out.
"""

from __future__ import annotations

import calendar
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from watcher.names import normal_filename

log = logging.getLogger(__name__)

_STAMPED = re.compile(r"(\d{8}_\d{6})(\.[^/]*)?")
_DIGITS = re.compile(r"\d+")


class UnsafeName(ValueError):
    """A name that is not one plain path component (it could point outside its directory)."""


@dataclass(frozen=True)
class VolumeFile:
    """One snapshot file: where it is, the UTC second its name gives, and its size."""

    path: Path
    utc_seconds: int
    size: int


def check_component(name: str) -> str:
    """`name` if it is one plain path component; UnsafeName otherwise."""
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\\" in name
        or "\x00" in name
        or os.path.isabs(name)
    ):
        raise UnsafeName(f"not a plain file name: {name!r}")
    return name


def utc_seconds_of_name(name: str) -> int | None:
    """`20250310_060130.py` -> its Unix seconds (the name is UTC); None for any other name."""
    match = _STAMPED.fullmatch(name)
    if not match:
        return None
    try:
        moment = datetime.strptime(match.group(1), "%Y%m%d_%H%M%S")
    except ValueError:
        return None
    return calendar.timegm(moment.timetuple())


class SnapshotVolume:
    """Blocking file-system calls: run them in a thread (ContentReader does)."""

    def __init__(self, root: Path) -> None:
        # Resolved once: the containment check compares resolved paths with this.
        self.root = root.resolve()

    def _inside(self, path: Path) -> Path | None:
        """`path` resolved, if it exists and stays inside the root; None otherwise."""
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):  # missing, a loop of symlinks, permissions
            return None
        if resolved != self.root and not resolved.is_relative_to(self.root):
            log.warning("snapshot path %s leaves the snapshot directory; ignored", path)
            return None
        return resolved

    def _directory(self, parent: Path, name: str) -> Path | None:
        found = self._inside(parent / check_component(name))
        return found if found is not None and found.is_dir() else None

    def _student_directory(self, assignment: Path, student_id: int) -> Path | None:
        """The student's directory. The database keeps ids as integers (`0123` became 123), so
        when `123` does not exist, a single directory of digits with that value is taken;
        several (`0123` and `00123`) are ambiguous and none is taken."""
        exact = self._directory(assignment, str(student_id))
        if exact is not None:
            return exact
        try:
            names = [e.name for e in os.scandir(assignment) if _DIGITS.fullmatch(e.name)]
        except OSError:
            return None
        candidates = [n for n in names if int(n) == student_id]
        if len(candidates) != 1:
            return None
        return self._directory(assignment, candidates[0])

    def _spellings(self, student: Path, filename: str) -> list[str]:
        """`filename` and every other name in the student's directory that percent-decodes to
        it (`ab%41.c` for `abA.c`), in either Unicode form (names are stored in NFC; a file
        made on a system that writes NFD has its directory named so): the names filemon may
        have given the file's directory."""
        check_component(filename)
        try:
            names = [e.name for e in os.scandir(student)]
        except OSError:
            names = []
        others = sorted(
            n for n in names if n != filename and normal_filename(unquote(n)) == filename
        )
        return [filename, *others]

    def file_directories(
        self, class_div: str, hw_name: str, student_id: int, filename: str
    ) -> list[Path]:
        """The directories holding one file's snapshots (one per spelling found)."""
        directory: Path | None = self.root
        for name in (class_div, hw_name):
            directory = self._directory(directory, name) if directory else None
        if directory is None:
            return []
        student = self._student_directory(directory, student_id)
        if student is None:
            return []
        found = (self._directory(student, name) for name in self._spellings(student, filename))
        return [d for d in found if d is not None]

    def snapshot_files(
        self, class_div: str, hw_name: str, student_id: int, filename: str
    ) -> list[VolumeFile]:
        """Every regular file named by a UTC stamp in the file's directories (any suffix), in
        time order."""
        found: list[VolumeFile] = []
        for directory in self.file_directories(class_div, hw_name, student_id, filename):
            found.extend(self._stamped_files(directory))
        return sorted(found, key=lambda f: (f.utc_seconds, f.path.name, str(f.path)))

    def _stamped_files(self, directory: Path) -> list[VolumeFile]:
        found: list[VolumeFile] = []
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return []
        for entry in entries:
            seconds = utc_seconds_of_name(entry.name)
            if seconds is None:
                continue
            path = self._inside(Path(entry.path))
            if path is None or not path.is_file():
                continue
            found.append(VolumeFile(path, seconds, path.stat().st_size))
        return found

    def read(self, file: VolumeFile, max_bytes: int) -> bytes | None:
        """The file's bytes, or None if it is gone, has left the root, or is over `max_bytes`."""
        path = self._inside(file.path)
        if path is None:
            return None
        try:
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError:
            return None
        return data if len(data) <= max_bytes else None
