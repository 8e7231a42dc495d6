-- Migration 1 (released in the first landing): the original backend's three tables, column for
-- column (SQLModel's DDL). Created only if missing, so a database.db written by the original is
-- adopted in place, rows and all.
--
-- A released migration never changes: a database that ran it keeps what it made. Change the
-- schema with a new numbered file, and keep schema.sql and rebuild.sql current.

CREATE TABLE IF NOT EXISTS snapshot (
    id INTEGER NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
    student_id INTEGER NOT NULL, filename VARCHAR NOT NULL, timestamp VARCHAR NOT NULL,
    file_size INTEGER NOT NULL, PRIMARY KEY (id));

CREATE TABLE IF NOT EXISTS buildlog (
    id INTEGER NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
    student_id INTEGER NOT NULL, cwd VARCHAR NOT NULL, binary_path VARCHAR NOT NULL,
    cmdline VARCHAR NOT NULL, exit_code INTEGER NOT NULL, target_path VARCHAR NOT NULL,
    timestamp DATETIME NOT NULL, PRIMARY KEY (id));

CREATE TABLE IF NOT EXISTS runlog (
    id INTEGER NOT NULL, class_div VARCHAR NOT NULL, hw_name VARCHAR NOT NULL,
    student_id INTEGER NOT NULL, cmdline VARCHAR NOT NULL, exit_code INTEGER NOT NULL,
    cwd VARCHAR NOT NULL, target_path VARCHAR NOT NULL, process_type VARCHAR NOT NULL,
    timestamp DATETIME NOT NULL, PRIMARY KEY (id));
