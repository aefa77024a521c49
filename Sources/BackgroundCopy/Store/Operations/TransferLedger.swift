import Foundation

/// A file the engine has claimed for transfer.
package struct Claim: Sendable, Equatable {
    package let fileRowID: Int64
    package let groupRowID: Int64
    package let groupID: GroupID
    package let priority: Priority
    package let headers: [HTTPHeader]
    package let retries: Int
    package let remote: String
    package let local: String
    package let tempPath: String
    package let bytesDone: UInt64
    package let bytesTotal: UInt64?
    package let validator: String?
    package let sha256: [UInt8]?
}

/// The transfer engine's side of the store: every step of a file's transfer is one transaction,
/// conditional on the file still being claimed, so a suspend or cancel committed by anyone in the
/// meantime wins and the engine simply stops (DESIGN.md, Durability steps 1–3).
///
/// The steps of a transfer that goes well — claim, checkpoint, finalizing, complete — are quiet
/// writes (``Store/write(quiet:_:)``): event streams hear their commits at once, the engine does not.
package struct TransferLedger: Sendable {
    let core: QueueCore

    /// The temp file of a file: beside its final path, named after it and the file's row ID.
    static func tempPath(local: String, fileRowID: Int64) -> String {
        let slash = local.lastIndex(of: "/")!
        return "\(local[..<slash])/.\(local[local.index(after: slash)...]).\(fileRowID)\(Validator.tempSuffix)"
    }

    /// Claims the next file to transfer: groups by priority then age; within a group, the first
    /// queued file of its jobs and files in order, provided fewer than `filesPerGroup` of the
    /// group's files are already in flight; with `foregroundOnly`, only foreground groups and
    /// `alsoGroup` (the background group already running, which may start more of its files). Groups waiting for a retry are skipped; resumed
    /// groups with nothing left to do are completed on the way. Marks it `transferring` (and its group) and records its
    /// temp path before the temp file exists, so recovery always knows which temp files are ours.
    ///
    /// Cost does not grow with the queue: `groups_runnable` hands out groups in claim order (no sort
    /// of every runnable group), and the redundant `f.state IN` term lets the first queued file come
    /// from `files_pending` instead of a walk past the job's finished files.
    package func claimNextFile(filesPerGroup: Int = 1, foregroundOnly: Bool = false, alsoGroup: Int64? = nil) throws(QueueError) -> Claim? {
        try core.store.write(quiet: true, claimNextFileStep(filesPerGroup: filesPerGroup, foregroundOnly: foregroundOnly, alsoGroup: alsoGroup))
    }

    /// The `async` form of ``claimNextFile(filesPerGroup:foregroundOnly:alsoGroup:)``: suspends while the store works.
    package func claimNextFile(filesPerGroup: Int = 1, foregroundOnly: Bool = false, alsoGroup: Int64? = nil) async throws(QueueError) -> Claim? {
        try await core.store.write(quiet: true, claimNextFileStep(filesPerGroup: filesPerGroup, foregroundOnly: foregroundOnly, alsoGroup: alsoGroup))
    }

    private func claimNextFileStep(filesPerGroup: Int, foregroundOnly: Bool, alsoGroup: Int64?) -> @Sendable (Connection) throws(QueueError) -> Claim? {
        let now = core.now()
        return { db throws(QueueError) in
            let candidates = try db.statement(
                """
                SELECT g.id, g.uuid,
                       (SELECT count(*) FROM jobs j JOIN files f ON f.job_id = j.id
                        WHERE j.group_id = g.id AND j.state = 'active' AND f.state IN ('transferring', 'finalizing')),
                       (SELECT f.id FROM jobs j JOIN files f ON f.job_id = j.id
                        WHERE j.group_id = g.id AND j.state = 'active' AND f.state = 'queued'
                          AND f.state IN ('queued', 'transferring', 'finalizing', 'error')
                        ORDER BY j.id, f.position LIMIT 1)
                FROM groups g INDEXED BY groups_runnable
                WHERE g.state IN ('queued', 'transferring') AND (g.retry_at IS NULL OR g.retry_at <= ?1)
                  AND (g.priority = 0 OR NOT ?2 OR g.id = ?3)
                ORDER BY g.priority, g.id
                """
            ).bind(.integer(now), .integer(foregroundOnly ? 1 : 0), .optional(alsoGroup))
            var choice: (group: Int64, uuid: UUID?, file: Int64)?
            var idle: [Int64] = []
            while try candidates.step() {
                let inFlight = candidates.int(2)
                guard let file = candidates.optionalInt64(3) else {
                    if inFlight == 0 { idle.append(candidates.int64(0)) }
                    continue
                }
                guard inFlight < filesPerGroup else { continue }
                choice = (candidates.int64(0), candidates.uuid(1), file)
                break
            }
            for group in idle { try GroupSettlement.complete(db, group, at: now) }
            guard let choice, let uuid = choice.uuid else { return nil }
            let local = try db.statement("SELECT local_path FROM files WHERE id = ?").bind(.integer(choice.file))
            _ = try local.step()
            let temp = TransferLedger.tempPath(local: local.text(0), fileRowID: choice.file)
            let row = try db.statement(
                """
                UPDATE files SET state = 'transferring', temp_path = coalesce(temp_path, ?) WHERE id = ?
                RETURNING remote_url, local_path, temp_path, bytes_done, bytes_total, validator, sha256, retries
                """
            ).bind(.text(temp), .integer(choice.file))
            _ = try row.step()
            let group = try db.statement("SELECT priority, http_headers FROM groups WHERE id = ?").bind(.integer(choice.group))
            _ = try group.step()
            let claim = Claim(
                fileRowID: choice.file, groupRowID: choice.group, groupID: GroupID(uuid),
                priority: Priority(rawValue: group.int(0)) ?? .normal, headers: HeaderCoding.decode(group.text(1)),
                retries: row.int(7), remote: row.text(0), local: row.text(1),
                tempPath: row.text(2), bytesDone: UInt64(row.int64(3)), bytesTotal: row.optionalInt64(4).map(UInt64.init),
                validator: row.optionalText(5), sha256: row.optionalBlob(6))
            row.reset()
            try db.statement(
                """
                UPDATE groups SET state = 'transferring', modified_at = ?1, progress_at = coalesce(progress_at, ?1) WHERE id = ?2
                """
            ).bind(.integer(now), .integer(choice.group)).run()
            return claim
        }
    }

    /// Commits durable progress (after the temp file was fsynced). Returns `false` if the file is
    /// no longer claimed (its group was suspended or cancelled): the transfer must stop. Only bytes
    /// beyond both the committed count and `progressAbove` (what the file held before a restart
    /// from zero) count as progress: they reset the retry count and the no-progress clock.
    package func checkpoint(
        _ fileRowID: Int64, bytesDone: UInt64, bytesTotal: UInt64?, validator: String?,
        progressAbove: UInt64 = 0
    ) throws(QueueError) -> Bool {
        try core.store.write(
            quiet: true,
            checkpointStep(
                fileRowID, bytesDone: bytesDone, bytesTotal: bytesTotal,
                validator: validator, progressAbove: progressAbove))
    }

    /// The `async` form of ``checkpoint(_:bytesDone:bytesTotal:validator:progressAbove:)``: suspends while the store works.
    package func checkpoint(
        _ fileRowID: Int64, bytesDone: UInt64, bytesTotal: UInt64?, validator: String?,
        progressAbove: UInt64 = 0
    ) async throws(QueueError) -> Bool {
        try await core.store.write(
            quiet: true,
            checkpointStep(
                fileRowID, bytesDone: bytesDone, bytesTotal: bytesTotal,
                validator: validator, progressAbove: progressAbove))
    }

    private func checkpointStep(
        _ fileRowID: Int64, bytesDone: UInt64, bytesTotal: UInt64?, validator: String?,
        progressAbove: UInt64
    ) -> @Sendable (Connection) throws(QueueError) -> Bool {
        let now = core.now()
        return { db throws(QueueError) in
            guard let owner = try claimedGroup(db, fileRowID) else { return false }
            let advanced = bytesDone > max(owner.bytesDone, progressAbove)
            try db.statement(
                """
                UPDATE files SET bytes_done = ?, bytes_total = coalesce(?, bytes_total), validator = coalesce(?, validator),
                       retries = CASE WHEN ? THEN 0 ELSE retries END
                WHERE id = ?
                """
            )
            .bind(
                .integer(Int64(bytesDone)), .optional(bytesTotal.map(Int64.init)), .optional(validator),
                .integer(advanced ? 1 : 0), .integer(fileRowID)
            )
            .run()
            guard advanced else { return true }
            try db.statement("UPDATE groups SET progress_at = ? WHERE id = ?").bind(.integer(now), .integer(owner.group)).run()
            try EventLog.record(
                db, .progress, group: owner.group, job: owner.job, fileIndex: owner.index,
                state: .transferring, detail: "\(bytesDone)", at: now)
            return true
        }
    }

    /// Records the intent to rename a verified temp file into place. `false` if no longer claimed.
    package func beginFinalizing(_ fileRowID: Int64, bytesTotal: UInt64) throws(QueueError) -> Bool {
        try core.store.write(quiet: true, beginFinalizingStep(fileRowID, bytesTotal: bytesTotal))
    }

    /// The `async` form of ``beginFinalizing(_:bytesTotal:)``: suspends while the store works.
    package func beginFinalizing(_ fileRowID: Int64, bytesTotal: UInt64) async throws(QueueError) -> Bool {
        try await core.store.write(quiet: true, beginFinalizingStep(fileRowID, bytesTotal: bytesTotal))
    }

    private func beginFinalizingStep(_ fileRowID: Int64, bytesTotal: UInt64) -> @Sendable (Connection) throws(QueueError) -> Bool {
        return { db throws(QueueError) in
            guard try claimedGroup(db, fileRowID) != nil else { return false }
            try db.statement("UPDATE files SET state = 'finalizing', bytes_done = ?1, bytes_total = ?1 WHERE id = ?2")
                .bind(.integer(Int64(bytesTotal)), .integer(fileRowID)).run()
            return true
        }
    }

    /// Commits a renamed file as complete, with its events; completes the job and the group
    /// (auto-suspended) when they have no file left — even if the group was suspended while the
    /// file was finalizing: a group with nothing left to transfer is complete, never waiting.
    package func complete(_ fileRowID: Int64) throws(QueueError) {
        try core.store.write(quiet: true, completeStep(fileRowID))
    }

    /// The `async` form of ``complete(_:)``: suspends while the store works.
    package func complete(_ fileRowID: Int64) async throws(QueueError) {
        try await core.store.write(quiet: true, completeStep(fileRowID))
    }

    private func completeStep(_ fileRowID: Int64) -> @Sendable (Connection) throws(QueueError) -> Void {
        let now = core.now()
        return { db throws(QueueError) in
            let owner = try db.statement(
                """
                SELECT j.group_id, f.job_id, f.position, f.local_path FROM files f JOIN jobs j ON j.id = f.job_id
                WHERE f.id = ? AND f.state = 'finalizing'
                """
            ).bind(.integer(fileRowID))
            guard try owner.step() else {
                throw QueueError(.invalidState, "file \(fileRowID) is not finalizing", value: "\(fileRowID)")
            }
            let (group, job, index, local) = (owner.int64(0), owner.int64(1), owner.int(2), owner.text(3))
            try db.statement("UPDATE files SET state = 'complete', temp_path = NULL, completed_at = ? WHERE id = ?")
                .bind(.integer(now), .integer(fileRowID)).run()
            try EventLog.record(db, .fileComplete, group: group, job: job, fileIndex: index, state: .transferring, detail: local, at: now)
            let jobLeft = try db.statement("SELECT EXISTS (SELECT 1 FROM files WHERE job_id = ? AND state IN \(StatusQuery.pendingStates))")
                .bind(.integer(job))
            _ = try jobLeft.step()
            guard jobLeft.int(0) == 0 else { return }
            try EventLog.record(db, .jobComplete, group: group, job: job, state: .transferring, at: now)
            let groupLeft = try db.statement(
                """
                SELECT EXISTS (SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                               WHERE j.group_id = ? AND j.state = 'active' AND f.state IN \(StatusQuery.pendingStates))
                """
            ).bind(.integer(group))
            _ = try groupLeft.step()
            guard groupLeft.int(0) == 0 else { return }
            try GroupSettlement.complete(db, group, from: [.queued, .transferring, .suspended, .error], at: now)
        }
    }

    /// Fails a claimed file permanently: the file goes to `error`, its group to `error`
    /// (auto-suspended) with the failure recorded. `false` if the file was no longer claimed.
    package func fail(_ fileRowID: Int64, error: QueueError, retries: Int) throws(QueueError) -> Bool {
        try core.store.write(failStep(fileRowID, error: error, retries: retries))
    }

    /// The `async` form of ``fail(_:error:retries:)``: suspends while the store works.
    package func fail(_ fileRowID: Int64, error: QueueError, retries: Int) async throws(QueueError) -> Bool {
        try await core.store.write(failStep(fileRowID, error: error, retries: retries))
    }

    private func failStep(_ fileRowID: Int64, error: QueueError, retries: Int) -> @Sendable (Connection) throws(QueueError) -> Bool {
        let now = core.now()
        return { db throws(QueueError) in
            guard let owner = try claimedGroup(db, fileRowID) else { return false }
            try db.statement("UPDATE files SET state = 'error' WHERE id = ?").bind(.integer(fileRowID)).run()
            try db.statement(
                """
                UPDATE groups SET state = 'error', modified_at = ?, error_count = error_count + 1, last_error_code = ?,
                       last_error_message = ?, last_error_system = ?, last_error_http = ?, last_error_retries = ?,
                       last_error_file_id = ?
                WHERE id = ?
                """
            )
            .bind(
                .integer(now), .text(error.code.description), .text(error.message),
                .optional(error.systemError.map(Int64.init)), .optional(error.httpStatus.map(Int64.init)),
                .int(retries), .integer(fileRowID), .integer(owner.group)
            )
            .run()
            try EventLog.record(
                db, .groupError, group: owner.group, job: owner.job, fileIndex: owner.index,
                state: .error, detail: error.message, at: now)
            return true
        }
    }

    /// The group, job and index of a file that is still `transferring` in a transferring group.
    private func claimedGroup(_ db: Connection, _ fileRowID: Int64) throws(QueueError) -> (group: Int64, job: Int64, index: Int, bytesDone: UInt64)? {
        let statement = try db.statement(
            """
            SELECT g.id, j.id, f.position, f.bytes_done FROM files f JOIN jobs j ON j.id = f.job_id JOIN groups g ON g.id = j.group_id
            WHERE f.id = ? AND f.state = 'transferring' AND g.state = 'transferring'
            """
        ).bind(.integer(fileRowID))
        guard try statement.step() else { return nil }
        return (statement.int64(0), statement.int64(1), statement.int(2), UInt64(statement.int64(3)))
    }
}
