-- BackgroundCopy schema, migration 2: what the transfer engine and the notifier keep.

-- When a group waiting after a transient error may be tried again (NULL: now), and when any of its
-- files last made progress (for the no-progress timeout).
ALTER TABLE groups ADD COLUMN retry_at INTEGER;
ALTER TABLE groups ADD COLUMN progress_at INTEGER;

-- Transient failures of a file since it last made progress (BITS' retry count).
ALTER TABLE files ADD COLUMN retries INTEGER NOT NULL DEFAULT 0 CHECK (retries >= 0);

-- One row per durable observer: the last event sequence it acknowledged. Delivery resumes after it,
-- so a restart neither loses an event nor repeats one to the same observer.
CREATE TABLE observers (
    name          TEXT    PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 256),
    acked_seq     INTEGER NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
    registered_at INTEGER NOT NULL
) STRICT;
