"""JCode Watcher service: ingestion and analytics for student programming activity."""

__version__ = "0.1.0"
