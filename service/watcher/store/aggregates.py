"""Aggregates kept up to date by SQLite triggers, in the same transaction as each insert.

Every analytics route reads these instead of an assignment's full history, so their cost grows
with the answer (students, files) and not with the number of saves:

- `file_state`      one row per (class, assignment, student, file): snapshot count and bytes.
- `student_state`   one row per (class, assignment, student): count, bytes, first/latest time, the
                    size at the latest time (first-inserted row wins a tie, as in the original) and
                    the first row's id (the original's tie-break order for top_7).
- `size_count`      histogram of snapshot sizes per assignment, and `size_bucket` the same in
                    256-byte buckets, so a percentile reads a few hundred rows, not every snapshot.
- `log_count`       build/run rows per student.
- `snapshot.churn_cum`  running sum of |size change| along one file's history in (timestamp, id)
                    order, so churn over any window is last - first of two index seeks per file.
- `snapshot.student_total`  the student's code size (sum of every file's latest size) right after
                    this save, so a graph bucket's value is one seek to the bucket's last save.

Triggers fire for every insert path (the writer, bulk seeding, a migration), so the aggregates
cannot be forgotten. `REBUILD` recomputes everything from the base tables.
"""

from __future__ import annotations

BUCKET_SHIFT = 8  # size_bucket groups sizes in 256-byte ranges: <= 256 buckets below 64 KiB

NEW_STUDENT = "class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id"


def compact_seconds(column: str) -> str:
    """SQL: a YYYYMMDD_HHMMSS column as Unix seconds (of the wall clock, as UTC)."""
    c = column
    return (
        f"CAST(strftime('%s', substr({c},1,4)||'-'||substr({c},5,2)||'-'||substr({c},7,2)||' '"
        f"||substr({c},10,2)||':'||substr({c},12,2)||':'||substr({c},14,2)) AS INTEGER)"
    )


def log_seconds(column: str) -> str:
    """SQL: a stored log time `YYYY-MM-DD HH:MM:SS[.ffffff]` as Unix seconds, the fraction cut."""
    return f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER)"


NEW_FILE = f"{NEW_STUDENT} AND filename = NEW.filename"
# NEW's neighbours in its file's (timestamp, id) order, before and after.
PREVIOUS_IN_FILE = (
    "SELECT {column} FROM snapshot WHERE " + NEW_FILE + " AND timestamp <= NEW.timestamp"
    " AND id < NEW.id ORDER BY timestamp DESC, churn_cum DESC LIMIT 1"
)
NEXT_IN_FILE = (
    "SELECT {column} FROM snapshot WHERE " + NEW_FILE + " AND timestamp > NEW.timestamp"
    " ORDER BY timestamp, id LIMIT 1"
)


def _running_columns(where: str, per_student: str) -> str:
    """Running churn per file and running code size per student, from scratch, as (id, churn,
    total) rows. `per_student` is the PARTITION BY prefix that separates students (or '')."""
    file_order = f"PARTITION BY {per_student}filename ORDER BY timestamp, id"
    student_order = f"{'PARTITION BY ' + per_student.rstrip(', ') if per_student else ''}"
    return f"""
    SELECT id,
           SUM(CASE WHEN previous IS NULL THEN 0 ELSE abs(file_size - previous) END)
               OVER ({file_order}) AS churn,
           SUM(file_size - COALESCE(previous, 0))
               OVER ({student_order} ORDER BY timestamp, id) AS total
      FROM (SELECT id, class_div, hw_name, student_id, filename, timestamp, file_size,
                   LAG(file_size) OVER ({file_order}) AS previous
              FROM snapshot {where})"""


_ALL_RUNNING = _running_columns("", "class_div, hw_name, student_id, ")

TABLES: tuple[str, ...] = (
    "ALTER TABLE snapshot ADD COLUMN churn_cum INTEGER",
    "ALTER TABLE snapshot ADD COLUMN student_total INTEGER",
    """CREATE TABLE file_state (
        class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, student_id INTEGER NOT NULL,
        filename VARCHAR NOT NULL, snapshots INTEGER NOT NULL, total_bytes INTEGER NOT NULL,
        PRIMARY KEY (class_div, hw_name, student_id, filename)) WITHOUT ROWID""",
    """CREATE TABLE student_state (
        class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, student_id INTEGER NOT NULL,
        snapshots INTEGER NOT NULL, total_bytes INTEGER NOT NULL,
        first_timestamp VARCHAR NOT NULL, latest_timestamp VARCHAR NOT NULL,
        latest_size INTEGER NOT NULL, first_id INTEGER NOT NULL,
        PRIMARY KEY (class_div, hw_name, student_id)) WITHOUT ROWID""",
    """CREATE TABLE size_count (
        class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, file_size INTEGER NOT NULL,
        n INTEGER NOT NULL, PRIMARY KEY (class_div, hw_name, file_size)) WITHOUT ROWID""",
    """CREATE TABLE size_bucket (
        class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, bucket INTEGER NOT NULL,
        n INTEGER NOT NULL, PRIMARY KEY (class_div, hw_name, bucket)) WITHOUT ROWID""",
    """CREATE TABLE log_count (
        kind VARCHAR NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
        student_id INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (kind, class_div, hw_name, student_id)) WITHOUT ROWID""",
)

# Schema 3's per-file statement of the trigger below; schema 4 (store/activity.py) replaces it with
# one that also keeps each file's churn, largest change and latest save.
FILE_STATE_V3 = """INSERT INTO file_state VALUES (NEW.class_div, NEW.hw_name, NEW.student_id,
                NEW.filename, 1, NEW.file_size)
            ON CONFLICT DO UPDATE SET snapshots = snapshots + 1,
                total_bytes = total_bytes + excluded.total_bytes;"""


def snapshot_aggregates_trigger(file_state: str) -> str:
    """The main snapshot trigger, with `file_state` as its per-file statement."""
    return f"""CREATE TRIGGER snapshot_aggregates AFTER INSERT ON snapshot BEGIN
        UPDATE snapshot SET
            churn_cum = COALESCE(
                (SELECT p.churn_cum + abs(NEW.file_size - p.file_size) FROM snapshot AS p
                  WHERE p.class_div = NEW.class_div AND p.hw_name = NEW.hw_name
                    AND p.student_id = NEW.student_id AND p.filename = NEW.filename
                    AND p.timestamp <= NEW.timestamp AND p.id < NEW.id
                  ORDER BY p.timestamp DESC, p.churn_cum DESC LIMIT 1), 0),
            student_total = NEW.file_size
                + COALESCE(
                    (SELECT q.student_total FROM snapshot AS q
                      WHERE q.class_div = NEW.class_div AND q.hw_name = NEW.hw_name
                        AND q.student_id = NEW.student_id
                        AND q.timestamp <= NEW.timestamp AND q.id < NEW.id
                      ORDER BY q.timestamp DESC, q.id DESC LIMIT 1), 0)
                - COALESCE(
                    (SELECT p.file_size FROM snapshot AS p
                      WHERE p.class_div = NEW.class_div AND p.hw_name = NEW.hw_name
                        AND p.student_id = NEW.student_id AND p.filename = NEW.filename
                        AND p.timestamp <= NEW.timestamp AND p.id < NEW.id
                      ORDER BY p.timestamp DESC, p.churn_cum DESC LIMIT 1), 0)
         WHERE id = NEW.id;
        {file_state}
        INSERT INTO student_state VALUES (NEW.class_div, NEW.hw_name, NEW.student_id, 1,
                NEW.file_size, NEW.timestamp, NEW.timestamp, NEW.file_size, NEW.id)
            ON CONFLICT DO UPDATE SET
                snapshots = snapshots + 1,
                total_bytes = total_bytes + excluded.total_bytes,
                first_timestamp = min(first_timestamp, excluded.first_timestamp),
                latest_size = CASE WHEN excluded.latest_timestamp > latest_timestamp
                                   THEN excluded.latest_size ELSE latest_size END,
                latest_timestamp = max(latest_timestamp, excluded.latest_timestamp);
        INSERT INTO size_count VALUES (NEW.class_div, NEW.hw_name, NEW.file_size, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
        INSERT INTO size_bucket VALUES (NEW.class_div, NEW.hw_name,
                NEW.file_size >> {BUCKET_SHIFT}, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END"""


TRIGGERS: tuple[str, ...] = (
    snapshot_aggregates_trigger(FILE_STATE_V3),
    # A save older than the student's newest (a late or retried POST) changes the running values
    # of the saves after it, by amounts that are constant over ranges: shift just those rows.
    f"""CREATE TRIGGER snapshot_out_of_order AFTER INSERT ON snapshot
        WHEN EXISTS (SELECT 1 FROM snapshot WHERE {NEW_STUDENT} AND timestamp > NEW.timestamp)
    BEGIN
        -- Until the file's next save, the student's total counts NEW's size instead of the
        -- previous one's.
        UPDATE snapshot SET student_total = student_total + NEW.file_size
                - COALESCE(({PREVIOUS_IN_FILE.format(column="file_size")}), 0)
         WHERE {NEW_STUDENT} AND timestamp > NEW.timestamp
           AND (timestamp, id) < (
                   COALESCE(({NEXT_IN_FILE.format(column="timestamp")}), '99999999_999999'),
                   COALESCE(({NEXT_IN_FILE.format(column="id")}), 0));
        -- The file's next save now steps from NEW, not from the previous save: every later save
        -- of the file shifts by the same amount.
        UPDATE snapshot SET churn_cum = churn_cum + (
                SELECT CASE WHEN prev.size IS NULL THEN abs(nxt.size - NEW.file_size)
                            ELSE abs(NEW.file_size - prev.size) + abs(nxt.size - NEW.file_size)
                                 - abs(nxt.size - prev.size) END
                  FROM (SELECT ({PREVIOUS_IN_FILE.format(column="file_size")}) AS size) AS prev,
                       (SELECT ({NEXT_IN_FILE.format(column="file_size")}) AS size) AS nxt)
         WHERE {NEW_FILE} AND timestamp > NEW.timestamp;
    END""",
    """CREATE TRIGGER buildlog_aggregates AFTER INSERT ON buildlog BEGIN
        INSERT INTO log_count VALUES ('build', NEW.class_div, NEW.hw_name, NEW.student_id, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END""",
    """CREATE TRIGGER runlog_aggregates AFTER INSERT ON runlog BEGIN
        INSERT INTO log_count VALUES ('run', NEW.class_div, NEW.hw_name, NEW.student_id, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END""",
)

# Recompute every aggregate from the base tables (a migration's backfill, or after bulk loads).
REBUILD: tuple[str, ...] = (
    "DELETE FROM file_state",
    "DELETE FROM student_state",
    "DELETE FROM size_count",
    "DELETE FROM size_bucket",
    "DELETE FROM log_count",
    f"""UPDATE snapshot SET churn_cum = w.churn, student_total = w.total
          FROM ({_ALL_RUNNING}) AS w WHERE snapshot.id = w.id""",
    """INSERT INTO file_state (class_div, hw_name, student_id, filename, snapshots, total_bytes)
       SELECT class_div, hw_name, student_id, filename, COUNT(*), SUM(file_size)
         FROM snapshot GROUP BY class_div, hw_name, student_id, filename""",
    """INSERT INTO student_state
       SELECT t.class_div, t.hw_name, t.student_id, t.n, t.total, t.first, t.latest,
              (SELECT x.file_size FROM snapshot AS x
                WHERE x.class_div = t.class_div AND x.hw_name = t.hw_name
                  AND x.student_id = t.student_id AND x.timestamp = t.latest
                ORDER BY x.id LIMIT 1),
              t.first_id
         FROM (SELECT class_div, hw_name, student_id, COUNT(*) AS n, SUM(file_size) AS total,
                      MIN(timestamp) AS first, MAX(timestamp) AS latest, MIN(id) AS first_id
                 FROM snapshot GROUP BY class_div, hw_name, student_id) AS t""",
    """INSERT INTO size_count SELECT class_div, hw_name, file_size, COUNT(*)
         FROM snapshot GROUP BY class_div, hw_name, file_size""",
    f"""INSERT INTO size_bucket SELECT class_div, hw_name, file_size >> {BUCKET_SHIFT}, COUNT(*)
         FROM snapshot GROUP BY class_div, hw_name, file_size >> {BUCKET_SHIFT}""",
    """INSERT INTO log_count SELECT 'build', class_div, hw_name, student_id, COUNT(*)
         FROM buildlog GROUP BY class_div, hw_name, student_id""",
    """INSERT INTO log_count SELECT 'run', class_div, hw_name, student_id, COUNT(*)
         FROM runlog GROUP BY class_div, hw_name, student_id""",
)

INDEXES: tuple[str, ...] = (
    # Replaced by the two below and the aggregate tables.
    "DROP INDEX IF EXISTS snapshot_by_student",
    "DROP INDEX IF EXISTS snapshot_by_time",
    "DROP INDEX IF EXISTS snapshot_by_size",
    # A file's history. churn_cum never decreases along it, so (timestamp, churn_cum) order is
    # the (timestamp, id) order wherever the value read could differ: window seeks stay in it.
    """CREATE INDEX snapshot_by_file
        ON snapshot (class_div, hw_name, student_id, filename, timestamp, churn_cum)""",
    # A student's history in (timestamp, id) order: graph buckets, newest saves.
    """CREATE INDEX snapshot_by_student_time
        ON snapshot (class_div, hw_name, student_id, timestamp)""",
)
