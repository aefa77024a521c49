extension TransferLedger {
    /// Hands a file the engine stopped transferring back to the queue, committing `bytesDone`
    /// (already fsynced) unless the file was cancelled meanwhile. Returns the file's state after.
    @discardableResult
    package func release(_ fileRowID: Int64, bytesDone: UInt64? = nil) throws(QueueError) -> FileState? {
        try core.store.write(releaseStep(fileRowID, bytesDone: bytesDone))
    }

    /// The `async` form of ``release(_:bytesDone:)``: suspends while the store works.
    @discardableResult
    package func release(_ fileRowID: Int64, bytesDone: UInt64? = nil) async throws(QueueError) -> FileState? {
        try await core.store.write(releaseStep(fileRowID, bytesDone: bytesDone))
    }

    private func releaseStep(_ fileRowID: Int64, bytesDone: UInt64?) -> @Sendable (Connection) throws(QueueError) -> FileState? {
        return { db throws(QueueError) in
            try db.statement(
                """
                UPDATE files SET state = 'queued', bytes_done = coalesce(?, bytes_done) WHERE id = ? AND state = 'transferring'
                """
            ).bind(.optional(bytesDone.map(Int64.init)), .integer(fileRowID)).run()
            try TransferLedger.requeueIdleGroups(db)
            let state = try db.statement("SELECT state FROM files WHERE id = ?").bind(.integer(fileRowID))
            return try state.step() ? FileState(rawValue: state.text(0)) : nil
        }
    }

    /// Transferring groups with no file in flight any more wait as `queued`.
    static func requeueIdleGroups(_ db: Connection) throws(QueueError) {
        // Each query on a group state here also names the partial index's own term, `state IN
        // ('queued', 'transferring')`: only a term written exactly as the index's lets SQLite use
        // `groups_runnable` instead of walking every group.
        try db.statement(
            """
            UPDATE groups SET state = 'queued'
            WHERE state IN ('queued', 'transferring') AND state = 'transferring' AND NOT EXISTS (
                SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                WHERE j.group_id = groups.id AND j.state = 'active' AND f.state IN ('transferring', 'finalizing'))
            """
        ).run()
    }

    /// The best priority among background groups that could start a file now, if any.
    func bestWaitingBackgroundPriority() throws(QueueError) -> Priority? {
        try core.store.read(bestWaitingBackgroundPriorityStep())
    }

    /// The `async` form of ``bestWaitingBackgroundPriority()``: suspends while the store works.
    package func bestWaitingBackgroundPriority() async throws(QueueError) -> Priority? {
        try await core.store.read(bestWaitingBackgroundPriorityStep())
    }

    private func bestWaitingBackgroundPriorityStep() -> @Sendable (Connection) throws(QueueError) -> Priority? {
        let now = core.now()
        return { db throws(QueueError) in
            let statement = try db.statement(
                """
                SELECT min(g.priority) FROM groups g
                WHERE g.state IN ('queued', 'transferring') AND g.state = 'queued' AND g.priority > 0 AND (g.retry_at IS NULL OR g.retry_at <= ?)
                  AND EXISTS (SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                              WHERE j.group_id = g.id AND j.state = 'active' AND f.state = 'queued')
                """
            ).bind(.integer(now))
            _ = try statement.step()
            return statement.optionalInt64(0).flatMap { Priority(rawValue: Int($0)) }
        }
    }

    /// After a transient failure: the file waits, queued with its committed bytes, its retry count
    /// one higher; its group is queued again until `wait(retries)` from now, its last error
    /// recorded. If the group was suspended meanwhile it stays suspended; if another of its files
    /// put it in error meanwhile, it keeps that error. Returns the wait, or `nil` if the file was no
    /// longer claimed.
    ///
    /// The wait is worked out from the count as committed, not as claimed: a try that made progress
    /// reset the count to 0, and the backoff starts over with it.
    package func retryLater(
        _ fileRowID: Int64, error: QueueError,
        wait: @escaping @Sendable (_ retries: Int) -> Duration
    ) async throws(QueueError) -> Duration? {
        try await core.store.write(retryLaterStep(fileRowID, error: error, wait: wait))
    }

    private func retryLaterStep(
        _ fileRowID: Int64, error: QueueError,
        wait: @escaping @Sendable (Int) -> Duration
    ) -> @Sendable (Connection) throws(QueueError) -> Duration? {
        let now = core.now()
        return { db throws(QueueError) in
            let owner = try db.statement(
                """
                SELECT j.group_id, f.retries FROM files f JOIN jobs j ON j.id = f.job_id WHERE f.id = ? AND f.state = 'transferring'
                """
            ).bind(.integer(fileRowID))
            guard try owner.step() else { return nil }
            let (group, retries) = (owner.int64(0), owner.int(1) + 1)
            let delay = wait(retries)
            try db.statement("UPDATE files SET state = 'queued', retries = ? WHERE id = ?")
                .bind(.int(retries), .integer(fileRowID)).run()
            try db.statement(
                """
                UPDATE groups SET state = CASE state WHEN 'transferring' THEN 'queued' ELSE state END, retry_at = ?, modified_at = ?,
                       last_error_code = ?, last_error_message = ?, last_error_system = ?, last_error_http = ?,
                       last_error_retries = ?, last_error_file_id = ?
                WHERE id = ? AND state <> 'error'
                """
            )
            .bind(
                .integer(now + delay.milliseconds), .integer(now), .text(error.code.description), .text(error.message),
                .optional(error.systemError.map(Int64.init)), .optional(error.httpStatus.map(Int64.init)),
                .int(retries), .integer(fileRowID), .integer(group)
            )
            .run()
            return delay
        }
    }

    /// When the group last made progress (Unix ms), for the no-progress timeout; `nil` if never.
    func lastProgress(ofGroup groupRowID: Int64) throws(QueueError) -> (at: Int64?, timeout: Int64, retryDelay: Int64) {
        try core.store.read(lastProgressStep(ofGroup: groupRowID))
    }

    /// The `async` form of ``lastProgress(ofGroup:)``: suspends while the store works.
    package func lastProgress(ofGroup groupRowID: Int64) async throws(QueueError) -> (at: Int64?, timeout: Int64, retryDelay: Int64) {
        try await core.store.read(lastProgressStep(ofGroup: groupRowID))
    }

    private func lastProgressStep(ofGroup groupRowID: Int64) -> @Sendable (Connection) throws(QueueError) -> (at: Int64?, timeout: Int64, retryDelay: Int64) {
        return { db throws(QueueError) in
            let statement = try db.statement("SELECT progress_at, no_progress_timeout_ms, retry_delay_ms FROM groups WHERE id = ?")
                .bind(.integer(groupRowID))
            guard try statement.step() else { return (nil, 0, 0) }
            return (statement.optionalInt64(0), statement.int64(1), statement.int64(2))
        }
    }

    /// Restarts a file from zero after its bytes proved bad (a failed SHA-256 check, an fsync
    /// failure): committed progress goes back to 0 before the temp file is removed.
    func discardProgress(_ fileRowID: Int64) throws(QueueError) {
        try core.store.write(discardProgressStep(fileRowID))
    }

    /// The `async` form of ``discardProgress(_:)``: suspends while the store works.
    package func discardProgress(_ fileRowID: Int64) async throws(QueueError) {
        try await core.store.write(discardProgressStep(fileRowID))
    }

    private func discardProgressStep(_ fileRowID: Int64) -> @Sendable (Connection) throws(QueueError) -> Void {
        return { db throws(QueueError) in
            try db.statement("UPDATE files SET bytes_done = 0, validator = NULL WHERE id = ? AND state IN ('transferring', 'error', 'queued')")
                .bind(.integer(fileRowID)).run()
        }
    }

    /// The earliest time (Unix ms) a waiting group may be retried, if any group waits.
    func nextRetry() throws(QueueError) -> Int64? {
        try core.store.read(nextRetryStep())
    }

    /// The `async` form of ``nextRetry()``: suspends while the store works.
    package func nextRetry() async throws(QueueError) -> Int64? {
        try await core.store.read(nextRetryStep())
    }

    private func nextRetryStep() -> @Sendable (Connection) throws(QueueError) -> Int64? {
        return { db throws(QueueError) in
            let statement = try db.statement(
                """
                SELECT min(retry_at) FROM groups
                WHERE state IN ('queued', 'transferring') AND state = 'queued' AND retry_at IS NOT NULL
                """)
            _ = try statement.step()
            return statement.optionalInt64(0)
        }
    }

    /// Of the given in-flight files, those the engine must stop: cancelled, or whose group is no
    /// longer transferring (suspended, cancelled, in error).
    func stale(_ fileRowIDs: [Int64]) throws(QueueError) -> [Int64] {
        guard !fileRowIDs.isEmpty else { return [] }
        return try core.store.read(staleStep(fileRowIDs))
    }

    /// The `async` form of ``stale(_:)``: suspends while the store works.
    package func stale(_ fileRowIDs: [Int64]) async throws(QueueError) -> [Int64] {
        guard !fileRowIDs.isEmpty else { return [] }
        return try await core.store.read(staleStep(fileRowIDs))
    }

    private func staleStep(_ fileRowIDs: [Int64]) -> @Sendable (Connection) throws(QueueError) -> [Int64] {
        return { db throws(QueueError) in
            let statement = try db.statement(
                """
                SELECT f.id FROM files f JOIN jobs j ON j.id = f.job_id JOIN groups g ON g.id = j.group_id
                WHERE f.id = ? AND (f.state <> 'transferring' OR g.state <> 'transferring')
                """)
            var stale: [Int64] = []
            for id in fileRowIDs {
                try statement.bind(.integer(id))
                if try statement.step() { stale.append(id) }
                statement.reset()
            }
            return stale
        }
    }
}
