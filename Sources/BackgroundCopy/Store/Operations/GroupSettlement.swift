/// What a group's state becomes when its work changes under it: when its last pending file
/// completes, or when a job cancel removes work, so a group is never left waiting for nothing.
enum GroupSettlement {
    static let clearError = """
        last_error_code = NULL, last_error_message = NULL, last_error_system = NULL, last_error_http = NULL,
        last_error_retries = NULL, last_error_file_id = NULL
        """

    /// Marks a group with nothing left `complete` (auto-suspended) and records `groupComplete`,
    /// if it is in one of `from`. Returns whether it did.
    @discardableResult
    static func complete(_ db: Connection, _ group: Int64, from: [GroupState] = [.queued, .transferring], at now: Int64) throws(QueueError) -> Bool {
        let states = from.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        try db.statement(
            """
            UPDATE groups SET state = 'complete', completed_at = ?1, modified_at = ?1, retry_at = NULL, progress_at = NULL,
                   \(clearError)
            WHERE id = ?2 AND state IN (\(states))
            """
        ).bind(.integer(now), .integer(group)).run()
        guard db.changes > 0 else { return false }
        try EventLog.record(db, .groupComplete, group: group, state: .complete, at: now)
        return true
    }

    /// After a job of the group was cancelled: a group with files but none pending is complete; a
    /// group with no file left is suspended (resume would say `empty`); a group in error whose
    /// failed file went with the job is suspended, its error cleared. Returns the group's state.
    static func afterJobCancel(_ db: Connection, _ group: GroupRow, at now: Int64) throws(QueueError) -> GroupState {
        let counts = try db.statement(
            """
            SELECT count(*), coalesce(sum(f.state IN \(StatusQuery.pendingStates)), 0), coalesce(sum(f.state = 'error'), 0)
            FROM jobs j JOIN files f ON f.job_id = j.id WHERE j.group_id = ? AND j.state = 'active'
            """
        ).bind(.integer(group.rowID))
        _ = try counts.step()
        let (files, pending, failed) = (counts.int(0), counts.int(1), counts.int(2))
        let waiting: [GroupState] = [.queued, .transferring, .suspended, .error]
        if files > 0, pending == 0, waiting.contains(group.state) {
            try complete(db, group.rowID, from: waiting, at: now)
            return .complete
        }
        let emptied = files == 0 && [.queued, .transferring, .error].contains(group.state)
        let unfailed = group.state == .error && failed == 0
        guard emptied || unfailed else { return group.state }
        try db.statement("UPDATE groups SET state = 'suspended', modified_at = ?, retry_at = NULL, \(clearError) WHERE id = ?")
            .bind(.integer(now), .integer(group.rowID)).run()
        return .suspended
    }
}
