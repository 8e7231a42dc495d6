"""Aggregates behind the instructor insights (schema migration 4), kept by triggers like the rest.

- `activity_gap`    histogram of the gaps between a student's consecutive events, in seconds, so
                    working time for *any* idle threshold is one range scan over a few hundred
                    distinct gaps, not a replay of the history.
- `activity_state`  per student: events (snapshots, builds and runs), first and last event time.
- `file_state`      (schema 3's, extended) per file also: churn (sum of |change|), its largest
                    change, and its latest save's time and size.
- `snapshot_jump`   every change that grew a file by at least MIN_PASTE_BYTES, with its time and
                    the seconds since the file's previous save: paste-like jumps (in any time
                    window) are a range scan of it.
- `log_failures`    per student and kind (build, run): failed count, the current and the longest
                    run of consecutive failures.

An event's time is its second of the KST wall clock, kept in each row's `at` column (computed by
the INSERT in store/writer.py; backfilled here for older rows). Events are not copied into a
merged table: the timeline and time windows read the three event tables by their per-student time
indexes. A late event (older than the student's newest) re-links its neighbours: the gap or change
it splits is taken out and the two new ones put in; a streak or largest change that could have
shrunk is recomputed from that one student's rows. The definitions themselves live in
analytics/insights.py; tests hold these aggregates to them.
"""

from __future__ import annotations

from watcher.analytics.insights import MIN_PASTE_BYTES
from watcher.store.aggregates import (
    NEW_FILE,
    NEW_STUDENT,
    NEXT_IN_FILE,
    PREVIOUS_IN_FILE,
    compact_seconds,
    log_seconds,
    snapshot_aggregates_trigger,
)

KINDS = {"buildlog": "build", "runlog": "run"}


TABLES: tuple[str, ...] = (
    # Every event's time in seconds, set by the INSERT itself (store/writer.py INSERTS).
    "ALTER TABLE snapshot ADD COLUMN at INTEGER",
    "ALTER TABLE buildlog ADD COLUMN at INTEGER",
    "ALTER TABLE runlog ADD COLUMN at INTEGER",
    f"UPDATE snapshot SET at = {compact_seconds('timestamp')}",
    f"UPDATE buildlog SET at = {log_seconds('timestamp')}",
    f"UPDATE runlog SET at = {log_seconds('timestamp')}",
    """CREATE TABLE activity_gap (
        class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, student_id INTEGER NOT NULL,
        gap INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (class_div, hw_name, student_id, gap)) WITHOUT ROWID""",
    """CREATE TABLE activity_state (
        class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, student_id INTEGER NOT NULL,
        events INTEGER NOT NULL, first_at INTEGER NOT NULL, last_at INTEGER NOT NULL,
        PRIMARY KEY (class_div, hw_name, student_id)) WITHOUT ROWID""",
    # Per file (schema 3's file_state): churn, largest change and the latest save.
    "ALTER TABLE file_state ADD COLUMN churn INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE file_state ADD COLUMN max_change INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE file_state ADD COLUMN latest_timestamp VARCHAR NOT NULL DEFAULT ''",
    "ALTER TABLE file_state ADD COLUMN latest_size INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE file_state ADD COLUMN latest_at INTEGER",
    """CREATE TABLE snapshot_jump (
        class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, student_id INTEGER NOT NULL,
        snapshot_id INTEGER NOT NULL, growth INTEGER NOT NULL, gap INTEGER NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (class_div, hw_name, student_id, snapshot_id)) WITHOUT ROWID""",
    """CREATE INDEX snapshot_jump_by_growth
        ON snapshot_jump (class_div, hw_name, growth, gap, at, student_id)""",
    """CREATE TABLE log_failures (
        kind VARCHAR NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
        student_id INTEGER NOT NULL, failed INTEGER NOT NULL, streak INTEGER NOT NULL,
        longest_streak INTEGER NOT NULL, latest_timestamp VARCHAR NOT NULL,
        PRIMARY KEY (kind, class_div, hw_name, student_id)) WITHOUT ROWID""",
)

_NEW_SECONDS = "NEW.at"
# Where each kind of event lives, and the text form of its time there.
_LOG_TEXT = "%Y-%m-%d %H:%M:%S"
_EVENT_TABLES = {"snapshot": "%Y%m%d_%H%M%S", "buildlog": _LOG_TEXT, "runlog": _LOG_TEXT}
_NONE = -(2**62)  # below any time: "no such event"


def _neighbour_event(at: str, own_table: str, before: bool) -> str:
    """SQL: the time of NEW's student's event just before (or after) second `at`, NEW itself
    excluded, over all three tables; NULL when there is none."""
    parts = []
    for table, text in _EVENT_TABLES.items():
        # Log times carry a fraction: second `at` is every text below the next second's. An
        # event of the same second counts as before (a gap of 0), never as after.
        fraction = table != "snapshot"
        bound = f"strftime('{text}', {at} + {int(fraction)}, 'unixepoch')"
        if before:
            op, order = ("<" if fraction else "<="), "DESC"
        else:
            op, order = (">=" if fraction else ">"), "ASC"
        own = " AND id <> NEW.id" if table == own_table else ""
        parts.append(
            f"COALESCE((SELECT at FROM {table} WHERE {NEW_STUDENT}"
            f" AND timestamp {op} {bound}{own} ORDER BY timestamp {order} LIMIT 1), "
            f"{_NONE if before else -_NONE})"
        )
    pick = "max" if before else "min"
    return f"NULLIF(NULLIF({pick}({', '.join(parts)}), {_NONE}), {-_NONE})"


def _gap_triggers(table: str) -> tuple[str, ...]:
    """Working-time aggregates for each new event of `table`: in order, one gap from the state
    row's last event; late, the gap it splits replaced by two (neighbours found across kinds)."""
    at = "NEW.at"
    newer = f"EXISTS (SELECT 1 FROM activity_state WHERE {NEW_STUDENT} AND last_at > {at})"
    # A time that does not parse (only possible in an adopted database) is no event to count.
    known = f"{at} IS NOT NULL"
    previous, following = _neighbour_event(at, table, True), _neighbour_event(at, table, False)
    return (
        # Every event: the student's counts and span; in order, also the one new gap (from the
        # state row's last event, read before the row moves on).
        f"""CREATE TRIGGER {table}_gaps AFTER INSERT ON {table} WHEN {known} BEGIN
            INSERT INTO activity_gap
            SELECT NEW.class_div, NEW.hw_name, NEW.student_id, {at} - last_at, 1
              FROM activity_state WHERE {NEW_STUDENT} AND last_at <= {at}
                ON CONFLICT DO UPDATE SET n = n + 1;
            INSERT INTO activity_state VALUES (NEW.class_div, NEW.hw_name, NEW.student_id, 1,
                    {at}, {at})
                ON CONFLICT DO UPDATE SET events = events + 1,
                    first_at = min(first_at, excluded.first_at),
                    last_at = max(last_at, excluded.last_at);
        END""",
        # A late event: the gap it splits is replaced by the two around it.
        f"""CREATE TRIGGER {table}_gaps_late AFTER INSERT ON {table}
            WHEN {known} AND {newer} BEGIN
            UPDATE activity_gap SET n = n - 1
             WHERE {NEW_STUDENT} AND gap = {following} - {previous};
            INSERT INTO activity_gap
            SELECT NEW.class_div, NEW.hw_name, NEW.student_id, {at} - p.at, 1
              FROM (SELECT {previous} AS at) AS p WHERE p.at IS NOT NULL
                ON CONFLICT DO UPDATE SET n = n + 1;
            INSERT INTO activity_gap
            SELECT NEW.class_div, NEW.hw_name, NEW.student_id, x.at - {at}, 1
              FROM (SELECT {following} AS at) AS x WHERE x.at IS NOT NULL
                ON CONFLICT DO UPDATE SET n = n + 1;
        END""",
    )


def _log_triggers(table: str) -> tuple[str, ...]:
    kind = KINDS[table]
    failed = "(NEW.exit_code <> 0)"
    in_order = "excluded.latest_timestamp >= latest_timestamp"
    streak_after = "CASE WHEN excluded.failed THEN streak + 1 ELSE 0 END"
    # Recounted from the student's rows when a late log lands between others.
    ordered = (
        f"SELECT exit_code <> 0 AS f, ROW_NUMBER() OVER (ORDER BY timestamp, id) AS i"
        f" FROM {table} WHERE {NEW_STUDENT}"
    )
    longest = (
        "SELECT COALESCE(MAX(len), 0) FROM (SELECT COUNT(*) AS len FROM"
        f" (SELECT f, i - ROW_NUMBER() OVER (PARTITION BY f ORDER BY i) AS grp FROM ({ordered}))"
        " WHERE f GROUP BY grp)"
    )
    trailing = (
        f"SELECT COUNT(*) FROM {table} AS b WHERE b.class_div = NEW.class_div"
        " AND b.hw_name = NEW.hw_name AND b.student_id = NEW.student_id AND b.exit_code <> 0"
        f" AND NOT EXISTS (SELECT 1 FROM {table} AS s"
        "   WHERE s.class_div = b.class_div AND s.hw_name = b.hw_name"
        "     AND s.student_id = b.student_id AND s.exit_code = 0"
        "     AND (s.timestamp > b.timestamp OR (s.timestamp = b.timestamp AND s.id > b.id)))"
    )
    return (
        f"""CREATE TRIGGER {table}_failures AFTER INSERT ON {table} BEGIN
            INSERT INTO log_failures VALUES ('{kind}', NEW.class_div, NEW.hw_name,
                    NEW.student_id, {failed}, {failed}, {failed}, NEW.timestamp)
                ON CONFLICT DO UPDATE SET
                    failed = failed + excluded.failed,
                    streak = CASE WHEN {in_order} THEN {streak_after} ELSE streak END,
                    longest_streak = CASE WHEN {in_order}
                        THEN max(longest_streak, {streak_after}) ELSE longest_streak END,
                    latest_timestamp = max(latest_timestamp, excluded.latest_timestamp);
        END""",
        f"""CREATE TRIGGER {table}_failures_late AFTER INSERT ON {table}
            WHEN EXISTS (SELECT 1 FROM log_failures WHERE kind = '{kind}' AND {NEW_STUDENT}
                          AND latest_timestamp > NEW.timestamp)
        BEGIN
            UPDATE log_failures SET streak = ({trailing}), longest_streak = ({longest})
             WHERE kind = '{kind}' AND {NEW_STUDENT};
        END""",
    )


# Whether NEW is older than what is already stored for its file or student. Each aggregate has an
# in-order path (the common case: O(1) work from the state row, no history seeks) and a late
# trigger; exactly one of them acts, whichever order SQLite runs triggers in, because the in-order
# path never moves a state row's latest time backwards and the late trigger never moves it at all.
_FILE_IS_NEWER = (
    f"EXISTS (SELECT 1 FROM file_state WHERE {NEW_FILE} AND latest_timestamp > NEW.timestamp)"
)
_IN_ORDER = "excluded.latest_timestamp >= latest_timestamp"
# When NEW is its file's newest save, the change is from the latest save kept in the file's row:
# no seek in the history. (The jump is read before the row moves on to NEW.)
_FILE_STATE = f"""INSERT INTO snapshot_jump
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, NEW.id, NEW.file_size - f.latest_size,
               NEW.at - f.latest_at, NEW.at
          FROM file_state AS f
         WHERE f.class_div = NEW.class_div AND f.hw_name = NEW.hw_name
           AND f.student_id = NEW.student_id AND f.filename = NEW.filename
           AND NEW.timestamp >= f.latest_timestamp
           AND NEW.file_size - f.latest_size >= {MIN_PASTE_BYTES};
        INSERT INTO file_state (class_div, hw_name, student_id, filename, snapshots, total_bytes,
                churn, max_change, latest_timestamp, latest_size, latest_at)
            VALUES (NEW.class_div, NEW.hw_name, NEW.student_id, NEW.filename, 1, NEW.file_size,
                0, 0, NEW.timestamp, NEW.file_size, NEW.at)
            ON CONFLICT DO UPDATE SET
                snapshots = snapshots + 1,
                total_bytes = total_bytes + excluded.total_bytes,
                churn = CASE WHEN {_IN_ORDER}
                    THEN churn + abs(excluded.latest_size - latest_size) ELSE churn END,
                max_change = CASE WHEN {_IN_ORDER}
                    THEN max(max_change, abs(excluded.latest_size - latest_size))
                    ELSE max_change END,
                latest_size = CASE WHEN {_IN_ORDER}
                    THEN excluded.latest_size ELSE latest_size END,
                latest_at = CASE WHEN {_IN_ORDER} THEN excluded.latest_at ELSE latest_at END,
                latest_timestamp = max(latest_timestamp, excluded.latest_timestamp);"""

# Schema 4 replaces schema 3's main snapshot trigger (dropped first by the migration).
REPLACED_TRIGGERS: tuple[str, ...] = ("DROP TRIGGER snapshot_aggregates",)

TRIGGERS: tuple[str, ...] = (
    # The main snapshot trigger of schema 3, whose per-file statement now also keeps the change.
    snapshot_aggregates_trigger(_FILE_STATE),
    # NEW lands before its file's newest save: the change previous -> next becomes previous ->
    # NEW -> next (previous may be missing). The largest change may have been the split one.
    f"""CREATE TRIGGER snapshot_changes_late AFTER INSERT ON snapshot WHEN {_FILE_IS_NEWER}
    BEGIN
        UPDATE file_state SET
            churn = churn + (
                SELECT abs(nxt.size - NEW.file_size) + COALESCE(
                           abs(NEW.file_size - prev.size) - abs(nxt.size - prev.size), 0)
                  FROM (SELECT ({PREVIOUS_IN_FILE.format(column="file_size")}) AS size) AS prev,
                       (SELECT ({NEXT_IN_FILE.format(column="file_size")}) AS size) AS nxt),
            max_change = (
                SELECT COALESCE(MAX(abs(file_size - previous)), 0) FROM (
                    SELECT file_size, LAG(file_size) OVER (ORDER BY timestamp, id) AS previous
                      FROM snapshot WHERE {NEW_FILE}))
         WHERE {NEW_FILE};
        INSERT INTO snapshot_jump
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, NEW.id, NEW.file_size - p.file_size,
               NEW.at - p.at, NEW.at
          FROM ({PREVIOUS_IN_FILE.format(column="file_size, at")}) AS p
         WHERE NEW.file_size - p.file_size >= {MIN_PASTE_BYTES};
        DELETE FROM snapshot_jump WHERE {NEW_STUDENT}
           AND snapshot_id = ({NEXT_IN_FILE.format(column="id")});
        INSERT INTO snapshot_jump
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, n.id, n.file_size - NEW.file_size,
               n.at - NEW.at, n.at
          FROM ({NEXT_IN_FILE.format(column="id, file_size, at")}) AS n
         WHERE n.file_size - NEW.file_size >= {MIN_PASTE_BYTES};
    END""",
    *(trigger for table in _EVENT_TABLES for trigger in _gap_triggers(table)),
    *_log_triggers("buildlog"),
    *_log_triggers("runlog"),
)

_FILE_WINDOW = "PARTITION BY class_div, hw_name, student_id, filename ORDER BY timestamp, id"
_STUDENT_KEY = "class_div, hw_name, student_id"
_SAME_STUDENT = (
    "x.class_div = t.class_div AND x.hw_name = t.hw_name AND x.student_id = t.student_id"
)


def _rebuild_log_failures(table: str) -> str:
    kind = KINDS[table]
    return f"""
    WITH o AS (
        SELECT {_STUDENT_KEY}, exit_code <> 0 AS f, timestamp,
               ROW_NUMBER() OVER (PARTITION BY {_STUDENT_KEY} ORDER BY timestamp, id) AS i
          FROM {table}),
    islands AS (
        SELECT {_STUDENT_KEY}, COUNT(*) AS len, MAX(i) AS last_i FROM (
            SELECT *, i - ROW_NUMBER() OVER (PARTITION BY {_STUDENT_KEY}, f ORDER BY i) AS grp
              FROM o WHERE f)
         GROUP BY {_STUDENT_KEY}, grp),
    totals AS (
        SELECT {_STUDENT_KEY}, SUM(f) AS failed, MAX(i) AS n, MAX(timestamp) AS latest
          FROM o GROUP BY {_STUDENT_KEY})
    INSERT INTO log_failures
    SELECT '{kind}', t.class_div, t.hw_name, t.student_id, t.failed,
           COALESCE((SELECT x.len FROM islands AS x WHERE {_SAME_STUDENT} AND x.last_i = t.n), 0),
           COALESCE((SELECT MAX(x.len) FROM islands AS x WHERE {_SAME_STUDENT}), 0),
           t.latest
      FROM totals AS t"""


_ALL_EVENTS = " UNION ALL ".join(
    f"SELECT {_STUDENT_KEY}, at FROM {table} WHERE at IS NOT NULL" for table in _EVENT_TABLES
)

REBUILD: tuple[str, ...] = (
    "DELETE FROM activity_gap",
    "DELETE FROM activity_state",
    "DELETE FROM snapshot_jump",
    "DELETE FROM log_failures",
    f"""INSERT INTO activity_gap SELECT {_STUDENT_KEY}, gap, COUNT(*) FROM (
            SELECT {_STUDENT_KEY}, at - LAG(at) OVER (PARTITION BY {_STUDENT_KEY} ORDER BY at)
                   AS gap FROM ({_ALL_EVENTS}))
         WHERE gap IS NOT NULL GROUP BY {_STUDENT_KEY}, gap""",
    f"""INSERT INTO activity_state SELECT {_STUDENT_KEY}, COUNT(*), MIN(at), MAX(at)
          FROM ({_ALL_EVENTS}) GROUP BY {_STUDENT_KEY}""",
    f"""UPDATE file_state SET churn = w.churn, max_change = w.max_change,
               latest_timestamp = w.latest_timestamp, latest_size = w.latest_size,
               latest_at = w.latest_at
          FROM (SELECT {_STUDENT_KEY}, filename,
                       COALESCE(SUM(abs(file_size - previous)), 0) AS churn,
                       COALESCE(MAX(abs(file_size - previous)), 0) AS max_change,
                       MAX(timestamp) AS latest_timestamp,
                       MAX(CASE WHEN from_end = 1 THEN file_size END) AS latest_size,
                       MAX(CASE WHEN from_end = 1 THEN at END) AS latest_at
                  FROM (SELECT {_STUDENT_KEY}, filename, timestamp, file_size, at,
                               LAG(file_size) OVER ({_FILE_WINDOW}) AS previous,
                               ROW_NUMBER() OVER (PARTITION BY {_STUDENT_KEY}, filename
                                                  ORDER BY timestamp DESC, id DESC) AS from_end
                          FROM snapshot)
                 GROUP BY {_STUDENT_KEY}, filename) AS w
         WHERE file_state.class_div = w.class_div AND file_state.hw_name = w.hw_name
           AND file_state.student_id = w.student_id AND file_state.filename = w.filename""",
    f"""INSERT INTO snapshot_jump
        SELECT {_STUDENT_KEY}, id, file_size - previous,
               at - previous_at, at
          FROM (SELECT {_STUDENT_KEY}, id, at, file_size,
                       LAG(file_size) OVER ({_FILE_WINDOW}) AS previous,
                       LAG(at) OVER ({_FILE_WINDOW}) AS previous_at
                  FROM snapshot)
         WHERE file_size - previous >= {MIN_PASTE_BYTES}
           AND at - previous_at IS NOT NULL""",
    *(_rebuild_log_failures(table) for table in KINDS),
)
