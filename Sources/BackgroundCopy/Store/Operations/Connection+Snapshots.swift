import Foundation

/// Whole-group reads for hosts and the command line: one transaction instead of one per part.
extension Connection {
    /// The parts of a live group's snapshot, the handles left to the caller.
    struct GroupParts: Sendable {
        let id: GroupID
        let properties: GroupProperties
        let status: GroupStatus
        let progress: TransferProgress
        let jobs: [(id: JobID, progress: TransferProgress, currentFileIndex: Int?)]
    }

    /// One live group's parts.
    func groupParts(_ id: GroupID) throws(QueueError) -> GroupParts {
        let row = try liveGroup(id)
        return GroupParts(
            id: id, properties: try groupProperties(id), status: try StatusQuery.group(self, row),
            progress: try ProgressQuery.group(self, row.rowID), jobs: try jobParts(row.rowID))
    }

    /// Every live group's parts, in creation order.
    func allGroupParts() throws(QueueError) -> [GroupParts] {
        var parts: [GroupParts] = []
        for id in try liveGroupIDs() { parts.append(try groupParts(id)) }
        return parts
    }

    /// The newest event's sequence number; 0 if no event was ever recorded.
    func lastEventSequence() throws(QueueError) -> Int64 {
        let statement = try statement("SELECT coalesce(max(seq), 0) FROM events")
        _ = try statement.step()
        return statement.int64(0)
    }

    /// Each live job of a group with its progress and first file with work left, in one query.
    private func jobParts(_ groupRowID: Int64) throws(QueueError) -> [(id: JobID, progress: TransferProgress, currentFileIndex: Int?)] {
        let statement = try statement(
            """
            SELECT j.uuid, count(f.id), coalesce(sum(f.state = 'complete'), 0), coalesce(sum(f.bytes_done), 0),
                   coalesce(sum(coalesce(f.bytes_total, f.size_hint)), 0),
                   coalesce(sum(f.id IS NOT NULL AND f.bytes_total IS NULL AND f.size_hint IS NULL), 0),
                   min(CASE WHEN f.state IN \(StatusQuery.pendingStates) THEN f.position END)
            FROM jobs j LEFT JOIN files f ON f.job_id = j.id
            WHERE j.group_id = ? AND j.state = 'active' GROUP BY j.id ORDER BY j.id
            """
        ).bind(.integer(groupRowID))
        var jobs: [(id: JobID, progress: TransferProgress, currentFileIndex: Int?)] = []
        while try statement.step() {
            guard let uuid = statement.uuid(0) else { continue }
            let progress = TransferProgress(
                bytesDone: UInt64(statement.int64(3)), bytesTotal: UInt64(statement.int64(4)),
                filesDone: statement.int(2), filesTotal: statement.int(1), filesOfUnknownSize: statement.int(5))
            jobs.append((JobID(uuid), progress, statement.optionalInt64(6).map(Int.init)))
        }
        return jobs
    }
}
