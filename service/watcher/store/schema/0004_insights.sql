-- Migration 4 (released at 1e996b4): the aggregates behind the v2 instructor insights. Each event
-- row gets `at`, its second of the KST wall clock read as UTC; activity_gap (histogram of gaps
-- between a student's events), activity_state, per-file churn / largest change / latest save in
-- file_state, snapshot_jump (every growth of at least 100 bytes) and log_failures (failure counts
-- and streaks). Replaces migration 3's snapshot_aggregates trigger.

DROP TRIGGER snapshot_aggregates;

ALTER TABLE snapshot ADD COLUMN at INTEGER;

ALTER TABLE buildlog ADD COLUMN at INTEGER;

ALTER TABLE runlog ADD COLUMN at INTEGER;

UPDATE snapshot SET at = CAST(strftime('%s', substr(timestamp,1,4)||'-'||substr(timestamp,5,2)||'-'||substr(timestamp,7,2)||' '||substr(timestamp,10,2)||':'||substr(timestamp,12,2)||':'||substr(timestamp,14,2)) AS INTEGER);

UPDATE buildlog SET at = CAST(strftime('%s', substr(timestamp, 1, 19)) AS INTEGER);

UPDATE runlog SET at = CAST(strftime('%s', substr(timestamp, 1, 19)) AS INTEGER);

CREATE TABLE activity_gap (
    class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, student_id INTEGER NOT NULL,
    gap INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (class_div, hw_name, student_id, gap)) WITHOUT ROWID;

CREATE TABLE activity_state (
    class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, student_id INTEGER NOT NULL,
    events INTEGER NOT NULL, first_at INTEGER NOT NULL, last_at INTEGER NOT NULL,
    PRIMARY KEY (class_div, hw_name, student_id)) WITHOUT ROWID;

ALTER TABLE file_state ADD COLUMN churn INTEGER NOT NULL DEFAULT 0;

ALTER TABLE file_state ADD COLUMN max_change INTEGER NOT NULL DEFAULT 0;

ALTER TABLE file_state ADD COLUMN latest_timestamp VARCHAR NOT NULL DEFAULT '';

ALTER TABLE file_state ADD COLUMN latest_size INTEGER NOT NULL DEFAULT 0;

ALTER TABLE file_state ADD COLUMN latest_at INTEGER;

CREATE TABLE snapshot_jump (
    class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, student_id INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL, growth INTEGER NOT NULL, gap INTEGER NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (class_div, hw_name, student_id, snapshot_id)) WITHOUT ROWID;

CREATE INDEX snapshot_jump_by_growth
    ON snapshot_jump (class_div, hw_name, growth, gap, at, student_id);

CREATE TABLE log_failures (
    kind VARCHAR NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
    student_id INTEGER NOT NULL, failed INTEGER NOT NULL, streak INTEGER NOT NULL,
    longest_streak INTEGER NOT NULL, latest_timestamp VARCHAR NOT NULL,
    PRIMARY KEY (kind, class_div, hw_name, student_id)) WITHOUT ROWID;

DELETE FROM activity_gap;

DELETE FROM activity_state;

DELETE FROM snapshot_jump;

DELETE FROM log_failures;

INSERT INTO activity_gap SELECT class_div, hw_name, student_id, gap, COUNT(*) FROM (
       SELECT class_div, hw_name, student_id, at - LAG(at) OVER (PARTITION BY class_div, hw_name, student_id ORDER BY at)
              AS gap FROM (SELECT class_div, hw_name, student_id, at FROM snapshot WHERE at IS NOT NULL UNION ALL SELECT class_div, hw_name, student_id, at FROM buildlog WHERE at IS NOT NULL UNION ALL SELECT class_div, hw_name, student_id, at FROM runlog WHERE at IS NOT NULL))
    WHERE gap IS NOT NULL GROUP BY class_div, hw_name, student_id, gap;

INSERT INTO activity_state SELECT class_div, hw_name, student_id, COUNT(*), MIN(at), MAX(at)
    FROM (SELECT class_div, hw_name, student_id, at FROM snapshot WHERE at IS NOT NULL UNION ALL SELECT class_div, hw_name, student_id, at FROM buildlog WHERE at IS NOT NULL UNION ALL SELECT class_div, hw_name, student_id, at FROM runlog WHERE at IS NOT NULL) GROUP BY class_div, hw_name, student_id;

UPDATE file_state SET churn = w.churn, max_change = w.max_change,
          latest_timestamp = w.latest_timestamp, latest_size = w.latest_size,
          latest_at = w.latest_at
     FROM (SELECT class_div, hw_name, student_id, filename,
                  COALESCE(SUM(abs(file_size - previous)), 0) AS churn,
                  COALESCE(MAX(abs(file_size - previous)), 0) AS max_change,
                  MAX(timestamp) AS latest_timestamp,
                  MAX(CASE WHEN from_end = 1 THEN file_size END) AS latest_size,
                  MAX(CASE WHEN from_end = 1 THEN at END) AS latest_at
             FROM (SELECT class_div, hw_name, student_id, filename, timestamp, file_size, at,
                          LAG(file_size) OVER (PARTITION BY class_div, hw_name, student_id, filename ORDER BY timestamp, id) AS previous,
                          ROW_NUMBER() OVER (PARTITION BY class_div, hw_name, student_id, filename
                                             ORDER BY timestamp DESC, id DESC) AS from_end
                     FROM snapshot)
            GROUP BY class_div, hw_name, student_id, filename) AS w
    WHERE file_state.class_div = w.class_div AND file_state.hw_name = w.hw_name
      AND file_state.student_id = w.student_id AND file_state.filename = w.filename;

INSERT INTO snapshot_jump
    SELECT class_div, hw_name, student_id, id, file_size - previous,
           at - previous_at, at
      FROM (SELECT class_div, hw_name, student_id, id, at, file_size,
                   LAG(file_size) OVER (PARTITION BY class_div, hw_name, student_id, filename ORDER BY timestamp, id) AS previous,
                   LAG(at) OVER (PARTITION BY class_div, hw_name, student_id, filename ORDER BY timestamp, id) AS previous_at
              FROM snapshot)
     WHERE file_size - previous >= 100
       AND at - previous_at IS NOT NULL;

    WITH o AS (
        SELECT class_div, hw_name, student_id, exit_code <> 0 AS f, timestamp,
               ROW_NUMBER() OVER (PARTITION BY class_div, hw_name, student_id ORDER BY timestamp, id) AS i
          FROM buildlog),
    islands AS (
        SELECT class_div, hw_name, student_id, COUNT(*) AS len, MAX(i) AS last_i FROM (
            SELECT *, i - ROW_NUMBER() OVER (PARTITION BY class_div, hw_name, student_id, f ORDER BY i) AS grp
              FROM o WHERE f)
         GROUP BY class_div, hw_name, student_id, grp),
    totals AS (
        SELECT class_div, hw_name, student_id, SUM(f) AS failed, MAX(i) AS n, MAX(timestamp) AS latest
          FROM o GROUP BY class_div, hw_name, student_id)
    INSERT INTO log_failures
    SELECT 'build', t.class_div, t.hw_name, t.student_id, t.failed,
           COALESCE((SELECT x.len FROM islands AS x WHERE x.class_div = t.class_div AND x.hw_name = t.hw_name AND x.student_id = t.student_id AND x.last_i = t.n), 0),
           COALESCE((SELECT MAX(x.len) FROM islands AS x WHERE x.class_div = t.class_div AND x.hw_name = t.hw_name AND x.student_id = t.student_id), 0),
           t.latest
      FROM totals AS t;

    WITH o AS (
        SELECT class_div, hw_name, student_id, exit_code <> 0 AS f, timestamp,
               ROW_NUMBER() OVER (PARTITION BY class_div, hw_name, student_id ORDER BY timestamp, id) AS i
          FROM runlog),
    islands AS (
        SELECT class_div, hw_name, student_id, COUNT(*) AS len, MAX(i) AS last_i FROM (
            SELECT *, i - ROW_NUMBER() OVER (PARTITION BY class_div, hw_name, student_id, f ORDER BY i) AS grp
              FROM o WHERE f)
         GROUP BY class_div, hw_name, student_id, grp),
    totals AS (
        SELECT class_div, hw_name, student_id, SUM(f) AS failed, MAX(i) AS n, MAX(timestamp) AS latest
          FROM o GROUP BY class_div, hw_name, student_id)
    INSERT INTO log_failures
    SELECT 'run', t.class_div, t.hw_name, t.student_id, t.failed,
           COALESCE((SELECT x.len FROM islands AS x WHERE x.class_div = t.class_div AND x.hw_name = t.hw_name AND x.student_id = t.student_id AND x.last_i = t.n), 0),
           COALESCE((SELECT MAX(x.len) FROM islands AS x WHERE x.class_div = t.class_div AND x.hw_name = t.hw_name AND x.student_id = t.student_id), 0),
           t.latest
      FROM totals AS t;

CREATE TRIGGER snapshot_aggregates AFTER INSERT ON snapshot BEGIN
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
        INSERT INTO snapshot_jump
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, NEW.id, NEW.file_size - f.latest_size,
               NEW.at - f.latest_at, NEW.at
          FROM file_state AS f
         WHERE f.class_div = NEW.class_div AND f.hw_name = NEW.hw_name
           AND f.student_id = NEW.student_id AND f.filename = NEW.filename
           AND NEW.timestamp >= f.latest_timestamp
           AND NEW.file_size - f.latest_size >= 100;
        INSERT INTO file_state (class_div, hw_name, student_id, filename, snapshots, total_bytes,
                churn, max_change, latest_timestamp, latest_size, latest_at)
            VALUES (NEW.class_div, NEW.hw_name, NEW.student_id, NEW.filename, 1, NEW.file_size,
                0, 0, NEW.timestamp, NEW.file_size, NEW.at)
            ON CONFLICT DO UPDATE SET
                snapshots = snapshots + 1,
                total_bytes = total_bytes + excluded.total_bytes,
                churn = CASE WHEN excluded.latest_timestamp >= latest_timestamp
                    THEN churn + abs(excluded.latest_size - latest_size) ELSE churn END,
                max_change = CASE WHEN excluded.latest_timestamp >= latest_timestamp
                    THEN max(max_change, abs(excluded.latest_size - latest_size))
                    ELSE max_change END,
                latest_size = CASE WHEN excluded.latest_timestamp >= latest_timestamp
                    THEN excluded.latest_size ELSE latest_size END,
                latest_at = CASE WHEN excluded.latest_timestamp >= latest_timestamp THEN excluded.latest_at ELSE latest_at END,
                latest_timestamp = max(latest_timestamp, excluded.latest_timestamp);
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
                NEW.file_size >> 8, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;

CREATE TRIGGER snapshot_changes_late AFTER INSERT ON snapshot WHEN EXISTS (SELECT 1 FROM file_state WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND latest_timestamp > NEW.timestamp)
    BEGIN
        UPDATE file_state SET
            churn = churn + (
                SELECT abs(nxt.size - NEW.file_size) + COALESCE(
                           abs(NEW.file_size - prev.size) - abs(nxt.size - prev.size), 0)
                  FROM (SELECT (SELECT file_size FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp <= NEW.timestamp AND id < NEW.id ORDER BY timestamp DESC, churn_cum DESC LIMIT 1) AS size) AS prev,
                       (SELECT (SELECT file_size FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp > NEW.timestamp ORDER BY timestamp, id LIMIT 1) AS size) AS nxt),
            max_change = (
                SELECT COALESCE(MAX(abs(file_size - previous)), 0) FROM (
                    SELECT file_size, LAG(file_size) OVER (ORDER BY timestamp, id) AS previous
                      FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename))
         WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename;
        INSERT INTO snapshot_jump
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, NEW.id, NEW.file_size - p.file_size,
               NEW.at - p.at, NEW.at
          FROM (SELECT file_size, at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp <= NEW.timestamp AND id < NEW.id ORDER BY timestamp DESC, churn_cum DESC LIMIT 1) AS p
         WHERE NEW.file_size - p.file_size >= 100;
        DELETE FROM snapshot_jump WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id
           AND snapshot_id = (SELECT id FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp > NEW.timestamp ORDER BY timestamp, id LIMIT 1);
        INSERT INTO snapshot_jump
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, n.id, n.file_size - NEW.file_size,
               n.at - NEW.at, n.at
          FROM (SELECT id, file_size, at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp > NEW.timestamp ORDER BY timestamp, id LIMIT 1) AS n
         WHERE n.file_size - NEW.file_size >= 100;
    END;

CREATE TRIGGER snapshot_gaps AFTER INSERT ON snapshot WHEN NEW.at IS NOT NULL BEGIN
        INSERT INTO activity_gap
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, NEW.at - last_at, 1
          FROM activity_state WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND last_at <= NEW.at
            ON CONFLICT DO UPDATE SET n = n + 1;
        INSERT INTO activity_state VALUES (NEW.class_div, NEW.hw_name, NEW.student_id, 1,
                NEW.at, NEW.at)
            ON CONFLICT DO UPDATE SET events = events + 1,
                first_at = min(first_at, excluded.first_at),
                last_at = max(last_at, excluded.last_at);
    END;

CREATE TRIGGER snapshot_gaps_late AFTER INSERT ON snapshot
        WHEN NEW.at IS NOT NULL AND EXISTS (SELECT 1 FROM activity_state WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND last_at > NEW.at) BEGIN
        UPDATE activity_gap SET n = n - 1
         WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND gap = NULLIF(NULLIF(min(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp > strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') AND id <> NEW.id ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904)), -4611686018427387904), 4611686018427387904) - NULLIF(NULLIF(max(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp <= strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') AND id <> NEW.id ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904)), -4611686018427387904), 4611686018427387904);
        INSERT INTO activity_gap
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, NEW.at - p.at, 1
          FROM (SELECT NULLIF(NULLIF(max(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp <= strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') AND id <> NEW.id ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904)), -4611686018427387904), 4611686018427387904) AS at) AS p WHERE p.at IS NOT NULL
            ON CONFLICT DO UPDATE SET n = n + 1;
        INSERT INTO activity_gap
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, x.at - NEW.at, 1
          FROM (SELECT NULLIF(NULLIF(min(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp > strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') AND id <> NEW.id ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904)), -4611686018427387904), 4611686018427387904) AS at) AS x WHERE x.at IS NOT NULL
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;

CREATE TRIGGER buildlog_gaps AFTER INSERT ON buildlog WHEN NEW.at IS NOT NULL BEGIN
        INSERT INTO activity_gap
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, NEW.at - last_at, 1
          FROM activity_state WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND last_at <= NEW.at
            ON CONFLICT DO UPDATE SET n = n + 1;
        INSERT INTO activity_state VALUES (NEW.class_div, NEW.hw_name, NEW.student_id, 1,
                NEW.at, NEW.at)
            ON CONFLICT DO UPDATE SET events = events + 1,
                first_at = min(first_at, excluded.first_at),
                last_at = max(last_at, excluded.last_at);
    END;

CREATE TRIGGER buildlog_gaps_late AFTER INSERT ON buildlog
        WHEN NEW.at IS NOT NULL AND EXISTS (SELECT 1 FROM activity_state WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND last_at > NEW.at) BEGIN
        UPDATE activity_gap SET n = n - 1
         WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND gap = NULLIF(NULLIF(min(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp > strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') AND id <> NEW.id ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904)), -4611686018427387904), 4611686018427387904) - NULLIF(NULLIF(max(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp <= strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') AND id <> NEW.id ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904)), -4611686018427387904), 4611686018427387904);
        INSERT INTO activity_gap
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, NEW.at - p.at, 1
          FROM (SELECT NULLIF(NULLIF(max(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp <= strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') AND id <> NEW.id ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904)), -4611686018427387904), 4611686018427387904) AS at) AS p WHERE p.at IS NOT NULL
            ON CONFLICT DO UPDATE SET n = n + 1;
        INSERT INTO activity_gap
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, x.at - NEW.at, 1
          FROM (SELECT NULLIF(NULLIF(min(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp > strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') AND id <> NEW.id ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904)), -4611686018427387904), 4611686018427387904) AS at) AS x WHERE x.at IS NOT NULL
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;

CREATE TRIGGER runlog_gaps AFTER INSERT ON runlog WHEN NEW.at IS NOT NULL BEGIN
        INSERT INTO activity_gap
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, NEW.at - last_at, 1
          FROM activity_state WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND last_at <= NEW.at
            ON CONFLICT DO UPDATE SET n = n + 1;
        INSERT INTO activity_state VALUES (NEW.class_div, NEW.hw_name, NEW.student_id, 1,
                NEW.at, NEW.at)
            ON CONFLICT DO UPDATE SET events = events + 1,
                first_at = min(first_at, excluded.first_at),
                last_at = max(last_at, excluded.last_at);
    END;

CREATE TRIGGER runlog_gaps_late AFTER INSERT ON runlog
        WHEN NEW.at IS NOT NULL AND EXISTS (SELECT 1 FROM activity_state WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND last_at > NEW.at) BEGIN
        UPDATE activity_gap SET n = n - 1
         WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND gap = NULLIF(NULLIF(min(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp > strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') AND id <> NEW.id ORDER BY timestamp ASC LIMIT 1), 4611686018427387904)), -4611686018427387904), 4611686018427387904) - NULLIF(NULLIF(max(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp <= strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') AND id <> NEW.id ORDER BY timestamp DESC LIMIT 1), -4611686018427387904)), -4611686018427387904), 4611686018427387904);
        INSERT INTO activity_gap
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, NEW.at - p.at, 1
          FROM (SELECT NULLIF(NULLIF(max(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp <= strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp DESC LIMIT 1), -4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp < strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') AND id <> NEW.id ORDER BY timestamp DESC LIMIT 1), -4611686018427387904)), -4611686018427387904), 4611686018427387904) AS at) AS p WHERE p.at IS NOT NULL
            ON CONFLICT DO UPDATE SET n = n + 1;
        INSERT INTO activity_gap
        SELECT NEW.class_div, NEW.hw_name, NEW.student_id, x.at - NEW.at, 1
          FROM (SELECT NULLIF(NULLIF(min(COALESCE((SELECT at FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp > strftime('%Y%m%d_%H%M%S', NEW.at + 0, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') ORDER BY timestamp ASC LIMIT 1), 4611686018427387904), COALESCE((SELECT at FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp >= strftime('%Y-%m-%d %H:%M:%S', NEW.at + 1, 'unixepoch') AND id <> NEW.id ORDER BY timestamp ASC LIMIT 1), 4611686018427387904)), -4611686018427387904), 4611686018427387904) AS at) AS x WHERE x.at IS NOT NULL
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;

CREATE TRIGGER buildlog_failures AFTER INSERT ON buildlog BEGIN
        INSERT INTO log_failures VALUES ('build', NEW.class_div, NEW.hw_name,
                NEW.student_id, (NEW.exit_code <> 0), (NEW.exit_code <> 0), (NEW.exit_code <> 0), NEW.timestamp)
            ON CONFLICT DO UPDATE SET
                failed = failed + excluded.failed,
                streak = CASE WHEN excluded.latest_timestamp >= latest_timestamp THEN CASE WHEN excluded.failed THEN streak + 1 ELSE 0 END ELSE streak END,
                longest_streak = CASE WHEN excluded.latest_timestamp >= latest_timestamp
                    THEN max(longest_streak, CASE WHEN excluded.failed THEN streak + 1 ELSE 0 END) ELSE longest_streak END,
                latest_timestamp = max(latest_timestamp, excluded.latest_timestamp);
    END;

CREATE TRIGGER buildlog_failures_late AFTER INSERT ON buildlog
        WHEN EXISTS (SELECT 1 FROM log_failures WHERE kind = 'build' AND class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id
                      AND latest_timestamp > NEW.timestamp)
    BEGIN
        UPDATE log_failures SET streak = (SELECT COUNT(*) FROM buildlog AS b WHERE b.class_div = NEW.class_div AND b.hw_name = NEW.hw_name AND b.student_id = NEW.student_id AND b.exit_code <> 0 AND NOT EXISTS (SELECT 1 FROM buildlog AS s   WHERE s.class_div = b.class_div AND s.hw_name = b.hw_name     AND s.student_id = b.student_id AND s.exit_code = 0     AND (s.timestamp > b.timestamp OR (s.timestamp = b.timestamp AND s.id > b.id)))), longest_streak = (SELECT COALESCE(MAX(len), 0) FROM (SELECT COUNT(*) AS len FROM (SELECT f, i - ROW_NUMBER() OVER (PARTITION BY f ORDER BY i) AS grp FROM (SELECT exit_code <> 0 AS f, ROW_NUMBER() OVER (ORDER BY timestamp, id) AS i FROM buildlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id)) WHERE f GROUP BY grp))
         WHERE kind = 'build' AND class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id;
    END;

CREATE TRIGGER runlog_failures AFTER INSERT ON runlog BEGIN
        INSERT INTO log_failures VALUES ('run', NEW.class_div, NEW.hw_name,
                NEW.student_id, (NEW.exit_code <> 0), (NEW.exit_code <> 0), (NEW.exit_code <> 0), NEW.timestamp)
            ON CONFLICT DO UPDATE SET
                failed = failed + excluded.failed,
                streak = CASE WHEN excluded.latest_timestamp >= latest_timestamp THEN CASE WHEN excluded.failed THEN streak + 1 ELSE 0 END ELSE streak END,
                longest_streak = CASE WHEN excluded.latest_timestamp >= latest_timestamp
                    THEN max(longest_streak, CASE WHEN excluded.failed THEN streak + 1 ELSE 0 END) ELSE longest_streak END,
                latest_timestamp = max(latest_timestamp, excluded.latest_timestamp);
    END;

CREATE TRIGGER runlog_failures_late AFTER INSERT ON runlog
        WHEN EXISTS (SELECT 1 FROM log_failures WHERE kind = 'run' AND class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id
                      AND latest_timestamp > NEW.timestamp)
    BEGIN
        UPDATE log_failures SET streak = (SELECT COUNT(*) FROM runlog AS b WHERE b.class_div = NEW.class_div AND b.hw_name = NEW.hw_name AND b.student_id = NEW.student_id AND b.exit_code <> 0 AND NOT EXISTS (SELECT 1 FROM runlog AS s   WHERE s.class_div = b.class_div AND s.hw_name = b.hw_name     AND s.student_id = b.student_id AND s.exit_code = 0     AND (s.timestamp > b.timestamp OR (s.timestamp = b.timestamp AND s.id > b.id)))), longest_streak = (SELECT COALESCE(MAX(len), 0) FROM (SELECT COUNT(*) AS len FROM (SELECT f, i - ROW_NUMBER() OVER (PARTITION BY f ORDER BY i) AS grp FROM (SELECT exit_code <> 0 AS f, ROW_NUMBER() OVER (ORDER BY timestamp, id) AS i FROM runlog WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id)) WHERE f GROUP BY grp))
         WHERE kind = 'run' AND class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id;
    END;
