-- BackgroundCopy PostgreSQL schema, migration 1: the queue (groups, jobs, files), the events
-- outbox, durable observers, and the leases that let engines on many hosts share the queue.
-- The same tables, states and invariants as the SQLite schema (../0001–0004 together; ../schema.md),
-- in PostgreSQL's types; schema.md beside this file says what differs and why.
-- Applied in one transaction; the library records it in schema_version (version 1).
-- Timestamps are Unix milliseconds (UTC) from the library's clock, except lease expiry, which is
-- the server's clock (timestamptz): the one clock every engine host shares.

CREATE TABLE groups (
    id                     bigint   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid                   uuid     NOT NULL UNIQUE,
    state                  text     NOT NULL DEFAULT 'suspended'
                           CHECK (state IN ('suspended', 'queued', 'transferring', 'complete', 'error', 'cancelled')),
    priority               smallint NOT NULL DEFAULT 2 CHECK (priority BETWEEN 0 AND 3),
    display_name           text     NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 256),
    description            text     NOT NULL DEFAULT '' CHECK (char_length(description) <= 1024),
    notify_flags           integer  NOT NULL DEFAULT 12,
    retry_delay_ms         bigint   NOT NULL DEFAULT 600000 CHECK (retry_delay_ms >= 0),
    no_progress_timeout_ms bigint   NOT NULL DEFAULT 1209600000 CHECK (no_progress_timeout_ms >= 0),
    http_headers           text     NOT NULL DEFAULT '',
    created_at             bigint   NOT NULL,
    modified_at            bigint   NOT NULL,
    completed_at           bigint,
    cancelled_at           bigint,
    retry_at               bigint,
    progress_at            bigint,
    error_count            integer  NOT NULL DEFAULT 0 CHECK (error_count >= 0),
    last_error_code        text,
    last_error_message     text,
    last_error_system      integer,
    last_error_http        integer,
    last_error_retries     integer,
    last_error_file_id     bigint,
    CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL))
);

-- The scheduler's waiting-group and retry queries (one state each).
CREATE INDEX groups_by_schedule ON groups (state, priority, id);
-- The claim's group order (priority, then FIFO) over runnable groups only.
CREATE INDEX groups_runnable ON groups (priority, id) WHERE state IN ('queued', 'transferring');
-- Live groups in creation order, tombstones skipped.
CREATE INDEX groups_live ON groups (id, uuid) WHERE state <> 'cancelled';
-- Tombstones by age, for purgeTombstones(olderThan:).
CREATE INDEX groups_tombstones ON groups (cancelled_at) WHERE state = 'cancelled';

CREATE TABLE jobs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uuid         uuid   NOT NULL UNIQUE,
    group_id     bigint NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    state        text   NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'cancelled')),
    created_at   bigint NOT NULL,
    cancelled_at bigint,
    CHECK ((state = 'cancelled') = (cancelled_at IS NOT NULL))
);

-- Jobs of a group in creation order.
CREATE INDEX jobs_by_group ON jobs (group_id, state, id);

-- Fencing tokens: every claim or takeover of a file draws the next one, so a later holder of a
-- file's lease always has a higher token than every earlier one, across the whole queue.
CREATE SEQUENCE lease_tokens AS bigint;

CREATE TABLE files (
    id               bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id           bigint  NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 0),
    remote_url       text    NOT NULL,
    local_path       text    NOT NULL,
    size_hint        bigint  CHECK (size_hint >= 0),
    sha256           bytea   CHECK (sha256 IS NULL OR length(sha256) = 32),
    state            text    NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'transferring', 'finalizing', 'complete', 'retained', 'discarded', 'error')),
    bytes_total      bigint  CHECK (bytes_total >= 0),
    bytes_done       bigint  NOT NULL DEFAULT 0 CHECK (bytes_done >= 0),
    temp_path        text,
    validator        text,
    completed_at     bigint,
    retries          integer NOT NULL DEFAULT 0 CHECK (retries >= 0),
    -- The lease: which host holds the file, until when (server time), under which fencing token.
    lease_host       text,
    lease_expires_at timestamptz,
    lease_token      bigint,
    UNIQUE (job_id, position),
    CHECK (bytes_total IS NULL OR bytes_done <= bytes_total),
    -- A file is in flight exactly when some host holds its lease, and a lease is all three columns.
    CHECK ((state IN ('transferring', 'finalizing')) = (lease_token IS NOT NULL)),
    CHECK ((lease_token IS NULL) = (lease_host IS NULL) AND (lease_token IS NULL) = (lease_expires_at IS NULL))
);

-- No two live files may share a local path; retained and discarded files have left the queue.
CREATE UNIQUE INDEX files_live_local_path ON files (local_path) WHERE state NOT IN ('retained', 'discarded');
-- The scheduler's work list: the incomplete files of a job, in order.
CREATE INDEX files_pending ON files (job_id, position) WHERE state IN ('queued', 'transferring', 'finalizing', 'error');
-- Files in flight per job.
CREATE INDEX files_in_flight ON files (job_id) WHERE state IN ('transferring', 'finalizing');
-- Recovery's work list: files whose temp file may still exist.
CREATE INDEX files_with_temp ON files (state) WHERE temp_path IS NOT NULL;
-- Leases by expiry: the takeover's work list, and which host holds what.
CREATE INDEX files_leases ON files (lease_expires_at) WHERE lease_token IS NOT NULL;

CREATE TABLE events (
    seq        bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         bigint  NOT NULL,
    group_id   bigint  NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    job_id     bigint  REFERENCES jobs (id) ON DELETE CASCADE,
    file_index integer,
    kind       text    NOT NULL
               CHECK (kind IN ('groupCreated', 'modified', 'groupComplete', 'groupError', 'jobComplete',
                               'fileComplete', 'progress', 'jobCancelled', 'cancelled')),
    state      text    NOT NULL,
    detail     text    NOT NULL DEFAULT ''
);

CREATE INDEX events_by_group ON events (group_id, seq);

-- One row per durable observer: the last event sequence it acknowledged.
CREATE TABLE observers (
    name          text   PRIMARY KEY CHECK (char_length(name) BETWEEN 1 AND 256),
    acked_seq     bigint NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
    registered_at bigint NOT NULL
);
