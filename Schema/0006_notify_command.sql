-- BackgroundCopy schema, migration 6: completion hooks (BITS' SetNotifyCmdLine).

-- The command a group runs after each of its groupComplete and groupError events that its notify
-- flags let through: a JSON array of strings, the absolute program path first and its arguments
-- after it (NULL: none). Executed without a shell.
ALTER TABLE groups ADD COLUMN notify_command TEXT;

-- The events outbox again, with one more kind: `notifyCommandFinished`, how a group's command
-- ended. A CHECK constraint cannot be changed in place, so the table is rebuilt; sequence numbers
-- are kept, and so is AUTOINCREMENT's high-water mark (a purged tail never hands out a number again).
CREATE TABLE events_new (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    group_id      INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    job_id        INTEGER REFERENCES jobs (id) ON DELETE CASCADE,
    file_index    INTEGER,
    kind          TEXT    NOT NULL
                  CHECK (kind IN ('groupCreated', 'modified', 'groupComplete', 'groupError', 'jobComplete',
                                  'fileComplete', 'progress', 'jobCancelled', 'cancelled', 'notifyCommandFinished')),
    state         TEXT    NOT NULL,
    detail        TEXT    NOT NULL DEFAULT ''
) STRICT;
INSERT INTO events_new (seq, at, group_id, job_id, file_index, kind, state, detail)
    SELECT seq, at, group_id, job_id, file_index, kind, state, detail FROM events ORDER BY seq;
DELETE FROM sqlite_sequence WHERE name = 'events_new';
INSERT INTO sqlite_sequence (name, seq) SELECT 'events_new', seq FROM sqlite_sequence WHERE name = 'events';
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_group ON events (group_id, seq);

-- The hooks owed: one row per groupComplete/groupError event whose group had a command, written in
-- the event's own transaction with the command as it stood then. The engine runs the command and
-- then, in one transaction, deletes the row and records the notifyCommandFinished event; a crash
-- in between leaves the row, so the command runs again (at least once per event).
CREATE TABLE notify_runs (
    event_seq     INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
    command       TEXT    NOT NULL,
    queued_at     INTEGER NOT NULL
) STRICT;
