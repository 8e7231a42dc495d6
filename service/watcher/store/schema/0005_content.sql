-- Migration 5 (released at 1e996b4): snapshot content posted by collectors, zlib-compressed and
-- de-duplicated by the SHA-256 of the uncompressed bytes, and which snapshot row holds which blob.

CREATE TABLE IF NOT EXISTS content_blob (
    hash TEXT NOT NULL PRIMARY KEY, size INTEGER NOT NULL, text INTEGER NOT NULL,
    data BLOB NOT NULL);

CREATE TABLE IF NOT EXISTS snapshot_content (
    snapshot_id INTEGER NOT NULL PRIMARY KEY, hash TEXT NOT NULL);
