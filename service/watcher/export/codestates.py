"""Code states: the student's code in one assignment as a whole, as it was at one moment.

A code state is every file filemon has reported saved and not deleted, each with the content of
its last save. A save replaces one file, a deletion removes one, builds and runs change nothing.
Its id is a hash of every (path, content hash) pair, so equal code shares one id whoever wrote it,
and the empty code (before a student's first save) has one id for everybody.

A file whose content is unknown (nothing posted, no snapshot file matched, or over the size limit)
is kept in the code state by name only; its part of the hash names the save whose content is
missing, so a code state with an unknown file never shares an id with one that is known, nor with
another save's unknown state.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

ID_HEX_DIGITS = 24
ROOT = "CodeStates"
# What Windows (and some unzip tools) cannot store in a name, and `%` itself, as %XX.
_ESCAPED = re.compile(r'[\x00-\x1f\x7f\\:*?"<>|%]')


def archive_path(section: str) -> str:
    """A path below the assignment as written in the archive and in CodeStateSection: `/`
    between directories, each of `\\:*?"<>|%` and control characters as `%XX`."""
    return _ESCAPED.sub(lambda m: f"%{ord(m.group()):02X}", section)


def member_name(code_state_id: str, path: str) -> str:
    """Where one file of a code state lives in the archive (`path` already archive_path'd)."""
    return f"{ROOT}/{code_state_id}/{path}"


def directory_name(code_state_id: str) -> str:
    return f"{ROOT}/{code_state_id}/"


@dataclass(frozen=True)
class FileState:
    """One file of a code state: its content, or None with the save whose content is unknown."""

    data: bytes | None
    digest: str  # SHA-256 of `data`, or `unknown:<EventID of the save>`

    @classmethod
    def known(cls, data: bytes) -> FileState:
        return cls(data, hashlib.sha256(data).hexdigest())

    @classmethod
    def unknown(cls, event_id: str) -> FileState:
        return cls(None, f"unknown:{event_id}")


class CodeState:
    """The code of one student in one assignment, changed save by save."""

    def __init__(self) -> None:
        self._files: dict[str, FileState] = {}
        self._id: str | None = None

    def save(self, path: str, state: FileState) -> None:
        self._files[path] = state
        self._id = None

    def delete(self, path: str) -> None:
        if self._files.pop(path, None) is not None:
            self._id = None

    @property
    def id(self) -> str:
        if self._id is None:
            digest = hashlib.sha256()
            for path, state in sorted(self._files.items()):
                digest.update(f"{path}\x00{state.digest}\n".encode())
            self._id = digest.hexdigest()[:ID_HEX_DIGITS]
        return self._id

    def known_files(self) -> list[tuple[str, bytes]]:
        """(path, content) of every file whose content is known, by path."""
        return sorted((p, s.data) for p, s in self._files.items() if s.data is not None)

    def unknown_paths(self) -> list[str]:
        return sorted(p for p, s in self._files.items() if s.data is None)

    def link_row(self) -> tuple[str, int, str]:
        """The code state's row of LinkTables/CodeState.csv."""
        unknown = self.unknown_paths()
        return self.id, len(self._files), json.dumps(unknown, ensure_ascii=False)


LINK_TABLE = "LinkTables/CodeState.csv"
LINK_COLUMNS = ("CodeStateID", "X-FileCount", "X-UnknownContent")
