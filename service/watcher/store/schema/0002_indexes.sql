-- Migration 2 (released in the first landing): an index for every query pattern; the original
-- had none, so every read was a full scan.

CREATE INDEX IF NOT EXISTS snapshot_by_student
    ON snapshot (class_div, hw_name, student_id, filename, timestamp, file_size);

CREATE INDEX IF NOT EXISTS snapshot_by_time
    ON snapshot (class_div, hw_name, timestamp);

CREATE INDEX IF NOT EXISTS snapshot_by_size
    ON snapshot (class_div, hw_name, file_size);

CREATE INDEX IF NOT EXISTS buildlog_by_student
    ON buildlog (class_div, hw_name, student_id, timestamp);

CREATE INDEX IF NOT EXISTS runlog_by_student
    ON runlog (class_div, hw_name, student_id, timestamp);
