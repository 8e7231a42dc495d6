"""One-off backups for people without object storage: `python -m watcher backup --to FILE`
writes a consistent copy of the running service's database with a checksum beside it, and
`python -m watcher restore FILE` puts one back. Continuous replication is Litestream's job (the
operator runs it as a sidecar); this package never replaces it."""
