"""Snapshot content (issue 9): posted content in the database and the filemon volume."""

from watcher.content.reader import STORED, VOLUME, ContentReader, Version

__all__ = ["STORED", "VOLUME", "ContentReader", "Version"]
