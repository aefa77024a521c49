extension Group {
    /// Stops the group's transfers; partial bytes are kept (QMGR: SuspendGroup).
    ///
    /// A no-op on a group that is already suspended, complete or in error.
    /// - Throws: `notFound` if the group was cancelled.
    public func suspend() throws(QueueError) {
        let now = core.now()
        try core.store.write { db throws(QueueError) in
            let row = try core.liveGroup(db, id)
            guard row.state == .queued || row.state == .transferring else { return }
            try db.statement("UPDATE groups SET state = 'suspended', modified_at = ? WHERE id = ?")
                .bind(.integer(now), .integer(row.rowID)).run()
            try EventLog.record(db, .modified, group: row.rowID, state: .suspended, detail: "suspended", at: now)
        }
    }

    /// Queues the group for transfer; a group in error has its error cleared and its failed files
    /// retried (QMGR: ResumeGroup). A no-op on a group that is already queued or transferring.
    ///
    /// - Throws: `empty` if no file is left to transfer (the group stays as it is); `notFound`.
    public func resume() throws(QueueError) {
        let now = core.now()
        try core.store.write { db throws(QueueError) in
            let row = try core.liveGroup(db, id)
            guard row.state != .queued && row.state != .transferring else { return }
            let pending = try db.statement("""
                SELECT EXISTS (SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                               WHERE j.group_id = ? AND j.state = 'active' AND f.state IN \(StatusQuery.pendingStates))
                """).bind(.integer(row.rowID))
            _ = try pending.step()
            guard pending.int(0) == 1 else {
                throw QueueError(.empty, "group \(id) has no file left to transfer", value: id.description)
            }
            try db.statement("""
                UPDATE files SET state = 'queued'
                WHERE state = 'error' AND job_id IN (SELECT id FROM jobs WHERE group_id = ? AND state = 'active')
                """).bind(.integer(row.rowID)).run()
            try db.statement("""
                UPDATE groups SET state = 'queued', modified_at = ?, retry_at = NULL, progress_at = NULL,
                       \(GroupSettlement.clearError)
                WHERE id = ?
                """).bind(.integer(now), .integer(row.rowID)).run()
            try EventLog.record(db, .modified, group: row.rowID, state: .queued, detail: "resumed", at: now)
        }
    }

    /// Makes the group a foreground group from now on; there is no way back except
    /// ``setProperties(_:)`` (QMGR: SwitchToForeground).
    ///
    /// - Throws: `notFound` if the group was cancelled.
    public func switchToForeground() throws(QueueError) {
        let now = core.now()
        try core.store.write { db throws(QueueError) in
            let row = try core.liveGroup(db, id)
            guard row.priority != .foreground else { return }
            try db.statement("UPDATE groups SET priority = 0, modified_at = ? WHERE id = ?")
                .bind(.integer(now), .integer(row.rowID)).run()
            try EventLog.record(db, .modified, group: row.rowID, state: row.state, detail: "foreground", at: now)
        }
    }

    /// Removes the group from the queue, in one transaction (QMGR: CancelGroup).
    ///
    /// Files complete before the call become `retained` and stay at their local paths untouched;
    /// incomplete files become `discarded`; the group and its jobs become a tombstone that no lookup
    /// returns and whose ID is never reused; a `cancelled` event is recorded. Temp files are
    /// removed after the commit (and by the next open if the process dies first).
    ///
    /// - Throws: `notFound` if the group is unknown or already cancelled.
    public func cancel() throws(QueueError) {
        let now = core.now()
        let outcome = try core.store.write { db throws(QueueError) in
            let row = try core.liveGroup(db, id)
            let outcome = try Cancellation(scope: .group(row.rowID), now: now).run(db)
            if Mutant.unlinkBeforeCancelCommit.isActive { _ = FileEffect.apply(outcome.effects, core: core) }
            try db.statement("UPDATE groups SET state = 'cancelled', cancelled_at = ?, modified_at = ? WHERE id = ?")
                .bind(.integer(now), .integer(now), .integer(row.rowID)).run()
            try EventLog.record(db, .cancelled, group: row.rowID, state: .cancelled, detail: outcome.summary, at: now)
            return outcome
        }
        _ = FileEffect.apply(outcome.effects, core: core)
        core.logger.debug("group cancelled", metadata: ["group": "\(id)", "files": "\(outcome.summary)"])
    }
}
