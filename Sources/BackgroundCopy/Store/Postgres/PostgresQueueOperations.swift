import Foundation
import Logging
import PostgresNIO

/// The host's operations on a PostgreSQL queue (here create, add files, resume, suspend and
/// status; the reads in `+Reads`, properties, foreground, cancels and purge in `+Control`): the
/// counterparts of the SQLite `Connection` operations, each one transaction with its event row,
/// the same errors naming the same values.
///
/// Locking follows ``PostgresLeaseLedger``: files first, then their group. A suspend or cancel
/// locks the group's files before it touches the group, so it waits for a claim that holds some
/// of them instead of deadlocking with it, and releases the leases of the files it stops: the
/// holder's next commit then throws `leaseLost` and its engine stops the transfer.
struct PostgresQueueOperations: Sendable {
    let store: PostgresStore

    var logger: Logger { store.logger }

    func createGroup(_ id: GroupID, _ properties: GroupProperties, at now: Int64) async throws(QueueError) {
        try await store.transaction { db throws(QueueError) in
            let existing = try await db.run("SELECT 1 FROM groups WHERE uuid = \(id.uuid)", logger: logger)
            guard existing.isEmpty else { throw .alreadyExists("group", id.description) }
            let priority = Int64(properties.priority.rawValue)
            let flags = Int64(properties.notifyFlags.rawValue)
            let rows = try await db.run(
                """
                INSERT INTO groups (uuid, priority, display_name, description, notify_flags, retry_delay_ms,
                                    no_progress_timeout_ms, http_headers, created_at, modified_at)
                VALUES (\(id.uuid), \(priority), \(properties.displayName), \(properties.description), \(flags),
                        \(properties.retryDelay.milliseconds), \(properties.noProgressTimeout.milliseconds),
                        \(HeaderCoding.encode(properties.httpHeaders)), \(now), \(now))
                RETURNING id
                """, logger: logger)
            let group = try rows.first?.value(Int64.self) ?? 0
            try await PostgresEventLog.record(db, logger: logger, .groupCreated, group: group, state: .suspended, at: now)
        }
    }

    /// A live group's row ID, state and priority.
    /// - Throws: `notFound` for an unknown or cancelled group.
    func liveGroup(_ db: PostgresConnection, _ id: GroupID) async throws(QueueError) -> (rowID: Int64, state: GroupState, priority: Priority) {
        let rows = try await db.run(
            "SELECT id, state, priority::bigint FROM groups WHERE uuid = \(id.uuid) AND state <> 'cancelled'",
            logger: logger)
        guard let row = rows.first else { throw .notFound("group", id.description) }
        let (rowID, state, priority) = try row.values((Int64, String, Int64).self)
        return (rowID, GroupState(rawValue: state) ?? .error, Priority(rawValue: Int(priority)) ?? .normal)
    }

    func checkGroup(_ id: GroupID) async throws(QueueError) {
        try await store.transaction { db throws(QueueError) in _ = try await liveGroup(db, id) }
    }

    func createJob(_ jobID: JobID, in groupID: GroupID, at now: Int64) async throws(QueueError) {
        try await store.transaction { db throws(QueueError) in
            let group = try await liveGroup(db, groupID)
            let existing = try await db.run("SELECT 1 FROM jobs WHERE uuid = \(jobID.uuid)", logger: logger)
            guard existing.isEmpty else { throw .alreadyExists("job", jobID.description) }
            let rows = try await db.run(
                """
                INSERT INTO jobs (uuid, group_id, created_at) VALUES (\(jobID.uuid), \(group.rowID), \(now)) RETURNING id
                """, logger: logger)
            let job = try rows.first?.value(Int64.self)
            try await PostgresEventLog.record(
                db, logger: logger, .modified, group: group.rowID, job: job, state: group.state,
                detail: "job created", at: now)
        }
    }

    /// Adds validated files at the end of a live job, all or none.
    /// - Throws: `invalidArgument` naming the first local path a live file of the queue already has.
    func addFiles(_ files: [FileSpec], digests: [[UInt8]?], to jobID: JobID, in groupID: GroupID, at now: Int64) async throws(QueueError) {
        try await store.transaction { db throws(QueueError) in
            let group = try await liveGroup(db, groupID)
            let jobs = try await db.run(
                """
                SELECT id FROM jobs WHERE uuid = \(jobID.uuid) AND group_id = \(group.rowID) AND state = 'active'
                """, logger: logger)
            guard let job = try jobs.first?.value(Int64.self) else { throw .notFound("job", jobID.description) }
            let locals = files.map(\.local)
            let taken = try await db.run(
                """
                SELECT local_path FROM files WHERE local_path = ANY(\(locals)) AND state NOT IN ('retained', 'discarded')
                """, logger: logger)
            if let path = try taken.first?.value(String.self), let index = locals.firstIndex(of: path) {
                throw QueueError(.invalidArgument, "file \(index): local path \(path) is already used by a file in the queue", value: path)
            }
            let next = try await db.run("SELECT coalesce(max(position) + 1, 0)::bigint FROM files WHERE job_id = \(job)", logger: logger)
            let first = try next.first?.value(Int64.self) ?? 0
            let positions = files.indices.map { first + Int64($0) }
            let remotes = files.map(\.remote)
            // Arrays cannot hold NULL through postgres-nio's encoders: -1 and '' stand for "none".
            let hints = files.map { $0.sizeHint.map(Int64.init) ?? -1 }
            let hashes = digests.map { $0?.hexString ?? "" }
            do throws(QueueError) {
                try await db.run(
                    """
                    INSERT INTO files (job_id, position, remote_url, local_path, size_hint, sha256)
                    SELECT \(job), p, r, l, nullif(h, -1), decode(nullif(s, ''), 'hex')
                    FROM unnest(\(positions)::bigint[], \(remotes)::text[], \(locals)::text[], \(hints)::bigint[], \(hashes)::text[])
                         AS t(p, r, l, h, s)
                    """, logger: logger)
            } catch let error where error.value == "23505" {
                // Another host added one of these paths since the look above.
                throw QueueError(
                    .invalidArgument, "a local path of these files is already used by a file in the queue",
                    value: locals.joined(separator: ", "))
            }
            var state = group.state
            if state == .complete {
                state = .suspended
                try await db.run(
                    "UPDATE groups SET state = 'suspended', completed_at = NULL, modified_at = \(now) WHERE id = \(group.rowID)",
                    logger: logger)
            }
            try await PostgresEventLog.record(
                db, logger: logger, .modified, group: group.rowID, job: job, state: state,
                detail: "\(files.count) file(s) added", at: now)
        }
    }

    /// `suspended`/`complete`/`error` → `queued`, failed files queued again, the error cleared.
    /// - Throws: `empty` if no file is left to transfer.
    func resume(_ id: GroupID, at now: Int64) async throws(QueueError) {
        try await store.transaction { db throws(QueueError) in
            let group = try await liveGroup(db, id)
            guard group.state != .queued && group.state != .transferring else { return }
            let pending = try await db.run(
                """
                SELECT EXISTS (SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                               WHERE j.group_id = \(group.rowID) AND j.state = 'active' AND f.state IN \(unescaped: StatusQuery.pendingStates))
                """, logger: logger)
            guard try pending.first?.value(Bool.self) == true else {
                throw QueueError(.empty, "group \(id) has no file left to transfer", value: id.description)
            }
            try await db.run(
                """
                UPDATE files SET state = 'queued'
                WHERE state = 'error' AND job_id IN (SELECT id FROM jobs WHERE group_id = \(group.rowID) AND state = 'active')
                """, logger: logger)
            try await db.run(
                """
                UPDATE groups SET state = 'queued', modified_at = \(now), retry_at = NULL, progress_at = NULL,
                       last_error_code = NULL, last_error_message = NULL, last_error_system = NULL, last_error_http = NULL,
                       last_error_retries = NULL, last_error_file_id = NULL
                WHERE id = \(group.rowID)
                """, logger: logger)
            try await PostgresEventLog.record(db, logger: logger, .modified, group: group.rowID, state: .queued, detail: "resumed", at: now)
        }
    }

    /// `queued`/`transferring` → `suspended`; its transferring files go back to `queued` with their
    /// committed bytes and lose their leases. Finalizing files keep theirs: their holder completes them.
    func suspend(_ id: GroupID, at now: Int64) async throws(QueueError) {
        try await store.transaction { db throws(QueueError) in
            let group = try await liveGroup(db, id)
            guard group.state == .queued || group.state == .transferring else { return }
            try await lockFiles(db, group: group.rowID)
            try await db.run("UPDATE groups SET state = 'suspended', modified_at = \(now) WHERE id = \(group.rowID)", logger: logger)
            try await db.run(
                """
                UPDATE files SET state = 'queued', lease_host = NULL, lease_expires_at = NULL, lease_token = NULL
                WHERE state = 'transferring' AND job_id IN (SELECT id FROM jobs WHERE group_id = \(group.rowID) AND state = 'active')
                """, logger: logger)
            try await PostgresEventLog.record(db, logger: logger, .modified, group: group.rowID, state: .suspended, detail: "suspended", at: now)
        }
    }

    func status(_ id: GroupID) async throws(QueueError) -> GroupStatus {
        try await store.transaction { db throws(QueueError) in
            let group = try await liveGroup(db, id)
            let current = try await db.run(
                """
                SELECT (SELECT count(*) FROM jobs o WHERE o.group_id = j.group_id AND o.state = 'active' AND o.id < j.id)
                FROM jobs j WHERE j.group_id = \(group.rowID) AND j.state = 'active'
                  AND EXISTS (SELECT 1 FROM files f WHERE f.job_id = j.id AND f.state IN \(unescaped: StatusQuery.pendingStates))
                ORDER BY j.id LIMIT 1
                """, logger: logger)
            var currentJob: Int?
            if let row = current.first { currentJob = Int(try row.value(Int64.self)) }
            let failure = try await lastError(db, group: group.rowID)
            return GroupStatus(
                state: group.state, flags: StatusQuery.flags(group.state, group.priority), currentJobIndex: currentJob,
                lastError: failure.failure, errorCount: failure.count)
        }
    }
}
