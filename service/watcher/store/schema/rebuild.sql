-- Every maintained aggregate recomputed from the base tables (snapshot, buildlog, runlog), for the
-- schema as it is now (schema.sql). Bulk loads insert with the triggers dropped and run this once;
-- tests hold it to what the triggers maintain row by row. Unlike a migration it follows the
-- schema: a migration that changes what the triggers keep changes this file too.

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

INSERT INTO file_state (class_div, hw_name, student_id, filename, snapshots, total_bytes)
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
