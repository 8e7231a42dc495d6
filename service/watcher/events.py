"""The three kinds of events the collectors send, and the table each is stored in."""

from __future__ import annotations

# table -> kind, as metrics label them and the insights name them.
KIND_OF_TABLE = {"snapshot": "snapshot", "buildlog": "build", "runlog": "run"}
LOG_TABLES = {"buildlog": "build", "runlog": "run"}
