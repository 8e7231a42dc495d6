"""`python -m watcher.store.schema > service/watcher/store/schema/schema.sql`: the schema of a
freshly migrated database, to commit with every new migration."""

from watcher.store.schema import fresh_dump

print(fresh_dump(), end="")
