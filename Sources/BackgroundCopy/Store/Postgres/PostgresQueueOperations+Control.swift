import Foundation
import PostgresNIO

/// The host's writes to a PostgreSQL group beyond create/resume/suspend: properties, foreground,
/// and the cancels of a group or one job — the counterparts of the SQLite operations, each one
/// transaction with its event row.
extension PostgresQueueOperations {
    /// Replaces a live group's properties (already validated) and records the change.
    func setProperties(_ id: GroupID, _ properties: GroupProperties, at now: Int64) async throws(QueueError) {
        try await store.transaction { db throws(QueueError) in
            let group = try await liveGroup(db, id)
            let priority = Int64(properties.priority.rawValue)
            let flags = Int64(properties.notifyFlags.rawValue)
            try await db.run(
                """
                UPDATE groups SET display_name = \(properties.displayName), description = \(properties.description),
                       priority = \(priority), notify_flags = \(flags), retry_delay_ms = \(properties.retryDelay.milliseconds),
                       no_progress_timeout_ms = \(properties.noProgressTimeout.milliseconds),
                       http_headers = \(HeaderCoding.encode(properties.httpHeaders)), modified_at = \(now)
                WHERE id = \(group.rowID)
                """, logger: logger)
            try await PostgresEventLog.record(
                db, logger: logger, .modified, group: group.rowID, state: group.state, detail: "properties", at: now)
        }
    }

    /// Makes a live group foreground; a no-op if it already is.
    func switchToForeground(_ id: GroupID, at now: Int64) async throws(QueueError) {
        try await store.transaction { db throws(QueueError) in
            let group = try await liveGroup(db, id)
            guard group.priority != .foreground else { return }
            let foreground = Int64(Priority.foreground.rawValue)
            try await db.run("UPDATE groups SET priority = \(foreground), modified_at = \(now) WHERE id = \(group.rowID)", logger: logger)
            try await PostgresEventLog.record(
                db, logger: logger, .modified, group: group.rowID, state: group.state, detail: "foreground", at: now)
        }
    }

    /// The whole group cancel: complete and finalizing files `retained`, the rest `discarded`, every
    /// lease released, jobs and group tombstoned, the `cancelled` event. Returns the temp-file
    /// effects to apply after the commit.
    func cancel(_ id: GroupID, at now: Int64) async throws(QueueError) -> Cancellation.Outcome {
        try await store.transaction { db throws(QueueError) in
            let group = try await liveGroup(db, id)
            try await lockFiles(db, group: group.rowID)
            var jobs: [Int64] = []
            for row in try await db.run("SELECT id FROM jobs WHERE group_id = \(group.rowID) AND state = 'active'", logger: logger) {
                jobs.append(try row.value(Int64.self))
            }
            let outcome = try await settleFiles(db, jobs: jobs, at: now)
            try await db.run(
                """
                UPDATE groups SET state = 'cancelled', cancelled_at = \(now), modified_at = \(now) WHERE id = \(group.rowID)
                """, logger: logger)
            try await PostgresEventLog.record(
                db, logger: logger, .cancelled, group: group.rowID, state: .cancelled,
                detail: outcome.summary, at: now)
            return outcome
        }
    }

    /// Cancels one live job as a group cancel does, settles its group as ``GroupSettlement`` does
    /// on SQLite and records `jobCancelled`. Returns the temp-file effects to apply after the commit.
    func cancelJob(_ jobID: JobID, in groupID: GroupID, at now: Int64) async throws(QueueError) -> Cancellation.Outcome {
        try await store.transaction { db throws(QueueError) in
            let (group, job) = try await liveJob(db, group: groupID, job: jobID)
            try await db.run(
                """
                SELECT id FROM files WHERE job_id = \(job) AND state IN ('queued', 'transferring', 'finalizing')
                ORDER BY id FOR NO KEY UPDATE
                """, logger: logger)
            let outcome = try await settleFiles(db, jobs: [job], at: now)
            let state = try await settleAfterJobCancel(db, group: group.rowID, state: group.state, at: now)
            try await PostgresEventLog.record(
                db, logger: logger, .jobCancelled, group: group.rowID, job: job, state: state, detail: outcome.summary, at: now)
            return outcome
        }
    }

    /// Deletes what tombstones older than `cutoff` leave behind, as ``TombstonePurge`` does on
    /// SQLite: the jobs, files and events of groups cancelled before it and the cancelled jobs (with
    /// their files and events) of live groups; a cancelled group keeps its row, emptied of its
    /// description and headers, so its ID stays taken. Returns how many tombstones were purged.
    func purgeTombstones(before cutoff: Int64) async throws(QueueError) -> Int {
        try await store.transaction { db throws(QueueError) in
            let count = try await db.run(
                """
                SELECT (SELECT count(*) FROM groups g WHERE g.state = 'cancelled' AND g.cancelled_at < \(cutoff)
                          AND (EXISTS (SELECT 1 FROM jobs j WHERE j.group_id = g.id)
                               OR EXISTS (SELECT 1 FROM events e WHERE e.group_id = g.id)))
                     + (SELECT count(*) FROM jobs j JOIN groups g ON g.id = j.group_id
                        WHERE j.state = 'cancelled' AND j.cancelled_at < \(cutoff)
                          AND NOT (g.state = 'cancelled' AND g.cancelled_at < \(cutoff)))
                """, logger: logger)
            let purged = try count.first?.value(Int64.self) ?? 0
            try await db.run(
                """
                DELETE FROM events WHERE group_id IN (SELECT id FROM groups WHERE state = 'cancelled' AND cancelled_at < \(cutoff))
                """, logger: logger)
            try await db.run(
                """
                DELETE FROM jobs
                WHERE group_id IN (SELECT id FROM groups WHERE state = 'cancelled' AND cancelled_at < \(cutoff))
                   OR (state = 'cancelled' AND cancelled_at < \(cutoff))
                """, logger: logger)
            try await db.run(
                """
                UPDATE groups SET description = '', http_headers = ''
                WHERE state = 'cancelled' AND cancelled_at < \(cutoff) AND (description <> '' OR http_headers <> '')
                """, logger: logger)
            return Int(purged)
        }
    }

    /// Locks the group's in-flight and queued files in row-ID order (files before groups).
    func lockFiles(_ db: PostgresConnection, group: Int64) async throws(QueueError) {
        try await db.run(
            """
            SELECT f.id FROM files f JOIN jobs j ON j.id = f.job_id
            WHERE j.group_id = \(group) AND j.state = 'active' AND f.state IN ('queued', 'transferring', 'finalizing')
            ORDER BY f.id FOR NO KEY UPDATE OF f
            """, logger: logger)
    }

    /// The cancel of `jobs` (``Cancellation`` on SQLite): complete and finalizing files `retained`,
    /// the rest `discarded`, their leases released, the jobs tombstoned.
    private func settleFiles(_ db: PostgresConnection, jobs: [Int64], at now: Int64) async throws(QueueError) -> Cancellation.Outcome {
        var outcome = Cancellation.Outcome()
        let temps = try await db.run(
            "SELECT id, state, temp_path, local_path FROM files WHERE job_id = ANY(\(jobs)::bigint[]) AND temp_path IS NOT NULL",
            logger: logger)
        for row in temps {
            let (file, state, temp, local) = try row.values((Int64, String, String, String).self)
            let action: FileEffect.Action = state == FileState.finalizing.rawValue ? .finishRename : .removeTemp
            outcome.effects.append(FileEffect(fileRowID: file, action: action, tempPath: temp, localPath: local))
        }
        let settled = try await db.run(
            """
            UPDATE files SET state = CASE WHEN state IN ('complete', 'finalizing') THEN 'retained' ELSE 'discarded' END,
                   lease_host = NULL, lease_expires_at = NULL, lease_token = NULL
            WHERE job_id = ANY(\(jobs)::bigint[]) AND state NOT IN ('retained', 'discarded')
            RETURNING state
            """, logger: logger)
        for row in settled {
            if try row.value(String.self) == FileState.retained.rawValue { outcome.retained += 1 } else { outcome.discarded += 1 }
        }
        try await db.run(
            "UPDATE jobs SET state = 'cancelled', cancelled_at = \(now) WHERE id = ANY(\(jobs)::bigint[]) AND state = 'active'",
            logger: logger)
        return outcome
    }

    /// After a job of the group was cancelled (``GroupSettlement/afterJobCancel(_:_:at:)`` on
    /// SQLite): a group with files but none pending is complete; a group with no file left is
    /// suspended; a group in error whose failed file went with the job is suspended, its error
    /// cleared. Returns the group's state.
    private func settleAfterJobCancel(_ db: PostgresConnection, group: Int64, state: GroupState, at now: Int64) async throws(QueueError)
        -> GroupState
    {
        let counts = try await db.run(
            """
            SELECT count(*), count(*) FILTER (WHERE f.state IN \(unescaped: StatusQuery.pendingStates)),
                   count(*) FILTER (WHERE f.state = 'error')
            FROM jobs j JOIN files f ON f.job_id = j.id WHERE j.group_id = \(group) AND j.state = 'active'
            """, logger: logger)
        let (files, pending, failed) = try counts.first?.values((Int64, Int64, Int64).self) ?? (Int64(0), Int64(0), Int64(0))
        if files > 0, pending == 0, [.queued, .transferring, .suspended, .error].contains(state) {
            try await db.run(
                """
                UPDATE groups SET state = 'complete', completed_at = \(now), modified_at = \(now), retry_at = NULL, progress_at = NULL,
                       \(unescaped: GroupSettlement.clearError)
                WHERE id = \(group)
                """, logger: logger)
            try await PostgresEventLog.record(db, logger: logger, .groupComplete, group: group, state: .complete, at: now)
            return .complete
        }
        let emptied = files == 0 && [.queued, .transferring, .error].contains(state)
        let unfailed = state == .error && failed == 0
        guard emptied || unfailed else { return state }
        try await db.run(
            """
            UPDATE groups SET state = 'suspended', modified_at = \(now), retry_at = NULL, \(unescaped: GroupSettlement.clearError) WHERE id = \(group)
            """, logger: logger)
        return .suspended
    }
}
