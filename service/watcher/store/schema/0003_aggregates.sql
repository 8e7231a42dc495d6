-- Migration 3 (released at 3a2c461): aggregates kept by triggers in the inserting transaction, so
-- no analytics route reads an assignment's whole history. file_state / student_state per file and
-- student; size_count and size_bucket (256-byte buckets) for percentiles; log_count per student;
-- snapshot.churn_cum (running |change| along a file) and snapshot.student_total (the student's
-- code size right after each save). The REBUILD part backfills rows that existed before.

ALTER TABLE snapshot ADD COLUMN churn_cum INTEGER;

ALTER TABLE snapshot ADD COLUMN student_total INTEGER;

CREATE TABLE file_state (
    class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, student_id INTEGER NOT NULL,
    filename VARCHAR NOT NULL, snapshots INTEGER NOT NULL, total_bytes INTEGER NOT NULL,
    PRIMARY KEY (class_div, hw_name, student_id, filename)) WITHOUT ROWID;

CREATE TABLE student_state (
    class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, student_id INTEGER NOT NULL,
    snapshots INTEGER NOT NULL, total_bytes INTEGER NOT NULL,
    first_timestamp VARCHAR NOT NULL, latest_timestamp VARCHAR NOT NULL,
    latest_size INTEGER NOT NULL, first_id INTEGER NOT NULL,
    PRIMARY KEY (class_div, hw_name, student_id)) WITHOUT ROWID;

CREATE TABLE size_count (
    class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, file_size INTEGER NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (class_div, hw_name, file_size)) WITHOUT ROWID;

CREATE TABLE size_bucket (
    class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL, bucket INTEGER NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (class_div, hw_name, bucket)) WITHOUT ROWID;

CREATE TABLE log_count (
    kind VARCHAR NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
    student_id INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (kind, class_div, hw_name, student_id)) WITHOUT ROWID;

DROP INDEX IF EXISTS snapshot_by_student;

DROP INDEX IF EXISTS snapshot_by_time;

DROP INDEX IF EXISTS snapshot_by_size;

CREATE INDEX snapshot_by_file
    ON snapshot (class_div, hw_name, student_id, filename, timestamp, churn_cum);

CREATE INDEX snapshot_by_student_time
    ON snapshot (class_div, hw_name, student_id, timestamp);

DELETE FROM file_state;

DELETE FROM student_state;

DELETE FROM size_count;

DELETE FROM size_bucket;

DELETE FROM log_count;

UPDATE snapshot SET churn_cum = w.churn, student_total = w.total
          FROM (
    SELECT id,
           SUM(CASE WHEN previous IS NULL THEN 0 ELSE abs(file_size - previous) END)
               OVER (PARTITION BY class_div, hw_name, student_id, filename ORDER BY timestamp, id) AS churn,
           SUM(file_size - COALESCE(previous, 0))
               OVER (PARTITION BY class_div, hw_name, student_id ORDER BY timestamp, id) AS total
      FROM (SELECT id, class_div, hw_name, student_id, filename, timestamp, file_size,
                   LAG(file_size) OVER (PARTITION BY class_div, hw_name, student_id, filename ORDER BY timestamp, id) AS previous
              FROM snapshot )) AS w WHERE snapshot.id = w.id;

INSERT INTO file_state
    SELECT class_div, hw_name, student_id, filename, COUNT(*), SUM(file_size)
      FROM snapshot GROUP BY class_div, hw_name, student_id, filename;

INSERT INTO student_state
    SELECT t.class_div, t.hw_name, t.student_id, t.n, t.total, t.first, t.latest,
           (SELECT x.file_size FROM snapshot AS x
             WHERE x.class_div = t.class_div AND x.hw_name = t.hw_name
               AND x.student_id = t.student_id AND x.timestamp = t.latest
             ORDER BY x.id LIMIT 1),
           t.first_id
      FROM (SELECT class_div, hw_name, student_id, COUNT(*) AS n, SUM(file_size) AS total,
                   MIN(timestamp) AS first, MAX(timestamp) AS latest, MIN(id) AS first_id
              FROM snapshot GROUP BY class_div, hw_name, student_id) AS t;

INSERT INTO size_count SELECT class_div, hw_name, file_size, COUNT(*)
    FROM snapshot GROUP BY class_div, hw_name, file_size;

INSERT INTO size_bucket SELECT class_div, hw_name, file_size >> 8, COUNT(*)
    FROM snapshot GROUP BY class_div, hw_name, file_size >> 8;

INSERT INTO log_count SELECT 'build', class_div, hw_name, student_id, COUNT(*)
    FROM buildlog GROUP BY class_div, hw_name, student_id;

INSERT INTO log_count SELECT 'run', class_div, hw_name, student_id, COUNT(*)
    FROM runlog GROUP BY class_div, hw_name, student_id;

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
        INSERT INTO file_state VALUES (NEW.class_div, NEW.hw_name, NEW.student_id, NEW.filename,
                1, NEW.file_size)
            ON CONFLICT DO UPDATE SET snapshots = snapshots + 1,
                total_bytes = total_bytes + excluded.total_bytes;
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

CREATE TRIGGER snapshot_out_of_order AFTER INSERT ON snapshot
        WHEN EXISTS (SELECT 1 FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp > NEW.timestamp)
    BEGIN
        -- Until the file's next save, the student's total counts NEW's size instead of the
        -- previous one's.
        UPDATE snapshot SET student_total = student_total + NEW.file_size
                - COALESCE((SELECT file_size FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp <= NEW.timestamp AND id < NEW.id ORDER BY timestamp DESC, churn_cum DESC LIMIT 1), 0)
         WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND timestamp > NEW.timestamp
           AND (timestamp, id) < (
                   COALESCE((SELECT timestamp FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp > NEW.timestamp ORDER BY timestamp, id LIMIT 1), '99999999_999999'),
                   COALESCE((SELECT id FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp > NEW.timestamp ORDER BY timestamp, id LIMIT 1), 0));
        -- The file's next save now steps from NEW, not from the previous save: every later save
        -- of the file shifts by the same amount.
        UPDATE snapshot SET churn_cum = churn_cum + (
                SELECT CASE WHEN prev.size IS NULL THEN abs(nxt.size - NEW.file_size)
                            ELSE abs(NEW.file_size - prev.size) + abs(nxt.size - NEW.file_size)
                                 - abs(nxt.size - prev.size) END
                  FROM (SELECT (SELECT file_size FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp <= NEW.timestamp AND id < NEW.id ORDER BY timestamp DESC, churn_cum DESC LIMIT 1) AS size) AS prev,
                       (SELECT (SELECT file_size FROM snapshot WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp > NEW.timestamp ORDER BY timestamp, id LIMIT 1) AS size) AS nxt)
         WHERE class_div = NEW.class_div AND hw_name = NEW.hw_name AND student_id = NEW.student_id AND filename = NEW.filename AND timestamp > NEW.timestamp;
    END;

CREATE TRIGGER buildlog_aggregates AFTER INSERT ON buildlog BEGIN
        INSERT INTO log_count VALUES ('build', NEW.class_div, NEW.hw_name, NEW.student_id, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;

CREATE TRIGGER runlog_aggregates AFTER INSERT ON runlog BEGIN
        INSERT INTO log_count VALUES ('run', NEW.class_div, NEW.hw_name, NEW.student_id, 1)
            ON CONFLICT DO UPDATE SET n = n + 1;
    END;
