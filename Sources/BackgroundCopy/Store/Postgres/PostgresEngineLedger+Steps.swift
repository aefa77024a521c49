import Foundation
import PostgresNIO

/// The steps that end or look at a transfer: each one transaction; the ones that change a file
/// are fenced by its token, so a host that lost the lease changes nothing.
extension PostgresEngineLedger {
    package func fail(_ fileRowID: Int64, error: QueueError, retries: Int) async throws(QueueError) -> Bool {
        guard let token = token(fileRowID) else { return false }
        let now = leases.now()
        let fence = PostgresLeaseLedger.fence("f", "\(token)")
        let failed = try await transaction { db throws(QueueError) -> Bool in
            let rows = try await db.run(
                """
                UPDATE files f SET state = 'error', lease_host = NULL, lease_expires_at = NULL, lease_token = NULL
                FROM jobs j WHERE f.id = \(fileRowID) AND \(unescaped: fence) AND f.state = 'transferring' AND j.id = f.job_id
                RETURNING j.group_id, f.job_id, f.position::bigint
                """, logger: logger)
            guard let row = rows.first else { return false }
            let (group, job, position) = try row.values((Int64, Int64, Int64).self)
            let system = error.systemError.map(Int64.init)
            let http = error.httpStatus.map(Int64.init)
            try await db.run(
                """
                UPDATE groups SET state = 'error', modified_at = \(now), error_count = error_count + 1,
                       last_error_code = \(error.code.description), last_error_message = \(error.message),
                       last_error_system = \(system), last_error_http = \(http), last_error_retries = \(Int64(retries)),
                       last_error_file_id = \(fileRowID)
                WHERE id = \(group)
                """, logger: logger)
            try await PostgresEventLog.record(
                db, logger: logger, .groupError, group: group, job: job, fileIndex: position,
                state: .error, detail: error.message, at: now)
            return true
        }
        forget(fileRowID)
        return failed
    }

    package func retryLater(
        _ fileRowID: Int64, error: QueueError,
        wait: @escaping @Sendable (_ retries: Int) -> Duration
    ) async throws(QueueError) -> Duration? {
        guard let token = token(fileRowID) else { return nil }
        let now = leases.now()
        let fence = PostgresLeaseLedger.fence("f", "\(token)")
        let waiting = try await transaction { db throws(QueueError) -> Duration? in
            let rows = try await db.run(
                """
                UPDATE files f SET state = 'queued', retries = f.retries + 1, lease_host = NULL, lease_expires_at = NULL, lease_token = NULL
                FROM jobs j WHERE f.id = \(fileRowID) AND \(unescaped: fence) AND f.state = 'transferring' AND j.id = f.job_id
                RETURNING j.group_id, f.retries::bigint
                """, logger: logger)
            guard let row = rows.first else { return nil }
            let (group, retries) = try row.values((Int64, Int64).self)
            let delay = wait(Int(retries))
            let retryAt = now + delay.milliseconds
            let system = error.systemError.map(Int64.init)
            let http = error.httpStatus.map(Int64.init)
            try await db.run(
                """
                UPDATE groups SET state = CASE state WHEN 'transferring' THEN 'queued' ELSE state END, retry_at = \(retryAt),
                       modified_at = \(now), last_error_code = \(error.code.description), last_error_message = \(error.message),
                       last_error_system = \(system), last_error_http = \(http), last_error_retries = \(retries),
                       last_error_file_id = \(fileRowID)
                WHERE id = \(group) AND state <> 'error'
                """, logger: logger)
            return delay
        }
        forget(fileRowID)
        return waiting
    }

    /// Hands the file back as `queued` with `bytesDone` committed, if this host still holds it;
    /// its group waits as `queued` when nothing of it is in flight any more. The file's state after.
    @discardableResult
    package func release(_ fileRowID: Int64, bytesDone: UInt64?) async throws(QueueError) -> FileState? {
        let token = token(fileRowID) ?? -1
        let done = bytesDone.map(Int64.init)
        let fence = PostgresLeaseLedger.fence("f", "\(token)")
        let state = try await transaction { db throws(QueueError) -> FileState? in
            let released = try await db.run(
                """
                UPDATE files f SET state = 'queued', bytes_done = coalesce(\(done), f.bytes_done),
                       lease_host = NULL, lease_expires_at = NULL, lease_token = NULL
                FROM jobs j WHERE f.id = \(fileRowID) AND \(unescaped: fence) AND f.state IN ('transferring', 'finalizing') AND j.id = f.job_id
                RETURNING j.group_id
                """, logger: logger)
            if let group = try released.first?.value(Int64.self) {
                try await db.run(
                    """
                    UPDATE groups g SET state = 'queued' WHERE g.id = \(group) AND g.state = 'transferring' AND NOT EXISTS (
                        SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                        WHERE j.group_id = g.id AND j.state = 'active' AND f.state IN ('transferring', 'finalizing'))
                    """, logger: logger)
            }
            let rows = try await db.run("SELECT state FROM files WHERE id = \(fileRowID)", logger: logger)
            guard let row = rows.first else { return nil }
            return FileState(rawValue: try row.value(String.self))
        }
        forget(fileRowID)
        return state
    }

    /// Of the given files, those this host must stop: no longer held under its token, no longer
    /// `transferring`, or in a group that is no longer `transferring`.
    package func stale(_ fileRowIDs: [Int64]) async throws(QueueError) -> [Int64] {
        guard !fileRowIDs.isEmpty else { return [] }
        let tokens = fileRowIDs.map { token($0) ?? -1 }
        let fence = PostgresLeaseLedger.fence("f", "t.token")
        return try await transaction { db throws(QueueError) -> [Int64] in
            let rows = try await db.run(
                """
                SELECT t.id FROM unnest(\(fileRowIDs)::bigint[], \(tokens)::bigint[]) AS t(id, token)
                LEFT JOIN files f ON f.id = t.id LEFT JOIN jobs j ON j.id = f.job_id LEFT JOIN groups g ON g.id = j.group_id
                WHERE f.id IS NULL OR NOT (\(unescaped: fence)
                                           AND f.state = 'transferring' AND g.state = 'transferring')
                """, logger: logger)
            var stale: [Int64] = []
            for row in rows { stale.append(try row.value(Int64.self)) }
            return stale
        }
    }

    package func nextRetry() async throws(QueueError) -> Int64? {
        try await transaction { db throws(QueueError) -> Int64? in
            let rows = try await db.run("SELECT min(retry_at) FROM groups WHERE state = 'queued' AND retry_at IS NOT NULL", logger: logger)
            return try rows.first?.value(Int64?.self) ?? nil
        }
    }

    package func lastProgress(ofGroup groupRowID: Int64) async throws(QueueError) -> (at: Int64?, timeout: Int64, retryDelay: Int64) {
        try await transaction { db throws(QueueError) in
            let rows = try await db.run(
                """
                SELECT progress_at, no_progress_timeout_ms, retry_delay_ms FROM groups WHERE id = \(groupRowID)
                """, logger: logger)
            guard let row = rows.first else { return (nil, 0, 0) }
            let (at, timeout, delay) = try row.values((Int64?, Int64, Int64).self)
            return (at, timeout, delay)
        }
    }

    package func discardProgress(_ fileRowID: Int64) async throws(QueueError) {
        guard let token = token(fileRowID) else { return }
        let fence = PostgresLeaseLedger.fence("f", "\(token)")
        try await transaction { db throws(QueueError) in
            _ = try await db.run("UPDATE files f SET bytes_done = 0, validator = NULL WHERE f.id = \(fileRowID) AND \(unescaped: fence)", logger: logger)
        }
    }

    package func bestWaitingBackgroundPriority() async throws(QueueError) -> Priority? {
        let now = leases.now()
        return try await transaction { db throws(QueueError) -> Priority? in
            let rows = try await db.run(
                """
                SELECT min(g.priority)::bigint FROM groups g
                WHERE g.state = 'queued' AND g.priority > 0 AND (g.retry_at IS NULL OR g.retry_at <= \(now))
                  AND EXISTS (SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                              WHERE j.group_id = g.id AND j.state = 'active' AND f.state = 'queued')
                """, logger: logger)
            return try rows.first?.value(Int64?.self).flatMap { Priority(rawValue: Int($0)) }
        }
    }

    package func placement(of fileRowID: Int64) async throws(QueueError) -> FilePlacement? {
        try await transaction { db throws(QueueError) -> FilePlacement? in
            let rows = try await db.run(
                """
                SELECT j.uuid, f.position::bigint,
                       (SELECT count(*) FROM jobs o WHERE o.group_id = j.group_id AND o.state = 'active' AND o.id < j.id)
                FROM files f JOIN jobs j ON j.id = f.job_id WHERE f.id = \(fileRowID)
                """, logger: logger)
            guard let row = rows.first else { return nil }
            let (uuid, position, jobIndex) = try row.values((UUID, Int64, Int64).self)
            return FilePlacement(job: JobID(uuid), jobIndex: Int(jobIndex), fileIndex: Int(position))
        }
    }

    package func groupCensus() async throws(QueueError) -> [GroupState: Int] {
        try await transaction { db throws(QueueError) -> [GroupState: Int] in
            let rows = try await db.run("SELECT state, count(*) FROM groups WHERE state <> 'cancelled' GROUP BY state", logger: logger)
            var census: [GroupState: Int] = [:]
            for state in GroupState.allCases where state != .cancelled { census[state] = 0 }
            for row in rows {
                let (state, count) = try row.values((String, Int64).self)
                if let state = GroupState(rawValue: state) { census[state] = Int(count) }
            }
            return census
        }
    }
}
