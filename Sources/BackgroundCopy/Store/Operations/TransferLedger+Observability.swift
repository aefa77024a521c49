/// Where a claimed file sits in its group, for the span of its transfer.
package struct FilePlacement: Sendable, Equatable {
    package let job: JobID
    /// The job's zero-based index among its group's live jobs, in creation order.
    package let jobIndex: Int
    /// The file's zero-based index in its job.
    package let fileIndex: Int
}

/// The reads behind the engine's metrics and traces; neither changes a row.
extension TransferLedger {
    /// Where the file is, or `nil` if its row is gone.
    package func placement(of fileRowID: Int64) async throws(QueueError) -> FilePlacement? {
        try await core.store.read { db throws(QueueError) -> FilePlacement? in
            let statement = try db.statement(
                """
                SELECT j.uuid, f.position,
                       (SELECT count(*) FROM jobs o WHERE o.group_id = j.group_id AND o.state = 'active' AND o.id < j.id)
                FROM files f JOIN jobs j ON j.id = f.job_id WHERE f.id = ?
                """
            ).bind(.integer(fileRowID))
            guard try statement.step(), let uuid = statement.uuid(0) else { return nil }
            return FilePlacement(job: JobID(uuid), jobIndex: statement.int(2), fileIndex: statement.int(1))
        }
    }

    /// How many groups are in each live state (cancelled tombstones are not counted); a state no
    /// group is in counts zero. One pass over the `groups_by_schedule` index.
    package func groupCensus() async throws(QueueError) -> [GroupState: Int] {
        try await core.store.read { db throws(QueueError) -> [GroupState: Int] in
            let statement = try db.statement("SELECT state, count(*) FROM groups WHERE state <> 'cancelled' GROUP BY state")
            var census: [GroupState: Int] = [:]
            for state in GroupState.allCases where state != .cancelled { census[state] = 0 }
            while try statement.step() {
                if let state = GroupState(rawValue: statement.text(0)) { census[state] = statement.int(1) }
            }
            return census
        }
    }
}
