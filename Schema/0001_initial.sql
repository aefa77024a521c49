-- BackgroundCopy schema, migration 1: the queue (groups, jobs, files) and the events outbox.
-- Applied in one transaction; the library records it as PRAGMA user_version = 1.
-- Every table is STRICT. Timestamps are Unix milliseconds (UTC). Durations are milliseconds.
-- schema.md beside this file describes every table, state and invariant in words.

CREATE TABLE groups (
    id                   INTEGER PRIMARY KEY,
    uuid                 BLOB    NOT NULL UNIQUE CHECK (length(uuid) = 16),
    state                TEXT    NOT NULL DEFAULT 'suspended'
                         CHECK (state IN ('suspended', 'queued', 'transferring', 'complete', 'error', 'cancelled')),
    priority             INTEGER NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 3),
    display_name         TEXT    NOT NULL CHECK (length(display_name) BETWEEN 1 AND 256),
    description          TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
    notify_flags         INTEGER NOT NULL DEFAULT 12,
    retry_delay_ms       INTEGER NOT NULL DEFAULT 600000 CHECK (retry_delay_ms >= 0),
    no_progress_timeout_ms INTEGER NOT NULL DEFAULT 1209600000 CHECK (no_progress_timeout_ms >= 0),
    http_headers         TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    modified_at          INTEGER NOT NULL,
    completed_at         INTEGER,
    cancelled_at         INTEGER,
    error_count          INTEGER NOT NULL DEFAULT 0 CHECK (error_count >= 0),
    last_error_code      TEXT,
    last_error_message   TEXT,
    last_error_system    INTEGER,
    last_error_http      INTEGER,
    last_error_retries   INTEGER,
    last_error_file_id   INTEGER,
    CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL))
) STRICT;

-- The scheduler's order: live, resumed groups by priority, then creation (FIFO).
CREATE INDEX groups_by_schedule ON groups (state, priority, id);
-- Tombstones by age, for purgeTombstones(olderThan:).
CREATE INDEX groups_tombstones ON groups (cancelled_at) WHERE state = 'cancelled';

CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid          BLOB    NOT NULL UNIQUE CHECK (length(uuid) = 16),
    group_id      INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    state         TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'cancelled')),
    created_at    INTEGER NOT NULL,
    cancelled_at  INTEGER,
    CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL))
) STRICT;

-- Jobs of a group in creation order (id grows with creation).
CREATE INDEX jobs_by_group ON jobs (group_id, state, id);

CREATE TABLE files (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id        INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL CHECK (position >= 0),
    remote_url    TEXT    NOT NULL,
    local_path    TEXT    NOT NULL,
    size_hint     INTEGER CHECK (size_hint >= 0),
    sha256        BLOB    CHECK (sha256 IS NULL OR length(sha256) = 32),
    state         TEXT    NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'transferring', 'finalizing', 'complete', 'retained', 'discarded', 'error')),
    bytes_total   INTEGER CHECK (bytes_total >= 0),
    bytes_done    INTEGER NOT NULL DEFAULT 0 CHECK (bytes_done >= 0),
    temp_path     TEXT,
    validator     TEXT,
    completed_at  INTEGER,
    UNIQUE (job_id, position),
    CHECK (bytes_total IS NULL OR bytes_done <= bytes_total)
) STRICT;

-- No two live files may share a local path; retained and discarded files have left the queue.
CREATE UNIQUE INDEX files_live_local_path ON files (local_path)
    WHERE state NOT IN ('retained', 'discarded');
-- The scheduler's work list: the next incomplete file of a job, in order.
CREATE INDEX files_pending ON files (job_id, position)
    WHERE state IN ('queued', 'transferring', 'finalizing', 'error');
-- Files in flight per job, so the scheduler can bound how many files of a group transfer at once.
CREATE INDEX files_in_flight ON files (job_id) WHERE state IN ('transferring', 'finalizing');
-- Recovery's work list: files whose temp file may still exist on disk.
CREATE INDEX files_with_temp ON files (state) WHERE temp_path IS NOT NULL;

CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    group_id      INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    job_id        INTEGER REFERENCES jobs (id) ON DELETE CASCADE,
    file_index    INTEGER,
    kind          TEXT    NOT NULL
                  CHECK (kind IN ('groupCreated', 'modified', 'groupComplete', 'groupError', 'jobComplete',
                                  'fileComplete', 'progress', 'jobCancelled', 'cancelled')),
    state         TEXT    NOT NULL,
    detail        TEXT    NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX events_by_group ON events (group_id, seq);
