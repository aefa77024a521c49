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

    /// The batch form of ``beginFinalizing(_:bytesTotal:)``: one transaction for every file.
    package func beginFinalizing(_ files: [(fileRowID: Int64, bytesTotal: UInt64)]) async throws(QueueError) -> [Bool] {
        let steps = files.map { beginFinalizingStep($0.fileRowID, bytesTotal: $0.bytesTotal) }
        return try await core.store.write(quiet: true) { db throws(QueueError) -> [Bool] in
            var begun: [Bool] = []
            for step in steps { begun.append(try step(db)) }
            return begun
        }
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

    /// The batch form of ``complete(_:)``: one transaction for every file. A file that is not
    /// finalizing any more (cancelled meanwhile) is refused alone: its step changes nothing.
    package func complete(_ fileRowIDs: [Int64]) async throws(QueueError) -> [QueueError?] {
        let steps = fileRowIDs.map(completeStep)
        return try await core.store.write(quiet: true) { db throws(QueueError) -> [QueueError?] in
            var refusals: [QueueError?] = []
            for step in steps {
                do throws(QueueError) {
                    try step(db)
                    refusals.append(nil)
                } catch let error where error.code == .invalidState {
                    refusals.append(error)
                }
            }
            return refusals
        }
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
