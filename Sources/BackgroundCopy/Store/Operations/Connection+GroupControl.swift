/// The state transitions a host asks of a group: suspend, resume, foreground, cancel.
extension Connection {
    /// `queued`/`transferring` → `suspended`; a no-op in any other live state.
    func suspendGroup(_ id: GroupID, at now: Int64) throws(QueueError) {
        let row = try liveGroup(id)
        guard row.state == .queued || row.state == .transferring else { return }
        try statement("UPDATE groups SET state = ?, modified_at = ? WHERE id = ?")
            .bind(.state(GroupState.suspended), .integer(now), .integer(row.rowID)).run()
        try EventLog.record(self, .modified, group: row.rowID, state: .suspended, detail: "suspended", at: now)
    }

    /// `suspended`/`complete`/`error` → `queued`, failed files queued again and the error cleared;
    /// a no-op when already queued or transferring.
    /// - Throws: `empty` if no file is left to transfer.
    func resumeGroup(_ id: GroupID, at now: Int64) throws(QueueError) {
        let row = try liveGroup(id)
        guard row.state != .queued && row.state != .transferring else { return }
        let pending = try statement(
            """
            SELECT EXISTS (SELECT 1 FROM jobs j JOIN files f ON f.job_id = j.id
                           WHERE j.group_id = ? AND j.state = 'active' AND f.state IN \(StatusQuery.pendingStates))
            """
        ).bind(.integer(row.rowID))
        _ = try pending.step()
        guard pending.int(0) == 1 else {
            throw QueueError(.empty, "group \(id) has no file left to transfer", value: id.description)
        }
        try statement(
            """
            UPDATE files SET state = ?1
            WHERE state = ?2 AND job_id IN (SELECT id FROM jobs WHERE group_id = ?3 AND state = 'active')
            """
        ).bind(.state(FileState.queued), .state(FileState.error), .integer(row.rowID)).run()
        try statement(
            """
            UPDATE groups SET state = ?, modified_at = ?, retry_at = NULL, progress_at = NULL,
                   \(GroupSettlement.clearError)
            WHERE id = ?
            """
        ).bind(.state(GroupState.queued), .integer(now), .integer(row.rowID)).run()
        try EventLog.record(self, .modified, group: row.rowID, state: .queued, detail: "resumed", at: now)
    }

    /// Makes a live group foreground; a no-op if it already is.
    func switchGroupToForeground(_ id: GroupID, at now: Int64) throws(QueueError) {
        let row = try liveGroup(id)
        guard row.priority != .foreground else { return }
        try statement("UPDATE groups SET priority = ?, modified_at = ? WHERE id = ?")
            .bind(.int(Priority.foreground.rawValue), .integer(now), .integer(row.rowID)).run()
        try EventLog.record(self, .modified, group: row.rowID, state: row.state, detail: "foreground", at: now)
    }

    /// The whole group cancel: files `retained`/`discarded`, jobs and group tombstoned, the
    /// `cancelled` event. Returns the temp-file effects to apply after the commit.
    func cancelGroup(_ id: GroupID, at now: Int64) throws(QueueError) -> Cancellation.Outcome {
        let row = try liveGroup(id)
        let outcome = try Cancellation(scope: .group(row.rowID), now: now).run(self)
        try statement("UPDATE groups SET state = ?, cancelled_at = ?, modified_at = ? WHERE id = ?")
            .bind(.state(GroupState.cancelled), .integer(now), .integer(now), .integer(row.rowID)).run()
        try EventLog.record(self, .cancelled, group: row.rowID, state: .cancelled, detail: outcome.summary, at: now)
        return outcome
    }
}
